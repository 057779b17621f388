import { SbmArgumentError } from '@sbm/sde';
import { describe } from './validate.js';

/**
 * The randomness of one loss evaluation, derived from one seed: float64 uniforms and normals drawn
 * in JavaScript (times, noise levels, dropout masks) and seeds for tfjs's own random ops (the
 * Gaussian noise added to the data, the projections). A given seed gives the same loss every time,
 * which is what finite-difference checks and reproducible training need; no seed draws one from
 * `Math.random`.
 */
export interface RandomStream {
  /** A uniform draw in [0, 1). */
  uniform(): number;
  /** A standard normal draw (Box–Muller). */
  normal(): number;
  /** A uniform integer in {0, …, n − 1}. */
  int(n: number): number;
  /** A fresh seed for a tfjs random op. */
  tfSeed(): number;
}

const TWO_POW_32 = 4294967296;

/**
 * Creates a {@link RandomStream} (a splitmix32 generator; two draws per uniform give 53 bits).
 * @param seed - any finite number, or undefined for a random seed.
 */
export function randomStream(seed?: number): RandomStream {
  if (seed !== undefined && (typeof seed !== 'number' || !Number.isFinite(seed))) {
    throw new SbmArgumentError('seed', `expected a finite number or undefined, got ${describe(seed)}`);
  }
  const start = seed ?? Math.floor(Math.random() * TWO_POW_32);
  // Mix all bits of the seed (fractions and large values included) into the 32-bit state.
  let state = (Math.floor(start) ^ Math.floor((start - Math.floor(start)) * TWO_POW_32)) >>> 0;
  state = (state ^ Math.floor(start / TWO_POW_32)) >>> 0;
  const next32 = (): number => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    return (z ^ (z >>> 15)) >>> 0;
  };
  const uniform = (): number => ((next32() >>> 5) * 67108864 + (next32() >>> 6)) / 9007199254740992;
  return {
    uniform,
    normal(): number {
      const u = 1 - uniform(); // in (0, 1]
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
    },
    int(n: number): number {
      return Math.min(Math.floor(uniform() * n), n - 1);
    },
    tfSeed(): number {
      return next32();
    },
  };
}
