import { TorchCheckpoint, TorchTensorRef } from '@sbm/pth';
import { describeValue, SbmArgumentError } from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';
import {
  FID_INCEPTION_CLASSES,
  FID_INCEPTION_CONVS,
  FID_INCEPTION_FEATURES,
  FID_INCEPTION_STAGES,
  type FoldedConv,
  fidInceptionStateDictShapes,
  INCEPTION_BN_EPS,
} from './inception-blocks.js';
import { preprocessForInception } from './inception-preprocess.js';

/** Outputs of one forward pass of the FID Inception network. */
export interface FidInceptionOutputs {
  /** `[B, 2048]` pool3 features: the global average pool after Mixed_7c (what FID and KID compare). */
  pool3: tf.Tensor2D;
  /** `[B, 1008]` classifier logits `pool3 · Wᵀ + b` (softmax gives the class probabilities of the Inception Score). */
  logits: tf.Tensor2D;
}

/** Options of {@link loadFidInception}. */
export interface LoadFidInceptionOptions {
  /** Name of the file, used in error messages (default: none). */
  name?: string;
}

const WEIGHTS_NAME = 'pt_inception-2015-12-05';
const MIN_SIDE = 75;

/**
 * The Inception-v3 network (Szegedy et al. 2016, "Rethinking the Inception Architecture for Computer Vision") as
 * used for the Fréchet Inception Distance (Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule
 * Converge to a Local Nash Equilibrium"), with the weights of the 2015-12-05 TensorFlow graph in the PyTorch port
 * of pytorch-fid (mseitzer/pytorch-fid, `fid_inception_v3()`, the reference implementation): torchvision's
 * Inception3 with 1008 classes, no auxiliary head, average pools that exclude padding in Mixed_5b..Mixed_7b and a
 * max pool in Mixed_7c's pool branch. Runs in NHWC with tfjs-core ops; each `BasicConv2d`'s BatchNorm is folded
 * into its convolution at load time: $W' = W \gamma/\sqrt{\sigma^2 + 0.001}$, $b' = \beta - \mu \gamma/\sqrt{\sigma^2 + 0.001}$ (per output
 * channel, with the BatchNorm scale $\gamma$, shift $\beta$ and running mean $\mu$ and variance $\sigma^2$).
 *
 * Create with {@link loadFidInception}; free the weights with {@link FidInception.dispose}.
 */
export class FidInception {
  /** Elements of the state dict it was loaded from (parameters and BatchNorm running statistics). */
  readonly numParams: number;
  private readonly convs: Map<string, FoldedConv>;
  private readonly fcWeight: tf.Tensor2D;
  private readonly fcBias: tf.Tensor1D;
  private disposed = false;

  /** @internal Use {@link loadFidInception}. */
  constructor(convs: Map<string, FoldedConv>, fcWeight: tf.Tensor2D, fcBias: tf.Tensor1D, numParams: number) {
    this.convs = convs;
    this.fcWeight = fcWeight;
    this.fcBias = fcBias;
    this.numParams = numParams;
  }

  /**
   * pool3 features and logits of images, with pytorch-fid's preprocessing (grey → RGB, bilinear resize to
   * 299×299 with half-pixel centres, `2x − 1`; see `preprocessForInception`).
   *
   * @param images - `[B, H, W, C]` float32 in `[0, 1]`, `C` = 1 or 3 (not disposed).
   * @returns `pool3 [B, 2048]` and `logits [B, 1008]` (the caller disposes them).
   * @throws SbmArgumentError for a wrong shape, NaN or values outside `[0, 1]`; Error after `dispose()`.
   */
  apply(images: tf.Tensor4D): FidInceptionOutputs {
    this.assertLive();
    const x = preprocessForInception(images);
    try {
      return this.forward(x);
    } finally {
      x.dispose();
    }
  }

