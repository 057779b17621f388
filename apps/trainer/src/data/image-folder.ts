/**
 * A folder of PNG / JPEG images as a uint8 HWC dataset at `size × size`: each image is center-cropped to
 * the square of its shorter side and resized to `size` by exact area averaging (each output pixel is the
 * mean of the source area it covers, with fractional pixel coverage at the edges), in RGB or grayscale.
 */
import { readdir, readFile } from 'node:fs/promises';
import { extname, join, relative } from 'node:path';
import { type DecodedImage, decodeImage, IMAGE_EXTENSIONS } from '@sbm/metrics/node';
import { type ArrayDataset, createDataset } from './dataset.js';

export { type DecodedImage, decodeImage };

const EXTENSIONS = new Set(IMAGE_EXTENSIONS);

/**
 * For each output index along one axis of length `n` cropped to `s` and resized to `size`: the first source
 * index it covers and the integer coverage of each covered source pixel, in units of 1/(2·size) pixel (a
 * unit in which the half-pixel crop offset, the pixel edges and the output edges are all integers, so the
 * averages are exact). The coverages of one output sum to `2·s`.
 */
function axisCoverage(n: number, s: number, size: number): Array<{ first: number; weights: number[] }> {
  const unit = 2 * size; // units per source pixel
  const result: Array<{ first: number; weights: number[] }> = [];
  for (let o = 0; o < size; o++) {
    const a = (n - s) * size + o * 2 * s;
    const b = a + 2 * s;
    const first = Math.floor(a / unit);
    const weights: number[] = [];
    for (let i = first; i * unit < b; i++) weights.push(Math.min(b, (i + 1) * unit) - Math.max(a, i * unit));
    result.push({ first, weights });
  }
  return result;
}

/**
 * Center-crops `image` to the square of its shorter side `s` (offset `(W−s)/2`, `(H−s)/2`, possibly half a
 * pixel) and area-resizes that square to `size × size`; `channels` 3 keeps RGB, 1 converts to luma
 * `0.299R + 0.587G + 0.114B` (ITU-R BT.601). Returns `[size, size, channels]` HWC uint8 (rounded).
 */
export function cropResize(image: DecodedImage, size: number, channels: 1 | 3): Uint8Array {
  const { width: W, height: H, rgba } = image;
  if (!Number.isInteger(size) || size < 1)
    throw new Error(`cropResize: size must be a positive integer, got ${size}`);
  if (rgba.length !== W * H * 4)
    throw new Error(`cropResize: rgba has ${rgba.length} bytes, expected ${W * H * 4}`);
  const s = Math.min(W, H);
  const xs = axisCoverage(W, s, size);
  const ys = axisCoverage(H, s, size);
  // Integer sums over integer weights, divided once: the result is the exactly rounded area average.
  const denom = 4 * s * s * (channels === 1 ? 1000 : 1);
  const out = new Uint8Array(size * size * channels);
  const acc = new Float64Array(channels);
  for (let oy = 0; oy < size; oy++) {
    const cy = ys[oy]!;
    for (let ox = 0; ox < size; ox++) {
      const cx = xs[ox]!;
      acc.fill(0);
      for (let j = 0; j < cy.weights.length; j++) {
        const wy = cy.weights[j]!;
        if (wy === 0) continue;
        const row = (cy.first + j) * W;
        for (let i = 0; i < cx.weights.length; i++) {
          const w = wy * cx.weights[i]!;
          if (w === 0) continue;
          const p = (row + cx.first + i) * 4;
          if (channels === 3) {
            acc[0]! += w * rgba[p]!;
            acc[1]! += w * rgba[p + 1]!;
            acc[2]! += w * rgba[p + 2]!;
          } else {
            acc[0]! += w * (299 * rgba[p]! + 587 * rgba[p + 1]! + 114 * rgba[p + 2]!);
          }
        }
      }
      const o = (oy * size + ox) * channels;
      for (let c = 0; c < channels; c++) out[o + c] = Math.min(255, Math.max(0, Math.round(acc[c]! / denom)));
    }
  }
  return out;
}

