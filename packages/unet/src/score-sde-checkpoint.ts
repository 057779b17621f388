import { TorchCheckpoint, TorchTensorRef } from '@sbm/pth';
import { SbmArgumentError } from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';
import { referenceSigmas, type UNetConfig } from './config.js';
import { createUNet, type UNet } from './unet.js';

/** Which weights of a score_sde checkpoint to use: the trained parameters or their exponential moving average. */
export type WeightSource = 'model' | 'ema';

/** Options of {@link loadScoreSdeCheckpoint}. */
export interface ScoreSdeImportOptions {
  /** `'model'` (`state['model']`) or `'ema'` (`state['ema'].shadow_params`, what score_sde samples with). */
  weights: WeightSource;
}

/** Buffers of the reference networks (in the state dict, but not parameters and not in the EMA). */
const BUFFERS = new Set(['sigmas']);

function asMap(value: unknown, what: string): Map<unknown, unknown> {
  if (!(value instanceof Map)) throw new SbmArgumentError('checkpoint', `expected ${what} to be a dict`);
  return value;
}

/** The `model` state dict of a score_sde checkpoint as ordered [key, tensor] pairs, `module.` prefixes removed. */
function modelStateDict(root: unknown): [string, TorchTensorRef][] {
  const top = asMap(root, 'the checkpoint');
  const stateValue = top.has('model') ? top.get('model') : root;
  const entries = [...asMap(stateValue, "state['model']").entries()];
  const out: [string, TorchTensorRef][] = [];
  const prefixed = entries.length > 0 && entries.every(([k]) => String(k).startsWith('module.'));
  for (const [k, v] of entries) {
    const key = prefixed ? String(k).slice('module.'.length) : String(k);
    if (!(v instanceof TorchTensorRef))
      throw new SbmArgumentError('checkpoint', `state['model']['${String(k)}'] is not a tensor`);
    out.push([key, v]);
  }
  return out;
}

function shadowParams(root: unknown): TorchTensorRef[] {
  const top = asMap(root, 'the checkpoint');
  if (!top.has('ema'))
    throw new SbmArgumentError('options.weights', "'ema' requested but the checkpoint has no 'ema' entry");
  const ema = asMap(top.get('ema'), "state['ema']");
  const list = ema.get('shadow_params');
  if (!Array.isArray(list) || !list.every((t) => t instanceof TorchTensorRef)) {
    throw new SbmArgumentError('checkpoint', "state['ema']['shadow_params'] is not a list of tensors");
  }
  return list as TorchTensorRef[];
}

/** The tfjs layout of a PyTorch tensor: conv OIHW → HWIO, `nn.Linear` [out, in] → [in, out], others unchanged. */
function tfjsLayout(key: string, shape: readonly number[]): { shape: number[]; perm: number[] | null } {
  if (shape.length === 4) return { shape: [shape[2]!, shape[3]!, shape[1]!, shape[0]!], perm: [2, 3, 1, 0] };
  if (shape.length === 2 && key.endsWith('.weight')) return { shape: [shape[1]!, shape[0]!], perm: [1, 0] };
  return { shape: [...shape], perm: null };
}

const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((v, i) => v === b[i]);

/**
 * Loads the weights of a score_sde_pytorch checkpoint (`checkpoint.pth` / `checkpoint_<n>.pth` of the trainer:
 * `{'model', 'ema', 'optimizer', 'step'}`, or a bare state dict) into a network built from the same config.
 * Keys may carry DataParallel's `module.` prefix. With `weights: 'ema'`, `ema.shadow_params` is matched to the
 * trainable parameters in `model.parameters()` order (score_sde's EMA skips `requires_grad=False` parameters,
 * i.e. the Fourier frequencies, which come from the model state). Layouts are converted (OIHW → HWIO, Linear
 * transposed) and the `sigmas` buffer is checked against `config.sigmaMin/sigmaMax/numScales`.
 *
 * @param bytes - the `.pth` file.
 * @throws SbmArgumentError naming every checkpoint tensor left unmatched, every network weight missing, and any
 *   tensor of the wrong shape.
 */
