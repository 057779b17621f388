import { assertInteger, SbmArgumentError } from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';

const TWO_POW_32 = 4294967296;

/** Murmur3-style 32-bit finaliser, used to expand `(seed, sample)` into generator state. */
function mix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Independent standard-normal streams, one per sample of a batch, so that sampling is reproducible and
 * does not depend on the batch size: sample `k` of any batch started with the same `seed` (and
 * `firstSample`) sees exactly the same noise. Each stream is a xoshiro128** generator seeded from
 * `(seed, firstSample + b)`; normals come from the Box–Muller transform in float64.
 *
 * @example
 * ```ts
 * const streams = new NoiseStreams(42, 8);
 * const z = streams.normal([8, 2]); // [8, 2] float32, row b from stream b
 * ```
 */
export class NoiseStreams {
  /** The seed shared by all streams (a safe integer). */
  readonly seed: number;
  /** Number of streams `B`, one per row of the batch. */
  readonly batch: number;
  /** Global index of the sample that stream 0 draws for (stream `b` draws for sample `firstSample + b`); default 0. */
  readonly firstSample: number;
  readonly #state: Uint32Array;
  readonly #spare: Float64Array;
  readonly #hasSpare: Uint8Array;

  /**
   * Seeds `batch` independent streams for the samples `firstSample … firstSample + batch − 1`.
   * @param seed - any safe integer.
   * @param batch - number of streams `B`.
   * @param firstSample - global index of the first sample (to split one run into batches), default 0.
   */
  constructor(seed: number, batch: number, firstSample = 0) {
    if (!Number.isSafeInteger(seed)) {
      throw new SbmArgumentError('seed', `expected a safe integer, got ${seed}`);
    }
    assertInteger('batch', batch);
    assertInteger('firstSample', firstSample, 0);
    this.seed = seed;
    this.batch = batch;
    this.firstSample = firstSample;
    this.#state = new Uint32Array(4 * batch);
    this.#spare = new Float64Array(batch);
    this.#hasSpare = new Uint8Array(batch);
    const lo = seed >>> 0;
    const hi = Math.floor(seed / TWO_POW_32) >>> 0;
    for (let b = 0; b < batch; b++) {
      const k = firstSample + b;
      let h = mix32(lo ^ mix32(hi ^ 0x9e3779b9) ^ mix32((k >>> 0) + 0x7f4a7c15));
      h = mix32(h ^ Math.floor(k / TWO_POW_32));
      for (let j = 0; j < 4; j++) {
        h = mix32((h + 0x9e3779b9) >>> 0);
        this.#state[4 * b + j] = h;
      }
      if (
        (this.#state[4 * b]! |
          this.#state[4 * b + 1]! |
          this.#state[4 * b + 2]! |
          this.#state[4 * b + 3]!) ===
        0
      ) {
        this.#state[4 * b] = 1;
      }
    }
  }

  /** Next uniform in (0, 1) of stream `b` (53 bits). */
  #uniform(b: number): number {
    const s = this.#state;
    const o = 4 * b;
    const next = (): number => {
      const s1 = s[o + 1]!;
      const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
      const t = s1 << 9;
      s[o + 2]! ^= s[o]!;
      s[o + 3]! ^= s[o + 1]!;
      s[o + 1]! ^= s[o + 2]!;
      s[o]! ^= s[o + 3]!;
      s[o + 2]! ^= t;
      s[o + 3] = rotl(s[o + 3]!, 11);
      return r;
    };
    const a = next() >>> 5;
    const c = next() >>> 6;
    return (a * 67108864 + c + 0.5) / 9007199254740992;
  }

  /** Next standard normal of stream `b` (Box–Muller; the second value is kept for the next call). */
  #normal(b: number): number {
    if (this.#hasSpare[b]) {
      this.#hasSpare[b] = 0;
      return this.#spare[b]!;
    }
    const u = this.#uniform(b);
    const v = this.#uniform(b);
    const r = Math.sqrt(-2 * Math.log(u));
    this.#spare[b] = r * Math.sin(2 * Math.PI * v);
    this.#hasSpare[b] = 1;
    return r * Math.cos(2 * Math.PI * v);
  }

  /**
   * A float32 tensor of standard normals of shape `[B, ...]`; row `b` is drawn from stream `b`.
   * @param shape - `[B, ...]` with `B` equal to the number of streams.
   * @param scale - multiplies every draw (e.g. a prior standard deviation), default 1.
   */
  normal(shape: readonly number[], scale = 1): tf.Tensor {
    if (shape[0] !== this.batch) {
      throw new SbmArgumentError(
        'shape',
        `expected a batch of ${this.batch} (one row per noise stream), got [${shape.join(',')}]`,
      );
    }
    const per = shape.slice(1).reduce((p, d) => p * d, 1);
    const out = new Float32Array(this.batch * per);
    for (let b = 0; b < this.batch; b++) {
      for (let j = 0; j < per; j++) out[b * per + j] = scale * this.#normal(b);
    }
    return tf.tensor(out, [...shape], 'float32');
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
