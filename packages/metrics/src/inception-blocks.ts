import * as tf from '@tensorflow/tfjs-core';

/**
 * One `BasicConv2d` of torchvision's Inception3 (conv without bias → BatchNorm(eps = 0.001) → ReLU), by its
 * state-dict prefix. PyTorch's explicit paddings of this network are all either none (`'valid'`) or
 * `(k − 1) / 2` at stride 1 (`'same'`).
 */
export interface InceptionConvSpec {
  /** State-dict prefix, e.g. `'Mixed_6e.branch7x7_1'` (keys `<name>.conv.weight`, `<name>.bn.*`). */
  readonly name: string;
  readonly inChannels: number;
  readonly outChannels: number;
  /** Kernel `[kh, kw]`. */
  readonly kernel: readonly [number, number];
  readonly stride: 1 | 2;
  readonly pad: 'same' | 'valid';
}

/** A folded `BasicConv2d`: `relu(conv(x, filter) + bias)`, `filter [kh, kw, in, out]`, `bias [out]`. */
export interface FoldedConv {
  readonly filter: tf.Tensor4D;
  readonly bias: tf.Tensor1D;
  readonly spec: InceptionConvSpec;
}

/** Number of classes of the FID Inception classifier (the 2015-12-05 TensorFlow graph has 1008 outputs). */
export const FID_INCEPTION_CLASSES = 1008;
/** Width of the pool3 features (global average pool after Mixed_7c). */
export const FID_INCEPTION_FEATURES = 2048;
/** BatchNorm epsilon of torchvision's `BasicConv2d`. */
export const INCEPTION_BN_EPS = 0.001;

type Kernel = readonly [number, number];

function conv(
  name: string,
  inChannels: number,
  outChannels: number,
  kernel: number | Kernel,
  stride: 1 | 2 = 1,
  pad: 'same' | 'valid' = 'same',
): InceptionConvSpec {
  const k: Kernel = typeof kernel === 'number' ? [kernel, kernel] : kernel;
  return { name, inChannels, outChannels, kernel: k, stride, pad };
}

/** InceptionA (35×35 grid, Szegedy et al. 2016, Fig. 5): 64 + 64 + 96 + poolFeatures channels. */
function blockA(p: string, cin: number, poolFeatures: number): InceptionConvSpec[] {
  return [
    conv(`${p}.branch1x1`, cin, 64, 1),
    conv(`${p}.branch5x5_1`, cin, 48, 1),
    conv(`${p}.branch5x5_2`, 48, 64, 5),
    conv(`${p}.branch3x3dbl_1`, cin, 64, 1),
    conv(`${p}.branch3x3dbl_2`, 64, 96, 3),
    conv(`${p}.branch3x3dbl_3`, 96, 96, 3),
    conv(`${p}.branch_pool`, cin, poolFeatures, 1),
  ];
}

/** InceptionB (grid reduction 35 → 17): 384 + 96 + cin channels. */
function blockB(p: string, cin: number): InceptionConvSpec[] {
  return [
    conv(`${p}.branch3x3`, cin, 384, 3, 2, 'valid'),
    conv(`${p}.branch3x3dbl_1`, cin, 64, 1),
    conv(`${p}.branch3x3dbl_2`, 64, 96, 3),
    conv(`${p}.branch3x3dbl_3`, 96, 96, 3, 2, 'valid'),
  ];
}

/** InceptionC (17×17 grid with factorized 1×7 / 7×1 convolutions, Fig. 6): 4 × 192 channels. */
function blockC(p: string, cin: number, c7: number): InceptionConvSpec[] {
  return [
    conv(`${p}.branch1x1`, cin, 192, 1),
    conv(`${p}.branch7x7_1`, cin, c7, 1),
    conv(`${p}.branch7x7_2`, c7, c7, [1, 7]),
    conv(`${p}.branch7x7_3`, c7, 192, [7, 1]),
    conv(`${p}.branch7x7dbl_1`, cin, c7, 1),
    conv(`${p}.branch7x7dbl_2`, c7, c7, [7, 1]),
    conv(`${p}.branch7x7dbl_3`, c7, c7, [1, 7]),
    conv(`${p}.branch7x7dbl_4`, c7, c7, [7, 1]),
    conv(`${p}.branch7x7dbl_5`, c7, 192, [1, 7]),
    conv(`${p}.branch_pool`, cin, 192, 1),
  ];
}

