/**
 * A seeded, reproducible pseudo-random number generator (xoshiro128** seeded through a
 * splitmix-style 32-bit mixer). All outputs are float64 JS numbers.
 */
export interface Rng {
  /** Uniform draw in [0, 1) with 53 bits of resolution. */
  uniform(): number;
  /** `n` uniform draws in [0, 1). */
  uniforms(n: number): Float64Array;
  /** Standard normal draw N(0, 1) (Marsaglia polar method). */
  normal(): number;
  /** `n` independent standard normal draws. */
  normals(n: number): Float64Array;
  /**
   * Categorical draw: returns index `i` with probability `weights[i] / Σ weights`.
   * Weights must be finite, non-negative and not all zero (they need not sum to 1).
   */
  choice(weights: ArrayLike<number>): number;
  /** Uniform integer in {0, …, n-1}; `n` must be a positive safe integer. */
  int(n: number): number;
}

const TWO_POW_26 = 67108864;
const TWO_POW_53 = 9007199254740992;
const TWO_POW_32 = 4294967296;

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** 32-bit splitmix-style generator used only to expand the seed into xoshiro state. */
function seedMixer(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    return (z ^ (z >>> 15)) >>> 0;
  };
}

/**
 * Creates a reproducible generator from an integer seed. The same seed always yields the same
 * stream; different seeds yield (practically) independent streams.
 *
 * @param seed any safe integer (negative values allowed).
 */
export function createRng(seed: number): Rng {
  if (!Number.isSafeInteger(seed)) {
    throw new Error(`createRng: seed must be a safe integer, got ${seed}`);
  }
  const lo = seed >>> 0;
  const hi = Math.floor(seed / TWO_POW_32) >>> 0;
  const mix = seedMixer(lo ^ Math.imul(hi ^ 0x5bd1e995, 0x27d4eb2d));
  let s0 = mix();
  let s1 = mix();
  let s2 = mix();
  let s3 = mix();
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1;

  const next32 = (): number => {
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    return result;
  };

  const uniform = (): number => {
    const a = next32() >>> 5; // 27 bits
    const b = next32() >>> 6; // 26 bits
    return (a * TWO_POW_26 + b) / TWO_POW_53;
  };

  let spare: number | undefined;
  const normal = (): number => {
    if (spare !== undefined) {
      const v = spare;
      spare = undefined;
      return v;
    }
    let u: number;
    let v: number;
    let s: number;
    do {
      u = 2 * uniform() - 1;
      v = 2 * uniform() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const m = Math.sqrt((-2 * Math.log(s)) / s);
    spare = v * m;
    return u * m;
  };

  const checkCount = (n: number, name: string): void => {
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`rng.${name}: n must be a non-negative integer`);
  };

  return {
    uniform,
    uniforms(n: number): Float64Array {
      checkCount(n, 'uniforms');
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = uniform();
      return out;
    },
    normal,
    normals(n: number): Float64Array {
      checkCount(n, 'normals');
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = normal();
      return out;
    },
    choice(weights: ArrayLike<number>): number {
      let total = 0;
      let last = -1;
      for (let i = 0; i < weights.length; i++) {
        const w = weights[i]!;
        if (!Number.isFinite(w) || w < 0) {
          throw new Error(`rng.choice: weights must be finite and non-negative (weights[${i}] = ${w})`);
        }
        if (w > 0) last = i;
        total += w;
      }
      if (!(total > 0)) throw new Error('rng.choice: weights must not all be zero');
      const target = uniform() * total;
      let acc = 0;
      for (let i = 0; i < weights.length; i++) {
        acc += weights[i]!;
        if (target < acc) return i;
      }
      return last; // only reachable through rounding in the cumulative sum
    },
    int(n: number): number {
      if (!Number.isSafeInteger(n) || n < 1)
        throw new Error(`rng.int: n must be a positive integer, got ${n}`);
      return Math.floor(uniform() * n);
    },
  };
}
