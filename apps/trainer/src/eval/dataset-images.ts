import type { ArrayDataset } from '../data/dataset.js';

/** Float images of one fixed shape, `[N, R, R, 1]` row-major, values in [0, 1]. */
export interface DigitImages {
  /** Number of images N. */
  count: number;
  /** Side R. */
  resolution: number;
  /** `N · R · R` values in [0, 1]. */
  pixels: Float32Array;
  /** One label per image (0–9), when known. */
  labels: Uint8Array | null;
}

/**
 * Converts a uint8 single-channel square image dataset (as `loadMnist` returns) to
 * float images in [0, 1] (`v / 255`), optionally only the samples `[start, end)`.
 *
 * @throws Error naming `dataset` when it is not uint8 `[R, R, 1]`, or `start`/`end` when out of range.
 */
export function datasetToDigitImages(dataset: ArrayDataset, start = 0, end = dataset.size): DigitImages {
  const [h, w, c] = dataset.shape;
  if (!(dataset.data instanceof Uint8Array) || dataset.shape.length !== 3 || h !== w || c !== 1) {
    throw new Error(
      `datasetToDigitImages: dataset must hold uint8 [R, R, 1] images, got ${dataset.data.constructor.name} [${dataset.shape.join(', ')}]`,
    );
  }
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > dataset.size || start >= end) {
    throw new Error(
      `datasetToDigitImages: need integers 0 ≤ start < end ≤ ${dataset.size}, got start ${start}, end ${end}`,
    );
  }
  const per = h! * h!;
  const src = dataset.data.subarray(start * per, end * per);
  const pixels = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) pixels[i] = src[i]! / 255;
  return {
    count: end - start,
    resolution: h!,
    pixels,
    labels: dataset.labels === null ? null : dataset.labels.slice(start, end),
  };
}
