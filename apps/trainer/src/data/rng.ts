/**
 * Small deterministic pseudo-random generators for the data pipeline: SplitMix64 (seeding and seed
 * derivation) and xoshiro128** 1.1 (the fast 32-bit stream used for shuffles, flips and samples).
 * Neither is cryptographic; both are reproducible bit-for-bit across platforms.
 */

const MASK64 = (1n << 64n) - 1n;
const GOLDEN_GAMMA = 0x9e3779b97f4a7c15n;

/** The SplitMix64 output function (a bijective 64-bit mixer) applied to `z` (taken mod 2^64). */
export function splitMix64Mix(z: bigint): bigint {
  let x = z & MASK64;
  x = ((x ^ (x >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  x = ((x ^ (x >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return x ^ (x >> 31n);
}

/**
 * SplitMix64 (Steele, Lea & Flood 2014; Vigna's reference `splitmix64.c`): a 64-bit state advanced by the
 * golden gamma, each output a mix of the new state. Outputs are unsigned 64-bit `bigint`s.
 */
export class SplitMix64 {
  #state: bigint;

  /** @param seed any integer (number or bigint), taken mod 2^64. */
  constructor(seed: number | bigint) {
    this.#state = toUint64(seed, 'SplitMix64 seed');
  }

  /** The next unsigned 64-bit output. */
  next(): bigint {
    this.#state = (this.#state + GOLDEN_GAMMA) & MASK64;
    return splitMix64Mix(this.#state);
  }
}

/**
 * Derives one unsigned 64-bit seed from a list of integers (e.g. `[seed, epoch, streamId]`) by chaining
 * SplitMix64 mixes; different lists give unrelated seeds, the same list always the same seed.
 */
export function deriveSeed(...parts: ReadonlyArray<number | bigint>): bigint {
  let h = 0x6a09e667f3bcc909n;
  for (const [i, p] of parts.entries()) {
    h = splitMix64Mix(h ^ splitMix64Mix(toUint64(p, `deriveSeed part ${i}`) + GOLDEN_GAMMA));
  }
  return h;
}

function toUint64(v: number | bigint, what: string): bigint {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new Error(`${what}: expected a safe integer, got ${v}`);
    return BigInt(v) & MASK64;
  }
  return v & MASK64;
}

function rotl32(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/**
 * xoshiro128** 1.1 (Blackman & Vigna): 128 bits of state as four uint32 words, 32-bit outputs.
 * Construct from explicit state words, or with {@link Xoshiro128StarStar.fromSeed} (state filled from
 * SplitMix64, as the authors recommend).
 */
export class Xoshiro128StarStar {
  readonly #s: Uint32Array;

  /** @param state four uint32 words, not all zero. */
  constructor(state: readonly [number, number, number, number]) {
    if (state.length !== 4 || !state.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff)) {
      throw new Error(`Xoshiro128StarStar: state must be four uint32 words, got [${state.join(', ')}]`);
    }
    if (state.every((w) => w === 0)) throw new Error('Xoshiro128StarStar: state must not be all zero');
    this.#s = Uint32Array.from(state);
  }

  /** A generator whose state is the low and high halves of two SplitMix64 outputs from `seed`. */
  static fromSeed(seed: number | bigint): Xoshiro128StarStar {
    const sm = new SplitMix64(seed);
    const a = sm.next();
    const b = sm.next();
    const words: [number, number, number, number] = [
      Number(a & 0xffffffffn),
      Number(a >> 32n),
      Number(b & 0xffffffffn),
      Number(b >> 32n),
    ];
    // SplitMix64 is a bijection of its state, so two consecutive outputs are never both zero.
    return new Xoshiro128StarStar(words);
  }

  /** The next uint32 output, in [0, 2^32). */
  nextUint32(): number {
    const s = this.#s;
    let s0 = s[0]!;
    let s1 = s[1]!;
    let s2 = s[2]!;
    let s3 = s[3]!;
    const result = Math.imul(rotl32(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl32(s3 >>> 0, 11);
    s[0] = s0;
    s[1] = s1;
    s[2] = s2;
    s[3] = s3;
    return result;
  }

  /** A float64 uniform in [0, 1) with 53 random bits (two outputs). */
  nextFloat(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** A uniform integer in [0, n) for 1 ≤ n ≤ 2^32, without modulo bias (rejection sampling). */
  nextInt(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 0x100000000) {
      throw new Error(`Xoshiro128StarStar.nextInt: n must be an integer in [1, 2^32], got ${n}`);
    }
    const limit = 0x100000000 - (0x100000000 % n); // accept u < limit: a whole number of n-blocks
    for (;;) {
      const u = this.nextUint32();
      if (u < limit) return u % n;
    }
  }

  /** A standard normal draw (Box–Muller, one value per call, two uniforms consumed). */
  nextNormal(): number {
    const u1 = 1 - this.nextFloat(); // (0, 1]
    const u2 = this.nextFloat();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
}

/**
 * A uniformly random permutation of `0 … n−1` (Fisher–Yates, drawing from `rng`), as an Int32Array of
 * length `n`.
 */
export function randomPermutation(n: number, rng: Xoshiro128StarStar): Int32Array {
  if (!Number.isInteger(n) || n < 0) throw new Error(`randomPermutation: n must be an integer ≥ 0, got ${n}`);
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}
