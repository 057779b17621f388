import * as tf from '@tensorflow/tfjs-core';
import { cholesky, logDetFromCholesky, type Matrix } from './linalg.js';
import { type LinearSdeSpec, linearSdeCoefficients } from './linear-sde-oracle.js';
import type { Rng } from './rng.js';

/** Parameters of a K-component Gaussian mixture in D dimensions. */
export interface GaussianMixtureParams {
  /** K positive weights (normalised by the constructor). */
  weights: number[];
  /** K×D component means. */
  means: number[][];
  /** K×D×D symmetric positive-definite component covariances. */
  covs: number[][][];
}

/**
 * A batch of n points in D dimensions: either rows (`number[][]`, n×D) or a flat row-major
 * array of n·D values (`x[i·D + j]`).
 */
export type MixturePoints = Float64Array | Float32Array | number[] | number[][];

interface Component {
  /** log w_k − (D/2)·log 2π − ½·log det C_k */
  logConst: number;
  mean: Float64Array;
  /** Cholesky factor of C_k, row-major D×D (lower triangle used). */
  chol: Float64Array;
}

const LOG_2PI = Math.log(2 * Math.PI);

function assertFiniteArray(v: ArrayLike<number>, what: string): void {
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i]!)) throw new Error(`GaussianMixture: ${what} contains a non-finite value`);
  }
}

/**
 * Exact Gaussian mixture p(x) = Σ_k w_k·N(x; m_k, C_k) in float64, used as a ground-truth data
 * distribution for score-based models: its diffused marginals under the linear SDEs of
 * Song et al. (2021) are again Gaussian mixtures, so their exact scores are available.
 */
export class GaussianMixture {
  /** Dimension D. */
  readonly dim: number;
  /** Number of components K. */
  readonly k: number;
  readonly #weights: number[];
  readonly #means: number[][];
  readonly #covs: number[][][];
  readonly #components: Component[];

