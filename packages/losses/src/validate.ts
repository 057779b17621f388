import { SbmArgumentError } from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';

/** Describes a value for an error message. */
export function describe(value: unknown): string {
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (typeof value === 'string') return `'${value}'`;
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (value instanceof tf.Tensor) return `a ${value.dtype} tensor of shape [${value.shape.join(',')}]`;
  return typeof value;
}

/** Throws unless `value` is one of `allowed`. */
export function checkChoice<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    throw new SbmArgumentError(name, `expected one of ${allowed.join(', ')}, got ${describe(value)}`);
  }
  return value as T;
}

/** Throws unless `value` is a finite number in `[lo, hi]` (or `(lo, hi)` when `open`). */
export function checkRange(name: string, value: unknown, lo: number, hi: number, open = false): number {
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (open ? value > lo && value < hi : value >= lo && value <= hi);
  if (!ok) {
    const interval = open ? `(${lo}, ${hi})` : `[${lo}, ${hi}]`;
    throw new SbmArgumentError(name, `expected a number in ${interval}, got ${describe(value)}`);
  }
  return value as number;
}

/** Throws unless `value` is an integer >= `min`. */
export function checkInteger(name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new SbmArgumentError(name, `expected an integer >= ${min}, got ${describe(value)}`);
  }
  return value;
}

/** Throws unless `value` is a non-empty array of finite numbers > 0. */
export function checkPositiveArray(name: string, value: unknown): readonly number[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new SbmArgumentError(name, `expected a non-empty array of numbers > 0, got ${describe(value)}`);
  }
  value.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      throw new SbmArgumentError(
        name,
        `expected every value finite and > 0, got ${describe(v)} at index ${i}`,
      );
    }
  });
  return value as number[];
}
