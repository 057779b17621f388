/**
 * Reader of the CIFAR-10 binary batches (`cifar-10-batches-bin/`): each file is a sequence of 3073-byte
 * records, one label byte (0–9) followed by a 32×32 RGB image stored as three 1024-byte planes (R, G, B),
 * each plane row-major with rows top to bottom (i.e. CHW). The reader converts to HWC. The format itself is
 * parsed by `@sbm/metrics/node` (which reads the same files for FID statistics); this file loads a split.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CIFAR10_IMAGE_BYTES,
  CIFAR10_TEST_FILES,
  CIFAR10_TRAIN_FILES,
  cifar10RecordCount,
  parseCifar10Batch,
} from '@sbm/metrics/node';
import { type ArrayDataset, createDataset } from './dataset.js';

/**
 * Loads a CIFAR-10 split from the directory holding the binary batches (`…/cifar-10-batches-bin`):
 * `train` = `data_batch_1.bin … data_batch_5.bin` concatenated in order (50 000 images in the real data),
 * `test` = `test_batch.bin` (10 000). Any whole number of records per file is accepted.
 *
 * @returns a dataset named `cifar10-<split>` of shape `[32, 32, 3]` (HWC uint8) with labels, 10 classes.
 * @throws when a file is missing (naming it), has a length that is not a multiple of 3073, or a bad label.
 */
export async function loadCifar10(dir: string, split: 'train' | 'test'): Promise<ArrayDataset> {
  if (split !== 'train' && split !== 'test') {
    throw new Error(`loadCifar10: split must be 'train' or 'test', got ${JSON.stringify(split)}`);
  }
  const files = split === 'train' ? CIFAR10_TRAIN_FILES : CIFAR10_TEST_FILES;
  const contents: Uint8Array[] = [];
  for (const f of files) {
    const path = join(dir, f);
    try {
      contents.push(await readFile(path));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        throw new Error(
          `loadCifar10: missing ${path} (the ${split} split needs ${files.join(', ')} in ${dir}; run the CIFAR-10 download first)`,
        );
      }
      throw new Error(`loadCifar10: cannot read ${path}: ${(e as Error).message}`);
    }
  }
  let total = 0;
  for (const [i, b] of contents.entries()) {
    total += cifar10RecordCount(b.length, join(dir, files[i]!));
  }
  const images = new Uint8Array(total * CIFAR10_IMAGE_BYTES);
  const labels = new Uint8Array(total);
  let offset = 0;
  for (const [i, b] of contents.entries()) {
    offset += parseCifar10Batch(b, join(dir, files[i]!), { images, labels, offset }).count;
  }
  return createDataset({
    name: `cifar10-${split}`,
    shape: [32, 32, 3],
    data: images,
    labels,
    numClasses: 10,
  });
}
