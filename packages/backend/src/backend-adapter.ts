import type { DataId, KernelBackend, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import * as tf from '@tensorflow/tfjs-core';
import { matMulInto } from './matmul.js';

/**
 * The few backend-level operations the fast kernels are written against: float32 views of tensor
 * data, allocation, disposal, a matrix multiply and (wasm) the native convolution. Views of the
 * wasm heap are invalidated when the heap grows, so take a fresh {@link BackendAdapter.view} after
 * every allocation (`alloc`, `matMul`, `conv2d`).
 */
export interface BackendAdapter {
  /** A writable float32 view of the data of `t` (no copy). */
  view(t: TensorInfo): Float32Array;
  /** A new zero-filled float32 tensor of `shape`, owned by the caller. */
  alloc(shape: number[]): TensorInfo;
  /**
   * `a [1,M,K] @ b [1,K,N]` → `[1,M,N]`, float32, no transposes: wasm's `BatchMatMul` kernel
   * (XNNPACK), on cpu the JS kernel of ./matmul.ts.
   */
  matMul(a: TensorInfo, b: TensorInfo): TensorInfo;
  /** Releases a tensor made by `alloc`, `matMul` or `conv2d` that is not returned from the kernel. */
  dispose(t: TensorInfo): void;
  /**
   * The backend's own NHWC convolution with stride 1, explicit padding `[top, bottom, left, right]`
   * and the given dilations, when it is faster than im2col (wasm: XNNPACK); absent on cpu.
   */
  conv2d?: (
    x: TensorInfo,
    filter: TensorInfo,
    pad: [number, number, number, number],
    dilations: [number, number],
  ) => TensorInfo;
  /**
   * A float32 tensor of `shape` whose data is that of `t` from element `offset` on (no copy), for
   * passing a window of a buffer to `matMul`; give it back with `releaseAlias` before `t` is
   * disposed, and never `dispose` it. wasm only.
   */
  alias?: (t: TensorInfo, offset: number, shape: number[]) => TensorInfo;
  /** Forgets an alias made by `alias` (its memory stays with the tensor it aliases). */
  releaseAlias?: (a: TensorInfo) => void;
  /**
   * The backend's own average pool of an NHWC `x` over `window` (stride 1, `'valid'`), when it is
   * faster than a reduction kernel (wasm: XNNPACK); absent on cpu.
   */
  avgPool?: (x: TensorInfo, window: [number, number]) => TensorInfo;
  /**
   * A new reference to the data of `t` (the backend's reference count goes up; each reference is
   * disposed on its own, the data freed with the last). tfjs tensors are immutable, so copying is
   * never needed; cpu's and webgl's own `Identity` share the same way. wasm only.
   */
  share?: (t: TensorInfo) => TensorInfo;
}

interface CpuLike {
  data: { get(dataId: DataId): { values: unknown } };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
  disposeData(dataId: DataId): boolean;
}

interface WasmLike {
  incRef(dataId: DataId): void;
  makeOutput(shape: number[], dtype: 'float32', memoryOffset?: number): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
  disposeData(dataId: DataId): boolean;
  /** tfjs-backend-wasm 4.22's table of tensor data: its id on the C++ side and heap byte offset. */
  dataIdMap: {
    get(dataId: DataId): { id: number; memoryOffset: number; shape: number[] } | undefined;
    delete(dataId: DataId): boolean;
  };
  wasm: { tfjs: { disposeData(id: number): void } };
}

/** Backends the fast kernels know how to address. */
export type FastKernelBackend = 'cpu' | 'wasm';

/** Builds the adapter of `backend` (an instance of the backend named `name`). */
export function backendAdapter(
  name: FastKernelBackend,
  backend: KernelBackend,
  batchMatMul: KernelFunc,
  nativeConv2d?: KernelFunc,
  nativeAvgPool?: KernelFunc,
): BackendAdapter {
  if (name === 'cpu') {
    const cpu = backend as unknown as CpuLike;
    const view = (t: TensorInfo) => cpu.data.get(t.dataId).values as Float32Array;
    return {
      view,
      alloc: (shape) => cpu.makeTensorInfo(shape, 'float32', new Float32Array(tf.util.sizeFromShape(shape))),
      // The JS kernel of ./matmul.ts is ~2.5× faster than the cpu backend's own BatchMatMul here.
      matMul: (a, b) => {
        const [, M, K] = a.shape as [number, number, number];
        const N = b.shape[2]!;
        const c = new Float32Array(M * N);
        matMulInto(view(a), view(b), M, K, N, c);
        return cpu.makeTensorInfo([1, M, N], 'float32', c);
      },
      dispose: (t) => void cpu.disposeData(t.dataId),
    };
  }
  const wasm = backend as unknown as WasmLike;
  return {
    view: (t) => wasm.typedArrayFromHeap(t),
    alloc: (shape) => {
      const t = wasm.makeOutput(shape, 'float32');
      wasm.typedArrayFromHeap(t).fill(0);
      return t;
    },
    matMul: (a, b) =>
      batchMatMul({
        inputs: { a, b },
        backend,
        attrs: { transposeA: false, transposeB: false },
      }) as TensorInfo,
    dispose: (t) => void wasm.disposeData(t.dataId),
    share: (t) => {
      wasm.incRef(t.dataId);
      return { dataId: t.dataId, shape: t.shape, dtype: t.dtype };
    },
    // makeOutput with a memory offset registers the tensor with the C++ side without allocating;
    // releasing one removes it from both tables without freeing (the owner's disposal frees).
    alias: (t, offset, shape) => {
      const data = wasm.dataIdMap.get(t.dataId);
      if (data === undefined) throw new Error('alias: unknown tensor');
      const size = tf.util.sizeFromShape(shape);
      if (offset < 0 || offset + size > tf.util.sizeFromShape(data.shape)) {
        throw new Error(
          `alias: [${offset}, ${offset + size}) lies outside a tensor of shape [${data.shape}]`,
        );
      }
      return wasm.makeOutput(shape, 'float32', data.memoryOffset + 4 * offset);
    },
    releaseAlias: (a) => {
      const data = wasm.dataIdMap.get(a.dataId);
      if (data === undefined) return;
      wasm.wasm.tfjs.disposeData(data.id);
      wasm.dataIdMap.delete(a.dataId);
    },
    avgPool:
      nativeAvgPool === undefined
        ? undefined
        : (x, window) =>
            nativeAvgPool({
              inputs: { x },
              backend,
              attrs: { filterSize: window, strides: 1, pad: 'valid' },
            }) as TensorInfo,
    conv2d:
      nativeConv2d === undefined
        ? undefined
        : (x, filter, [top, bottom, left, right], dilations) =>
            nativeConv2d({
              inputs: { x, filter },
              backend,
              attrs: {
                strides: 1,
                pad: [
                  [0, 0],
                  [top, bottom],
                  [left, right],
                  [0, 0],
                ],
                dataFormat: 'NHWC',
                dilations,
              },
            }) as TensorInfo,
  };
}
