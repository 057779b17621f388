import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { DdpmUnet, type GroupNormFn, groupNormViaMoments } from './ddpm-unet.js';
import { expectNoLeaks } from './no-leaks.js';
import { useCpuBackend } from './setup-tf.js';

beforeAll(useCpuBackend);

describe('DdpmUnet (test fixture)', () => {
  it('has the parameter count of its PyTorch twin (tooling/bench/python/unet_bench.py, torch 1.13)', () => {
    const net = new DdpmUnet({ attnResolutions: [] });
    expect(net.paramCount).toBe(1_063_651);
    net.dispose();
  });

  it('maps x [B,H,W,C], t [B] to [B,H,W,C] and gives a scalar loss, leaking nothing', async () => {
    const net = new DdpmUnet({ ch: 8, chMult: [1, 2], resolution: 8, groups: 4, attnResolutions: [4] });
    const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const t = tf.tensor1d([0.2, 0.7]);
    const y = net.apply(x, t);
    expect(y.shape).toEqual([2, 8, 8, 3]);
    const alphaBar = tf.tensor1d([0.9, 0.1]);
    const loss = net.loss(x, x, t, alphaBar);
    expect(loss.shape).toEqual([]);
    await expectNoLeaks(() => net.apply(x, t));
    tf.dispose([x, t, y, loss, alphaBar]);
    net.dispose();
  });

  it('normalizes with the groupNorm it is given (default: tf.moments), one call per norm', () => {
    const config = { ch: 8, chMult: [1, 2], resolution: 8, groups: 4, attnResolutions: [4] };
    let calls = 0;
    const counting: GroupNormFn = (...args) => {
      calls++;
      return groupNormViaMoments(...args);
    };
    const plain = new DdpmUnet(config);
    const counted = new DdpmUnet({ ...config, groupNorm: counting });
    const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const t = tf.tensor1d([0.2, 0.7]);
    const [a, b] = [plain.apply(x, t), counted.apply(x, t)];
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    // Two per residual block (down: one per level; middle: two; up: two per level → 8), one per attention
    // block (after the 4×4 down block, in the middle, after each of the two 4×4 up blocks → 4), and the output norm.
    expect(calls).toBe(2 * 8 + 4 + 1);
    tf.dispose([x, t, a, b]);
    plain.dispose();
    counted.dispose();
  });
});
