import { assertInteger, assertPositive, SbmArgumentError } from './errors.js';
import { linspace } from './numeric.js';

/**
 * A discrete DDPM noise schedule (Ho et al. 2020, Sec. 2), all in float64, for the N training steps
 * indexed `0..N−1` (array index i is the paper's step $i + 1$): `betas[i]` $= \beta_{i+1}$,
 * `alphas[i]` $= 1 - \beta_{i+1}$, `alphaBars[i]` $= \bar\alpha_{i+1} = \prod_{s \le i+1} \alpha_s$.
 * The marginal after the paper's step $k$ is $q(x_k \mid x_0) = \mathcal{N}\big(\sqrt{\bar\alpha_k}\,x_0, (1 - \bar\alpha_k) I\big)$.
 */
export interface DiscreteSchedule {
  /** Number of training steps N. */
  readonly N: number;
  /** `betas[i]`: the variance of the noise added by step i (the paper's $\beta_{i+1}$), in (0, 1); length N. */
  readonly betas: readonly number[];
  /** `alphas[i] = 1 − betas[i]` (the paper's $\alpha_{i+1}$); length N. */
  readonly alphas: readonly number[];
  /** `alphaBars[i]`: the product of `alphas[0..i]`, the paper's $\bar\alpha_{i+1}$ (Ho et al. 2020, Eq. 4), decreasing; length N. */
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
 * Linear betas of DDPM (Ho et al. 2020, Sec. 4): `linspace(betaStart, betaEnd, N)`, i.e.
 * $\beta_i = \beta_{\mathrm{start}} + \tfrac{i}{N - 1}(\beta_{\mathrm{end}} - \beta_{\mathrm{start}})$ for $i = 0, \dots, N - 1$.
 * Defaults are the paper's $\beta_1 = 10^{-4}$ and $\beta_T = 0.02$ (for $T = 1000$ steps).
 * @param N - number of steps, an integer ≥ 1.
 * @param betaStart - first beta, > 0; default 1e-4.
 * @param betaEnd - last beta, ≥ `betaStart` and < 1; default 0.02.
 * @returns N betas (float64).
 */
export function linearBetas(N: number, betaStart = 1e-4, betaEnd = 0.02): number[] {
  checkRange(N, betaStart, betaEnd);
  const betas = linspace(betaStart, betaEnd, N);
  checkBetas('betaEnd', betas);
  return betas;
}

/**
 * "Scaled linear" betas (latent diffusion / Stable Diffusion), linear in $\sqrt{\beta}$:
 * `linspace(√betaStart, √betaEnd, N)²`, i.e.
 *
 * $$\beta_i = \Big(\sqrt{\beta_{\mathrm{start}}} + \tfrac{i}{N - 1}\big(\sqrt{\beta_{\mathrm{end}}} - \sqrt{\beta_{\mathrm{start}}}\big)\Big)^2, \qquad i = 0, \dots, N - 1,$$
 *
 * with defaults $\beta_{\mathrm{start}} = 0.00085$, $\beta_{\mathrm{end}} = 0.012$.
 * @param N - number of steps, an integer ≥ 1.
 * @param betaStart - first beta, > 0; default 0.00085.
 * @param betaEnd - last beta, ≥ `betaStart` and < 1; default 0.012.
 * @returns N betas (float64).
 */
export function scaledLinearBetas(N: number, betaStart = 0.00085, betaEnd = 0.012): number[] {
  checkRange(N, betaStart, betaEnd);
  const betas = linspace(Math.sqrt(betaStart), Math.sqrt(betaEnd), N).map((r) => r * r);
  checkBetas('betaEnd', betas);
  return betas;
}

/**
 * Cosine schedule of Nichol & Dhariwal 2021 (Improved DDPM, Eq. 17), with the small offset $s$ (default 0.008):
 *
 * $$\bar\alpha(t) = \frac{f(t)}{f(0)}, \qquad f(t) = \cos^2\!\Big(\frac{t/N + s}{1 + s} \cdot \frac{\pi}{2}\Big),$$
 *
 * and $\beta_i = \min\big(1 - \bar\alpha(i + 1)/\bar\alpha(i),\ \beta_{\mathrm{cap}}\big)$ for $i = 0, \dots, N - 1$, where
 * $\beta_{\mathrm{cap}}$ = `maxBeta` (default 0.999, the paper's clipping near $t = N$).
 * @param N - number of steps, an integer ≥ 1.
 * @param s - offset $s > 0$ that keeps $\beta$ from being tiny near $t = 0$; default 0.008.
 * @param maxBeta - cap on every beta, in (0, 1); default 0.999.
 * @returns N betas (float64).
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
 * Cumulative products $\bar\alpha_i = \prod_{s=0}^{i} (1 - \beta_s)$ of a beta schedule (Ho et al. 2020, Eq. 4),
 * accumulated in log space for accuracy; one per beta.
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
 * Builds a frozen {@link DiscreteSchedule} from betas in (0, 1): a copy of the betas, $\alpha_i = 1 - \beta_i$
 * and $\bar\alpha_i$ from {@link alphaBarsFromBetas}.
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
