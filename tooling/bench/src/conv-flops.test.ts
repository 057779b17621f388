import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core registers no gradients in Node; tfjs-layers does.
import '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { convFlops } from './conv-flops.js';

/** 2 × the multiply-adds of a direct-summation convolution, counted one by one (padded taps too). */
function countedFlops(x: number[], filter: number[], stride: number, pad: 'same' | 'valid'): number {
  const [B, H, W] = x as [number, number, number, number];
  const [KH, KW, Ci, Co] = filter as [number, number, number, number];
  const out = (n: number, k: number) =>
    pad === 'same' ? Math.ceil(n / stride) : Math.floor((n - k) / stride) + 1;
  let flops = 0;
  for (let b = 0; b < B; b++)
    for (let oh = 0; oh < out(H, KH); oh++)
      for (let ow = 0; ow < out(W, KW); ow++)
        for (let co = 0; co < Co; co++)
          for (let kh = 0; kh < KH; kh++)
            for (let kw = 0; kw < KW; kw++) for (let ci = 0; ci < Ci; ci++) flops += 2;
  return flops;
}

describe('convFlops', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  type Shape4 = [number, number, number, number];
  const cases: { x: Shape4; filter: Shape4; stride: number; pad: 'same' | 'valid' }[] = [
    { x: [2, 9, 7, 3], filter: [3, 3, 3, 5], stride: 1, pad: 'same' },
    { x: [3, 8, 10, 4], filter: [3, 2, 4, 2], stride: 2, pad: 'same' },
    { x: [1, 11, 9, 2], filter: [5, 3, 2, 6], stride: 2, pad: 'valid' },
    { x: [2, 6, 6, 7], filter: [1, 1, 7, 3], stride: 1, pad: 'valid' },
  ];

  it.each(cases)(
    'counts each kernel of a profiled conv and its gradients: x $x, filter $filter, stride $stride, $pad',
    async ({ x, filter, stride, pad }) => {
      const xs = tf.randomNormal(x) as tf.Tensor4D;
      const ws = tf.randomNormal(filter) as tf.Tensor4D;
      const info = await tf.profile(() => {
        const g = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad)),
        );
        tf.dispose(g([xs, ws]));
      });
      tf.dispose([xs, ws]);
      const seen = info.kernels.filter((k) => k.name.startsWith('Conv2D'));
      expect(seen.map((k) => k.name).sort()).toEqual([
        'Conv2D',
        'Conv2DBackpropFilter',
        'Conv2DBackpropInput',
      ]);
      const expected = countedFlops(x, filter, stride, pad);
      for (const k of seen)
        expect(convFlops(k.name, k.inputShapes, k.outputShapes[0]!), k.name).toBe(expected);
    },
  );

  it('names what it cannot count', () => {
    expect(() => convFlops('MatMul', [[2, 3]], [2, 3])).toThrow(/MatMul is not one of Conv2D/);
    expect(() =>
      convFlops(
        'Conv2D',
        [
          [1, 4, 4, 2],
          [3, 3, 2],
        ],
        [1, 4, 4, 1],
      ),
    ).toThrow(/rank-4 filter \(input 1\)/);
  });
});
