import { assertInteger, assertPositive, SbmArgumentError } from './errors.js';
import { linspace } from './numeric.js';

/**
 * A discrete DDPM noise schedule (Ho et al. 2020, Sec. 2), all in float64:
 * `betas[i] = β_{i+1}`, `alphas[i] = 1 − β_{i+1}`, `alphaBars[i] = ᾱ_{i+1} = Π_{s≤i+1} α_s`,
 * for the N training steps indexed `0..N−1`. The marginal is `q(x_i | x_0) = N(√ᾱ_i x_0, (1 − ᾱ_i) I)`.
 */
export interface DiscreteSchedule {
  /** Number of training steps N. */
  readonly N: number;
  readonly betas: readonly number[];
  readonly alphas: readonly number[];
  readonly alphaBars: readonly number[];
}

function checkRange(N: number, betaStart: number, betaEnd: number): void {
  assertInteger('N', N);
  assertPositive('betaStart', betaStart);
  assertPositive('betaEnd', betaEnd);
  if (betaEnd < betaStart) {
    throw new SbmArgumentError('betaEnd', `expected betaEnd >= betaStart (${betaStart}), got ${betaEnd}`);
  }
}

function checkBetas(name: string, betas: readonly number[]): void {
  for (let i = 0; i < betas.length; i++) {
    const b = betas[i]!;
    if (!Number.isFinite(b) || b <= 0 || b >= 1) {
      throw new SbmArgumentError(name, `expected every beta in (0, 1), got ${b} at index ${i}`);
    }
  }
}

/**
 * Linear betas of DDPM (Ho et al. 2020, Sec. 4): `β_i = linspace(betaStart, betaEnd, N)`.
 * Defaults are the paper's `β_1 = 1e-4`, `β_T = 0.02`.
 */
export function linearBetas(N: number, betaStart = 1e-4, betaEnd = 0.02): number[] {
  checkRange(N, betaStart, betaEnd);
  const betas = linspace(betaStart, betaEnd, N);
  checkBetas('betaEnd', betas);
  return betas;
}

/**
 * "Scaled linear" betas (latent diffusion / Stable Diffusion): linear in √β,
 * `β_i = linspace(√betaStart, √betaEnd, N)²`, defaults `0.00085 … 0.012`.
 */
export function scaledLinearBetas(N: number, betaStart = 0.00085, betaEnd = 0.012): number[] {
  checkRange(N, betaStart, betaEnd);
  const betas = linspace(Math.sqrt(betaStart), Math.sqrt(betaEnd), N).map((r) => r * r);
  checkBetas('betaEnd', betas);
  return betas;
}

/**
 * Cosine schedule of Nichol & Dhariwal 2021 (Improved DDPM, Eq. 17):
 * `ᾱ(t) = f(t)/f(0)`, `f(t) = cos²(((t/N) + s)/(1 + s) · π/2)`, and
 * `β_i = min(1 − ᾱ(i+1)/ᾱ(i), maxBeta)` for `i = 0..N−1` (default `s = 0.008`, `maxBeta = 0.999`).
 */
export function cosineBetas(N: number, s = 0.008, maxBeta = 0.999): number[] {
  assertInteger('N', N);
  assertPositive('s', s);
  assertPositive('maxBeta', maxBeta);
  if (maxBeta >= 1) throw new SbmArgumentError('maxBeta', `expected maxBeta < 1, got ${maxBeta}`);
  const f = (i: number) => Math.cos(((i / N + s) / (1 + s)) * (Math.PI / 2)) ** 2;
  const betas = new Array<number>(N);
  for (let i = 0; i < N; i++) betas[i] = Math.min(1 - f(i + 1) / f(i), maxBeta);
  return betas;
}

/**
 * Cumulative products `ᾱ_i = Π_{s≤i} (1 − β_s)` of a beta schedule (Ho et al. 2020, Eq. 4),
 * accumulated in log space for accuracy.
 */
export function alphaBarsFromBetas(betas: readonly number[]): number[] {
  checkBetas('betas', betas);
  const out = new Array<number>(betas.length);
  let logAlphaBar = 0;
  for (let i = 0; i < betas.length; i++) {
    logAlphaBar += Math.log1p(-betas[i]!);
    out[i] = Math.exp(logAlphaBar);
  }
  return out;
}

/**
 * Builds a {@link DiscreteSchedule} from betas in (0, 1).
 *
 * @example
 * ```ts
 * const s = discreteSchedule(cosineBetas(1000));
 * s.alphaBars[999]; // ≈ 0 (pure noise)
 * ```
 */
export function discreteSchedule(betas: readonly number[]): DiscreteSchedule {
  if (!Array.isArray(betas) || betas.length === 0) {
    throw new SbmArgumentError('betas', 'expected a non-empty array of numbers');
  }
  const alphaBars = alphaBarsFromBetas(betas);
  return Object.freeze({
    N: betas.length,
    betas: Object.freeze([...betas]),
    alphas: Object.freeze(betas.map((b) => 1 - b)),
    alphaBars: Object.freeze(alphaBars),
  });
}
