import { setupBackend } from '@sbm/backend';
import { expectNoLeaks } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { FID_INCEPTION_CONVS, fidInceptionStateDictShapes, inceptionA } from './inception-blocks.js';
import { loadInceptionReference } from './inception-fixtures.test-support.js';

describe('the FID Inception state-dict table', () => {
  it("has pytorch-fid's 472 keys (566 with num_batches_tracked) and element count (torchvision 0.14)", () => {
    const shapes = fidInceptionStateDictShapes();
    // scripts/inception-reference.py prints: 23885392 elements (without num_batches_tracked), 566 keys.
    expect(shapes.size + FID_INCEPTION_CONVS.length).toBe(566);
    let elements = 0;
    for (const s of shapes.values()) elements += s.reduce((a, b) => a * b, 1);
    expect(elements).toBe(loadInceptionReference().meta.paramCount);
    expect(elements).toBe(23_885_392);
  });
});

describe.each(['wasm', 'cpu'] as const)('pooling semantics on %s', (backend) => {
  beforeAll(() => setupBackend({ prefer: backend, importModule: (n) => import(n) }));

  it("3×3 'same' average pooling averages the valid cells only (count_include_pad=False)", () => {
    // x[i, j] = 3i + j on a 3×3 grid; closed-form means over the in-bounds part of each 3×3 window.
    const x = tf.tensor4d([0, 1, 2, 3, 4, 5, 6, 7, 8], [1, 3, 3, 1]);
    const y = tf.avgPool(x, 3, 1, 'same');
    const corner = (0 + 1 + 3 + 4) / 4;
    const edge = (0 + 1 + 2 + 3 + 4 + 5) / 6;
    expect(Array.from(y.dataSync())[0]).toBeCloseTo(corner, 6);
    expect(Array.from(y.dataSync())[1]).toBeCloseTo(edge, 6);
    expect(Array.from(y.dataSync())[4]).toBeCloseTo(4, 6);
    tf.dispose([x, y]);
  });

  it("3×3 'same' max pooling ignores the padding (all-negative input stays negative)", () => {
    const x = tf.tensor4d([-9, -8, -7, -6, -5, -4, -3, -2, -1], [1, 3, 3, 1]);
    const y = tf.maxPool(x, 3, 1, 'same');
    expect(Array.from(y.dataSync())).toEqual([-5, -4, -4, -2, -1, -1, -2, -1, -1]);
    tf.dispose([x, y]);
  });
});

describe('inceptionA', () => {
  beforeAll(() => setupBackend({ prefer: 'cpu' }));

  it('maps [B,H,W,192] to [B,H,W,256] for Mixed_5b (64 + 64 + 96 + 32 channels) and leaks nothing', async () => {
    const convs = new Map(
      FID_INCEPTION_CONVS.filter((c) => c.name.startsWith('Mixed_5b.')).map((spec) => [
        spec.name,
        {
          spec,
          filter: tf.fill([...spec.kernel, spec.inChannels, spec.outChannels], 0.01) as tf.Tensor4D,
          bias: tf.zeros([spec.outChannels]) as tf.Tensor1D,
        },
      ]),
    );
    const x = tf.ones([2, 6, 7, 192]) as tf.Tensor4D;
    const y = inceptionA(x, 'Mixed_5b', (n) => convs.get(n)!);
    expect(y.shape).toEqual([2, 6, 7, 256]);
    await expectNoLeaks(() => tf.tidy(() => inceptionA(x, 'Mixed_5b', (n) => convs.get(n)!)));
    tf.dispose([x, y]);
    for (const c of convs.values()) tf.dispose([c.filter, c.bias]);
  });
});
