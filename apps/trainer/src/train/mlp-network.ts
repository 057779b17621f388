import { SbmArgumentError } from '@sbm/sde';
import { ClassEmbedding, PositionalEmbedding, type PredictOptions, registerUNetLayers } from '@sbm/unet';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { NetworkFn } from './loss-for-config.js';

/** The architecture of an {@link MlpNetwork} (the trainer's `model.kind: 'mlp'` plus the data's dimension). */
export interface MlpConfig {
  /** Data dimension D: `x [B, D]` in, `[B, D]` out (2 for the toy mixtures). */
  dim: number;
  /** Width of every hidden layer (`model.hidden`). */
  hidden: number;
  /** Number of hidden layers L ≥ 1 (`model.layers`). */
  layers: number;
  /** Size E of the sinusoidal time embedding (`model.timeEmbeddingDim`), even and ≥ 4. */
  timeEmbeddingDim: number;
  /** Classes of a class-conditional network (label `numClasses` is the null class), 0 if unconditional. */
  numClasses: number;
}

const METADATA_KEY = 'sbmMlpConfig';

/**
 * Checks an {@link MlpConfig}.
 *
 * @throws SbmArgumentError naming `config.<field>` and what was expected.
 */
export function validateMlpConfig(config: MlpConfig): void {
  if (config === null || typeof config !== 'object') {
    throw new SbmArgumentError(
      'config',
      'expected an MLP config { dim, hidden, layers, timeEmbeddingDim, numClasses }',
    );
  }
  for (const field of ['dim', 'hidden', 'layers'] as const) {
    const v = config[field];
    if (!Number.isInteger(v) || v < 1) {
      throw new SbmArgumentError(`config.${field}`, `expected a positive integer, got ${String(v)}`);
    }
  }
  const e = config.timeEmbeddingDim;
  // positionalEmbedding's frequencies are exp(−i·ln(10000)/(E/2 − 1)): E/2 − 1 must be positive.
  if (!Number.isInteger(e) || e < 4 || e % 2 !== 0) {
    throw new SbmArgumentError('config.timeEmbeddingDim', `expected an even integer >= 4, got ${String(e)}`);
  }
  if (!Number.isInteger(config.numClasses) || config.numClasses < 0) {
    throw new SbmArgumentError(
      'config.numClasses',
      `expected an integer >= 0, got ${String(config.numClasses)}`,
    );
  }
}

/**
 * An ε- (or score-, x̂₀-, v-) network for low-dimensional data: a multilayer perceptron with inputs
 * `[x [B, D], t [B]]` (+ `labels [B]` if `config.numClasses > 0`) and output `[B, D]`, as a tfjs-layers model
 * that saves and loads like `@sbm/unet`'s `UNet` (`tf.loadLayersModel` after `registerUNetLayers()`).
 *
 * With e(t) the sinusoidal embedding of `t` (`PositionalEmbedding`, E = `timeEmbeddingDim`; `t` is the raw
 * conditioning input, e.g. 999·t for continuous VP training) and swish(u) = u·sigmoid(u):
 *
 *   τ = swish(W_τ e(t) + b_τ)  (+ E_c[label] for class-conditional networks)
 *   h₀ = x,  h_l = swish(W_l h_{l−1} + b_l + U_l τ + c_l)  for l = 1 … L,
 *   out = W_o h_L + b_o,
 *
 * so the time embedding enters every hidden layer through its own projection U_l. Weights use tfjs' default
 * initializers (Glorot-uniform kernels, zero biases), drawn from `Math.random` (see `withSeededRandom`).
 * Layer names are fixed (`hidden_1/kernel`, …), so weight names are stable across processes.
 */
export class MlpNetwork {
  /** The underlying tfjs-layers model (trainable with any tfjs optimizer): `[x [B, D], t [B]] → [B, D]`. */
  readonly model: tfl.LayersModel;
  /** The architecture (stored in the saved model's metadata). */
  readonly config: MlpConfig;

  constructor(model: tfl.LayersModel, config: MlpConfig) {
    this.model = model;
    this.config = config;
  }

  /**
   * Evaluates the network, after checking every input.
   *
   * @param x - `[B, D]` points, D = `config.dim`.
   * @param t - `[B]` time conditioning (e.g. 999·t for continuous VP training).
   * @param options - `labels [B]` (class-conditional networks only); `training` has no effect (no dropout).
   * @returns `[B, D]`.
   * @throws SbmArgumentError naming `x`, `t` or `options.labels`.
   */
  predict(x: tf.Tensor2D, t: tf.Tensor1D, options: PredictOptions = {}): tf.Tensor2D {
    this.checkInputs(x, t, options.labels);
    const inputs = options.labels === undefined ? [x, t] : [x, t, options.labels];
    return this.model.apply(inputs, { training: options.training ?? false }) as tf.Tensor2D;
  }

