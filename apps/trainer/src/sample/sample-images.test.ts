import { wrapModel } from '@sbm/samplers';
import { VPSDE } from '@sbm/sde';
import { expectNoLeaks, useCpuBackend } from '@sbm/test-utils';
import { createUNet, unetPreset } from '@sbm/unet';
import * as tf from '@tensorflow/tfjs-core';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toImages } from './image-grid.js';
import type { Image8 } from './png-io.js';
import {
  type IndexBatch,
  sampleBatches,
  sampleClass,
  sampleConditioning,
  sampleImages,
  shardBatches,
} from './sample-images.js';

beforeAll(useCpuBackend);

describe('shardBatches', () => {
  it('gives every shard whole global batches; together they are the unsharded batches', () => {
    for (const [count, batch, total] of [
      [50_000, 128, 16],
      [10, 4, 3],
      [5, 2, 4],
      [3, 8, 2],
    ] as const) {
      const all = shardBatches(count, batch, { index: 0, total: 1 });
      const union = Array.from({ length: total }, (_, index) =>
        shardBatches(count, batch, { index, total }),
      ).flat();
      expect(union).toEqual(all);
      expect(all.at(-1)!.end).toBe(count);
      for (const b of all) expect(b.start % batch).toBe(0);
    }
    expect(() => shardBatches(5, 0, { index: 0, total: 1 })).toThrow(/^batchSize: expected an integer >= 1/);
  });
});

describe('sampleImages', () => {
  // A real (randomly initialized) DDPM-style U-Net; its output is whatever it is, but deterministic.
  const sde = new VPSDE();
  const net = createUNet(unetPreset('tiny/ddpm', { imageSize: 8, numChannels: 1 }));
  const model = wrapModel(net.model, { sde, prediction: 'eps', timeInput: 'index', name: 'tiny/ddpm' });
  afterAll(() => net.dispose());

  const run = async (shard: { index: number; total: number }) => {
    const got: [IndexBatch, Image8[]][] = [];
    const { nfe } = await sampleImages({
      sde,
      model,
      sampler: 'ddim',
      samplerOptions: { steps: 3 },
      sampleShape: [8, 8, 1],
      count: 5,
      batchSize: 2,
      seed: 17,
      shard,
      centered: true,
      onBatch: (batch, images) => {
        got.push([batch, images]);
      },
    });
    return { got, nfe };
  };

  it('two shards together equal one unsharded run, image for image', async () => {
    const whole = await run({ index: 0, total: 1 });
    expect(whole.got.map(([b]) => [b.start, b.end])).toEqual([
      [0, 2],
      [2, 4],
      [4, 5],
    ]);
    expect(whole.nfe).toBe(9);
    const first = await run({ index: 0, total: 2 });
    const second = await run({ index: 1, total: 2 });
    const images = (r: typeof whole) =>
      r.got.flatMap(([, ims]) => ims.map((im) => Buffer.from(im.data).toString('hex')));
    expect([...images(first), ...images(second)]).toEqual(images(whole));
    // and the images are not trivially equal to each other
    expect(new Set(images(whole)).size).toBe(5);
  });

  it('leaves no tensors behind', async () => {
    await expectNoLeaks(() => run({ index: 1, total: 3 }));
  });

  it('names an unknown sampler', async () => {
    await expect(
      sampleImages({
        sde,
        model,
        sampler: 'heun',
        sampleShape: [8, 8, 1],
        count: 1,
        batchSize: 1,
        seed: 1,
        centered: true,
      }),
    ).rejects.toThrow(
      /^sampling.sampler: expected one of pc, ode, ddpm, ddim, edm, dpmSolver, dpmSolverPlusPlus, unipc, got 'heun'/,
    );
  });
});

