import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cifar10BatchBytes, cifar10HwcMismatches } from '@sbm/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load.js';
import { loadMnist } from '../data/mnist.js';
import { loadEvaluationSet, loadTrainingSet, MNIST_EVAL_DIGITS, MNIST_TRAIN_DIGITS } from './load-dataset.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sbm-load-dataset-'));
  for (const [i, f] of [
    'data_batch_1.bin',
    'data_batch_2.bin',
    'data_batch_3.bin',
    'data_batch_4.bin',
    'data_batch_5.bin',
  ].entries())
    await writeFile(join(dir, f), cifar10BatchBytes(i, [i]));
  await writeFile(join(dir, 'test_batch.bin'), cifar10BatchBytes(0, [3, 1, 4]));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('loadEvaluationSet', () => {
  it('CIFAR-10: the test batch, not the training batches', async () => {
    const config = await loadConfig({ preset: 'vp/cifar10_ddpmpp_continuous', set: [`data.path=${dir}`] });
    const test = await loadEvaluationSet(config.data);
    expect(test.name).toBe('cifar10-test');
    expect(Array.from(test.labels!)).toEqual([3, 1, 4]);
    expect(cifar10HwcMismatches(test.data as Uint8Array, 3)).toBe(0);
    expect((await loadTrainingSet(config.data)).size).toBe(5);
  });

  it('MNIST: the held-out digits that training never sees', async () => {
    const config = await loadConfig({ preset: 'mnist/demo' });
    const held = await loadEvaluationSet(config.data);
    expect(held.size).toBe(MNIST_EVAL_DIGITS);
    const { test } = loadMnist({ train: MNIST_TRAIN_DIGITS, test: MNIST_EVAL_DIGITS, resolution: 16 });
    expect(held.data).toEqual(test!.data);
  });

  it('toy: fresh points from seed + 1, not the training points', async () => {
    const config = await loadConfig({ preset: 'toy/mixture' });
    const train = await loadTrainingSet(config.data, { seed: config.seed });
    const held = await loadEvaluationSet(config.data, { seed: config.seed });
    expect(held.size).toBe(train.size);
    expect(held.data).not.toEqual(train.data);
    expect(held.data).toEqual((await loadTrainingSet(config.data, { seed: config.seed + 1 })).data);
  });
});