/** InceptionD (grid reduction 17 → 8): 320 + 192 + cin channels. */
function blockD(p: string, cin: number): InceptionConvSpec[] {
  return [
    conv(`${p}.branch3x3_1`, cin, 192, 1),
    conv(`${p}.branch3x3_2`, 192, 320, 3, 2, 'valid'),
    conv(`${p}.branch7x7x3_1`, cin, 192, 1),
    conv(`${p}.branch7x7x3_2`, 192, 192, [1, 7]),
    conv(`${p}.branch7x7x3_3`, 192, 192, [7, 1]),
    conv(`${p}.branch7x7x3_4`, 192, 192, 3, 2, 'valid'),
  ];
}

/** InceptionE (8×8 grid with expanded filter banks, Fig. 7): 320 + 2·384 + 2·384 + 192 = 2048 channels. */
function blockE(p: string, cin: number): InceptionConvSpec[] {
  return [
    conv(`${p}.branch1x1`, cin, 320, 1),
    conv(`${p}.branch3x3_1`, cin, 384, 1),
    conv(`${p}.branch3x3_2a`, 384, 384, [1, 3]),
    conv(`${p}.branch3x3_2b`, 384, 384, [3, 1]),
    conv(`${p}.branch3x3dbl_1`, cin, 448, 1),
    conv(`${p}.branch3x3dbl_2`, 448, 384, 3),
    conv(`${p}.branch3x3dbl_3a`, 384, 384, [1, 3]),
    conv(`${p}.branch3x3dbl_3b`, 384, 384, [3, 1]),
    conv(`${p}.branch_pool`, cin, 192, 1),
  ];
}

/** The 94 `BasicConv2d`s of pytorch-fid's `fid_inception_v3()`, in execution order. */
export const FID_INCEPTION_CONVS: readonly InceptionConvSpec[] = Object.freeze([
  conv('Conv2d_1a_3x3', 3, 32, 3, 2, 'valid'),
  conv('Conv2d_2a_3x3', 32, 32, 3, 1, 'valid'),
  conv('Conv2d_2b_3x3', 32, 64, 3),
  conv('Conv2d_3b_1x1', 64, 80, 1, 1, 'valid'),
  conv('Conv2d_4a_3x3', 80, 192, 3, 1, 'valid'),
  ...blockA('Mixed_5b', 192, 32),
  ...blockA('Mixed_5c', 256, 64),
  ...blockA('Mixed_5d', 288, 64),
  ...blockB('Mixed_6a', 288),
  ...blockC('Mixed_6b', 768, 128),
  ...blockC('Mixed_6c', 768, 160),
  ...blockC('Mixed_6d', 768, 160),
  ...blockC('Mixed_6e', 768, 192),
  ...blockD('Mixed_7a', 768),
  ...blockE('Mixed_7b', 1280),
  ...blockE('Mixed_7c', 2048),
]);

/**
 * Every key of the FID Inception state dict (pt_inception-2015-12-05-6726825d.pth) with its shape, in PyTorch
 * layout: `<conv>.conv.weight [out, in, kh, kw]`, `<conv>.bn.{weight,bias,running_mean,running_var} [out]`,
 * `fc.weight [1008, 2048]`, `fc.bias [1008]` (BatchNorm's `num_batches_tracked` is not listed).
 */
