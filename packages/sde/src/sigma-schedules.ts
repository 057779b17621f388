import { assertFinite, assertInteger, assertPositive, SbmArgumentError } from './errors.js';
import { linspace } from './numeric.js';

/**
 * Geometric noise levels of SMLD/NCSN (Song & Ermon 2019) and of the VE SDE's discretization
 * (Song et al. 2021, Eq. 9), in increasing order:
 *
 * $$\sigma_i = \sigma_{\min}\,\Big(\frac{\sigma_{\max}}{\sigma_{\min}}\Big)^{i/(N-1)}, \qquad i = 0, \dots, N - 1,$$
 *
 * with the endpoints $\sigma_0 = \sigma_{\min}$ and $\sigma_{N-1} = \sigma_{\max}$ exact. (NCSN lists the same levels largest first.)
 * @param N - number of levels, an integer ≥ 1.
 * @param sigmaMin - $\sigma_{\min} > 0$, the smallest level (data units).
 * @param sigmaMax - $\sigma_{\max} > \sigma_{\min}$, the largest level.
 * @returns N levels (float64).
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
 * The noise levels of Karras et al. 2022 (EDM, Eq. 5) for `n` sampling steps, largest first:
 *
 * $$\sigma_i = \Big(\sigma_{\max}^{1/\rho} + \frac{i}{n - 1}\big(\sigma_{\min}^{1/\rho} - \sigma_{\max}^{1/\rho}\big)\Big)^{\rho}$$
 *
 * for $i = 0, \dots, n - 1$, followed by $\sigma_n = 0$. Default $\rho = 7$; a larger $\rho$ puts more steps near
 * $\sigma_{\min}$. The endpoints $\sigma_0 = \sigma_{\max}$ and $\sigma_{n-1} = \sigma_{\min}$ are exact; for `n = 1` the
 * result is `[sigmaMax, 0]`.
 * @param n - number of sampling steps, an integer ≥ 1.
 * @param sigmaMin - $\sigma_{\min} > 0$, the last nonzero level (data units).
 * @param sigmaMax - $\sigma_{\max} > \sigma_{\min}$, the first level.
 * @param rho - $\rho > 0$, default 7.
 * @returns `n + 1` levels (float64).
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
