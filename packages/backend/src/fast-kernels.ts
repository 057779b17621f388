import { SbmArgumentError } from '@sbm/sde';
import type {
  BatchMatMulAttrs,
  Conv2DAttrs,
  Conv2DBackpropFilterAttrs,
  Conv2DBackpropInputAttrs,
  DepthwiseConv2dNativeAttrs,
  DepthwiseConv2dNativeBackpropFilterAttrs,
  DepthwiseConv2dNativeBackpropInputAttrs,
  KernelBackend,
  KernelConfig,
  KernelFunc,
  SplitVAttrs,
  SumAttrs,
  TensorInfo,
} from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import { type BackendAdapter, backendAdapter, type FastKernelBackend } from './backend-adapter.js';
import { batchMatMul, batchMatMulFits } from './batch-mat-mul.js';
import { conv2d, conv2dBackpropFilter, conv2dBackpropInput, convGeometry } from './conv2d-kernels.js';
import {
  depthwiseBackpropFilter,
  depthwiseBackpropInput,
  depthwiseConv2d,
  depthwiseGeometry,
} from './depthwise-kernels.js';
import { resizeNearestNeighborGrad } from './resize-nearest-grad.js';
import { splitV } from './split-v.js';
import { leadingAxesReduced, sumLeadingAxes } from './sum-leading-axes.js';
import { unsortedSegmentSum } from './unsorted-segment-sum.js';

type Inputs = Record<string, TensorInfo>;
type Attrs = Record<string, unknown>;
type FastKernel = (be: BackendAdapter, inputs: Inputs, attrs: Attrs) => TensorInfo | TensorInfo[];

/** A replacement kernel and the calls it leaves to the backend's original kernel. */
interface FastKernelSpec {
  run: FastKernel;
  /** Whether to call the original kernel instead (default: only for non-NHWC data). */
  useOriginal?: (inputs: Inputs, attrs: Attrs) => boolean;
}

function nchw(_inputs: Inputs, attrs: Attrs): boolean {
  return attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC';
}

/**
 * tfjs-backend-wasm 4.22's XNNPACK convolutions (regular and depthwise) return zeros or wrong
 * values for `'same'` padding when a stride exceeds the filter size on that axis (e.g. a 1×2 filter
 * with stride 3; found by the random tests of this package); those calls go to this package's
 * kernels, the others stay on XNNPACK.
 */
function wasmConvIsReliable(inputs: Inputs, attrs: Attrs): boolean {
  if (nchw(inputs, attrs)) return true;
  if (attrs.pad !== 'same') return true;
  const [sh, sw] =
    typeof attrs.strides === 'number' ? [attrs.strides, attrs.strides] : (attrs.strides as number[]);
  const [fh, fw] = inputs.filter!.shape;
  return sh! <= fh! && sw! <= fw!;
}

const conv2dKernel: FastKernel = (be, { x, filter }, attrs) => {
  const a = attrs as unknown as Conv2DAttrs;
  return conv2d(be, x!, filter!, convGeometry(x!.shape, filter!.shape, a, a.dilations));
};

const backpropFilterKernel: FastKernel = (be, { x, dy }, attrs) => {
  const a = attrs as unknown as Conv2DBackpropFilterAttrs & { dilations?: Conv2DAttrs['dilations'] };
  return conv2dBackpropFilter(be, x!, dy!, convGeometry(x!.shape, a.filterShape, a, a.dilations));
};

const backpropInputKernel: FastKernel = (be, { dy, filter }, attrs) => {
  const a = attrs as unknown as Conv2DBackpropInputAttrs & { dilations?: Conv2DAttrs['dilations'] };
  return conv2dBackpropInput(be, dy!, filter!, convGeometry(a.inputShape, filter!.shape, a, a.dilations));
};

const depthwiseKernel: FastKernel = (be, { x, filter }, attrs) =>
  depthwiseConv2d(
    be,
    x!,
    filter!,
    depthwiseGeometry(x!.shape, filter!.shape, attrs as unknown as DepthwiseConv2dNativeAttrs),
  );

