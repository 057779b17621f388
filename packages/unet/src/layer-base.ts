import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Nonlinearity } from './config.js';

/**
 * How a weight is initialized when its layer is built, mirroring score_sde's initializers (`layers.py`
 * `default_init` / `variance_scaling`, PyTorch's GroupNorm defaults, `torch.randn` for the Fourier frequencies of
 * `layerspp.py` `GaussianFourierProjection`). One of the four variants below, told apart by `kind`.
 */
export type WeightInit =
  | {
      /** All zeros: biases and the GroupNorm shift $\beta$. */
      kind: 'zeros';
    }
  | {
      /** All ones: the GroupNorm scale $\gamma$. */
      kind: 'ones';
    }
  | {
      /**
       * score_sde's `default_init(scale)`: variance scaling with fan_avg and a uniform distribution,
       * $w \sim \mathcal{U}(-a, a)$ with $a = \sqrt{3 s / n}$, $n = (\mathrm{fan_{in}} + \mathrm{fan_{out}})/2$
       * (for a $k \times k$ convolution $\mathrm{fan_{in}} = k^2 C_{\mathrm{in}}$,
       * $\mathrm{fan_{out}} = k^2 C_{\mathrm{out}}$).
       */
      kind: 'default';
      /**
       * The variance scale $s \ge 0$ (1 for most weights, `model.init_scale` for the last layer of a block); 0 is
       * replaced by 1e−10 as in the reference.
       */
      scale: number;
    }
  | {
      /**
       * Gaussian, `torch.randn(shape) * std`: $w \sim \mathcal{N}(0, \mathrm{std}^2)$ (Fourier frequencies, class
       * embeddings).
       */
      kind: 'normal';
      /**
       * Standard deviation of the Gaussian (`model.fourier_scale` for Fourier frequencies, 1 for class embeddings).
       */
      std: number;
    };

/**
 * One weight of a layer, as declared by {@link SbmLayer.weightSpecs} before the layer is built (so that parameters
 * can be counted without allocating them).
 */
export interface WeightSpec {
  /**
   * PyTorch parameter name relative to the reference module, e.g. `Conv_0.weight`, `NIN_1.W`, `GroupNorm_0.bias`;
   * `<layer name>.<name>` (e.g. `all_modules.7.Conv_0.weight`) is the key in a score_sde state dict, and
   * `<layer name>/<name>` the tfjs variable name.
   */
  name: string;
  /**
   * Shape in the tfjs layout: `[k, k, Cin, Cout]` (HWIO; PyTorch stores OIHW) for convolutions, `[in, out]`
   * (PyTorch `nn.Linear` stores `[out, in]`) for dense and NIN maps, `[C]` for biases and GroupNorm parameters.
   */
  shape: number[];
  /** How the weight is initialized when the layer is built. */
  init: WeightInit;
  /** False for weights that are not trained (`requires_grad=False`, e.g. Fourier frequencies). */
  trainable?: boolean;
}

/** The constructor arguments common to every sbm layer (passed on to tfjs's `Layer`). */
export interface SbmLayerArgs {
  /**
   * Layer name, the prefix of its weights' names. {@link createUNet} names each reference module
   * `all_modules.<i>` like score_sde's `nn.ModuleList`, so that weight names are state-dict keys. Default: derived
   * from the class name and a counter, e.g. `sbm_group_norm_3`.
   */
  name?: string;
  /**
   * Whether the layer's weights are updated in training (tfjs `Layer.trainable`). Default true; weights whose
   * {@link WeightSpec.trainable} is false (the Fourier frequencies) stay frozen either way.
   */
  trainable?: boolean;
}

function initializer(init: WeightInit) {
  switch (init.kind) {
    case 'zeros':
      return tfl.initializers.zeros();
    case 'ones':
      return tfl.initializers.ones();
    case 'default':
      return tfl.initializers.varianceScaling({
        scale: init.scale === 0 ? 1e-10 : init.scale,
        mode: 'fanAvg',
        distribution: 'uniform',
      });
    case 'normal':
      return tfl.initializers.randomNormal({ mean: 0, stddev: init.std });
  }
}

/**
 * Base class of the sbm layers: each declares its weights once ({@link SbmLayer.weightSpecs}, known before
 * building, so parameters can be counted without allocating them) and reads them by name.
 */
