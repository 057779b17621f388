import type { GaussianMixture2D } from '../data/toy.js';

/** How well 2-D points fit a Gaussian mixture (see {@link mixtureFit}). */
export interface MixtureFit {
  /** Number of points n. */
  count: number;
  /** Mean of log p(x_i) under the mixture, in nats (−∞ if a point has zero density in float64). */
  meanLogDensity: number;
  /** Share of the points within 3 std of the mean of their most likely component (true samples: 1 − e^−4.5 ≈ 0.989). */
  within3Std: number;
  /** Per component k: points whose most likely component is k and that lie within 3 std of its mean. */
  componentCounts: number[];
}

function checkPoints(points: ArrayLike<number>): number {
  if (points.length % 2 !== 0) {
    throw new Error(`points: expected interleaved x, y values (an even length), got ${points.length} values`);
  }
  return points.length / 2;
}

/**
 * log p(x_i) of every point under the mixture, in float64, with the log-sum-exp trick:
 * p(x) = Σ_k w_k · N(x; m_k, s_k² I), log N(x; m, s² I) = −log(2π s²) − |x − m|² / (2 s²) in 2-D.
 *
 * @param points - `[n, 2]` row-major (`x0, y0, x1, y1, …`).
 * @returns `[n]` log-densities.
 */
export function mixtureLogDensity(mixture: GaussianMixture2D, points: ArrayLike<number>): Float64Array {
  const n = checkPoints(points);
  const K = mixture.weights.length;
  const total = mixture.weights.reduce((a, b) => a + b, 0);
  const logConst = mixture.weights.map(
    (w, k) => Math.log(w / total) - Math.log(2 * Math.PI * mixture.stds[k]! ** 2),
  );
  const out = new Float64Array(n);
  const terms = new Float64Array(K);
  for (let i = 0; i < n; i++) {
    const x = points[2 * i]!;
    const y = points[2 * i + 1]!;
    let max = -Infinity;
    for (let k = 0; k < K; k++) {
      const [mx, my] = mixture.means[k]!;
      const s = mixture.stds[k]!;
      terms[k] = logConst[k]! - ((x - mx) ** 2 + (y - my) ** 2) / (2 * s * s);
      if (terms[k]! > max) max = terms[k]!;
    }
    if (max === -Infinity || Number.isNaN(max)) {
      out[i] = Number.isNaN(x) || Number.isNaN(y) ? Number.NaN : -Infinity;
      continue;
    }
    let sum = 0;
    for (let k = 0; k < K; k++) sum += Math.exp(terms[k]! - max);
    out[i] = max + Math.log(sum);
  }
  return out;
}

/**
 * Measures 2-D points against a known mixture: the mean log-density E[log p(x)] (for true samples it is about
 * −H(p), the negative entropy: Σ_k w_k (log w_k − log(2π s_k²) − 1) for well-separated components), the share of
 * points within 3 std of the mean of their most likely component (argmax_k w_k N(x; m_k, s_k² I)), and how many
 * such points each component holds (true samples: about n·w_k each). Generated samples that blur the modes have a
 * lower mean log-density and a smaller 3-std share; a dropped or over-weighted mode shows in the counts.
 *
 * @param points - `[n, 2]` row-major (`x0, y0, x1, y1, …`), n ≥ 1.
 */
export function mixtureFit(mixture: GaussianMixture2D, points: ArrayLike<number>): MixtureFit {
  const n = checkPoints(points);
  if (n === 0) throw new Error('points: expected at least one point');
  const K = mixture.weights.length;
  const logDensity = mixtureLogDensity(mixture, points);
  const total = mixture.weights.reduce((a, b) => a + b, 0);
  const componentCounts = new Array<number>(K).fill(0);
  let sumLog = 0;
  for (let i = 0; i < n; i++) {
    sumLog += logDensity[i]!;
    const x = points[2 * i]!;
    const y = points[2 * i + 1]!;
    let best = -1;
    let bestTerm = -Infinity;
    let bestDistance = 0;
    for (let k = 0; k < K; k++) {
      const [mx, my] = mixture.means[k]!;
      const s = mixture.stds[k]!;
      const d2 = (x - mx) ** 2 + (y - my) ** 2;
      const term = Math.log(mixture.weights[k]! / total) - 2 * Math.log(s) - d2 / (2 * s * s);
      if (term > bestTerm) {
        bestTerm = term;
        best = k;
        bestDistance = Math.sqrt(d2) / s;
      }
    }
    if (best >= 0 && bestDistance <= 3) componentCounts[best]!++;
  }
  const inside = componentCounts.reduce((a, b) => a + b, 0);
  return { count: n, meanLogDensity: sumLog / n, within3Std: inside / n, componentCounts };
}
