/**
 * Test oracle for guidance: a class-conditional isotropic Gaussian mixture in which class `y` is component
 * `y`, `p(x_0 | y) = N(m_y, c_y² I)`, `p(y) = w_y`. Under the linear SDEs of Song et al. (2021) with
 * `x_t = α(t) x_0 + σ(t) z`, every quantity guidance needs is exact at every time:
 * - the conditional score `∇ log p_t(x | y) = −(x − α m_y)/v_y` with `v_y = α² c_y² + σ²`,
 * - the unconditional score `∇ log p_t(x) = Σ_y p_t(y | x) ∇ log p_t(x | y)`,
 * - the Bayes posterior `p_t(y | x) = w_y N(x; α m_y, v_y I) / Σ_k w_k N(x; α m_k, v_k I)`.
 *
 * Everything that takes `x` is written with tfjs ops so that `tf.grad` differentiates it (classifier
 * guidance takes `∇_x log p_t(y | x)`); the coefficients come from @sbm/test-utils' float64
 * `linearSdeCoefficients`, independent of @sbm/sde. Times `t` are read with `dataSync` (they are not
 * differentiated); `t` has one entry per example or a single entry for the whole batch.
 */
import { type SDE, SubVPSDE, VESDE, VPSDE } from '@sbm/sde';
import { createRng, GaussianMixture, type LinearSdeSpec, linearSdeCoefficients } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';

/** Parameters of a class-conditional isotropic mixture (K classes in D dimensions). */
export interface ConditionalMixtureParams {
  /** Class priors `w_y` (K positive numbers, normalised here). */
  weights: number[];
  /** Class means `m_y`, K×D. */
  means: number[][];
  /** Class standard deviations `c_y` (K positive numbers). */
  stds: number[];
}

/** One linear SDE with the oracle's exact functions bound to it. */
export interface ConditionalMixtureCase {
  name: 'VP' | 'sub-VP' | 'VE';
  /** The @sbm/sde object (default parameters), for samplers and `wrapModel`. */
  sde: SDE;
  /** The same SDE as an independent float64 spec. */
  spec: LinearSdeSpec;
  /** `α(t)`, `σ(t)` in float64 from the spec. */
  coefficients(t: number): { alpha: number; sigma: number };
  /** `log N(x; α m_k, v_k I)` for every class: `x [B, ...]` (D values per row), `t [B]` or `[1]` → `[B, K]`. */
  logLikelihoods(x: tf.Tensor, t: tf.Tensor): tf.Tensor2D;
  /** Exact `log p_t(x) = logsumexp_k (log w_k + log N_k)`: → `[B]`. */
  logDensity(x: tf.Tensor, t: tf.Tensor): tf.Tensor1D;
  /** Exact Bayes log-posterior `log p_t(y | x)` for every class: → `[B, K]`, differentiable in `x`. */
  logPosterior(x: tf.Tensor, t: tf.Tensor): tf.Tensor2D;
  /** Exact `∇ log p_t(x | y)` for `labels [B]` in `{0..K−1}` (int tensor or array): → shape of `x`. */
  scoreConditional(x: tf.Tensor, t: tf.Tensor, labels: tf.Tensor | ArrayLike<number>): tf.Tensor;
  /** Exact unconditional `∇ log p_t(x)`: → shape of `x`. */
  scoreUnconditional(x: tf.Tensor, t: tf.Tensor): tf.Tensor;
  /**
   * A class-conditional score model with a null class, as a network trained with label dropout would be:
   * `labels [B]` in `{0..K}`; rows with label `K` (= `nullLabel`) get the unconditional score, the others
   * their class's conditional score. Fits `wrapModel` as a model function `(x, t, labels)`.
   */
  classModel(x: tf.Tensor, t: tf.Tensor, labels?: tf.Tensor): tf.Tensor;
}

/** The oracle: the mixture's parameters, its float64 twins, seeded samples and the three SDE cases. */
export interface ConditionalMixture {
  /** Number of classes K. */
  numClasses: number;
  /** The null (unconditional) label, `K`. */
  nullLabel: number;
  /** Dimension D. */
  dim: number;
  /** Normalised class priors, length K. */
  weights: number[];
  means: number[][];
  stds: number[];
  /** The whole mixture in float64 (@sbm/test-utils). */
  exact: GaussianMixture;
  /** Class `y`'s Gaussian `N(m_y, c_y² I)` in float64 (a one-component mixture). */
  classDistribution(y: number): GaussianMixture;
  /** VP (β ∈ [0.1, 20]), sub-VP (same β) and VE (σ ∈ [0.01, 50]), score_sde's defaults. */
  cases: ConditionalMixtureCase[];
  /** The case of the given name. */
  case(name: ConditionalMixtureCase['name']): ConditionalMixtureCase;
  /**
   * `n` seeded draws of `x_0`: with `classes` (one class for all, or one per row) from those classes'
   * Gaussians, else labels from the priors. Returns `x [n, D]` (float32 tensor, caller disposes) and the labels.
   */
  sample(
    n: number,
    seed: number,
    classes?: number | ArrayLike<number>,
  ): { x: tf.Tensor2D; labels: Int32Array };
}

