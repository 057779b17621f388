import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { type FidInception, loadFidInception } from './inception-v3.js';

/**
 * The FID Inception reference fixtures of test-fixtures/inception (written by scripts/inception-reference.py with
 * torch 1.13 / torchvision 0.14): a small strided-weights state dict in torch's legacy format, and float64 PyTorch
 * outputs for formula images.
 */
const dir = fileURLToPath(new URL('../test-fixtures/inception/', import.meta.url));

/** One formula input image `H × W × C` (see {@link formulaImage}). */
export interface FormulaImageSpec {
  h: number;
  w: number;
  c: number;
  ky: number;
  kx: number;
  phase: number;
  /** Amplitude of the high-frequency term. */
  hf: number;
}

interface Layout {
  offset: number;
  shape: number[];
}

/** reference.json. */
export interface InceptionReferenceMeta {
  paramCount: number;
  inputs: FormulaImageSpec[];
  /** Rows and columns of the 299×299 preprocessed images stored in `preprocessed`. */
  sample: number[];
  layout: { preprocessed: Layout; pool3: Layout; logits: Layout };
  pool3Std: number[];
  /** PyTorch's own float32 forward against the float64 reference, max |f32 − f64| / max |f64|. */
  torchFloat32RelErr: { pool3: number; logits: number }[];
}

/** The reference: metadata and the stored float32 arrays (row-major). */
export interface InceptionReference {
  meta: InceptionReferenceMeta;
  /** `[n, s, s, 3]`: the preprocessed inputs (resize to 299, `2x − 1`) at rows and columns `meta.sample`. */
  preprocessed: Float32Array;
  /** `[n, 2048]`. */
  pool3: Float32Array;
  /** `[n, 1008]`. */
  logits: Float32Array;
}

/** Reads a file of test-fixtures/inception. */
export function fixtureBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(`${dir}${name}`));
}

/**
 * The strided-weights FID Inception fixture (`fid_inception_strided.pth`, a real torch.save file in the legacy
 * format) loaded through `loadFidInception`, as a user's weights file is; the caller disposes it.
 */
export function loadFixtureInception(): FidInception {
  return loadFidInception(fixtureBytes('fid_inception_strided.pth'), { name: 'fid_inception_strided.pth' });
}

/** Reads reference.json and reference.bin. */
export function loadInceptionReference(): InceptionReference {
  const meta = JSON.parse(readFileSync(`${dir}reference.json`, 'utf8')) as InceptionReferenceMeta;
  const bytes = fixtureBytes('reference.bin');
  const all = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const part = (l: Layout) => all.slice(l.offset, l.offset + l.shape.reduce((a, b) => a * b, 1));
  return {
    meta,
    preprocessed: part(meta.layout.preprocessed),
    pool3: part(meta.layout.pool3),
    logits: part(meta.layout.logits),
  };
}

/**
 * The input image formula of scripts/inception-reference.py, `H × W × C` row-major, rounded to float32:
 * `0.5 + 0.22 sin(2π ky (y + 0.5)/h + 0.8c + phase) + 0.18 cos(2π kx (x + 0.5)/w − 0.5c)
 *  + hf sin(0.9x + 1.3y + 2c + phase)`.
 */
export function formulaImage(s: FormulaImageSpec): Float32Array {
  const out = new Float32Array(s.h * s.w * s.c);
  for (let y = 0; y < s.h; y++) {
    for (let x = 0; x < s.w; x++) {
      for (let c = 0; c < s.c; c++) {
        out[(y * s.w + x) * s.c + c] =
          0.5 +
          0.22 * Math.sin((2 * Math.PI * s.ky * (y + 0.5)) / s.h + 0.8 * c + s.phase) +
          0.18 * Math.cos((2 * Math.PI * s.kx * (x + 0.5)) / s.w - 0.5 * c) +
          s.hf * Math.sin(0.9 * x + 1.3 * y + 2 * c + s.phase);
      }
    }
  }
  return out;
}

/** The formula images `specs` (all of one size) as one `[n, H, W, C]` batch. */
export function formulaBatch(specs: FormulaImageSpec[]): tf.Tensor4D {
  const { h, w, c } = specs[0]!;
  const data = new Float32Array(specs.length * h * w * c);
  for (const [i, s] of specs.entries()) data.set(formulaImage(s), i * h * w * c);
  return tf.tensor4d(data, [specs.length, h, w, c]);
}

/** Row `i` of a row-major `[n, width]` array. */
export function row(a: Float32Array, i: number, width: number): Float32Array {
  return a.subarray(i * width, (i + 1) * width);
}

/** Root mean square. */
export function rms(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * a[i]!;
  return Math.sqrt(s / a.length);
}

/** Largest |a|. */
export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/** Largest |a − b|. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Standard deviation (population). */
export function std(a: ArrayLike<number>): number {
  let mean = 0;
  for (let i = 0; i < a.length; i++) mean += a[i]!;
  mean /= a.length;
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - mean) ** 2;
  return Math.sqrt(s / a.length);
}
