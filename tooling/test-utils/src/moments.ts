/**
 * Sample statistics (float64) for samples stored row-major: `x[i·d + j]` is coordinate j of sample i.
 */

function checkSample(x: ArrayLike<number>, n: number, d: number, name: string): void {
  if (!Number.isInteger(n) || n < 0 || !Number.isInteger(d) || d < 1) {
    throw new Error(`${name}: invalid sizes n=${n}, d=${d}`);
  }
  if (x.length !== n * d) throw new Error(`${name}: expected ${n}·${d} = ${n * d} values, got ${x.length}`);
}

/** Sample mean μ̂ⱼ = (1/n) Σᵢ x[i,j] of an n×d sample; returns length d. */
export function sampleMean(x: ArrayLike<number>, n: number, d: number): number[] {
  checkSample(x, n, d, 'sampleMean');
  if (n < 1) throw new Error('sampleMean: need at least one sample');
  const mean = new Array<number>(d).fill(0);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) mean[j]! += x[i * d + j]!;
  }
  return mean.map((s) => s / n);
}

/**
 * Unbiased sample covariance Ĉ = (1/(n−1)) Σᵢ (xᵢ − μ̂)(xᵢ − μ̂)ᵀ of an n×d sample; returns d×d.
 * Requires n ≥ 2.
 */
export function sampleCovariance(x: ArrayLike<number>, n: number, d: number): number[][] {
  checkSample(x, n, d, 'sampleCovariance');
  if (n < 2) throw new Error('sampleCovariance: need at least two samples');
  const mean = sampleMean(x, n, d);
  const cov = Array.from({ length: d }, () => new Array<number>(d).fill(0));
  const c = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) c[j] = x[i * d + j]! - mean[j]!;
    for (let j = 0; j < d; j++) {
      const row = cov[j]!;
      const cj = c[j]!;
      for (let k = j; k < d; k++) row[k]! += cj * c[k]!;
    }
  }
  for (let j = 0; j < d; j++) {
    for (let k = j; k < d; k++) {
      const v = cov[j]![k]! / (n - 1);
      cov[j]![k] = v;
      cov[k]![j] = v;
    }
  }
  return cov;
}

function meanPairDistance(
  a: ArrayLike<number>,
  n1: number,
  b: ArrayLike<number>,
  n2: number,
  d: number,
): number {
  let total = 0;
  for (let i = 0; i < n1; i++) {
    const ai = i * d;
    let rowSum = 0;
    for (let k = 0; k < n2; k++) {
      const bk = k * d;
      let s = 0;
      for (let j = 0; j < d; j++) {
        const diff = a[ai + j]! - b[bk + j]!;
        s += diff * diff;
      }
      rowSum += Math.sqrt(s);
    }
    total += rowSum;
  }
  return total / (n1 * n2);
}

/**
 * Squared energy distance (V-statistic) between samples a (n1×d) and b (n2×d):
 *
 *   E² = 2·mean‖aᵢ − bₖ‖ − mean‖aᵢ − aⱼ‖ − mean‖bₖ − bₗ‖ ≥ 0,
 *
 * which is zero iff the empirical distributions coincide. Costs O((n1 + n2)²·d); keep n ≲ a few
 * thousand. For two samples of the same law it is O(1/n); it grows with any difference in law.
 */
export function energyDistance(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  n1: number,
  n2: number,
  d: number,
): number {
  checkSample(a, n1, d, 'energyDistance');
  checkSample(b, n2, d, 'energyDistance');
  if (n1 < 1 || n2 < 1) throw new Error('energyDistance: both samples must be non-empty');
  const ab = meanPairDistance(a, n1, b, n2, d);
  const aa = meanPairDistance(a, n1, a, n1, d);
  const bb = meanPairDistance(b, n2, b, n2, d);
  return 2 * ab - aa - bb;
}
