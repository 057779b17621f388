import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SbmArgumentError } from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';
import type { UNetConfig } from './config.js';
import { unetPreset } from './presets.js';
import { referenceOverrides } from './reference-overrides.js';

/** Root of the monorepo (this file is packages/unet/src/reference-fixtures.testing.ts). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** The shared score-sde fixtures: `<repoRoot>/../shared/fixtures/score-sde`. */
export const sharedFixtureDir = resolve(repoRoot, '..', 'shared', 'fixtures', 'score-sde');

/** This package's own reference checkpoints (written by scripts/score-sde-reference.py). */
export const localFixtureDir = resolve(repoRoot, 'packages', 'unet', 'test-fixtures');

/** A reference checkpoint with inputs and outputs, as in the score-sde fixtures' JSON. */
export interface ReferenceFixture {
  name: string;
  pth: Uint8Array;
  config: UNetConfig;
  numParams: number;
  /** NHWC. */
  x: tf.Tensor4D;
  timeCond: tf.Tensor1D;
  /** NHWC. */
  outModel: Float32Array;
  outEma: Float32Array;
}

function nchwToNhwc(values: number[], shape: number[]): tf.Tensor4D {
  return tf.tidy(() =>
    tf.transpose(tf.tensor4d(values, shape as [number, number, number, number]), [0, 2, 3, 1]),
  );
}

/**
 * Reads `<dir>/<name>.json` and `.pth`. Missing files are an error, never a skip: the reference data must be there.
 */
export function readFixture(dir: string, name: string): ReferenceFixture {
  const jsonPath = join(dir, `${name}.json`);
  const pthPath = join(dir, `${name}.pth`);
  if (!existsSync(jsonPath) || !existsSync(pthPath)) {
    throw new Error(
      `reference fixture ${name} not found in ${dir} (expected ${name}.json and ${name}.pth; the score-sde fixtures ` +
        'live in ../shared/fixtures/score-sde beside the repository)',
    );
  }
  const json = JSON.parse(readFileSync(jsonPath, 'utf8')) as {
    config: string;
    overrides: Record<string, unknown>;
    num_params: number;
    x_shape: number[];
    x: number[];
    time_cond: number[];
    out_model: number[];
    out_ema: number[];
  };
  const toNhwc = (v: number[]) => {
    const t = nchwToNhwc(v, json.x_shape);
    const data = t.dataSync() as Float32Array;
    t.dispose();
    return data;
  };
  return {
    name,
    pth: new Uint8Array(readFileSync(pthPath)),
    config: unetPreset(json.config, referenceOverrides(json.overrides)),
    numParams: json.num_params,
    x: nchwToNhwc(json.x, json.x_shape),
    timeCond: tf.tensor1d(json.time_cond),
    outModel: toNhwc(json.out_model),
    outEma: toNhwc(json.out_ema),
  };
}

/** max |a − e| / max |e|: the error relative to the output's scale. */
export function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < expected.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(actual[i]! - expected[i]!));
    maxRef = Math.max(maxRef, Math.abs(expected[i]!));
  }
  return maxDiff / maxRef;
}

/** Runs `f`, requires it to throw an {@link SbmArgumentError}, and returns the error. */
export function catchArgumentError(f: () => unknown): SbmArgumentError {
  try {
    f();
  } catch (error) {
    if (error instanceof SbmArgumentError) return error;
    throw new Error(`expected an SbmArgumentError, got ${String(error)}`);
  }
  throw new Error('expected an SbmArgumentError, but nothing was thrown');
}