  /**
   * @param params weights (K, positive, normalised here), means (K×D), covs (K×D×D, SPD; symmetrised).
   * @throws Error on inconsistent shapes, non-positive weights or non positive-definite covariances.
   */
  constructor(params: GaussianMixtureParams) {
    const { weights, means, covs } = params;
    const k = weights.length;
    if (k < 1) throw new Error('GaussianMixture: need at least one component');
    if (means.length !== k || covs.length !== k) {
      throw new Error(
        `GaussianMixture: got ${k} weights, ${means.length} means and ${covs.length} covariances`,
      );
    }
    const d = means[0]!.length;
    if (d < 1) throw new Error('GaussianMixture: dimension must be >= 1');
    let total = 0;
    for (const w of weights) {
      if (!(Number.isFinite(w) && w > 0))
        throw new Error(`GaussianMixture: weights must be positive, got ${w}`);
      total += w;
    }
    this.dim = d;
    this.k = k;
    this.#weights = weights.map((w) => w / total);
    this.#means = means.map((m, i) => {
      if (m.length !== d) throw new Error(`GaussianMixture: mean ${i} has length ${m.length}, expected ${d}`);
      assertFiniteArray(m, `mean ${i}`);
      return m.slice();
    });
    this.#covs = covs.map((c, i) => {
      if (c.length !== d || c.some((row) => row.length !== d)) {
        throw new Error(`GaussianMixture: covariance ${i} must be ${d}×${d}`);
      }
      for (const row of c) assertFiniteArray(row, `covariance ${i}`);
      for (let a = 0; a < d; a++) {
        for (let b = 0; b < a; b++) {
          const x = c[a]![b]!;
          const y = c[b]![a]!;
          if (Math.abs(x - y) > 1e-9 * (Math.abs(x) + Math.abs(y)) + 1e-300) {
            throw new Error(`GaussianMixture: covariance ${i} is not symmetric at (${a}, ${b})`);
          }
        }
      }
      return c.map((row, a) => row.map((v, b) => 0.5 * (v + c[b]![a]!)));
    });
    this.#components = this.#covs.map((c, i) => {
      let L: Matrix;
      try {
        L = cholesky(c);
      } catch (err) {
        throw new Error(
          `GaussianMixture: covariance ${i} is not positive definite (${(err as Error).message})`,
        );
      }
      const chol = new Float64Array(d * d);
      for (let a = 0; a < d; a++) for (let b = 0; b <= a; b++) chol[a * d + b] = L[a]![b]!;
      return {
        logConst: Math.log(this.#weights[i]!) - 0.5 * d * LOG_2PI - 0.5 * logDetFromCholesky(L),
        mean: Float64Array.from(this.#means[i]!),
        chol,
      };
    });
  }

  /**
   * Mixture with isotropic components C_k = stds[k]²·I.
   * @param weights K positive weights; @param means K×D; @param stds K positive standard deviations.
   */
  static isotropic(weights: number[], means: number[][], stds: number[]): GaussianMixture {
    if (stds.length !== means.length) {
      throw new Error(`GaussianMixture.isotropic: ${stds.length} stds for ${means.length} means`);
    }
    const covs = stds.map((s, i) => {
      if (!(Number.isFinite(s) && s > 0)) throw new Error(`GaussianMixture.isotropic: std ${i} must be > 0`);
      const d = means[i]!.length;
      return Array.from({ length: d }, (_, a) => Array.from({ length: d }, (_, b) => (a === b ? s * s : 0)));
    });
    return new GaussianMixture({ weights, means, covs });
  }

  /** Normalised weights (copy), length K. */
  get weights(): number[] {
    return this.#weights.slice();
  }

  /** Component means (copy), K×D. */
  get means(): number[][] {
    return this.#means.map((m) => m.slice());
  }

  /** Component covariances (copy), K×D×D. */
  get covs(): number[][][] {
    return this.#covs.map((c) => c.map((row) => row.slice()));
  }

  /**
   * Draws n i.i.d. samples: label ~ Categorical(w), x = m_label + L_label·z, z ~ N(0, I).
   * @returns x as a row-major n·D Float64Array and the component labels.
   */
  sample(n: number, rng: Rng): { x: Float64Array; labels: Int32Array } {
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`GaussianMixture.sample: invalid n ${n}`);
    const d = this.dim;
    const x = new Float64Array(n * d);
    const labels = new Int32Array(n);
    const z = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      const label = rng.choice(this.#weights);
      labels[i] = label;
      const { mean, chol } = this.#components[label]!;
      for (let j = 0; j < d; j++) z[j] = rng.normal();
      for (let a = 0; a < d; a++) {
        let s = mean[a]!;
        for (let b = 0; b <= a; b++) s += chol[a * d + b]! * z[b]!;
        x[i * d + a] = s;
      }
    }
    return { x, labels };
  }

  /** n samples as a float32 tensor of shape [n, D] (caller disposes). */
  sampleTensor(n: number, rng: Rng): tf.Tensor2D {
    const { x } = this.sample(n, rng);
    return tf.tensor2d(Float32Array.from(x), [n, this.dim], 'float32');
  }

  #toFlat(x: MixturePoints, what: string): { data: ArrayLike<number>; n: number } {
    const d = this.dim;
    if (Array.isArray(x) && x.length > 0 && Array.isArray(x[0])) {
      const rows = x as number[][];
      const data = new Float64Array(rows.length * d);
      rows.forEach((row, i) => {
        if (row.length !== d)
          throw new Error(`GaussianMixture.${what}: row ${i} has length ${row.length} != ${d}`);
        data.set(row, i * d);
      });
      return { data, n: rows.length };
    }
    const flat = x as ArrayLike<number>;
    if (flat.length % d !== 0) {
      throw new Error(`GaussianMixture.${what}: ${flat.length} values is not a multiple of D = ${d}`);
    }
    return { data: flat, n: flat.length / d };
  }

  /**
   * Evaluates log p at the point x[off .. off+D) and, if `score` is given, writes ∇ log p into
   * score[outOff .. outOff+D). `lk`, `diff`, `y`, `g` are scratch buffers.
   */
  #evalPoint(
    x: ArrayLike<number>,
    off: number,
    score: Float64Array | undefined,
    outOff: number,
    lk: Float64Array,
    y: Float64Array,
    grads: Float64Array,
  ): number {
    const d = this.dim;
    let maxL = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < this.k; c++) {
      const { logConst, mean, chol } = this.#components[c]!;
      // y = L⁻¹ (x − m)   (forward substitution)
      for (let a = 0; a < d; a++) {
        let s = x[off + a]! - mean[a]!;
        for (let b = 0; b < a; b++) s -= chol[a * d + b]! * y[b]!;
        y[a] = s / chol[a * d + a]!;
      }
      let quad = 0;
      for (let a = 0; a < d; a++) quad += y[a]! * y[a]!;
      const l = logConst - 0.5 * quad;
      lk[c] = l;
      if (l > maxL) maxL = l;
      if (score !== undefined) {
        // −C⁻¹(x − m) = −L⁻ᵀ y   (back substitution)
        const base = c * d;
        for (let a = d - 1; a >= 0; a--) {
          let s = y[a]!;
          for (let b = a + 1; b < d; b++) s -= chol[b * d + a]! * grads[base + b]!;
          grads[base + a] = s / chol[a * d + a]!;
        }
      }
    }
    let sum = 0;
    for (let c = 0; c < this.k; c++) sum += Math.exp(lk[c]! - maxL);
    const lse = maxL + Math.log(sum);
    if (score !== undefined) {
      for (let a = 0; a < d; a++) {
        let s = 0;
        for (let c = 0; c < this.k; c++) s -= Math.exp(lk[c]! - lse) * grads[c * d + a]!;
        score[outOff + a] = s;
      }
    }
    return lse;
  }

  /**
   * Exact log density log p(x) = logsumexp_k [log w_k + log N(x; m_k, C_k)] for n points.
   * @returns length-n Float64Array.
   */
  logProb(x: MixturePoints): Float64Array {
    const { data, n } = this.#toFlat(x, 'logProb');
    const out = new Float64Array(n);
    const lk = new Float64Array(this.k);
    const y = new Float64Array(this.dim);
    const grads = new Float64Array(this.k * this.dim);
    for (let i = 0; i < n; i++) out[i] = this.#evalPoint(data, i * this.dim, undefined, 0, lk, y, grads);
    return out;
  }

  /**
   * Exact score ∇ₓ log p(x) = Σ_k r_k(x)·(−C_k⁻¹(x − m_k)) with responsibilities
   * r_k(x) = w_k N(x; m_k, C_k) / p(x).
   * @returns row-major n·D Float64Array.
   */
  score(x: MixturePoints): Float64Array {
    const { data, n } = this.#toFlat(x, 'score');
    const out = new Float64Array(n * this.dim);
    this.#scoreInto(data, n, out);
    return out;
  }

  #scoreInto(data: ArrayLike<number>, n: number, out: Float64Array): void {
    const lk = new Float64Array(this.k);
    const y = new Float64Array(this.dim);
    const grads = new Float64Array(this.k * this.dim);
    for (let i = 0; i < n; i++) this.#evalPoint(data, i * this.dim, out, i * this.dim, lk, y, grads);
  }

  /**
   * Law of alpha·x + sigma·z with x ~ p, z ~ N(0, I) independent: component k becomes
   * N(alpha·m_k, alpha²·C_k + sigma²·I), weights unchanged.
   */
  perturbed(alpha: number, sigma: number): GaussianMixture {
    if (!Number.isFinite(alpha) || !Number.isFinite(sigma) || sigma < 0) {
      throw new Error(`GaussianMixture.perturbed: invalid alpha=${alpha}, sigma=${sigma}`);
    }
    const a2 = alpha * alpha;
    const s2 = sigma * sigma;
    return new GaussianMixture({
      weights: this.#weights,
      means: this.#means.map((m) => m.map((v) => alpha * v)),
      covs: this.#covs.map((c) => c.map((row, i) => row.map((v, j) => a2 * v + (i === j ? s2 : 0)))),
    });
  }

  /**
   * Marginal p_t of the linear SDE `spec` started from this mixture at t = 0:
   * `perturbed(alpha(t), sigma(t))` with alpha, sigma from {@link linearSdeCoefficients}.
   */
  marginalAt(spec: LinearSdeSpec, t: number): GaussianMixture {
    const { alpha, sigma } = linearSdeCoefficients(spec, t);
    return this.perturbed(alpha, sigma);
  }

  /**
   * Exact score model s(x, t) = ∇ₓ log p_t(x) of the diffused mixture, as a tfjs function.
   *
   * `x` has shape [B, ...] with the product of trailing dims equal to D; `t` has shape [B]
   * (per-example times; a single-element `t` is broadcast). Values are read with `dataSync`,
   * the score is computed in float64 and returned as a new float32 tensor of x's shape. Creates no
   * other tensors.
   */
  scoreFn(spec: LinearSdeSpec): (x: tf.Tensor, t: tf.Tensor1D) => tf.Tensor {
    return (x: tf.Tensor, t: tf.Tensor1D): tf.Tensor => {
      if (x.rank < 1) throw new Error('GaussianMixture.scoreFn: x must have a batch dimension');
      const b = x.shape[0]!;
      const d = x.shape.slice(1).reduce((p, s) => p * s, 1);
      if (d !== this.dim) {
        throw new Error(
          `GaussianMixture.scoreFn: x shape [${x.shape.join(', ')}] has ${d} features, expected ${this.dim}`,
        );
      }
      if (t.size !== b && t.size !== 1) {
        throw new Error(`GaussianMixture.scoreFn: t has ${t.size} elements for batch size ${b}`);
      }
      const xs = x.dataSync() as ArrayLike<number>;
      const ts = t.dataSync() as ArrayLike<number>;
      const out = new Float32Array(b * d);
      const row = new Float64Array(d);
      const rowScore = new Float64Array(d);
      const cache = new Map<number, GaussianMixture>();
      for (let i = 0; i < b; i++) {
        const ti = ts[t.size === 1 ? 0 : i]!;
        let marginal = cache.get(ti);
        if (marginal === undefined) {
          marginal = this.marginalAt(spec, ti);
          cache.set(ti, marginal);
        }
        for (let j = 0; j < d; j++) row[j] = xs[i * d + j]!;
        marginal.#scoreInto(row, 1, rowScore);
        out.set(rowScore, i * d);
      }
      return tf.tensor(out, x.shape, 'float32');
    };
  }

  /** Mixture mean μ = Σ_k w_k m_k (length D). */
  mean(): number[] {
    const mu = new Array<number>(this.dim).fill(0);
    this.#means.forEach((m, c) => {
      const w = this.#weights[c]!;
      for (let j = 0; j < this.dim; j++) mu[j]! += w * m[j]!;
    });
    return mu;
  }

  /** Mixture covariance (law of total covariance): Σ_k w_k [C_k + (m_k − μ)(m_k − μ)ᵀ] (D×D). */
  covariance(): number[][] {
    const d = this.dim;
    const mu = this.mean();
    const cov = Array.from({ length: d }, () => new Array<number>(d).fill(0));
    this.#covs.forEach((c, k) => {
      const w = this.#weights[k]!;
      const m = this.#means[k]!;
      for (let a = 0; a < d; a++) {
        for (let b = 0; b < d; b++) {
          cov[a]![b]! += w * (c[a]![b]! + (m[a]! - mu[a]!) * (m[b]! - mu[b]!));
        }
      }
    });
    return cov;
  }
}
