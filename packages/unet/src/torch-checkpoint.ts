import { SbmArgumentError } from '@sbm/sde';
import { unzipSync } from 'fflate';
import { Parser } from 'pickleparser';

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

const STORAGE_DTYPES: Record<string, { dtype: TorchDType; bytes: number }> = {
  FloatStorage: { dtype: 'float32', bytes: 4 },
  DoubleStorage: { dtype: 'float64', bytes: 8 },
  HalfStorage: { dtype: 'float16', bytes: 2 },
  BFloat16Storage: { dtype: 'bfloat16', bytes: 2 },
  LongStorage: { dtype: 'int64', bytes: 8 },
  IntStorage: { dtype: 'int32', bytes: 4 },
  ShortStorage: { dtype: 'int16', bytes: 2 },
  CharStorage: { dtype: 'int8', bytes: 1 },
  ByteStorage: { dtype: 'uint8', bytes: 1 },
  BoolStorage: { dtype: 'bool', bytes: 1 },
};

const DTYPE_BYTES = Object.fromEntries(
  Object.values(STORAGE_DTYPES).map((s) => [s.dtype, s.bytes]),
) as Record<TorchDType, number>;

/** A tensor in a checkpoint, not yet read: where its elements are and how they are laid out. */
export class TorchTensorRef {
  constructor(
    readonly dtype: TorchDType,
    /** Entry of the zip archive holding the storage, e.g. `archive/data/12`. */
    readonly storageEntry: string,
    /** Offset into the storage, in elements. */
    readonly offset: number,
    readonly shape: number[],
    /** Strides in elements (row-major contiguous for tensors saved by score_sde). */
    readonly stride: number[],
  ) {}

  /** Number of elements. */
  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
}

/** A global referenced by a pickle that the reader does not interpret (kept as a record of the call). */
export interface PickleGlobal {
  global: string;
  args: unknown[];
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

function readElement(view: DataView, dtype: TorchDType, i: number): number {
  switch (dtype) {
    case 'float32':
      return view.getFloat32(i * 4, true);
    case 'float64':
      return view.getFloat64(i * 8, true);
    case 'float16':
      return halfToFloat(view.getUint16(i * 2, true));
    case 'bfloat16':
      // bfloat16 is the upper half of a float32.
      return new Float32Array(Uint32Array.of(view.getUint16(i * 2, true) << 16).buffer)[0]!;
    case 'int64':
      return Number(view.getBigInt64(i * 8, true));
    case 'int32':
      return view.getInt32(i * 4, true);
    case 'int16':
      return view.getInt16(i * 2, true);
    case 'int8':
      return view.getInt8(i);
    case 'uint8':
    case 'bool':
      return view.getUint8(i);
  }
}

/**
 * A PyTorch checkpoint written by `torch.save` (zip format: `<name>/data.pkl`, a pickle whose tensors refer to
 * storages `<name>/data/<key>` through persistent ids, as `torch.load` reads them). The pickle is parsed with
 * `pickleparser` and the archive read with `fflate`; tensors are read lazily with {@link TorchCheckpoint.read}.
 *
 * Object graph of {@link TorchCheckpoint.root}: dicts (also `OrderedDict`) are `Map`s, lists and tuples are
 * arrays, tensors and parameters are {@link TorchTensorRef}s, other globals are {@link PickleGlobal} records.
 */
export class TorchCheckpoint {
  readonly root: unknown;
  private readonly archive: Uint8Array;

  private constructor(archive: Uint8Array, root: unknown) {
    this.archive = archive;
    this.root = root;
  }