export abstract class SbmLayer extends tfl.layers.Layer {
  private readonly vars = new Map<string, tfl.LayerVariable>();

  /**
   * Creates the layer from `args` (`name`, `trainable`; see {@link SbmLayerArgs}); weights are made when tfjs
   * builds it.
   */
  constructor(args: SbmLayerArgs = {}) {
    // tfjs derives default names from the class name, which holds the `sbm>` namespace (not a valid name).
    super({
      ...args,
      name: args.name ?? defaultLayerName((new.target as unknown as { className: string }).className),
    });
  }

  /** The layer's weights in PyTorch registration order (empty for parameter-free layers). */
  abstract weightSpecs(): WeightSpec[];

  override build(_inputShape: tfl.Shape | tfl.Shape[]): void {
    for (const spec of this.weightSpecs()) {
      const v = this.addWeight(
        spec.name,
        spec.shape,
        'float32',
        initializer(spec.init),
        undefined,
        spec.trainable ?? true,
      );
      this.vars.set(spec.name, v);
    }
    this.built = true;
  }

  /** The current value of weight `name`. */
  protected weight(name: string): tf.Tensor {
    const v = this.vars.get(name);
    if (v === undefined) throw new Error(`${this.name}: weight ${name} does not exist`);
    return v.read();
  }
}

const nameCounts = new Map<string, number>();

function defaultLayerName(className: string): string {
  const base = className
    .replace(/^sbm>/, 'sbm_')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase();
  const n = (nameCounts.get(base) ?? 0) + 1;
  nameCounts.set(base, n);
  return `${base}_${n}`;
}

/** Number of scalars in the given weights. */
export function countWeights(specs: readonly WeightSpec[]): number {
  return specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
}

/** Conv weight spec in HWIO with score_sde's `default_init(initScale)` and a zero bias (`ddpm_conv3x3/1x1`). */
export function convSpecs(
  prefix: string,
  kernel: number,
  inCh: number,
  outCh: number,
  initScale = 1,
): WeightSpec[] {
  return [
    {
      name: `${prefix}weight`,
      shape: [kernel, kernel, inCh, outCh],
      init: { kind: 'default', scale: initScale },
    },
    { name: `${prefix}bias`, shape: [outCh], init: { kind: 'zeros' } },
  ];
}

/** GroupNorm affine weights (PyTorch init: γ = 1, β = 0). */
export function groupNormSpecs(prefix: string, channels: number): WeightSpec[] {
  return [
    { name: `${prefix}weight`, shape: [channels], init: { kind: 'ones' } },
    { name: `${prefix}bias`, shape: [channels], init: { kind: 'zeros' } },
  ];
}

/** `nn.Linear` with `default_init()` weight (stored [in, out]) and zero bias. */
export function denseSpecs(prefix: string, inDim: number, outDim: number): WeightSpec[] {
  return [
    { name: `${prefix}weight`, shape: [inDim, outDim], init: { kind: 'default', scale: 1 } },
    { name: `${prefix}bias`, shape: [outDim], init: { kind: 'zeros' } },
  ];
}

/** score_sde's `NIN` (a 1×1 projection on the channel axis): W [in, out] with `default_init(initScale)`, b = 0. */
export function ninSpecs(prefix: string, inDim: number, outDim: number, initScale = 0.1): WeightSpec[] {
  return [
    { name: `${prefix}W`, shape: [inDim, outDim], init: { kind: 'default', scale: initScale } },
    { name: `${prefix}b`, shape: [outDim], init: { kind: 'zeros' } },
  ];
}

/** Number of GroupNorm groups: 32 in DDPM, min(C/4, 32) in NCSN++/DDPM++ (`layerspp`). */
export function groupCount(channels: number, style: 'ddpm' | 'ncsnpp'): number {
  return style === 'ddpm' ? 32 : Math.min(Math.floor(channels / 4), 32);
}

/** The network nonlinearity: swish x·σ(x), ReLU, ELU, or leaky ReLU with slope 0.2. */
export function activate(x: tf.Tensor, nonlinearity: Nonlinearity): tf.Tensor {
  switch (nonlinearity) {
    case 'swish':
      return tf.mul(x, tf.sigmoid(x));
    case 'relu':
      return tf.relu(x);
    case 'elu':
      return tf.elu(x);
    case 'lrelu':
      return tf.leakyRelu(x, 0.2);
  }
}
