import { SbmArgumentError } from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { numLevels, type UNetConfig, validateUNetConfig } from './config.js';
import { countWeights } from './layer-base.js';
import { registerUNetLayers } from './register-layers.js';
import { sbmLayers, wireUNet } from './unet-graph.js';

/** Options of {@link UNet.predict}. */
export interface PredictOptions {
  /**
   * Class labels `[B]` (int32) in $\lbrace 0, \dots, K \rbrace$, K = `config.numClasses` being the null class; only
   * for class-conditional models.
   */
  labels?: tf.Tensor1D;
  /** Training mode (dropout on). Default false. */
  training?: boolean;
}

const METADATA_KEY = 'sbmUNetConfig';

/**
 * A score network of the score_sde family (DDPM, DDPM++, NCSN++) as a tfjs-layers model with inputs
 * `[x [B, H, W, C], t [B]]` (+ `labels [B]` if `config.numClasses > 0`) and output `[B, H, W, C]`.
 * `t` is the raw conditioning input of the reference network: the time step (e.g. 999·t for continuous VP
 * training) for positional embeddings, σ for Fourier embeddings.
 */
export class UNet {
  /** The underlying tfjs-layers model (trainable with any tfjs optimizer). */
  readonly model: tfl.LayersModel;
  /** The hyper-parameters the network was built from (saved with the model by {@link UNet.save}). */
  readonly config: UNetConfig;

  /**
   * Wraps a tfjs-layers `model` built from `config` (its inputs and output as described above). Use
   * {@link createUNet}, {@link loadUNet} or {@link importScoreSdeCheckpoint} rather than calling this directly.
   */
  constructor(model: tfl.LayersModel, config: UNetConfig) {
    this.model = model;
    this.config = config;
  }

  /**
   * Evaluates the network, after checking every input.
   *
   * @param x - `[B, H, W, C]` with C = config.numChannels and H, W multiples of $2^{L-1}$,
   *   L = `config.chMult.length`.
   * @param t - `[B]` time steps (positional embedding) or noise levels σ > 0 (Fourier embedding).
   * @param options - class `labels` and `training` mode.
   * @returns `[B, H, W, C]`.
   * @throws SbmArgumentError naming `x`, `t` or `options.labels`.
   */
  predict(x: tf.Tensor4D, t: tf.Tensor1D, options: PredictOptions = {}): tf.Tensor4D {
    this.checkInputs(x, t, options.labels);
    const inputs = options.labels === undefined ? [x, t] : [x, t, options.labels];
    return this.model.apply(inputs, { training: options.training ?? false }) as tf.Tensor4D;
  }

  /** Throws {@link SbmArgumentError} unless `x`, `t` and `labels` fit this network. */
  checkInputs(x: tf.Tensor, t: tf.Tensor, labels?: tf.Tensor): void {
    const c = this.config;
    if (!(x instanceof tf.Tensor) || x.rank !== 4) {
      throw new SbmArgumentError(
        'x',
        `expected a rank-4 tensor [B, H, W, C], got ${x instanceof tf.Tensor ? `shape [${x.shape.join(',')}]` : typeof x}`,
      );
    }
    const [b, h, w, ch] = x.shape as [number, number, number, number];
    if (ch !== c.numChannels) {
      throw new SbmArgumentError(
        'x',
        `expected ${c.numChannels} channels (NHWC, last axis), got shape [${x.shape.join(',')}]`,
      );
    }
    const m = 2 ** (numLevels(c) - 1);
    if (h % m !== 0 || w % m !== 0 || h === 0 || w === 0) {
      throw new SbmArgumentError(
        'x',
        `expected H and W divisible by 2^(levels − 1) = ${m} for ${numLevels(c)} levels, got ${h}×${w}`,
      );
    }
    if (!(t instanceof tf.Tensor) || t.rank !== 1 || t.shape[0] !== b) {
      throw new SbmArgumentError(
        't',
        `expected a tensor of shape [${b}] (one time per example of x), got ${t instanceof tf.Tensor ? `shape [${t.shape.join(',')}]` : typeof t}`,
      );
    }
    if (c.embeddingType === 'fourier' || c.scaleBySigma) {
      const values = t.dataSync();
      for (const v of values) {
        if (c.embeddingType === 'fourier' && !(v > 0 && Number.isFinite(v))) {
          throw new SbmArgumentError(
            't',
            `expected noise levels σ > 0 (Fourier embedding of log σ), got ${v}`,
          );
        }
        if (c.embeddingType === 'positional' && !(v >= 0 && v < c.numScales)) {
          throw new SbmArgumentError(
            't',
            `expected indices into the σ table in [0, ${c.numScales}) (scaleBySigma with positional embedding), got ${v}`,
          );
        }
      }
    }
    if (c.numClasses === 0) {
      if (labels !== undefined) {
        throw new SbmArgumentError(
          'options.labels',
          'this model is not class-conditional (numClasses = 0); omit labels',
        );
      }
    } else {
      if (!(labels instanceof tf.Tensor) || labels.rank !== 1 || labels.shape[0] !== b) {
        throw new SbmArgumentError(
          'options.labels',
          `expected an int32 tensor of shape [${b}] with values in {0, …, ${c.numClasses}} (${c.numClasses} = null class)`,
        );
      }
      const values = labels.dataSync();
      for (const v of values) {
        if (!Number.isInteger(v) || v < 0 || v > c.numClasses) {
          throw new SbmArgumentError(
            'options.labels',
            `expected values in {0, …, ${c.numClasses}}, got ${v}`,
          );
        }
      }
    }
  }

