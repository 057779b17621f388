import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TrainerConfig } from '../config/schema.js';
import { loadCifar10 } from '../data/cifar10.js';
import type { ArrayDataset } from '../data/dataset.js';
import { loadImageFolder } from '../data/image-folder.js';
import { loadMnist } from '../data/mnist.js';
import { sampleToy } from '../data/toy.js';
import { toyMixtureOfConfig } from '../data/toy-mixture.js';

/** Training digits of the `mnist` package used by the MNIST presets (the rest stay held out). */
export const MNIST_TRAIN_DIGITS = 8000;

/** Options of {@link loadTrainingSet}. */
export interface LoadTrainingSetOptions {
  /** The run's seed (`config.seed`): the toy points are drawn from it (default 0). Image datasets ignore it. */
  seed?: number;
}

/** The MNIST resolution of a config's `data` section, checked (16, 28 or 32, one channel). */
function mnistResolution(data: TrainerConfig['data']): 16 | 28 | 32 {
  const resolution = 'resolution' in data ? data.resolution : undefined;
  if (resolution !== 16 && resolution !== 28 && resolution !== 32) {
    throw new Error(`data.resolution: expected 16, 28 or 32 for MNIST, got ${resolution}`);
  }
  if ('channels' in data && data.channels !== 1) {
    throw new Error(`data.channels: expected 1 for MNIST, got ${data.channels}`);
  }
  return resolution;
}

/**
 * The training set of a config's `data` section: CIFAR-10's binary batches from `data.path` (the
 * `cifar-10-batches-bin` folder, or its parent), the `mnist` package's digits at `data.resolution`
 * (16, 28 or 32), a folder of images resized to `data.resolution`, or, for `toy`, `data.trainSize` points
 * `[2]` (float32, unscaled) of the mixture of {@link toyMixtureOfConfig} drawn with `sampleToy` from
 * `options.seed`, labelled with their component.
 */
export async function loadTrainingSet(
  data: TrainerConfig['data'],
  options: LoadTrainingSetOptions = {},
): Promise<ArrayDataset> {
  if (data.dataset === 'toy') {
    if (data.numClasses !== 0 && data.numClasses !== data.components) {
      throw new Error(
        `data.numClasses: expected 0 (unconditional) or data.components (${data.components}) for toy data, whose labels are the component indices; got ${data.numClasses}`,
      );
    }
    return sampleToy({ n: data.trainSize, seed: options.seed ?? 0, mixture: toyMixtureOfConfig(data) });
  }
  if (data.dataset === 'cifar10') {
    if (data.path === undefined) {
      throw new Error(
        'data.path: expected the CIFAR-10 folder (cifar-10-batches-bin, or its parent); see downloadCifar10 / the trainer README',
      );
    }
    const inner = join(data.path, 'cifar-10-batches-bin');
    return loadCifar10(existsSync(inner) ? inner : data.path, 'train');
  }
  if (data.dataset === 'mnist') {
    return loadMnist({ train: MNIST_TRAIN_DIGITS, test: 0, resolution: mnistResolution(data) }).train;
  }
  if (data.dataset === 'folder') {
    if (data.path === undefined) throw new Error('data.path: expected the folder of PNG/JPEG images');
    if (data.channels !== 1 && data.channels !== 3) {
      throw new Error(`data.channels: expected 1 or 3, got ${data.channels}`);
    }
    return loadImageFolder({ dir: data.path, size: data.resolution, channels: data.channels });
  }
  throw new Error(`data.dataset: expected one of cifar10, mnist, folder, toy, got '${String(data.dataset)}'`);
}

/** Held-out MNIST digits (the package's 10 000 minus {@link MNIST_TRAIN_DIGITS}), for evaluation. */
export const MNIST_EVAL_DIGITS = 2000;

/**
 * The evaluation set of a config's `data` section, data the run did not train on where there is such data:
 * CIFAR-10's `test_batch.bin` (10 000 images), the {@link MNIST_EVAL_DIGITS} held-out MNIST digits, for `toy`
 * `data.trainSize` fresh points drawn from `options.seed + 1` (the training points come from `options.seed`);
 * a folder of images has no split and is returned whole.
 */
export async function loadEvaluationSet(
  data: TrainerConfig['data'],
  options: LoadTrainingSetOptions = {},
): Promise<ArrayDataset> {
  if (data.dataset === 'toy') return loadTrainingSet(data, { seed: (options.seed ?? 0) + 1 });
  if (data.dataset === 'cifar10') {
    if (data.path === undefined) return loadTrainingSet(data); // names the missing data.path
    const inner = join(data.path, 'cifar-10-batches-bin');
    return loadCifar10(existsSync(inner) ? inner : data.path, 'test');
  }
  if (data.dataset === 'mnist') {
    return loadMnist({
      train: MNIST_TRAIN_DIGITS,
      test: MNIST_EVAL_DIGITS,
      resolution: mnistResolution(data),
    }).test!;
  }
  return loadTrainingSet(data, options);
}