  /** Throws {@link SbmArgumentError} unless `x [B, D]`, `t [B]` and `labels [B]` fit this network. */
  checkInputs(x: tf.Tensor, t: tf.Tensor, labels?: tf.Tensor): void {
    const { dim, numClasses } = this.config;
    if (!(x instanceof tf.Tensor) || x.rank !== 2 || x.shape[1] !== dim) {
      throw new SbmArgumentError(
        'x',
        `expected a tensor of shape [B, ${dim}], got ${x instanceof tf.Tensor ? `shape [${x.shape.join(',')}]` : typeof x}`,
      );
    }
    const b = x.shape[0]!;
    if (!(t instanceof tf.Tensor) || t.rank !== 1 || t.shape[0] !== b) {
      throw new SbmArgumentError(
        't',
        `expected a tensor of shape [${b}] (one time per row of x), got ${t instanceof tf.Tensor ? `shape [${t.shape.join(',')}]` : typeof t}`,
      );
    }
    if (numClasses === 0) {
      if (labels !== undefined) {
        throw new SbmArgumentError(
          'options.labels',
          'this model is not class-conditional (numClasses = 0); omit labels',
        );
      }
      return;
    }
    if (!(labels instanceof tf.Tensor) || labels.rank !== 1 || labels.shape[0] !== b) {
      throw new SbmArgumentError(
        'options.labels',
        `expected an int32 tensor of shape [${b}] with values in {0, …, ${numClasses}} (${numClasses} = null class)`,
      );
    }
    for (const v of labels.dataSync()) {
      if (!Number.isInteger(v) || v < 0 || v > numClasses) {
        throw new SbmArgumentError('options.labels', `expected values in {0, …, ${numClasses}}, got ${v}`);
      }
    }
  }

  /** Number of scalar parameters. */
  countParams(): number {
    return this.model.countParams();
  }

  /** Releases the weights. */
  dispose(): void {
    this.model.dispose();
  }

  /**
   * Saves the model through a tfjs IO handler (e.g. `fileSystemIO` of `@sbm/unet/node`), with the
   * {@link MlpConfig} in the model's user-defined metadata so that {@link loadMlpNetwork} restores the wrapper.
   */
  async save(handler: tf.io.IOHandler): Promise<tf.io.SaveResult> {
    this.model.setUserDefinedMetadata({ [METADATA_KEY]: this.config as unknown as Record<string, unknown> });
    return this.model.save(handler);
  }
}

/**
 * Builds an {@link MlpNetwork} with freshly initialized weights (from `Math.random`: wrap the call in
 * `withSeededRandom` for weights that are a function of a seed).
 *
 * @example
 * ```ts
 * const net = withSeededRandom(seed, 0, () => createMlpNetwork({ dim: 2, hidden: 128, layers: 3, timeEmbeddingDim: 32, numClasses: 0 }));
 * const eps = net.predict(x, tf.mul(t, 999)); // x [B, 2], t [B] → [B, 2]
 * ```
 * @throws SbmArgumentError naming the invalid `config.<field>`.
 */
export function createMlpNetwork(config: MlpConfig): MlpNetwork {
  validateMlpConfig(config);
  registerUNetLayers();
  const { dim, hidden, layers, timeEmbeddingDim, numClasses } = config;
  const x = tfl.input({ shape: [dim], name: 'x' });
  const t = tfl.input({ shape: [], name: 't' });
  const labels = numClasses > 0 ? tfl.input({ shape: [], name: 'labels', dtype: 'int32' }) : null;
  const apply = (layer: tfl.layers.Layer, input: tfl.SymbolicTensor | tfl.SymbolicTensor[]) =>
    layer.apply(input) as tfl.SymbolicTensor;
  const embedding = apply(new PositionalEmbedding({ dim: timeEmbeddingDim, name: 'time_embedding' }), t);
  let tau = apply(tfl.layers.dense({ units: hidden, activation: 'swish', name: 'time_dense' }), embedding);
  if (labels !== null) {
    tau = apply(new ClassEmbedding({ numClasses, dim: hidden, name: 'class_embedding' }), [tau, labels]);
  }
  let h = x;
  for (let l = 1; l <= layers; l++) {
    const a = apply(tfl.layers.dense({ units: hidden, name: `hidden_${l}` }), h);
    const b = apply(tfl.layers.dense({ units: hidden, name: `time_proj_${l}` }), tau);
    const sum = apply(tfl.layers.add({ name: `add_${l}` }), [a, b]);
    h = apply(tfl.layers.activation({ activation: 'swish', name: `swish_${l}` }), sum);
  }
  const output = apply(tfl.layers.dense({ units: dim, name: 'output' }), h);
  const model = tfl.model({
    inputs: labels === null ? [x, t] : [x, t, labels],
    outputs: output,
    name: 'mlp',
  });
  return new MlpNetwork(model, { ...config });
}

/**
 * Loads a network saved by {@link MlpNetwork.save} (any tfjs IO handler).
 *
 * @throws SbmArgumentError naming `handler` if the saved model has no MLP config in its metadata.
 */
export async function loadMlpNetwork(handler: tf.io.IOHandler): Promise<MlpNetwork> {
  registerUNetLayers();
  const model = await tfl.loadLayersModel(handler);
  const meta = model.getUserDefinedMetadata() as Record<string, unknown> | undefined;
  const config = meta?.[METADATA_KEY] as MlpConfig | undefined;
  if (config === undefined) {
    model.dispose();
    throw new SbmArgumentError(
      'handler',
      `the saved model has no ${METADATA_KEY} metadata; was it saved by MlpNetwork.save?`,
    );
  }
  validateMlpConfig(config);
  return new MlpNetwork(model, config);
}

/**
 * The {@link NetworkFn} of an MLP for `lossForConfig(...).wrap`: `(x [B, D], conditioning [B], labels?) →
 * net.predict(x, conditioning, { labels })`, output `[B, D]`.
 */
export function mlpNetwork(net: MlpNetwork): NetworkFn {
  return (x, conditioning, labels) =>
    net.predict(
      x as tf.Tensor2D,
      conditioning,
      labels === undefined ? { training: true } : { training: true, labels },
    );
}