/**
 * Default parameters: three 2-D classes that overlap (the Bayes classifier at t = 0 is uncertain in a
 * noticeable share of each class), so that guidance visibly sharpens samples.
 */
export const DEFAULT_CONDITIONAL_MIXTURE: ConditionalMixtureParams = {
  weights: [0.3, 0.45, 0.25],
  means: [
    [-1, 0],
    [1, 0],
    [0, 1.5],
  ],
  stds: [0.6, 0.5, 0.7],
};

const LOG_2PI = Math.log(2 * Math.PI);

/** Per-row times from `t` (`[B]` or one entry). */
function rowTimes(t: tf.Tensor, B: number): number[] {
  const data = t.dataSync();
  if (data.length !== B && data.length !== 1) {
    throw new Error(`conditional mixture: t has ${data.length} entries for a batch of ${B}`);
  }
  return Array.from({ length: B }, (_, b) => data[data.length === 1 ? 0 : b]!);
}

/** Labels as a plain array, checked to be integers in `[0, max]`. */
function readLabels(labels: tf.Tensor | ArrayLike<number>, B: number, max: number): number[] {
  const data = labels instanceof tf.Tensor ? labels.dataSync() : labels;
  if (data.length !== B) throw new Error(`conditional mixture: ${data.length} labels for a batch of ${B}`);
  const out = Array.from(data, Number);
  for (const y of out) {
    if (!Number.isInteger(y) || y < 0 || y > max) {
      throw new Error(`conditional mixture: label ${y} outside {0..${max}}`);
    }
  }
  return out;
}

