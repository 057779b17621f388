/** Element types of PyTorch storages that can be read. */
export type TorchDType =
  | 'float32'
  | 'float64'
  | 'float16'
  | 'bfloat16'
  | 'int64'
  | 'int32'
  | 'int16'
  | 'int8'
  | 'uint8'
  | 'bool';

/** The storage classes that `torch.save` names in persistent ids (`torch.FloatStorage`, ...) and their dtypes. */
export const STORAGE_TYPES: Readonly<Record<string, TorchDType>> = {
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

/** Bytes per element of each dtype (`torch._utils._element_size`). */
export const DTYPE_BYTES: Readonly<Record<TorchDType, number>> = {
  float32: 4,
  float64: 8,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

/**
 * IEEE 754 binary16 to number: `(-1)^s · 2^(e−15) · (1 + f/1024)` for normal numbers, `(-1)^s · 2^−14 · f/1024`
 * for subnormals (e = 0), ±infinity or NaN for e = 31.
 */
function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/**
 * A function returning element `i` (in elements, not bytes) of a little-endian storage as a number (int64 values
 * beyond ±2^53 are rounded; bool is 0 or 1).
 *
 * @param dtype - element type of the storage.
 * @param bytes - the storage's raw bytes.
 */
export function elementReader(dtype: TorchDType, bytes: Uint8Array): (i: number) => number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'float32':
      return (i) => view.getFloat32(i * 4, true);
    case 'float64':
      return (i) => view.getFloat64(i * 8, true);
    case 'float16':
      return (i) => halfToNumber(view.getUint16(i * 2, true));
    case 'bfloat16': {
      // bfloat16 is the upper half of a float32.
      const bits = new Uint32Array(1);
      const asFloat = new Float32Array(bits.buffer);
      return (i) => {
        bits[0] = view.getUint16(i * 2, true) << 16;
        return asFloat[0]!;
      };
    }
    case 'int64':
      return (i) => Number(view.getBigInt64(i * 8, true));
    case 'int32':
      return (i) => view.getInt32(i * 4, true);
    case 'int16':
      return (i) => view.getInt16(i * 2, true);
    case 'int8':
      return (i) => view.getInt8(i);
    case 'uint8':
      return (i) => view.getUint8(i);
    case 'bool':
      return (i) => (view.getUint8(i) === 0 ? 0 : 1);
  }
}
