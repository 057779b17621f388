import { elementReader, type TorchDType } from './torch-dtype.js';

/** Where a strided tensor's elements are in its storage (all in elements, as in `Tensor.as_strided`). */
export interface StridedLayout {
  /** Storage offset of element [0, ..., 0]. */
  readonly offset: number;
  /** Size of each dimension. */
  readonly shape: readonly number[];
  /** Step in the storage per index of each dimension. */
  readonly stride: readonly number[];
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * Checks a strided layout against a storage of `storageLength` elements without touching the storage: shape, strides
 * and offset must be non-negative safe integers (as PyTorch writes them), shape and stride of equal rank, the number
 * of elements Π size_i at most `maxElements`, and the extent
 *
 *   extent = offset + Σ_i (size_i − 1) · stride_i + 1   (0 for a tensor with no elements)
 *
 * (one past the last storage element read) at most `storageLength`. Overlapping and zero strides are allowed.
 *
 * @returns a description of the first problem found, or `undefined` if the layout is readable.
 */
export function layoutProblem(
  layout: StridedLayout,
  storageLength: number,
  maxElements: number,
): string | undefined {
  const { offset, shape, stride } = layout;
  if (!Array.isArray(shape) || !shape.every(isCount))
    return `shape ${describeList(shape)} is not a list of non-negative integers`;
  if (!Array.isArray(stride) || !stride.every(isCount))
    return `stride ${describeList(stride)} is not a list of non-negative integers`;
  if (shape.length !== stride.length)
    return `shape [${shape.join(', ')}] and stride [${stride.join(', ')}] have different ranks`;
  if (!isCount(offset)) return `storage offset ${String(offset)} is not a non-negative integer`;
  let elements = 1;
  for (const size of shape) {
    elements *= size;
    if (elements > maxElements)
      return `shape [${shape.join(', ')}] has more than the ${maxElements} elements allowed (option maxTensorElements)`;
  }
  if (elements === 0) return undefined;
  // Every term is a non-negative (possibly rounded, never wrapped) number, so a forged layout cannot sneak under.
  let extent = offset + 1;
  for (let d = 0; d < shape.length; d++) extent += (shape[d]! - 1) * stride[d]!;
  if (extent > storageLength) {
    return `offset ${offset}, shape [${shape.join(', ')}] and stride [${stride.join(', ')}] reach element ${extent - 1} of a storage of ${storageLength} elements`;
  }
  return undefined;
}

function describeList(value: unknown): string {
  return Array.isArray(value) ? `[${value.map(String).join(', ')}]` : String(value);
}

const littleEndianHost = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/**
 * Gathers a strided tensor from its storage into a new float32 array in row-major (C) order of its shape:
 * out[i_0, ..., i_{n−1}] = storage[offset + Σ_d i_d · stride_d]. The layout must have passed
 * {@link layoutProblem} for this storage.
 *
 * @param storage - the storage's raw little-endian bytes.
 * @param dtype - element type of the storage.
 */
export function gatherStrided(storage: Uint8Array, dtype: TorchDType, layout: StridedLayout): Float32Array {
  const { offset, shape, stride } = layout;
  const count = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(count);
  if (count === 0) return out;
  if (dtype === 'float32' && littleEndianHost && isContiguous(shape, stride)) {
    new Uint8Array(out.buffer).set(storage.subarray(offset * 4, (offset + count) * 4));
    return out;
  }
  const read = elementReader(dtype, storage);
  const rank = shape.length;
  if (rank === 0) {
    out[0] = read(offset);
    return out;
  }
  // Walk the outer dimensions with an index counter; the last dimension is a plain strided loop.
  const inner = shape[rank - 1]!;
  const innerStride = stride[rank - 1]!;
  const index = new Array<number>(rank - 1).fill(0);
  let base = offset;
  for (let o = 0; o < count; o += inner) {
    for (let j = 0; j < inner; j++) out[o + j] = read(base + j * innerStride);
    for (let d = rank - 2; d >= 0; d--) {
      index[d]!++;
      base += stride[d]!;
      if (index[d]! < shape[d]!) break;
      base -= index[d]! * stride[d]!;
      index[d] = 0;
    }
  }
  return out;
}

/** Row-major contiguity, ignoring the strides of dimensions of size 1 (as `Tensor.is_contiguous` does). */
function isContiguous(shape: readonly number[], stride: readonly number[]): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expected) return false;
    expected *= shape[d]!;
  }
  return true;
}