  /**
   * pool3 features and logits of already preprocessed images (pytorch-fid with `resize_input=False,
   * normalize_input=False`); the network is fully convolutional up to pool3, so any size of at least 75×75 works.
   *
   * @param x - `[B, H, W, 3]` float32, nominally in `[-1, 1]` (not disposed).
   * @returns `pool3 [B, 2048]` and `logits [B, 1008]`.
   * @throws SbmArgumentError if `x` is not `[B, H, W, 3]` with `H, W ≥ 75`.
   */
  applyPreprocessed(x: tf.Tensor4D): FidInceptionOutputs {
    this.assertLive();
    if (!(x instanceof tf.Tensor) || x.rank !== 4 || x.shape[3] !== 3 || x.dtype !== 'float32') {
      throw new SbmArgumentError('x', `expected a float32 tf.Tensor4D [B,H,W,3], got ${describeValue(x)}`);
    }
    if (x.shape[1] < MIN_SIDE || x.shape[2] < MIN_SIDE) {
      throw new SbmArgumentError('x', `expected H, W >= ${MIN_SIDE}, got shape [${x.shape.join(',')}]`);
    }
    return this.forward(x);
  }

  /** Frees the weights. Further calls throw. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const c of this.convs.values()) tf.dispose([c.filter, c.bias]);
    tf.dispose([this.fcWeight, this.fcBias]);
  }

  private assertLive(): void {
    if (this.disposed) throw new Error('FidInception: the model has been disposed');
  }

  private forward(x: tf.Tensor4D): FidInceptionOutputs {
    const lookup = (name: string): FoldedConv => this.convs.get(name)!;
    let h = x;
    for (const stage of FID_INCEPTION_STAGES) {
      const input = h;
      h = tf.tidy(() => stage.apply(input, lookup));
      if (input !== x) input.dispose();
    }
    const last = h;
    try {
      return tf.tidy(() => {
        const pool3 = tf.mean(last, [1, 2]) as tf.Tensor2D;
        const logits = tf.add(tf.matMul(pool3, this.fcWeight, false, true), this.fcBias) as tf.Tensor2D;
        return { pool3, logits };
      });
    } finally {
      if (last !== x) last.dispose();
    }
  }
}

function describeShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

function listSome(items: string[], max = 6): string {
  return items.length <= max
    ? items.join(', ')
    : `${items.slice(0, max).join(', ')} and ${items.length - max} more`;
}

/**
 * Reads pytorch-fid's FID Inception weights (`pt_inception-2015-12-05-6726825d.pth`, a `torch.save`d state dict;
 * the released file uses torch's legacy serialization) and builds a {@link FidInception} on the active backend.
 * Every expected key must be present with its exact shape and no other key may be (BatchNorm's
 * `num_batches_tracked` is ignored), so that a different network cannot be loaded by accident.
 *
 * @param bytes - the file's contents.
 * @param options - `name`: the file name for error messages.
 * @throws SbmArgumentError naming `bytes` if it is not a torch checkpoint, or if its state dict is not the FID
 *   Inception weights (listing missing keys, wrong shapes and unexpected keys).
 *
 * @example
 * ```ts
 * const model = loadFidInception(readFileSync('pt_inception-2015-12-05-6726825d.pth'));
 * const { pool3, logits } = model.apply(images); // images [B,H,W,3] in [0, 1]
 * ```
 */
export function loadFidInception(bytes: Uint8Array, options: LoadFidInceptionOptions = {}): FidInception {
  if (!(bytes instanceof Uint8Array)) {
    throw new SbmArgumentError(
      'bytes',
      `expected the bytes of a .pth file (Uint8Array), got ${describeValue(bytes)}`,
    );
  }
  const label = options.name === undefined ? 'the state dict' : options.name;
  const checkpoint = TorchCheckpoint.parse(bytes, { name: options.name });
  const root = checkpoint.root;
  const notFid = (detail: string) =>
    new SbmArgumentError('bytes', `${label} is not the FID Inception weights (${WEIGHTS_NAME}): ${detail}`);
  if (!(root instanceof Map)) {
    throw notFid(
      `expected a state dict (an OrderedDict of tensors) at the top level, got ${describeValue(root)}`,
    );
  }
  const expected = fidInceptionStateDictShapes();
  const missing: string[] = [];
  const misShaped: string[] = [];
  const refs = new Map<string, TorchTensorRef>();
  for (const [key, shape] of expected) {
    const ref = root.get(key) as unknown;
    if (ref === undefined) {
      missing.push(key);
    } else if (!(ref instanceof TorchTensorRef)) {
      misShaped.push(`${key} is not a tensor`);
    } else if (describeShape(ref.shape) !== describeShape(shape)) {
      misShaped.push(`${key} has shape ${describeShape(ref.shape)}, expected ${describeShape(shape)}`);
    } else {
      refs.set(key, ref);
    }
  }
  const unexpected = [...root.keys()]
    .map(String)
    .filter((k) => !expected.has(k) && !k.endsWith('.num_batches_tracked'));
  const problems: string[] = [];
  if (missing.length > 0) problems.push(`missing key${missing.length > 1 ? 's' : ''} ${listSome(missing)}`);
  if (misShaped.length > 0) problems.push(listSome(misShaped, 3));
  if (unexpected.length > 0) {
    problems.push(`unexpected key${unexpected.length > 1 ? 's' : ''} ${listSome(unexpected)}`);
  }
  if (problems.length > 0) throw notFid(problems.join('; '));

  const keys = [...refs.keys()];
  const arrays = checkpoint.read(keys.map((k) => refs.get(k)!));
  const values = new Map(keys.map((k, i) => [k, arrays[i]!]));
  let numParams = 0;
  for (const a of arrays) numParams += a.length;

  const convs = new Map<string, FoldedConv>();
  try {
    for (const spec of FID_INCEPTION_CONVS) {
      const p = spec.name;
      const w = values.get(`${p}.conv.weight`)!;
      const gamma = values.get(`${p}.bn.weight`)!;
      const beta = values.get(`${p}.bn.bias`)!;
      const mean = values.get(`${p}.bn.running_mean`)!;
      const variance = values.get(`${p}.bn.running_var`)!;
      const { outChannels: co, inChannels: ci } = spec;
      const [kh, kw] = spec.kernel;
      const scale = new Float64Array(co);
      const bias = new Float32Array(co);
      for (let o = 0; o < co; o++) {
        scale[o] = gamma[o]! / Math.sqrt(variance[o]! + INCEPTION_BN_EPS);
        bias[o] = beta[o]! - mean[o]! * scale[o]!;
      }
      // PyTorch [out, in, kh, kw] → TensorFlow [kh, kw, in, out], scaled by the BatchNorm.
      const filter = new Float32Array(w.length);
      for (let o = 0; o < co; o++) {
        for (let i = 0; i < ci; i++) {
          for (let y = 0; y < kh; y++) {
            for (let x = 0; x < kw; x++) {
              filter[((y * kw + x) * ci + i) * co + o] = w[((o * ci + i) * kh + y) * kw + x]! * scale[o]!;
            }
          }
        }
      }
      convs.set(p, {
        spec,
        filter: tf.tensor4d(filter, [kh, kw, ci, co], 'float32'),
        bias: tf.tensor1d(bias, 'float32'),
      });
    }
  } catch (error) {
    for (const c of convs.values()) tf.dispose([c.filter, c.bias]);
    throw error;
  }
  const fcWeight = tf.tensor2d(
    values.get('fc.weight')!,
    [FID_INCEPTION_CLASSES, FID_INCEPTION_FEATURES],
    'float32',
  );
  const fcBias = tf.tensor1d(values.get('fc.bias')!, 'float32');
  return new FidInception(convs, fcWeight, fcBias, numParams);
}