/** Builds the oracle (default: {@link DEFAULT_CONDITIONAL_MIXTURE}). */
export function conditionalMixture2D(
  params: ConditionalMixtureParams = DEFAULT_CONDITIONAL_MIXTURE,
): ConditionalMixture {
  const K = params.weights.length;
  const D = params.means[0]!.length;
  const exact = GaussianMixture.isotropic(params.weights, params.means, params.stds);
  const weights = exact.weights;
  const { means, stds } = params;
  const logWeights = weights.map((w) => Math.log(w));

  const makeCase = (name: ConditionalMixtureCase['name'], sde: SDE, spec: LinearSdeSpec) => {
    const coefficients = (t: number) => {
      const { alpha, sigma } = linearSdeCoefficients(spec, t);
      return { alpha, sigma };
    };
    /** Per-row `α`, `v_k` for times `ts`. */
    const rowCoefficients = (ts: number[]) =>
      ts.map((t) => {
        const { alpha, sigma } = coefficients(t);
        return { alpha, v: stds.map((c) => alpha * alpha * c * c + sigma * sigma) };
      });

    const logLikelihoods = (x: tf.Tensor, t: tf.Tensor): tf.Tensor2D =>
      tf.tidy(() => {
        const B = x.shape[0]!;
        const rows = rowCoefficients(rowTimes(t, B));
        const flat = tf.reshape(x, [B, 1, D]);
        const centers = tf.tensor3d(
          rows.flatMap(({ alpha }) => means.flatMap((m) => m.map((v) => alpha * v))),
          [B, K, D],
        );
        const invV = tf.tensor2d(
          rows.flatMap(({ v }) => v.map((u) => 1 / u)),
          [B, K],
        );
        const logNorm = tf.tensor2d(
          rows.flatMap(({ v }) => v.map((u) => -0.5 * D * (LOG_2PI + Math.log(u)))),
          [B, K],
        );
        const sq = tf.sum(tf.square(tf.sub(flat, centers)), 2); // [B, K]
        return tf.add(logNorm, tf.mul(sq, tf.mul(invV, -0.5))) as tf.Tensor2D;
      });

    const logJoint = (x: tf.Tensor, t: tf.Tensor): tf.Tensor2D =>
      tf.tidy(() => tf.add(logLikelihoods(x, t), tf.tensor1d(logWeights)) as tf.Tensor2D);

    const logDensity = (x: tf.Tensor, t: tf.Tensor): tf.Tensor1D =>
      tf.tidy(() => tf.logSumExp(logJoint(x, t), 1) as tf.Tensor1D);

    const logPosterior = (x: tf.Tensor, t: tf.Tensor): tf.Tensor2D =>
      tf.tidy(() => tf.logSoftmax(logJoint(x, t), 1) as tf.Tensor2D);

    /** `−(x − α m_k)/v_k` for every class: `[B, K, D]`. */
    const classScores = (x: tf.Tensor, t: tf.Tensor): tf.Tensor3D =>
      tf.tidy(() => {
        const B = x.shape[0]!;
        const rows = rowCoefficients(rowTimes(t, B));
        const centers = tf.tensor3d(
          rows.flatMap(({ alpha }) => means.flatMap((m) => m.map((v) => alpha * v))),
          [B, K, D],
        );
        const negInvV = tf.tensor3d(
          rows.flatMap(({ v }) => v.map((u) => -1 / u)),
          [B, K, 1],
        );
        return tf.mul(tf.sub(tf.reshape(x, [B, 1, D]), centers), negInvV) as tf.Tensor3D;
      });

    const scoreConditional = (x: tf.Tensor, t: tf.Tensor, labels: tf.Tensor | ArrayLike<number>): tf.Tensor =>
      tf.tidy(() => {
        const B = x.shape[0]!;
        const ys = readLabels(labels, B, K - 1);
        const oneHot = tf.reshape(tf.oneHot(tf.tensor1d(ys, 'int32'), K), [B, K, 1]);
        return tf.reshape(tf.sum(tf.mul(classScores(x, t), oneHot), 1), x.shape);
      });

    const scoreUnconditional = (x: tf.Tensor, t: tf.Tensor): tf.Tensor =>
      tf.tidy(() => {
        const B = x.shape[0]!;
        const r = tf.reshape(tf.exp(logPosterior(x, t)), [B, K, 1]);
        return tf.reshape(tf.sum(tf.mul(classScores(x, t), r), 1), x.shape);
      });

    const classModel = (x: tf.Tensor, t: tf.Tensor, labels?: tf.Tensor): tf.Tensor => {
      if (labels === undefined) throw new Error('conditional mixture classModel: labels are required');
      return tf.tidy(() => {
        const B = x.shape[0]!;
        const ys = readLabels(labels, B, K);
        const D1 = x.size / B;
        const isNull = tf.tensor2d(
          ys.flatMap((y) => Array.from({ length: D1 }, () => (y === K ? 1 : 0))),
          [B, D1],
          'bool',
        );
        const conditional = tf.reshape(
          scoreConditional(
            x,
            t,
            ys.map((y) => (y === K ? 0 : y)),
          ),
          [B, D1],
        );
        const unconditional = tf.reshape(scoreUnconditional(x, t), [B, D1]);
        return tf.reshape(tf.where(isNull, unconditional, conditional), x.shape);
      });
    };

    return {
      name,
      sde,
      spec,
      coefficients,
      logLikelihoods,
      logDensity,
      logPosterior,
      scoreConditional,
      scoreUnconditional,
      classModel,
    } satisfies ConditionalMixtureCase;
  };

  const cases: ConditionalMixtureCase[] = [
    makeCase('VP', new VPSDE(), { kind: 'vp', betaMin: 0.1, betaMax: 20 }),
    makeCase('sub-VP', new SubVPSDE(), { kind: 'subvp', betaMin: 0.1, betaMax: 20 }),
    makeCase('VE', new VESDE(), { kind: 've', sigmaMin: 0.01, sigmaMax: 50 }),
  ];

  const classDistribution = (y: number): GaussianMixture => {
    if (!Number.isInteger(y) || y < 0 || y >= K) throw new Error(`conditional mixture: no class ${y}`);
    return GaussianMixture.isotropic([1], [means[y]!], [stds[y]!]);
  };

  const sample = (n: number, seed: number, classes?: number | ArrayLike<number>) => {
    const rng = createRng(seed);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const y =
        classes === undefined
          ? rng.choice(weights)
          : typeof classes === 'number'
            ? classes
            : Number(classes[i]);
      if (!Number.isInteger(y) || y < 0 || y >= K) throw new Error(`conditional mixture: no class ${y}`);
      labels[i] = y;
    }
    const values = new Float32Array(n * D);
    for (let i = 0; i < n; i++) {
      const y = labels[i]!;
      for (let d = 0; d < D; d++) values[i * D + d] = means[y]![d]! + stds[y]! * rng.normal();
    }
    return { x: tf.tensor2d(values, [n, D]), labels };
  };

  return {
    numClasses: K,
    nullLabel: K,
    dim: D,
    weights,
    means,
    stds,
    exact,
    classDistribution,
    cases,
    case: (name) => {
      const found = cases.find((c) => c.name === name);
      if (!found) throw new Error(`conditional mixture: no case ${name}`);
      return found;
    },
    sample,
  };
}
