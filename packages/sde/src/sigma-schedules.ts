import { assertFinite, assertInteger, assertPositive, SbmArgumentError } from './errors.js';
import { linspace } from './numeric.js';

/**
 * Geometric noise levels of SMLD/NCSN (Song & Ermon 2019) and of the VE SDE's discretization
 * (Song et al. 2021, Eq. 9), in increasing order: `σ_i = σ_min (σ_max/σ_min)^{i/(N−1)}`, `i = 0..N−1`.
 * (NCSN lists the same levels largest first.)
 */
export function geometricSigmas(N: number, sigmaMin: number, sigmaMax: number): number[] {
  assertInteger('N', N);
  assertPositive('sigmaMin', sigmaMin);
  assertFinite('sigmaMax', sigmaMax);
  if (!(sigmaMax > sigmaMin)) {
    throw new SbmArgumentError('sigmaMax', `expected sigmaMax > sigmaMin (${sigmaMin}), got ${sigmaMax}`);
  }
  const lo = Math.log(sigmaMin);
  const hi = Math.log(sigmaMax);
  return linspace(lo, hi, N).map((l, i) => (i === 0 ? sigmaMin : i === N - 1 ? sigmaMax : Math.exp(l)));
}

/**
 * The Karras et al. 2022 (EDM, Eq. 5) noise levels for `n` sampling steps, largest first:
 * `σ_i = (σ_max^{1/ρ} + i/(n−1) (σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ` for `i = 0..n−1`, followed by
 * `σ_n = 0`. Returns `n + 1` numbers. Default `ρ = 7`.
 */
export function karrasSigmas(n: number, sigmaMin: number, sigmaMax: number, rho = 7): number[] {
  assertInteger('n', n);
  assertPositive('sigmaMin', sigmaMin);
  assertFinite('sigmaMax', sigmaMax);
  assertPositive('rho', rho);
  if (!(sigmaMax > sigmaMin)) {
    throw new SbmArgumentError('sigmaMax', `expected sigmaMax > sigmaMin (${sigmaMin}), got ${sigmaMax}`);
  }
  const a = sigmaMax ** (1 / rho);
  const b = sigmaMin ** (1 / rho);
  const out = new Array<number>(n + 1);
  for (let i = 0; i < n; i++) out[i] = n === 1 ? sigmaMax : (a + (i / (n - 1)) * (b - a)) ** rho;
  out[0] = sigmaMax;
  if (n > 1) out[n - 1] = sigmaMin;
  out[n] = 0;
  return out;
}
