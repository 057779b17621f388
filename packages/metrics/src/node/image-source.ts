import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { SbmArgumentError } from '@sbm/sde';
import {
  CIFAR10_IMAGE_BYTES,
  CIFAR10_TEST_FILES,
  CIFAR10_TRAIN_FILES,
  cifar10RecordCount,
  parseCifar10Batch,
} from './cifar10-batch.js';
import { decodeImage, IMAGE_EXTENSIONS, rgbUnitFloats } from './image-file.js';

/** A batch of same-sized RGB images in [0, 1]: `pixels` is `[count, height, width, 3]` HWC float32. */
export interface ImageBatch {
  /** The images, `[count, height, width, 3]` HWC float32 row-major, values `v / 255` in [0, 1]. */
  pixels: Float32Array;
  /** Number of images in the batch (at most the requested `batchSize`). */
  count: number;
  /** Height in pixels of every image of the batch. */
  height: number;
  /** Width in pixels of every image of the batch. */
  width: number;
}

/** Images to measure: an image folder or CIFAR-10 binary batches. */
export interface ImageSource {
  /** What was opened, for messages (`folder samples/ (10000 images)`). */
  readonly description: string;
  /** Number of images (after `limit`). */
  readonly count: number;
  /** The images in order, in batches of at most `batchSize` images of one size. */
  batches(batchSize: number): AsyncGenerator<ImageBatch>;
}

/** Options of {@link openImageSource}. */
export interface ImageSourceOptions {
  /** CIFAR-10 split when `path` is a `cifar-10-batches-bin` folder (default `'train'`, 50 000 images). */
  split?: 'train' | 'test';
  /** Use only the first `limit` images. */
  limit?: number;
}

/**
 * Opens `path` as a source of images:
 * - a folder holding CIFAR-10 binary batches (`data_batch_1.bin`…, `test_batch.bin`): the `split`;
 * - one CIFAR-10 batch file (`*.bin`);
 * - any other folder: its PNG and JPEG files (not recursive, sorted by name, as pytorch-fid lists a folder),
 *   decoded to RGB (grey and alpha converted as PIL's `convert('RGB')` does). Images may differ in size;
 *   a batch holds consecutive images of one size.
 *
 * @throws SbmArgumentError naming `path` when it does not exist, holds no images, or a file is corrupt.
 */
export async function openImageSource(path: string, options: ImageSourceOptions = {}): Promise<ImageSource> {
  const { split = 'train', limit } = options;
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
    throw new SbmArgumentError('limit', `expected a positive integer, got ${limit}`);
  }
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch {
    throw new SbmArgumentError(path, 'no such file or folder');
  }
  if (info.isFile()) {
    if (extname(path) !== '.bin') {
      throw new SbmArgumentError(
        path,
        'expected a folder of images, a CIFAR-10 folder or a CIFAR-10 .bin batch',
      );
    }
    return cifar10Source([path], `CIFAR-10 batch ${basename(path)}`, limit);
  }
  const names = (await readdir(path)).sort();
  if (names.includes(CIFAR10_TEST_FILES[0]!) || names.includes(CIFAR10_TRAIN_FILES[0]!)) {
    const files = split === 'train' ? CIFAR10_TRAIN_FILES : CIFAR10_TEST_FILES;
    const missing = files.filter((f) => !names.includes(f));
    if (missing.length > 0) {
      throw new SbmArgumentError(path, `the CIFAR-10 ${split} split needs ${missing.join(', ')}`);
    }
    return cifar10Source(
      files.map((f) => join(path, f)),
      `CIFAR-10 ${split} (${path})`,
      limit,
    );
  }
  const images = names.filter((n) => IMAGE_EXTENSIONS.includes(extname(n).toLowerCase()));
  if (images.length === 0) {
    throw new SbmArgumentError(path, `holds no ${IMAGE_EXTENSIONS.join('/')} images and no CIFAR-10 batches`);
  }
  const chosen = limit === undefined ? images : images.slice(0, limit);
  return {
    description: `folder ${path} (${chosen.length} images)`,
    count: chosen.length,
    async *batches(batchSize: number) {
      checkBatchSize(batchSize);
      let pending: { pixels: Float32Array; height: number; width: number }[] = [];
      const flush = (): ImageBatch => {
        const { height, width } = pending[0]!;
        const per = height * width * 3;
        const pixels = new Float32Array(pending.length * per);
        pending.forEach((p, i) => {
          pixels.set(p.pixels, i * per);
        });
        const batch = { pixels, count: pending.length, height, width };
        pending = [];
        return batch;
      };
      for (const name of chosen) {
        const file = join(path, name);
        const image = decodeImage(await readFile(file), file);
        const last = pending[0];
        if (last && (last.height !== image.height || last.width !== image.width)) yield flush();
        pending.push({ pixels: rgbUnitFloats(image), height: image.height, width: image.width });
        if (pending.length === batchSize) yield flush();
      }
      if (pending.length > 0) yield flush();
    },
  };
}

function checkBatchSize(batchSize: number): void {
  if (!(Number.isInteger(batchSize) && batchSize > 0)) {
    throw new SbmArgumentError('batchSize', `expected a positive integer, got ${batchSize}`);
  }
}

async function cifar10Source(files: readonly string[], what: string, limit?: number): Promise<ImageSource> {
  let total = 0;
  for (const f of files) total += cifar10RecordCount((await stat(f)).size, f);
  const count = limit === undefined ? total : Math.min(limit, total);
  return {
    description: `${what} (${count} images)`,
    count,
    async *batches(batchSize: number) {
      checkBatchSize(batchSize);
      let left = count;
      for (const f of files) {
        if (left === 0) return;
        const { images } = parseCifar10Batch(await readFile(f), f);
        const n = Math.min(left, images.length / CIFAR10_IMAGE_BYTES);
        for (let start = 0; start < n; start += batchSize) {
          const b = Math.min(batchSize, n - start);
          const pixels = new Float32Array(b * CIFAR10_IMAGE_BYTES);
          const from = start * CIFAR10_IMAGE_BYTES;
          for (let i = 0; i < pixels.length; i++) pixels[i] = images[from + i]! / 255;
          yield { pixels, count: b, height: 32, width: 32 };
        }
        left -= n;
      }
    },
  };
}
