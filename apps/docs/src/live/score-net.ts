import { SbmArgumentError } from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';
import { createLiveRng } from './rng.js';

/** Options of {@link ScoreNet}. */
export interface ScoreNetOptions {
  /** Input dimension D, default 2. */
  dim?: number;
  /** Width of the two hidden layers, default 128. */
  hidden?: number;
  /** Sinusoidal time features (even), default 16. */
  timeFeatures?: number;
  /** Seed of the weight initialization, default 0. */
  seed?: number;
}

/**
 * A tiny noise-prediction network `ε_θ(x, t)` for 2-D data: the sinusoidal embedding of `t` (DDPM's, of `999 t`)
 * concatenated with `x`, two SiLU layers of `hidden` units and a linear output of D values:
 * `x [B, D]`, `t [B]` → `ε̂ [B, D]`. Glorot-uniform weights, zero biases, plain `tf.Variable`s.
 */
export class ScoreNet {
  /** The trainable variables (weights and biases of the three layers). */
  readonly variables: tf.Variable[];
  readonly dim: number;
  readonly #frequencies: tf.Tensor2D;
  readonly #layers: { w: tf.Variable; b: tf.Variable }[];

  constructor(options: ScoreNetOptions = {}) {
    const dim = options.dim ?? 2;
    const hidden = options.hidden ?? 128;
    const features = options.timeFeatures ?? 16;
    for (const [name, value] of [
      ['options.dim', dim],
      ['options.hidden', hidden],
      ['options.timeFeatures', features],
    ] as const) {
      if (!(Number.isInteger(value) && value >= 1)) {
        throw new SbmArgumentError(name, `expected an integer >= 1, got ${value}`);
      }
    }
    if (features % 2 !== 0)
      throw new SbmArgumentError('options.timeFeatures', `expected an even number, got ${features}`);
    const rng = createLiveRng(options.seed ?? 0);
    const half = features / 2;
    const freqs = Array.from(
      { length: half },
      (_, j) => 999 * Math.exp((-Math.log(10000) * j) / Math.max(half - 1, 1)),
    );
    this.dim = dim;
    this.#frequencies = tf.tensor2d(freqs, [1, half]);
    const sizes = [dim + features, hidden, hidden, dim];
    this.#layers = sizes.slice(1).map((out, i) => {
      const fanIn = sizes[i]!;
      const limit = Math.sqrt(6 / (fanIn + out));
      const w = Float32Array.from({ length: fanIn * out }, () => (2 * rng.uniform() - 1) * limit);
      return {
        // tidy frees the initial values; the variables keep their data.
        w: tf.tidy(() => tf.variable(tf.tensor2d(w, [fanIn, out]))),
        b: tf.tidy(() => tf.variable(tf.zeros([out]))),
      };
    });
    this.variables = this.#layers.flatMap(({ w, b }) => [w, b]);
  }

  /** `ε̂ = ε_θ(x, t)`: `x [B, D]`, `t [B]` → `[B, D]`. */
  predict(x: tf.Tensor, t: tf.Tensor): tf.Tensor {
    if (x.rank !== 2 || x.shape[1] !== this.dim) {
      throw new SbmArgumentError('x', `expected [B, ${this.dim}], got [${x.shape.join(',')}]`);
    }
    return tf.tidy(() => {
      const B = x.shape[0]!;
      const angles = tf.mul(tf.broadcastTo(tf.reshape(t, [-1, 1]), [B, 1]), this.#frequencies); // [B, F/2]
      let h: tf.Tensor = tf.concat([x, tf.sin(angles), tf.cos(angles)], 1);
      this.#layers.forEach(({ w, b }, i) => {
        h = tf.add(tf.matMul(h, w), b);
        if (i < this.#layers.length - 1) h = tf.mul(h, tf.sigmoid(h));
      });
      return h;
    });
  }

  /** Frees the variables. */
  dispose(): void {
    tf.dispose([this.#frequencies, ...this.variables]);
  }
}