describe('sampleBatches', () => {
  const sde = new VPSDE();
  const net = createUNet(unetPreset('tiny/ddpm', { imageSize: 8, numChannels: 1 }));
  const model = wrapModel(net.model, { sde, prediction: 'eps', timeInput: 'index', name: 'tiny/ddpm' });
  afterAll(() => net.dispose());

  // The same run for both functions: 5 samples in batches of 2.
  const common = {
    sde,
    model,
    sampler: 'ddim',
    samplerOptions: { steps: 3 },
    sampleShape: [8, 8, 1],
    count: 5,
    batchSize: 2,
    seed: 17,
  } as const;
  const run = async (shard: { index: number; total: number }) => {
    const got: { batch: IndexBatch; samples: Float32Array; shape: number[] }[] = [];
    await sampleBatches({
      ...common,
      shard,
      onBatch: (batch, samples, shape) => {
        got.push({ batch, samples, shape });
      },
    });
    return got;
  };

  it('hands over the raw float samples [b, ...sampleShape] that sampleImages converts to 8-bit images', async () => {
    const raw = await run({ index: 0, total: 1 });
    expect(raw.map((r) => r.shape)).toEqual([
      [2, 8, 8, 1],
      [2, 8, 8, 1],
      [1, 8, 8, 1],
    ]);
    const images: Image8[] = [];
    await sampleImages({
      ...common,
      centered: true,
      onBatch: (_b, ims) => {
        images.push(...ims);
      },
    });
    expect(raw.flatMap((r) => toImages(r.samples, r.shape, true))).toEqual(images);
    // Two shards are the unsharded run, value for value.
    const parts = [...(await run({ index: 0, total: 2 })), ...(await run({ index: 1, total: 2 }))];
    expect(parts.map((p) => [p.batch.start, p.batch.end, Array.from(p.samples)])).toEqual(
      raw.map((p) => [p.batch.start, p.batch.end, Array.from(p.samples)]),
    );
  });

  it('leaves no tensors behind', async () => {
    await expectNoLeaks(() => run({ index: 1, total: 2 }));
  });
});

describe('sampleBatches with class conditioning', () => {
  const sde = new VPSDE();
  // A class-aware score that records the labels of every call: −(x − μ_y) with μ_y = y (the null class 3: μ = 0).
  const calls: number[][] = [];
  const model = wrapModel(
    (x: tf.Tensor, _t: tf.Tensor, labels?: tf.Tensor) => {
      const y = labels!.dataSync();
      calls.push(Array.from(y));
      return tf.tidy(() => tf.neg(tf.sub(x, tf.reshape(tf.cast(labels!, 'float32'), [-1, 1]))));
    },
    { sde, prediction: 'score' },
  );
  const run = (
    conditioning: Parameters<typeof sampleBatches>[0]['conditioning'],
    shard = { index: 0, total: 1 },
  ) =>
    sampleBatches({
      sde,
      model,
      sampler: 'ddim',
      samplerOptions: { steps: 2 },
      sampleShape: [1],
      count: 5,
      batchSize: 2,
      seed: 3,
      shard,
      conditioning,
    });

  it('gives sample k the class k mod K in every shard, or the class asked for', async () => {
    calls.length = 0;
    await run({ numClasses: 3, scale: 1 }, { index: 1, total: 2 }); // global batches [2, 4) and [4, 5)
    // Two DDIM steps per batch: samples 2, 3 are classes 2, 0; sample 4 is class 1.
    expect(calls).toEqual([[2, 0], [2, 0], [1], [1]]);
    calls.length = 0;
    await run({ numClasses: 3, scale: 1, classLabel: 1 });
    expect(new Set(calls.flat())).toEqual(new Set([1]));
    expect(sampleClass({ numClasses: 3, scale: 1 }, 7)).toBe(1);
    expect(sampleConditioning(0, { scale: 1 })).toBeUndefined();
    expect(sampleConditioning(10, { scale: 2, classLabel: 4 })).toEqual({
      numClasses: 10,
      scale: 2,
      classLabel: 4,
    });
  });

  it('guides with scale ≠ 1: one call per step on [labels; null class], and frees what it allocates', async () => {
    calls.length = 0;
    const { nfe } = await run({ numClasses: 3, scale: 2 });
    expect(calls.length).toBe(nfe);
    expect(calls[0]).toEqual([0, 1, 3, 3]);
    expect(calls.at(-1)).toEqual([1, 3]); // sample 4: class 4 mod 3
    await expectNoLeaks(() => run({ numClasses: 3, scale: 2 }));
  });
});
