import { BufferReader, Parser } from 'pickleparser';
import { checkpointError } from './checkpoint-error.js';
import { STORAGE_TYPES, type TorchDType } from './torch-dtype.js';
import { TorchTensorRef } from './torch-tensor-ref.js';

/** A global referenced by a pickle that the reader does not interpret (kept as a record of the call). */
export interface PickleGlobal {
  /** `module.name` of the global, e.g. `numpy.core.multiarray.scalar`. */
  global: string;
  /** The arguments it was called with. */
  args: unknown[];
}

/** A storage named by a persistent id of the pickle: `('storage', storage_type, key, location, numel[, view])`. */
export interface StorageUse {
  /** Storage key: the zip entry `data/<key>` or the legacy storage key. */
  readonly key: string;
  readonly dtype: TorchDType;
  /** Number of elements the persistent id declares for the storage. */
  readonly numel: number;
}

/** The result of unpickling one pickle of a checkpoint. */
export interface UnpickledObject {
  /** The unpickled object (see `TorchCheckpoint.root`). */
  root: unknown;
  /** Byte offset just after the pickle's STOP opcode, relative to the start of the bytes given. */
  end: number;
  /** Every tensor built while unpickling, with the storage its persistent id named. */
  tensors: Map<TorchTensorRef, StorageUse>;
}

/**
 * How persistent ids are read: `'zip'` for the 5-tuples of the zip format (`torch/serialization.py` `_load`),
 * `'legacy'` for the 6-tuples of the legacy format (`_legacy_load`; the sixth element, the view metadata of
 * pre-0.4 storage views, must be None), `'none'` for the plain header pickles of legacy files.
 */
export type PersistentIds = 'zip' | 'legacy' | 'none';

const asCount = (v: unknown): number | undefined => {
  const n = typeof v === 'bigint' && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
};

/** Marker attached to the functions that stand for `torch.<X>Storage` globals. */
const STORAGE_DTYPE = Symbol('storage dtype');

/**
 * Unpickles one pickle of a torch checkpoint with `pickleparser`. Dicts (also `OrderedDict`) become `Map`s, lists
 * and tuples arrays, Python bytes (protocol 2: `_codecs.encode(str, 'latin1')`) `Uint8Array`s,
 * `torch._utils._rebuild_tensor(_v2)` calls {@link TorchTensorRef}s (parameters are unwrapped), other globals
 * {@link PickleGlobal} records. Nothing is executed or imported.
 *
 * @param bytes - bytes starting at the pickle (anything after its STOP opcode is left alone).
 * @param file - name of the file, for error messages.
 * @param where - name of the pickle (e.g. `archive/data.pkl` or `object pickle`), for error messages.
 * @param persistentIds - the persistent-id convention of the file's format.
 * @param storageEntry - the {@link TorchTensorRef.storageEntry} of a storage key.
 * @throws SbmArgumentError naming the file and the pickle if the pickle is truncated, has an unknown opcode, or
 *   refers to storages in an unsupported way.
 */
export function unpickleTorch(
  bytes: Uint8Array,
  file: string,
  where: string,
  persistentIds: PersistentIds,
  storageEntry: (key: string) => string = (key) => key,
): UnpickledObject {
  const tensors = new Map<TorchTensorRef, StorageUse>();
  const storages = new WeakSet<StorageUse>();
  const parser = new Parser({
    unpicklingTypeOfDictionary: 'Map',
    persistentResolver: {
      resolve(pid: unknown): StorageUse {
        if (persistentIds === 'none') throw new Error('unexpected persistent id');
        const length = persistentIds === 'zip' ? 5 : 6;
        if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length !== length) {
          throw new Error(
            `unsupported persistent id ${describePid(pid)} (expected ('storage', type, key, location, numel${persistentIds === 'legacy' ? ', None' : ''}))`,
          );
        }
        const dtype = (pid[1] as { [STORAGE_DTYPE]?: TorchDType } | undefined)?.[STORAGE_DTYPE];
        if (dtype === undefined)
          throw new Error(`unsupported storage type in persistent id ${describePid(pid)}`);
        const numel = asCount(pid[4]);
        if (typeof pid[2] !== 'string' || numel === undefined)
          throw new Error(`malformed storage key or numel in persistent id ${describePid(pid)}`);
        if (persistentIds === 'legacy' && pid[5] !== null) {
          throw new Error(
            `storage ${pid[2]} is a view of another storage (view metadata ${describePid(pid[5])}), which only PyTorch < 0.4 wrote; not supported`,
          );
        }
        const storage: StorageUse = Object.freeze({ key: pid[2], dtype, numel });
        storages.add(storage);
        return storage;
      },
    },
    nameResolver: {
      resolve(module: string, name: string) {
        const full = `${module}.${name}`;
        if (full === 'collections.OrderedDict') return () => new Map();
        if (full === 'torch._utils._rebuild_tensor_v2' || full === 'torch._utils._rebuild_tensor') {
          return (storage: unknown, offset: unknown, size: unknown, stride: unknown) => {
            if (!storages.has(storage as StorageUse)) throw new Error(`${full} called without a storage`);
            const ref = new TorchTensorRef(
              (storage as StorageUse).dtype,
              storageEntry((storage as StorageUse).key),
              offset as number,
              (Array.isArray(size) ? [...size] : size) as number[],
              (Array.isArray(stride) ? [...stride] : stride) as number[],
            );
            tensors.set(ref, storage as StorageUse);
            return ref;
          };
        }
        if (
          full === 'torch._utils._rebuild_parameter' ||
          full === 'torch._utils._rebuild_parameter_with_state'
        )
          return (data: unknown) => data;
        if (full === '_codecs.encode') {
          // Protocol 2 pickles Python bytes as _codecs.encode(<latin-1 str>, 'latin1').
          return function encode(text: unknown, encoding: unknown): Uint8Array | PickleGlobal {
            if (typeof text === 'string' && (encoding === 'latin1' || encoding === 'latin-1'))
              return Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff);
            return { global: full, args: [text, encoding] };
          };
        }
        if (module === 'torch' && name in STORAGE_TYPES) {
          return Object.assign(
            function storageType(): never {
              throw new Error(`${full} cannot be called`);
            },
            { [STORAGE_DTYPE]: STORAGE_TYPES[name] },
          );
        }
        // A plain function (not an arrow) so that NEWOBJ / OBJ can construct it too.
        return function record(...args: unknown[]): PickleGlobal {
          return { global: full, args };
        };
      },
    },
  });
  const reader = new BufferReader(bytes);
  let root: unknown;
  try {
    root = parser.read(reader);
  } catch (error) {
    throw checkpointError(file, where, `could not unpickle (${(error as Error).message})`);
  }
  if (root === undefined)
    throw checkpointError(file, where, 'could not unpickle (the pickle holds no value)');
  return { root, end: reader.position, tensors };
}

function describePid(pid: unknown, depth = 0): string {
  if (Array.isArray(pid))
    return depth > 2 ? '(...)' : `(${pid.map((v) => describePid(v, depth + 1)).join(', ')})`;
  if (typeof pid === 'string') return `'${pid.length > 40 ? `${pid.slice(0, 40)}...` : pid}'`;
  if (typeof pid === 'function') return 'a global';
  return String(pid);
}
