import { SbmArgumentError } from '@sbm/sde';

/** Options of {@link inceptionScore}. */
export interface InceptionScoreOptions {
  /** Classes per row of `logits` (default 1008, the FID Inception's output width). */
  numClasses?: number;
  /** Number of splits the score is averaged over (default 10). */
  splits?: number;
}

/** Mean and standard deviation (numpy `std`, `ddof = 0`) of a score over splits or subsets. */
export interface MeanStd {
  /** Mean of the per-split (IS) or per-subset (KID) values. */
  mean: number;
  /** Population standard deviation $\sqrt{\tfrac1m \sum_k (v_k - \bar v)^2}$ of those $m$ values (`ddof = 0`). */
  std: number;
}

/**
 * Inception Score (Salimans et al. 2016, "Improved Techniques for Training GANs", Sec. 4):
 *
 * $$\mathrm{IS} = \exp\Big(\mathbb{E}_x\, \mathrm{KL}\big(p(y \mid x) \,\big\Vert\, p(y)\big)\Big),$$
 *
 * computed as in the reference code (openai/improved-gan, TTUR, torch-fidelity): the $n$ rows are softmaxed over
 * all `numClasses` logits, cut into $S$ = `splits` consecutive parts (rows $\lfloor k n/S \rfloor$ to
 * $\lfloor (k+1) n/S \rfloor - 1$), and for each part $P_k$
 *
 * $$\mathrm{IS}_k = \exp\Big(\frac{1}{|P_k|} \sum_{i \in P_k} \sum_y p(y \mid x_i) \big(\log p(y \mid x_i) - \log \bar p_k(y)\big)\Big),$$
 *
 * $$\bar p_k(y) = \frac{1}{|P_k|} \sum_{i \in P_k} p(y \mid x_i);$$
 *
 * the result is the mean and standard deviation (`ddof = 0`) of the $\mathrm{IS}_k$. All in float64 with a
 * log-sum-exp softmax (terms with $p(y \mid x) = 0$ contribute 0).
 *
 * @param logits - `[n, numClasses]` row-major pre-softmax outputs.
 * @param n - number of rows.
 * @throws SbmArgumentError if `logits.length ≠ n · numClasses`, a value is not finite, or `n < splits`.
 */
export function inceptionScore(
  logits: Float32Array | Float64Array,
  n: number,
  options: InceptionScoreOptions = {},
): MeanStd {
  const numClasses = options.numClasses ?? 1008;
  const splits = options.splits ?? 10;
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new SbmArgumentError('options.numClasses', `expected an integer >= 1, got ${numClasses}`);
  }
  if (!Number.isInteger(splits) || splits < 1) {
    throw new SbmArgumentError('options.splits', `expected an integer >= 1, got ${splits}`);
  }
  if (!Number.isInteger(n) || n < splits) {
    throw new SbmArgumentError('n', `expected an integer >= splits (${splits}), got ${n}`);
  }
  if (logits.length !== n * numClasses) {
    throw new SbmArgumentError(
      'logits',
      `expected n · numClasses = ${n} · ${numClasses} = ${n * numClasses} values, got ${logits.length}`,
    );
  }
  // log p(y|x) per row, by log-sum-exp.
  const logP = new Float64Array(n * numClasses);
  for (let i = 0; i < n; i++) {
    const row = i * numClasses;
    let max = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < numClasses; c++) {
      const z = logits[row + c]!;
      if (!Number.isFinite(z)) {
        throw new SbmArgumentError('logits', `expected finite values, got ${z} in row ${i} (class ${c})`);
      }
      if (z > max) max = z;
    }
    let sum = 0;
    for (let c = 0; c < numClasses; c++) sum += Math.exp(logits[row + c]! - max);
    const logZ = max + Math.log(sum);
    for (let c = 0; c < numClasses; c++) logP[row + c] = logits[row + c]! - logZ;
  }
  const scores = new Float64Array(splits);
  const marginal = new Float64Array(numClasses);
  for (let k = 0; k < splits; k++) {
    const start = Math.floor((k * n) / splits);
    const end = Math.floor(((k + 1) * n) / splits);
    const size = end - start;
    marginal.fill(0);
    for (let i = start; i < end; i++) {
      for (let c = 0; c < numClasses; c++) marginal[c]! += Math.exp(logP[i * numClasses + c]!);
    }
    for (let c = 0; c < numClasses; c++) marginal[c] = Math.log(marginal[c]! / size);
    let kl = 0;
    for (let i = start; i < end; i++) {
      const row = i * numClasses;
      for (let c = 0; c < numClasses; c++) {
        const p = Math.exp(logP[row + c]!);
        if (p > 0) kl += p * (logP[row + c]! - marginal[c]!);
      }
    }
    scores[k] = Math.exp(kl / size);
  }
  return meanStd(scores);
}

/** Mean and population standard deviation (`ddof = 0`, like `np.std`) of `values`. @internal */
export function meanStd(values: Float64Array): MeanStd {
  const m = values.length;
  let mean = 0;
  for (let i = 0; i < m; i++) mean += values[i]!;
  mean /= m;
  let v = 0;
  for (let i = 0; i < m; i++) v += (values[i]! - mean) ** 2;
  return { mean, std: Math.sqrt(v / m) };
}