const depthwiseInputKernel: FastKernel = (be, { dy, filter }, attrs) => {
  const a = attrs as unknown as DepthwiseConv2dNativeBackpropInputAttrs;
  return depthwiseBackpropInput(be, dy!, filter!, depthwiseGeometry(a.inputShape, filter!.shape, a));
};

const depthwiseFilterKernel: FastKernel = (be, { x, dy }, attrs) => {
  const a = attrs as unknown as DepthwiseConv2dNativeBackpropFilterAttrs;
  return depthwiseBackpropFilter(be, x!, dy!, depthwiseGeometry(x!.shape, a.filterShape, a));
};

const resizeNearestGradKernel: FastKernel = (be, { images, dy }, attrs) =>
  resizeNearestNeighborGrad(be, images!, dy!, attrs.alignCorners === true, attrs.halfPixelCenters === true);

const unsortedSegmentSumKernel: FastKernel = (be, { x, segmentIds }, attrs) =>
  unsortedSegmentSum(be, x!, segmentIds!, attrs.numSegments as number);

const splitVKernel: FastKernel = (be, { x }, attrs) => {
  const a = attrs as unknown as SplitVAttrs;
  const axis = tf.util.parseAxisParam(a.axis, x!.shape)[0]!;
  return splitV(be, x!, tf.backend_util.prepareSplitSize(x!, a.numOrSizeSplits, axis), axis);
};

const batchMatMulKernel: FastKernel = (be, { a, b }, attrs) => {
  const { transposeA, transposeB } = attrs as unknown as BatchMatMulAttrs;
  return batchMatMul(be, a!, b!, transposeA, transposeB);
};

/**
 * tfjs-backend-wasm's `Identity` copies its input, and under a gradient tape tfjs' engine clones
 * every tensor a kernel saves for its backward pass through it: a full copy of each saved activation.
 * Here it shares the data, as the cpu backend's does (string tensors stay with the original).
 */
const identityKernel: FastKernel = (be, { x }) => be.share!(x!);

/** Reductions over fewer elements than this stay on the original `Sum` (as fast there). */
const minPooledSum = 256;

const sumKernel: FastKernel = (be, { x }, attrs) => {
  const a = attrs as unknown as SumAttrs;
  return sumLeadingAxes(be, x!, leadingAxesReduced(x!.shape, a.axis)!, a.keepDims);
};

function sumStaysOriginal({ x }: Inputs, attrs: Attrs): boolean {
  const k = leadingAxesReduced(x!.shape, (attrs as unknown as SumAttrs).axis);
  return (
    x!.dtype !== 'float32' ||
    k === undefined ||
    tf.util.sizeFromShape(x!.shape.slice(0, k)) < minPooledSum ||
    tf.util.sizeFromShape(x!.shape) === 0
  );
}

/** The float32-only kernels leave other dtypes to the original. */
function notFloat32({ x }: Inputs): boolean {
  return x!.dtype !== 'float32';
}

/**
 * The kernels replaced (or supplied) per backend. `wasm`: its XNNPACK forward convolution is kept
 * except where it is wrong (see {@link wasmConvIsReliable}); `Conv2DBackpropFilter` is missing and
 * `Conv2DBackpropInput` is slow. `cpu`: the three naive convolution loops are replaced by im2col + the
 * backend's blocked matrix multiply. Both: `ResizeNearestNeighborGrad`, which in tfjs 4.22 is wrong
 * for batches larger than one on cpu and on wasm (it is not the adjoint of the forward resize).
 * wasm also lacks both depthwise-convolution gradients, which NCSN++'s FIR resampling needs, and
 * its depthwise forward shares the XNNPACK `'same'`-padding bug. wasm's `SplitV` (the gradient of a
 * channel concat) is replaced by one contiguous copy per row and piece, and its `BatchMatMul` where
 * it runs a plain loop (transposed or batched operands) by XNNPACK products; `Sum` over leading axes
 * (bias gradients), which it transposes first, is one XNNPACK average pool; and `Identity` shares
 * its input's data instead of copying it.
 */