  /**
   * Parses the pickle of a zip-format `.pth` file (tensors are not read yet).
   *
   * @throws SbmArgumentError if `bytes` is not a zip-format torch checkpoint.
   */
  static parse(bytes: Uint8Array): TorchCheckpoint {
    let pickleEntry: string | undefined;
    let files: Record<string, Uint8Array>;
    try {
      files = unzipSync(bytes, {
        filter: (f) => {
          if (f.name.endsWith('/data.pkl') || f.name === 'data.pkl') {
            pickleEntry = f.name;
            return true;
          }
          return false;
        },
      });
    } catch (error) {
      throw new SbmArgumentError(
        'bytes',
        `expected a zip-format PyTorch checkpoint (torch.save with _use_new_zipfile_serialization), could not unzip: ${(error as Error).message}`,
      );
    }
    if (pickleEntry === undefined)
      throw new SbmArgumentError('bytes', 'the archive has no data.pkl: not a torch.save checkpoint');
    const prefix = pickleEntry.slice(0, pickleEntry.length - 'data.pkl'.length);
    const parser = new Parser({
      unpicklingTypeOfDictionary: 'Map',
      persistentResolver: {
        resolve(pid: unknown) {
          const tuple = pid as unknown[];
          if (!Array.isArray(tuple) || tuple[0] !== 'storage') {
            throw new Error(`unsupported persistent id ${JSON.stringify(pid)}`);
          }
          const storageType = tuple[1] as { storageName?: string };
          const info =
            storageType.storageName === undefined ? undefined : STORAGE_DTYPES[storageType.storageName];
          if (info === undefined)
            throw new Error(`unsupported storage type ${String(storageType.storageName)}`);
          return { storageEntry: `${prefix}data/${String(tuple[2])}`, dtype: info.dtype };
        },
      },
      nameResolver: {
        resolve(module: string, name: string) {
          const full = `${module}.${name}`;
          if (full === 'collections.OrderedDict') return () => new Map();
          if (full === 'torch._utils._rebuild_tensor_v2' || full === 'torch._utils._rebuild_tensor') {
            return (
              storage: { storageEntry: string; dtype: TorchDType },
              offset: number,
              size: number[],
              stride: number[],
            ) => new TorchTensorRef(storage.dtype, storage.storageEntry, offset, [...size], [...stride]);
          }
          if (full === 'torch._utils._rebuild_parameter') return (data: TorchTensorRef) => data;
          if (module === 'torch' && name in STORAGE_DTYPES)
            return Object.assign(() => undefined, { storageName: name });
          return (...args: unknown[]): PickleGlobal => ({ global: full, args });
        },
      },
    });
    let root: unknown;
    try {
      root = parser.parse(files[pickleEntry]!);
    } catch (error) {
      throw new SbmArgumentError('bytes', `could not unpickle ${pickleEntry}: ${(error as Error).message}`);
    }
    return new TorchCheckpoint(bytes, root);
  }

  /**
   * Reads tensors as float32 arrays in row-major (C) order of their shapes. Each storage is unzipped once.
   *
   * @throws Error if a storage is missing or too small for a tensor.
   */
  read(refs: readonly TorchTensorRef[]): Float32Array[] {
    const needed = new Set(refs.map((r) => r.storageEntry));
    const files = unzipSync(this.archive, { filter: (f) => needed.has(f.name) });
    return refs.map((ref) => {
      const bytes = files[ref.storageEntry];
      if (bytes === undefined)
        throw new Error(`checkpoint storage ${ref.storageEntry} is missing from the archive`);
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const available = bytes.byteLength / DTYPE_BYTES[ref.dtype];
      const out = new Float32Array(ref.size);
      const rank = ref.shape.length;
      const index = new Array<number>(rank).fill(0);
      for (let i = 0; i < out.length; i++) {
        let pos = ref.offset;
        for (let d = 0; d < rank; d++) pos += index[d]! * ref.stride[d]!;
        if (pos >= available)
          throw new Error(`checkpoint storage ${ref.storageEntry} is too small for its tensor`);
        out[i] = readElement(view, ref.dtype, pos);
        for (let d = rank - 1; d >= 0; d--) {
          index[d]!++;
          if (index[d]! < ref.shape[d]!) break;
          index[d] = 0;
        }
      }
      return out;
    });
  }
}