/** Options of {@link loadImageFolder}. */
export interface ImageFolderOptions {
  /** The folder to read. */
  dir: string;
  /** Output side in pixels. */
  size: number;
  /** 3 = RGB (default), 1 = grayscale. */
  channels?: 1 | 3;
  /** When true, every first-level subfolder is a class (sorted by name → label 0, 1, …). Default false. */
  labels?: boolean;
  /** Dataset name, default `images-<size>`. */
  name?: string;
}

/** An image-folder dataset: `files[i]` (relative to `dir`) is sample `i`; `classNames[k]` is label `k`. */
export interface ImageFolderDataset extends ArrayDataset {
  readonly files: readonly string[];
  readonly classNames: readonly string[];
}

const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

async function listImages(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    const entries = await readdir(d, { withFileTypes: true });
    entries.sort((a, b) => byCodePoint(a.name, b.name));
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && EXTENSIONS.has(extname(e.name).toLowerCase())) out.push(p);
    }
  };
  await walk(dir);
  return out;
}

/**
 * Loads every `.png` / `.jpg` / `.jpeg` file under `dir` (recursively; other files are skipped), sorted by
 * path, as a dataset of shape `[size, size, channels]` (HWC uint8) via {@link cropResize}. With
 * `labels: true` the images must sit in first-level subfolders, whose sorted names are the classes.
 *
 * @throws naming the folder when it is missing or holds no images (or, with labels, has an image at its top
 * level or an empty class folder), and naming the file when an image cannot be decoded.
 */
export async function loadImageFolder(options: ImageFolderOptions): Promise<ImageFolderDataset> {
  const { dir, size } = options;
  const channels = options.channels ?? 3;
  if (channels !== 1 && channels !== 3)
    throw new Error(`loadImageFolder: channels must be 1 or 3, got ${channels}`);
  if (!Number.isInteger(size) || size < 1)
    throw new Error(`loadImageFolder: size must be a positive integer, got ${size}`);
  let topEntries: import('node:fs').Dirent[];
  try {
    topEntries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    throw new Error(`loadImageFolder: cannot read folder ${dir} (${(e as Error).message})`);
  }
  const files: string[] = [];
  const labelList: number[] = [];
  let classNames: string[] = [];
  if (options.labels === true) {
    const stray = topEntries.find((e) => e.isFile() && EXTENSIONS.has(extname(e.name).toLowerCase()));
    if (stray !== undefined) {
      throw new Error(
        `loadImageFolder: ${join(dir, stray.name)} is not inside a class subfolder (labels: true)`,
      );
    }
    classNames = topEntries
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort(byCodePoint);
    if (classNames.length > 256)
      throw new Error(
        `loadImageFolder: ${dir} has ${classNames.length} class folders, at most 256 are supported`,
      );
    for (const [k, cls] of classNames.entries()) {
      const found = await listImages(join(dir, cls));
      if (found.length === 0)
        throw new Error(`loadImageFolder: class folder ${join(dir, cls)} holds no PNG/JPEG images`);
      files.push(...found);
      for (let i = 0; i < found.length; i++) labelList.push(k);
    }
  } else {
    files.push(...(await listImages(dir)));
  }
  if (files.length === 0) throw new Error(`loadImageFolder: ${dir} holds no PNG/JPEG images`);
  const per = size * size * channels;
  const data = new Uint8Array(files.length * per);
  for (const [i, f] of files.entries()) {
    const image = decodeImage(await readFile(f), f);
    data.set(cropResize(image, size, channels), i * per);
  }
  const labelled = options.labels === true;
  const ds = createDataset({
    name: options.name ?? `images-${size}`,
    shape: [size, size, channels],
    data,
    labels: labelled ? Uint8Array.from(labelList) : null,
    ...(labelled ? { numClasses: classNames.length } : {}),
  });
  return Object.freeze({
    ...ds,
    files: Object.freeze(files.map((f) => relative(dir, f))),
    classNames: Object.freeze(classNames),
  });
}