export function fidInceptionStateDictShapes(): Map<string, number[]> {
  const shapes = new Map<string, number[]>();
  for (const c of FID_INCEPTION_CONVS) {
    shapes.set(`${c.name}.conv.weight`, [c.outChannels, c.inChannels, c.kernel[0], c.kernel[1]]);
    for (const k of ['weight', 'bias', 'running_mean', 'running_var'])
      shapes.set(`${c.name}.bn.${k}`, [c.outChannels]);
  }
  shapes.set('fc.weight', [FID_INCEPTION_CLASSES, FID_INCEPTION_FEATURES]);
  shapes.set('fc.bias', [FID_INCEPTION_CLASSES]);
  return shapes;
}

/** Looks up folded convolutions by state-dict prefix. */
export type ConvLookup = (name: string) => FoldedConv;

/** `relu(conv(x) + bias)` of one folded `BasicConv2d`: `x [B, H, W, in]` → `[B, H', W', out]`. */
export function basicConv(x: tf.Tensor4D, c: FoldedConv): tf.Tensor4D {
  return tf.fused.conv2d({
    x,
    filter: c.filter,
    strides: c.spec.stride,
    pad: c.spec.pad,
    bias: c.bias,
    activation: 'relu',
  });
}

/**
 * 3×3 average pooling at stride 1 over the valid cells only (TensorFlow's `'SAME'` average pool;
 * PyTorch's `avg_pool2d(padding=1, count_include_pad=False)` in pytorch-fid's FID blocks).
 */
function avgPool3(x: tf.Tensor4D): tf.Tensor4D {
  return tf.avgPool(x, 3, 1, 'same');
}

function run(x: tf.Tensor4D, convs: ConvLookup, ...names: string[]): tf.Tensor4D {
  let h = x;
  for (const n of names) h = basicConv(h, convs(n));
  return h;
}

/** FIDInceptionA: `x [B, 35, 35, cin]` → `[B, 35, 35, 224 + poolFeatures]`. */
export function inceptionA(x: tf.Tensor4D, p: string, convs: ConvLookup): tf.Tensor4D {
  return tf.concat(
    [
      run(x, convs, `${p}.branch1x1`),
      run(x, convs, `${p}.branch5x5_1`, `${p}.branch5x5_2`),
      run(x, convs, `${p}.branch3x3dbl_1`, `${p}.branch3x3dbl_2`, `${p}.branch3x3dbl_3`),
      run(avgPool3(x), convs, `${p}.branch_pool`),
    ],
    3,
  );
}

/** InceptionB (Mixed_6a): `x [B, 35, 35, 288]` → `[B, 17, 17, 768]`. */
export function inceptionB(x: tf.Tensor4D, p: string, convs: ConvLookup): tf.Tensor4D {
  return tf.concat(
    [
      run(x, convs, `${p}.branch3x3`),
      run(x, convs, `${p}.branch3x3dbl_1`, `${p}.branch3x3dbl_2`, `${p}.branch3x3dbl_3`),
      tf.maxPool(x, 3, 2, 'valid'),
    ],
    3,
  );
}

/** FIDInceptionC: `x [B, 17, 17, 768]` → `[B, 17, 17, 768]`. */
export function inceptionC(x: tf.Tensor4D, p: string, convs: ConvLookup): tf.Tensor4D {
  const b = (s: string) => `${p}.branch7x7${s}`;
  return tf.concat(
    [
      run(x, convs, `${p}.branch1x1`),
      run(x, convs, b('_1'), b('_2'), b('_3')),
      run(x, convs, b('dbl_1'), b('dbl_2'), b('dbl_3'), b('dbl_4'), b('dbl_5')),
      run(avgPool3(x), convs, `${p}.branch_pool`),
    ],
    3,
  );
}

