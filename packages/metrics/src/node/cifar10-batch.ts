/**
 * The CIFAR-10 binary batches (`cifar-10-batches-bin/`, Krizhevsky 2009): each file is a sequence of 3073-byte
 * records, one label byte (0–9) followed by a 32×32 RGB image stored as three 1024-byte planes (R, G, B), each
 * plane row-major with rows top to bottom (i.e. CHW). The parser converts to HWC.
 */
import { SbmArgumentError } from '@sbm/sde';

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
  /** Number of records parsed from this file (10 000 for a full CIFAR-10 batch). */
  count: number;
  /**
   * The images, `[count, 32, 32, 3]` HWC uint8 row-major (0–255); with a `target`, the target's whole array,
   * these images at its `offset`.
   */
  images: Uint8Array;
  /** The labels, `[count]` in 0–9 (indices into {@link CIFAR10_CLASSES}); with a `target`, the target's whole array. */
  labels: Uint8Array;
}

/** Where {@link parseCifar10Batch} writes: preallocated arrays and the first record's index in them. */
export interface Cifar10Target {
  /** Room for at least `offset + count` images of {@link CIFAR10_IMAGE_BYTES} bytes each, HWC uint8. */
  images: Uint8Array;
  /** Room for at least `offset + count` labels. */
  labels: Uint8Array;
  /** Index (in images, not bytes) at which the first record of the file is written. */
  offset: number;
}

/**
 * The number of records in a batch file of `byteLength` bytes.
 *
 * @throws SbmArgumentError naming `fileName` when the length is not a positive multiple of 3073.
 */
export function cifar10RecordCount(byteLength: number, fileName: string): number {
  if (byteLength === 0 || byteLength % CIFAR10_RECORD_BYTES !== 0) {
    throw new SbmArgumentError(
      fileName,
      `expected a positive multiple of ${CIFAR10_RECORD_BYTES} bytes (1 label + ${CIFAR10_IMAGE_BYTES} pixels per image), got ${byteLength}`,
    );
  }
  return byteLength / CIFAR10_RECORD_BYTES;
}

/**
 * Parses the bytes of one binary batch file (`fileName` is used in error messages only), into new arrays or
 * into `target` at `target.offset` (to concatenate several files without copies).
 *
 * @throws SbmArgumentError naming the file when the length is not a positive multiple of 3073, and the record
 *   when a label byte is > 9.
 */
export function parseCifar10Batch(bytes: Uint8Array, fileName: string, target?: Cifar10Target): Cifar10Batch {
  const count = cifar10RecordCount(bytes.length, fileName);
  const offset = target?.offset ?? 0;
  const images = target?.images ?? new Uint8Array(count * CIFAR10_IMAGE_BYTES);
  const labels = target?.labels ?? new Uint8Array(count);
  if (images.length < (offset + count) * CIFAR10_IMAGE_BYTES || labels.length < offset + count) {
    throw new SbmArgumentError('target', `has no room for ${count} records at offset ${offset}`);
  }
  for (let r = 0; r < count; r++) {
    const rec = r * CIFAR10_RECORD_BYTES;
    const label = bytes[rec]!;
    if (label > 9) {
      throw new SbmArgumentError(
        fileName,
        `record ${r} (byte offset ${rec}) has label ${label}, expected 0–9`,
      );
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
