import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TrainerConfig } from '../config/schema.js';
import { loadCifar10 } from '../data/cifar10.js';
import type { ArrayDataset } from '../data/dataset.js';
import { loadImageFolder } from '../data/image-folder.js';
import { loadMnist } from '../data/mnist.js';

/** Training digits of the `mnist` package used by the MNIST presets (the rest stay held out). */
export const MNIST_TRAIN_DIGITS = 8000;

/**
 * The training set of a config's `data` section: CIFAR-10's binary batches from `data.path` (the
 * `cifar-10-batches-bin` folder, or its parent), the `mnist` package's digits at `data.resolution`
 * (16, 28 or 32), or a folder of images resized to `data.resolution`. The toy dataset has no U-Net
 * trainer yet and is refused with a clear error.
 */
export async function loadTrainingSet(data: TrainerConfig['data']): Promise<ArrayDataset> {
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
    const resolution = data.resolution;
    if (resolution !== 16 && resolution !== 28 && resolution !== 32) {
      throw new Error(`data.resolution: expected 16, 28 or 32 for MNIST, got ${resolution}`);
    }
    if (data.channels !== 1) throw new Error(`data.channels: expected 1 for MNIST, got ${data.channels}`);
    return loadMnist({ train: MNIST_TRAIN_DIGITS, test: 0, resolution }).train;
  }
  if (data.dataset === 'folder') {
    if (data.path === undefined) throw new Error('data.path: expected the folder of PNG/JPEG images');
    if (data.channels !== 1 && data.channels !== 3) {
      throw new Error(`data.channels: expected 1 or 3, got ${data.channels}`);
    }
    return loadImageFolder({ dir: data.path, size: data.resolution, channels: data.channels });
  }
  throw new Error(
    "data.dataset: 'toy' needs the MLP model, which the trainer does not build yet; use the samplers demo (pnpm demo:samplers)",
  );
}