/** InceptionD (Mixed_7a): `x [B, 17, 17, 768]` → `[B, 8, 8, 1280]`. */
export function inceptionD(x: tf.Tensor4D, p: string, convs: ConvLookup): tf.Tensor4D {
  return tf.concat(
    [
      run(x, convs, `${p}.branch3x3_1`, `${p}.branch3x3_2`),
      run(x, convs, `${p}.branch7x7x3_1`, `${p}.branch7x7x3_2`, `${p}.branch7x7x3_3`, `${p}.branch7x7x3_4`),
      tf.maxPool(x, 3, 2, 'valid'),
    ],
    3,
  );
}

/**
 * FIDInceptionE_1 (`pool = 'avg'`, Mixed_7b) and FIDInceptionE_2 (`pool = 'max'`, Mixed_7c: the 2015 TensorFlow
 * graph max-pools in this block's pool branch): `x [B, 8, 8, cin]` → `[B, 8, 8, 2048]`.
 */
export function inceptionE(x: tf.Tensor4D, p: string, convs: ConvLookup, pool: 'avg' | 'max'): tf.Tensor4D {
  const b3 = run(x, convs, `${p}.branch3x3_1`);
  const bd = run(x, convs, `${p}.branch3x3dbl_1`, `${p}.branch3x3dbl_2`);
  const pooled = pool === 'avg' ? avgPool3(x) : tf.maxPool(x, 3, 1, 'same');
  return tf.concat(
    [
      run(x, convs, `${p}.branch1x1`),
      run(b3, convs, `${p}.branch3x3_2a`),
      run(b3, convs, `${p}.branch3x3_2b`),
      run(bd, convs, `${p}.branch3x3dbl_3a`),
      run(bd, convs, `${p}.branch3x3dbl_3b`),
      run(pooled, convs, `${p}.branch_pool`),
    ],
    3,
  );
}

/**
 * The stages of the network from the `[-1, 1]` input to the last feature map, each `[B, H, W, C]` →
 * `[B, H', W', C']` (sizes for a 299×299 input): stem 299 → 35×35×192, Mixed_5b..d (35×35×256/288/288),
 * Mixed_6a (17×17×768), Mixed_6b..e, Mixed_7a (8×8×1280), Mixed_7b, Mixed_7c (8×8×2048).
 */
export const FID_INCEPTION_STAGES: readonly {
  readonly name: string;
  readonly apply: (x: tf.Tensor4D, convs: ConvLookup) => tf.Tensor4D;
}[] = Object.freeze([
  {
    name: 'stem',
    apply: (x: tf.Tensor4D, convs: ConvLookup) => {
      const h = run(x, convs, 'Conv2d_1a_3x3', 'Conv2d_2a_3x3', 'Conv2d_2b_3x3');
      const p = run(tf.maxPool(h, 3, 2, 'valid'), convs, 'Conv2d_3b_1x1', 'Conv2d_4a_3x3');
      return tf.maxPool(p, 3, 2, 'valid');
    },
  },
  ...['Mixed_5b', 'Mixed_5c', 'Mixed_5d'].map((n) => ({
    name: n,
    apply: (x: tf.Tensor4D, c: ConvLookup) => inceptionA(x, n, c),
  })),
  { name: 'Mixed_6a', apply: (x: tf.Tensor4D, c: ConvLookup) => inceptionB(x, 'Mixed_6a', c) },
  ...['Mixed_6b', 'Mixed_6c', 'Mixed_6d', 'Mixed_6e'].map((n) => ({
    name: n,
    apply: (x: tf.Tensor4D, c: ConvLookup) => inceptionC(x, n, c),
  })),
  { name: 'Mixed_7a', apply: (x: tf.Tensor4D, c: ConvLookup) => inceptionD(x, 'Mixed_7a', c) },
  { name: 'Mixed_7b', apply: (x: tf.Tensor4D, c: ConvLookup) => inceptionE(x, 'Mixed_7b', c, 'avg') },
  { name: 'Mixed_7c', apply: (x: tf.Tensor4D, c: ConvLookup) => inceptionE(x, 'Mixed_7c', c, 'max') },
]);
