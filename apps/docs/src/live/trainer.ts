import { denoisingScoreMatchingLoss, type LossFn } from '@sbm/losses';
import { SbmArgumentError, type SDE } from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';
import { type IsotropicMixture, mixtureDim, sampleMixture } from './mixture.js';
import { createLiveRng, type LiveRng } from './rng.js';
import type { ScoreNet } from './score-net.js';

/** Options of {@link ScoreTrainer}. */
export interface ScoreTrainerOptions {
  /** The forward SDE the network learns to reverse. */
  sde: SDE;
  /** The data distribution (fresh draws every step). */
  mixture: IsotropicMixture;
  /** The noise-prediction network to train. */
  net: ScoreNet;
  /** Batch size, default 256. */
  batchSize?: number;
  /** Adam's learning rate, default 2e-3. */
  learningRate?: number;
  /** Smallest training time, default 1e-3 (the samplers' last time on VP). */
  tMin?: number;
  /** Seed of the data draws and of the loss's times and noise, default 0. */
  seed?: number;
  /**
   * Steps of the cosine learning-rate decay `η_k = η (1 + cos(π k/K))/2` (to 0 at step K); default none (constant
   * rate).
   */
  decaySteps?: number;
}

/**
 * Trains a {@link ScoreNet} on draws of a mixture with continuous-time denoising score matching
 * (`denoisingScoreMatchingLoss` of `@sbm/losses`, Song et al. 2021, Eq. 7, σ² weighting: for an ε-predicting network
 * the loss is `E_t E_ε ‖ε_θ(α x_0 + σ ε, t) − ε‖²`, averaged over the D coordinates) and Adam. Gradients must be
 * registered (`@tensorflow/tfjs-layers`, or tfjs-core's `register_all_gradients`).
 */
export class ScoreTrainer {
  readonly net: ScoreNet;
  readonly batchSize: number;
  /** Steps taken so far. */
  steps = 0;
  readonly #loss: LossFn;
  readonly #mixture: IsotropicMixture;
  readonly #optimizer: tf.AdamOptimizer;
  readonly #rng: LiveRng;
  readonly #seed: number;
  readonly #dim: number;
  readonly #learningRate: number;
  readonly #decaySteps: number | undefined;

  constructor(options: ScoreTrainerOptions) {
    const batchSize = options.batchSize ?? 256;
    if (!(Number.isInteger(batchSize) && batchSize >= 1)) {
      throw new SbmArgumentError('options.batchSize', `expected an integer >= 1, got ${batchSize}`);
    }
    const learningRate = options.learningRate ?? 2e-3;
    if (!(learningRate > 0 && Number.isFinite(learningRate))) {
      throw new SbmArgumentError('options.learningRate', `expected a positive number, got ${learningRate}`);
    }
    this.#dim = mixtureDim(options.mixture);
    if (options.net.dim !== this.#dim) {
      throw new SbmArgumentError(
        'options.net',
        `expected a network of dimension ${this.#dim}, got ${options.net.dim}`,
      );
    }
    this.net = options.net;
    this.batchSize = batchSize;
    this.#mixture = options.mixture;
    this.#seed = options.seed ?? 0;
    this.#rng = createLiveRng(this.#seed);
    this.#loss = denoisingScoreMatchingLoss({
      sde: options.sde,
      weighting: 'sigma2',
      tMin: options.tMin ?? 1e-3,
    });
    this.#optimizer = tf.train.adam(learningRate);
    this.#learningRate = learningRate;
    const decaySteps = options.decaySteps;
    if (decaySteps !== undefined && !(Number.isInteger(decaySteps) && decaySteps >= 1)) {
      throw new SbmArgumentError('options.decaySteps', `expected an integer >= 1, got ${decaySteps}`);
    }
    this.#decaySteps = decaySteps;
  }

  /** One Adam step on a fresh batch; returns the batch's loss (before the update). */
  step(): number {
    const x0 = tf.tensor2d(sampleMixture(this.#mixture, this.batchSize, this.#rng), [
      this.batchSize,
      this.#dim,
    ]);
    const seed = (this.#seed * 1_000_003 + this.steps) >>> 0;
    const model = {
      predict: (x: tf.Tensor, t: tf.Tensor1D) => this.net.predict(x, t),
      parameterization: 'eps',
    } as const;
    if (this.#decaySteps !== undefined) {
      const progress = Math.min(this.steps / this.#decaySteps, 1);
      // tfjs 4.22's Adam reads its (protected) rate at every update.
      (this.#optimizer as unknown as { learningRate: number }).learningRate =
        (this.#learningRate * (1 + Math.cos(Math.PI * progress))) / 2;
    }
    try {
      const loss = this.#optimizer.minimize(() => this.#loss(model, x0, seed), true, this.net.variables);
      const value = loss!.dataSync()[0]!;
      loss!.dispose();
      this.steps++;
      return value;
    } finally {
      x0.dispose();
    }
  }

  /** Frees the optimizer's moments (not the network). */
  dispose(): void {
    this.#optimizer.dispose();
  }
}
