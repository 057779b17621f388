/**
 * The in-memory dataset the training pipeline consumes: a flat array of samples of one fixed shape, with
 * optional integer class labels.
 */

/** Sample storage: uint8 for images (0–255), float32 for continuous data (e.g. the 2-D toy). */
export type DatasetData = Uint8Array | Float32Array;

/**
 * A dataset of `size` samples, each of shape `shape`, stored contiguously.
 *
 * - `data` has length `size · prod(shape)`; sample `i` occupies `data[i·prod(shape) … (i+1)·prod(shape))`.
 * - Images are `shape = [H, W, C]` (HWC, C = 1 or 3), row-major: pixel (y, x) channel c of sample i is at
 *   `i·H·W·C + (y·W + x)·C + c`, uint8 in 0–255.
 * - `labels` is `null` or has length `size`, each in `0 … numClasses−1`; `numClasses` is 0 without labels.
 */
export interface ArrayDataset {
  /** Human-readable name, e.g. `cifar10-train`. */
  readonly name: string;
  /** Number of samples. */
  readonly size: number;
  /** Shape of one sample, e.g. `[32, 32, 3]` (HWC) or `[2]`. */
  readonly shape: readonly number[];
  /** All samples, `size · prod(shape)` values. */
  readonly data: DatasetData;
  /** One label per sample, or `null`. */
  readonly labels: Uint8Array | null;
  /** Number of classes (labels are `< numClasses`); 0 when `labels` is `null`. */
  readonly numClasses: number;
}

/** Arguments of {@link createDataset}; `size` is derived from `data.length / prod(shape)`. */
export interface DatasetInit {
  name: string;
  shape: readonly number[];
  data: DatasetData;
  labels?: Uint8Array | null;
  /** Required when `labels` is given. */
  numClasses?: number;
}

/** The number of values in one sample of shape `shape` (`prod(shape)`); throws unless all dims are positive integers. */
export function sampleLength(shape: readonly number[]): number {
  if (shape.length === 0 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new Error(`shape: expected a non-empty list of positive integers, got [${shape.join(', ')}]`);
  }
  return shape.reduce((a, b) => a * b, 1);
}

/** True when the dataset holds images: uint8 samples of shape `[H, W, C]` with C = 1 or 3. */
export function isImageDataset(ds: ArrayDataset): boolean {
  return ds.data instanceof Uint8Array && ds.shape.length === 3 && (ds.shape[2] === 1 || ds.shape[2] === 3);
}

/**
 * Builds a validated, frozen {@link ArrayDataset}. Throws a message naming the dataset and the field when
 * the shape is not positive integers, `data.length` is not a whole number of samples (or is 0), `labels`
 * does not have one entry per sample, or a label is `≥ numClasses`.
 */
export function createDataset(init: DatasetInit): ArrayDataset {
  const { name, data } = init;
  if (typeof name !== 'string' || name.length === 0)
    throw new Error('createDataset: name must be a non-empty string');
  let per: number;
  try {
    per = sampleLength(init.shape);
  } catch (e) {
    throw new Error(`dataset ${name}: ${(e as Error).message}`);
  }
  if (!(data instanceof Uint8Array || data instanceof Float32Array)) {
    throw new Error(`dataset ${name}: data must be a Uint8Array or Float32Array`);
  }
  if (data.length === 0 || data.length % per !== 0) {
    throw new Error(
      `dataset ${name}: data has ${data.length} values, expected a positive multiple of ${per} (prod of shape [${init.shape.join(', ')}])`,
    );
  }
  const size = data.length / per;
  const labels = init.labels ?? null;
  let numClasses = 0;
  if (labels !== null) {
    if (!(labels instanceof Uint8Array))
      throw new Error(`dataset ${name}: labels must be a Uint8Array or null`);
    if (labels.length !== size) {
      throw new Error(
        `dataset ${name}: labels has ${labels.length} entries, expected one per sample (${size})`,
      );
    }
    const k = init.numClasses;
    if (k === undefined || !Number.isInteger(k) || k < 1 || k > 256) {
      throw new Error(
        `dataset ${name}: numClasses must be an integer in 1–256 when labels are given, got ${k}`,
      );
    }
    for (let i = 0; i < size; i++) {
      if (labels[i]! >= k)
        throw new Error(`dataset ${name}: label ${labels[i]} of sample ${i} is not < numClasses ${k}`);
    }
    numClasses = k;
  } else if (init.numClasses !== undefined && init.numClasses !== 0) {
    throw new Error(`dataset ${name}: numClasses ${init.numClasses} given without labels`);
  }
  return Object.freeze({ name, size, shape: Object.freeze([...init.shape]), data, labels, numClasses });
}
