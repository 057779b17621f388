import * as tf from '@tensorflow/tfjs-core';

/** Options of {@link expectNoLeaks}. */
export interface NoLeaksOptions {
  /** Calls made before the tensor count is recorded, e.g. to fill caches (default 1). */
  warmup?: number;
  /** Measured calls (default 2). */
  repeats?: number;
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Disposes every tensor reachable from `value` through arrays, plain objects, `Map` values and
 * `Set` members (cycles are handled). Other values are ignored. Disposing twice is harmless.
 */
export function disposeDeep(value: unknown): void {
  const seen = new Set<object>();
  const visit = (v: unknown): void => {
    if (v === null || typeof v !== 'object') return;
    if (v instanceof tf.Tensor) {
      v.dispose();
      return;
    }
    if (seen.has(v)) return;
    seen.add(v);
    if (Array.isArray(v)) {
      for (const item of v) visit(item);
    } else if (v instanceof Map) {
      for (const item of v.values()) visit(item);
    } else if (v instanceof Set) {
      for (const item of v) visit(item);
    } else if (isPlainObject(v)) {
      for (const item of Object.values(v)) visit(item);
    }
  };
  visit(value);
}

function checkCount(n: number, name: string, min: number): void {
  if (!Number.isInteger(n) || n < min) throw new Error(`expectNoLeaks: ${name} must be an integer >= ${min}`);
}

/**
 * Asserts that `fn` does not leak tensors: runs it `warmup` times, records
 * `tf.memory().numTensors`, runs it `repeats` more times and requires the count to be unchanged.
 * Tensors returned by `fn` (also nested in arrays/plain objects, see {@link disposeDeep}) are
 * disposed after every call and so are not counted as leaks. Promises are awaited.
 *
 * @throws Error stating how many tensors leaked in total and per call.
 */
export async function expectNoLeaks(
  fn: () => unknown | Promise<unknown>,
  opts: NoLeaksOptions = {},
): Promise<void> {
  const warmup = opts.warmup ?? 1;
  const repeats = opts.repeats ?? 2;
  checkCount(warmup, 'warmup', 0);
  checkCount(repeats, 'repeats', 1);
  for (let i = 0; i < warmup; i++) disposeDeep(await fn());
  const before = tf.memory().numTensors;
  for (let i = 0; i < repeats; i++) disposeDeep(await fn());
  const after = tf.memory().numTensors;
  if (after !== before) {
    const leaked = after - before;
    throw new Error(
      `expectNoLeaks: ${leaked} tensor(s) ${leaked > 0 ? 'leaked' : 'freed unexpectedly'} over ${repeats} ` +
        `call(s) = ${leaked / repeats} per call (numTensors ${before} -> ${after})`,
    );
  }
}