const fastKernels: Record<FastKernelBackend, Record<string, FastKernelSpec>> = {
  cpu: {
    Conv2D: { run: conv2dKernel },
    Conv2DBackpropFilter: { run: backpropFilterKernel },
    Conv2DBackpropInput: { run: backpropInputKernel },
    ResizeNearestNeighborGrad: { run: resizeNearestGradKernel, useOriginal: () => false },
  },
  wasm: {
    Conv2D: { run: conv2dKernel, useOriginal: wasmConvIsReliable },
    Conv2DBackpropFilter: { run: backpropFilterKernel },
    Conv2DBackpropInput: { run: backpropInputKernel },
    ResizeNearestNeighborGrad: { run: resizeNearestGradKernel, useOriginal: () => false },
    DepthwiseConv2dNative: { run: depthwiseKernel, useOriginal: wasmConvIsReliable },
    DepthwiseConv2dNativeBackpropInput: { run: depthwiseInputKernel },
    DepthwiseConv2dNativeBackpropFilter: { run: depthwiseFilterKernel },
    SplitV: { run: splitVKernel, useOriginal: notFloat32 },
    BatchMatMul: { run: batchMatMulKernel, useOriginal: ({ a, b }) => !batchMatMulFits(a!, b!) },
    Sum: { run: sumKernel, useOriginal: sumStaysOriginal },
    Identity: { run: identityKernel, useOriginal: ({ x }) => x!.dtype === 'string' },
    UnsortedSegmentSum: { run: unsortedSegmentSumKernel, useOriginal: () => false },
  },
};

/** Kernel configs found before {@link registerFastKernels} replaced them, by `backend/kernel`. */
const originals = new Map<string, KernelConfig | undefined>();
/** Backends whose fast kernels are currently registered. */
const active = new Set<FastKernelBackend>();

function checkBackendName(backendName: string, argument: string): FastKernelBackend {
  if (backendName !== 'cpu' && backendName !== 'wasm') {
    throw new SbmArgumentError(
      argument,
      `expected 'cpu' or 'wasm' (the backends with fast kernels), got '${backendName}'`,
    );
  }
  return backendName;
}

/** Names of the kernels {@link registerFastKernels} registers for `backendName` ('cpu' or 'wasm'). */
export function fastKernelNames(backendName: string): string[] {
  return Object.keys(fastKernels[checkBackendName(backendName, 'backendName')]);
}

/**
 * Registers the fast convolution kernels of @sbm/backend for the `cpu` or `wasm` backend of
 * TensorFlow.js, replacing the backend's own ones (which stay available through
 * {@link originalKernel} and come back with {@link unregisterFastKernels}). Idempotent; never
 * done on import. The backend package (`@tensorflow/tfjs-backend-cpu` / `-wasm`) must have been
 * imported first (its kernels are needed: wasm's `BatchMatMul` and XNNPACK convolution are used).
 *
 * Registered on both: `Conv2D` (cpu: always; wasm: only for the `'same'`-padding cases its XNNPACK
 * path gets wrong), `Conv2DBackpropFilter` (missing from tfjs-backend-wasm 4.22, so training fails
 * without it; ~300× slower than the forward pass on cpu) and `Conv2DBackpropInput`, and
 * `ResizeNearestNeighborGrad` (the stock ones are wrong for batches > 1); on wasm also
 * `DepthwiseConv2dNativeBackpropInput`/`-Filter` (missing), `DepthwiseConv2dNative` (only where
 * XNNPACK is wrong), `SplitV` (float32; the stock one is a slow strided slice), `BatchMatMul`
 * (float32; the stock one is a plain loop for transposed or batched operands), `Sum` (float32 over
 * leading axes; the stock one transposes first), `Identity` (shares the data instead of copying
 * it, as cpu's does) and `UnsortedSegmentSum` (missing: the gradient of `tf.gather`, e.g. of class embeddings). The convolutions take NHWC data with any strides, `'same'`/`'valid'`/explicit padding,
 * and dilation (forward; the gradients accept a `dilations` attribute, which tfjs itself never
 * sends); other data formats are passed to the original kernel.
 *
 * @returns the names of the kernels registered by this call (empty when already registered).
 * @throws SbmArgumentError naming `backendName` when it is not 'cpu' or 'wasm' or its package is not loaded.
 */