  /** Number of scalar parameters (trainable and not). */
  countParams(): number {
    return this.model.countParams();
  }

  /** Releases the weights. */
  dispose(): void {
    this.model.dispose();
  }

  /**
   * Saves the model through a tfjs IO handler (e.g. {@link @sbm/unet/node!fileSystemIO}); the {@link UNetConfig} is
   * stored in the model's user-defined metadata so that {@link loadUNet} restores the wrapper.
   */
  async save(handler: tf.io.IOHandler): Promise<tf.io.SaveResult> {
    this.model.setUserDefinedMetadata({ [METADATA_KEY]: this.config as unknown as Record<string, unknown> });
    return this.model.save(handler);
  }
}

/**
 * Builds a score network with freshly initialized weights (score_sde's initializers: `default_init` variance
 * scaling, zero biases, unit GroupNorm scales, $\mathcal{N}(0, s^2)$ Fourier frequencies with s = `fourierScale`).
 *
 * @example
 * ```ts
 * const net = createUNet(unetPreset('vp/cifar10_ddpmpp_continuous'));
 * const score = net.predict(x, tf.mul(t, 999));
 * ```
 */
export function createUNet(config: UNetConfig): UNet {
  validateUNetConfig(config);
  registerUNetLayers();
  const x = tfl.input({ shape: [null, null, config.numChannels], name: 'x' });
  const t = tfl.input({ shape: [], name: 't' });
  const labels = config.numClasses > 0 ? tfl.input({ shape: [], name: 'labels', dtype: 'int32' }) : null;
  const { output } = wireUNet(config, { x, t, labels }, (layer, args) => {
    return layer.apply(args.length === 1 ? args[0]! : args) as tfl.SymbolicTensor;
  });
  const model = tfl.model({
    inputs: labels === null ? [x, t] : [x, t, labels],
    outputs: output,
    name: 'unet',
  });
  return new UNet(model, { ...config });
}

/**
 * Number of parameters of the network of `config`, counted from the layers' weight shapes without building
 * (allocating) the model; equals `createUNet(config).countParams()`.
 */
export function countUNetParameters(config: UNetConfig): number {
  validateUNetConfig(config);
  const inputs = { x: 'x', t: 't', labels: config.numClasses > 0 ? 'labels' : null };
  const { layers } = wireUNet<string>(config, inputs, (layer) => layer.name);
  return sbmLayers(layers).reduce((n, layer) => n + countWeights(layer.weightSpecs()), 0);
}

/** Loads a network saved by {@link UNet.save} (any tfjs IO handler, e.g. {@link @sbm/unet/node!fileSystemIO}). */
export async function loadUNet(handler: tf.io.IOHandler): Promise<UNet> {
  registerUNetLayers();
  const model = await tfl.loadLayersModel(handler);
  const meta = model.getUserDefinedMetadata() as Record<string, unknown> | undefined;
  const config = meta?.[METADATA_KEY] as UNetConfig | undefined;
  if (config === undefined) {
    model.dispose();
    throw new SbmArgumentError(
      'handler',
      `the saved model has no ${METADATA_KEY} metadata; was it saved by UNet.save?`,
    );
  }
  validateUNetConfig(config);
  return new UNet(model, config);
}