export function loadScoreSdeCheckpoint(net: UNet, bytes: Uint8Array, options: ScoreSdeImportOptions): void {
  if (options.weights !== 'model' && options.weights !== 'ema') {
    throw new SbmArgumentError(
      'options.weights',
      `expected 'model' or 'ema', got ${String(options.weights)}`,
    );
  }
  const ckpt = TorchCheckpoint.parse(bytes);
  const state = modelStateDict(ckpt.root);
  const variables = new Map(net.model.weights.map((w) => [w.originalName.replace('/', '.'), w]));

  const unmatched = state.filter(([k]) => !variables.has(k) && !BUFFERS.has(k)).map(([k]) => k);
  const stateKeys = new Set(state.map(([k]) => k));
  const missing = [...variables.keys()].filter((k) => !stateKeys.has(k));
  if (unmatched.length > 0 || missing.length > 0) {
    const parts = [];
    if (unmatched.length > 0)
      parts.push(`checkpoint tensors with no network weight: ${unmatched.join(', ')}`);
    if (missing.length > 0) parts.push(`network weights missing from the checkpoint: ${missing.join(', ')}`);
    throw new SbmArgumentError(
      'checkpoint',
      `does not match the network (${net.config.architecture}); ${parts.join('; ')}`,
    );
  }

  // Which tensor supplies each weight.
  const source = new Map<string, TorchTensorRef>(state);
  if (options.weights === 'ema') {
    const params = state.filter(([k]) => !BUFFERS.has(k));
    const trainable = params.filter(([k]) => variables.get(k)!.trainable);
    const shadow = shadowParams(ckpt.root);
    if (shadow.length !== trainable.length) {
      throw new SbmArgumentError(
        'checkpoint',
        `ema.shadow_params has ${shadow.length} tensors but the network has ${trainable.length} trainable parameters`,
      );
    }
    trainable.forEach(([key, ref], i) => {
      const s = shadow[i]!;
      if (!sameShape(s.shape, ref.shape)) {
        throw new SbmArgumentError(
          'checkpoint',
          `ema.shadow_params[${i}] (for ${key}) has shape [${s.shape.join(',')}], expected [${ref.shape.join(',')}]`,
        );
      }
      source.set(key, s);
    });
  }

  const keys = [...source.keys()];
  const refs = keys.map((k) => source.get(k)!);
  for (const [key, ref] of keys.map((k, i) => [k, refs[i]!] as const)) {
    if (BUFFERS.has(key)) continue;
    const target = variables.get(key)!;
    const layout = tfjsLayout(key, ref.shape);
    if (!sameShape(layout.shape, target.shape as number[])) {
      throw new SbmArgumentError(
        'checkpoint',
        `${key} has shape [${ref.shape.join(',')}] (tfjs [${layout.shape.join(',')}]), the network expects [${target.shape.join(',')}]`,
      );
    }
  }
  const data = ckpt.read(refs);
  keys.forEach((key, i) => {
    const ref = refs[i]!;
    if (key === 'sigmas') {
      checkSigmas(net.config, data[i]!);
      return;
    }
    const layout = tfjsLayout(key, ref.shape);
    const value = tf.tidy(() => {
      const t = tf.tensor(data[i]!, ref.shape, 'float32');
      return layout.perm === null ? t : tf.transpose(t, layout.perm);
    });
    variables.get(key)!.write(value);
    value.dispose();
  });
}

function checkSigmas(config: UNetConfig, values: Float32Array): void {
  const expected = referenceSigmas(config);
  const ok =
    values.length === expected.length && expected.every((s, i) => Math.abs(values[i]! - s) <= 1e-5 * s);
  if (!ok) {
    throw new SbmArgumentError(
      'checkpoint',
      `the sigmas buffer (${values.length} values, ${values[0]} … ${values[values.length - 1]}) does not match the ` +
        `config's σ table (numScales ${config.numScales}, sigmaMax ${config.sigmaMax} … sigmaMin ${config.sigmaMin})`,
    );
  }
}

/**
 * Builds the network of `config` and loads a score_sde checkpoint into it (see {@link loadScoreSdeCheckpoint}).
 *
 * @example
 * ```ts
 * const net = importScoreSdeCheckpoint(readFileSync('checkpoint_26.pth'),
 *   unetPreset('vp/cifar10_ddpmpp_continuous'), { weights: 'ema' });
 * ```
 */
export function importScoreSdeCheckpoint(
  bytes: Uint8Array,
  config: UNetConfig,
  options: ScoreSdeImportOptions,
): UNet {
  const net = createUNet(config);
  try {
    loadScoreSdeCheckpoint(net, bytes, options);
  } catch (error) {
    net.dispose();
    throw error;
  }
  return net;
}
