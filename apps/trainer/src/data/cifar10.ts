/**
 * Reader of the CIFAR-10 binary batches (`cifar-10-batches-bin/`): each file is a sequence of 3073-byte
 * records, one label byte (0–9) followed by a 32×32 RGB image stored as three 1024-byte planes (R, G, B),
 * each plane row-major with rows top to bottom (i.e. CHW). The reader converts to HWC.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ArrayDataset, createDataset } from './dataset.js';

/** Bytes of one image (3 planes of 32×32). */
export const CIFAR10_IMAGE_BYTES = 3072;
/** Bytes of one record: 1 label byte + {@link CIFAR10_IMAGE_BYTES}. */
export const CIFAR10_RECORD_BYTES = 3073;
/** The class names, indexed by label (as in `batches.meta.txt`). */
export const CIFAR10_CLASSES: readonly string[] = Object.freeze([
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
]);
/** The training batch files, in the order they are concatenated. */
export const CIFAR10_TRAIN_FILES: readonly string[] = Object.freeze([
  'data_batch_1.bin',
  'data_batch_2.bin',
  'data_batch_3.bin',
  'data_batch_4.bin',
  'data_batch_5.bin',
]);
/** The test batch file. */
export const CIFAR10_TEST_FILES: readonly string[] = Object.freeze(['test_batch.bin']);

/** One parsed batch: `images` is `[count, 32, 32, 3]` HWC uint8, `labels` is `[count]` in 0–9. */
export interface Cifar10Batch {
  count: number;
  images: Uint8Array;
  labels: Uint8Array;
}

/**
 * Parses the bytes of one binary batch file (`fileName` is used in error messages only). Throws when the
 * length is not a positive multiple of 3073 or a label byte is > 9.
 */
export function parseCifar10Batch(bytes: Uint8Array, fileName: string): Cifar10Batch {
  return parseInto(bytes, fileName, null, null, 0);
}

function checkBatchLength(bytes: Uint8Array, fileName: string): void {
  if (bytes.length === 0 || bytes.length % CIFAR10_RECORD_BYTES !== 0) {
    throw new Error(
      `${fileName}: expected a positive multiple of ${CIFAR10_RECORD_BYTES} bytes (1 label + ${CIFAR10_IMAGE_BYTES} pixels per image), got ${bytes.length}`,
    );
  }
}

function parseInto(
  bytes: Uint8Array,
  fileName: string,
  outImages: Uint8Array | null,
  outLabels: Uint8Array | null,
  offset: number,
): Cifar10Batch {
  checkBatchLength(bytes, fileName);
  const count = bytes.length / CIFAR10_RECORD_BYTES;
  const images = outImages ?? new Uint8Array(count * CIFAR10_IMAGE_BYTES);
  const labels = outLabels ?? new Uint8Array(count);
  for (let r = 0; r < count; r++) {
    const rec = r * CIFAR10_RECORD_BYTES;
    const label = bytes[rec]!;
    if (label > 9) {
      throw new Error(`${fileName}: record ${r} (byte offset ${rec}) has label ${label}, expected 0–9`);
    }
    labels[offset + r] = label;
    const src = rec + 1;
    const dst = (offset + r) * CIFAR10_IMAGE_BYTES;
    for (let p = 0; p < 1024; p++) {
      const o = dst + 3 * p;
      images[o] = bytes[src + p]!;
      images[o + 1] = bytes[src + 1024 + p]!;
      images[o + 2] = bytes[src + 2048 + p]!;
    }
  }
  return { count, images, labels };
}

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
    checkBatchLength(b, join(dir, files[i]!));
    total += b.length / CIFAR10_RECORD_BYTES;
  }
  const images = new Uint8Array(total * CIFAR10_IMAGE_BYTES);
  const labels = new Uint8Array(total);
  let offset = 0;
  for (const [i, b] of contents.entries()) {
    offset += parseInto(b, join(dir, files[i]!), images, labels, offset).count;
  }
  return createDataset({
    name: `cifar10-${split}`,
    shape: [32, 32, 3],
    data: images,
    labels,
    numClasses: 10,
  });
}