export function registerFastKernels(backendName: string): string[] {
  const name = checkBackendName(backendName, 'backendName');
  if (active.has(name)) return [];
  // The backend's own matrix multiply (before any replacement), which the kernels run on.
  const nativeMatMul = tf.getKernel('BatchMatMul', name)?.kernelFunc;
  if (nativeMatMul === undefined) {
    throw new SbmArgumentError(
      'backendName',
      `the '${name}' backend has no kernels registered: import '@tensorflow/tfjs-backend-${name}' first`,
    );
  }
  // wasm's XNNPACK convolution, which the gradient kernels run on where the geometry allows.
  const nativeConv2d = name === 'wasm' ? tf.getKernel('Conv2D', name)?.kernelFunc : undefined;
  const nativeAvgPool = name === 'wasm' ? tf.getKernel('AvgPool', name)?.kernelFunc : undefined;
  // One adapter per backend instance (Identity alone runs hundreds of times per training step).
  const adapters = new WeakMap<KernelBackend, BackendAdapter>();
  const adapterOf = (backend: KernelBackend) => {
    let be = adapters.get(backend);
    if (be === undefined) {
      be = backendAdapter(name, backend, nativeMatMul, nativeConv2d, nativeAvgPool);
      adapters.set(backend, be);
    }
    return be;
  };
  const registered: string[] = [];
  for (const [kernelName, spec] of Object.entries(fastKernels[name])) {
    const useOriginal = spec.useOriginal ?? nchw;
    const original = tf.getKernel(kernelName, name);
    originals.set(`${name}/${kernelName}`, original);
    if (original !== undefined) tf.unregisterKernel(kernelName, name);
    const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
      const a = (attrs ?? {}) as Attrs;
      const ins = inputs as Inputs;
      if (useOriginal(ins, a)) {
        if (original !== undefined) return original.kernelFunc({ inputs, backend, attrs });
        if (nchw(ins, a))
          throw new Error(`${kernelName} (@sbm/backend, ${name}): only NHWC data is supported`);
      }
      return spec.run(adapterOf(backend as KernelBackend), ins, a);
    };
    // Keep the original's setup/dispose hooks: wasm kernels bind their C++ function in setupFunc,
    // which the backend runs for every registered kernel when it initializes.
    tf.registerKernel({
      kernelName,
      backendName: name,
      kernelFunc,
      setupFunc: original?.setupFunc,
      disposeFunc: original?.disposeFunc,
    });
    registered.push(kernelName);
  }
  active.add(name);
  return registered;
}

/**
 * Puts back the kernels that {@link registerFastKernels} replaced on `backendName` (and removes
 * the ones it supplied). Idempotent.
 */
export function unregisterFastKernels(backendName: string): void {
  const name = checkBackendName(backendName, 'backendName');
  if (!active.has(name)) return;
  for (const kernelName of Object.keys(fastKernels[name])) {
    tf.unregisterKernel(kernelName, name);
    const original = originals.get(`${name}/${kernelName}`);
    if (original !== undefined) tf.registerKernel(original);
  }
  active.delete(name);
}

/** Whether the fast kernels are currently registered for `backendName`. */
export function hasFastKernels(backendName: string): boolean {
  return active.has(backendName as FastKernelBackend);
}

/**
 * The kernel `kernelName` of `backendName` as tfjs registered it before {@link registerFastKernels}
 * replaced it (the currently registered one if it was never replaced); `undefined` when the backend
 * never had it (e.g. `Conv2DBackpropFilter` on wasm). For comparisons in tests and benchmarks.
 */
export function originalKernel(kernelName: string, backendName: string): KernelConfig | undefined {
  const key = `${backendName}/${kernelName}`;
  return originals.has(key) ? originals.get(key) : tf.getKernel(kernelName, backendName);
}
