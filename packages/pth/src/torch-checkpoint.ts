import { assertInteger, describeValue, SbmArgumentError } from '@sbm/sde';
import { checkpointError } from './checkpoint-error.js';
import { readLegacyFormat } from './legacy-format.js';
import { gatherStrided, layoutProblem } from './tensor-layout.js';
import { DTYPE_BYTES, type TorchDType } from './torch-dtype.js';
import { TorchTensorRef } from './torch-tensor-ref.js';
import type { PickleGlobal } from './torch-unpickler.js';
import type { InflateBudget, ZipArchive } from './zip-archive.js';
import { readZipFormat } from './zip-format.js';

/** Options of {@link TorchCheckpoint.parse}. */
export interface TorchCheckpointOptions {
  /** Name of the file in error messages (e.g. its path). Default `'<bytes>'`. */
  name?: string;
  /**
   * Largest declared size, in bytes, of one deflate-compressed zip entry; checked before inflating.
   * Default $2^{32}$ (4 GiB). Stored entries, which is all `torch.save` writes, are never copied and not counted.
   */
  maxEntryBytes?: number;
  /** Most bytes inflated by one `parse` or one `read` call, over all entries. Default $2^{32}$ (4 GiB). */
  maxTotalBytes?: number;
  /**
   * Most elements of one tensor ($\prod_i \mathrm{size}_i$), checked before its float32 output is allocated;
   * matters for views with zero or overlapping strides, whose size is not bounded by the file's. Default $2^{30}$.
   */
  maxTensorElements?: number;
}

/** Serialization format of a checkpoint: `torch.save`'s zip format (PyTorch ≥ 1.6) or its legacy format. */
export type TorchCheckpointFormat = 'zip' | 'legacy';

interface StorageInfo {
  readonly dtype: TorchDType;
  readonly numel: number;
}

const DEFAULT_MAX_BYTES = 2 ** 32;
const DEFAULT_MAX_TENSOR_ELEMENTS = 2 ** 30;

/**
 * A PyTorch checkpoint written by `torch.save`, in either serialization format (detected from the first bytes):
 * - zip (`PK\x03\x04`, the default since PyTorch 1.6): `<archive>/data.pkl` is a pickle whose tensors refer to
 *   storages `<archive>/data/<key>` through persistent ids;
 * - legacy (a pickle, `\x80`; `_use_new_zipfile_serialization=False` or PyTorch < 1.6): a magic-number pickle,
 *   protocol version, system info, the object pickle, the list of storage keys, then each storage's element count
 *   and raw bytes.
 *
 * Both are read as `torch.load` reads them (torch/serialization.py `_load` and `_legacy_load`), without executing
 * anything. Files from strangers are safe to parse: every tensor's extent
 * $\mathrm{offset} + \sum_i (\mathrm{size}_i - 1)\,\mathrm{stride}_i + 1$ is checked against its storage, every
 * storage against the size the pickle declares and the bytes present, decompression against declared sizes and the
 * limits of {@link TorchCheckpointOptions}; every failure is an {@link SbmArgumentError} whose message names the
 * file and the entry, pickle, storage or tensor at fault.
 *
 * Object graph of {@link TorchCheckpoint.root}: dicts (also `OrderedDict`) are `Map`s, lists and tuples are arrays,
 * tensors and parameters are {@link TorchTensorRef}s (the same for both formats), other globals are
 * {@link PickleGlobal} records. Tensors are read on demand with {@link TorchCheckpoint.read}.
 */
export class TorchCheckpoint {
  /** The unpickled object. */
  readonly root: unknown;
  /** The serialization format of the file. */
  readonly format: TorchCheckpointFormat;
  /** Name of the file in error messages. */
  readonly name: string;
  private readonly storages: ReadonlyMap<string, StorageInfo>;
  private readonly storageBytes: (entry: string, budget: InflateBudget) => Uint8Array;
  private readonly paths: ReadonlyMap<TorchTensorRef, string>;
  private readonly limits: Required<Omit<TorchCheckpointOptions, 'name'>>;

  private constructor(fields: {
    root: unknown;
    format: TorchCheckpointFormat;
    name: string;
    storages: ReadonlyMap<string, StorageInfo>;
    storageBytes: (entry: string, budget: InflateBudget) => Uint8Array;
    paths: ReadonlyMap<TorchTensorRef, string>;
    limits: Required<Omit<TorchCheckpointOptions, 'name'>>;
  }) {
    this.root = fields.root;
    this.format = fields.format;
    this.name = fields.name;
    this.storages = fields.storages;
    this.storageBytes = fields.storageBytes;
    this.paths = fields.paths;
    this.limits = fields.limits;
  }

  /**
   * Parses a `.pth` file of either format and checks every tensor against its storage (tensors are not read yet).
   * In Node: `TorchCheckpoint.parse(await readFile(path), { name: path })`.
   *
   * @param bytes - the whole file.
   * @param options - file name for messages and decompression / tensor-size limits.
   * @throws SbmArgumentError (argument `bytes`) naming the file and the part at fault if the file is not a torch
   *   checkpoint, is truncated or inconsistent, or passes a limit; (argument `options.*`) for bad options.
   */
  static parse(bytes: Uint8Array, options: TorchCheckpointOptions = {}): TorchCheckpoint {
    const name = options.name ?? '<bytes>';
    if (typeof name !== 'string')
      throw new SbmArgumentError('options.name', `expected a string, got ${describeValue(name)}`);
    const limits = {
      maxEntryBytes: options.maxEntryBytes ?? DEFAULT_MAX_BYTES,
      maxTotalBytes: options.maxTotalBytes ?? DEFAULT_MAX_BYTES,
      maxTensorElements: options.maxTensorElements ?? DEFAULT_MAX_TENSOR_ELEMENTS,
    };
    for (const [key, value] of Object.entries(limits)) assertInteger(`options.${key}`, value);
    if (!(bytes instanceof Uint8Array))
      throw new SbmArgumentError('bytes', `expected a Uint8Array, got ${describeValue(bytes)}`);

    const budget = newBudget(limits);
    let format: TorchCheckpointFormat;
    let contents: {
      root: unknown;
      tensors: Map<TorchTensorRef, unknown>;
      storages: ReadonlyMap<string, StorageInfo>;
    };
    let storageBytes: (entry: string, budget: InflateBudget) => Uint8Array;
    if (bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) {
      format = 'zip';
      const zip = readZipFormat(bytes, name, budget);
      const archive: ZipArchive = zip.archive;
      contents = zip;
      storageBytes = (entry, b) => archive.read(entry, b);
    } else if (bytes[0] === 0x80) {
      format = 'legacy';
      const legacy = readLegacyFormat(bytes, name);
      contents = legacy;
      storageBytes = (entry) => {
        const s = legacy.storages.get(entry)!;
        return bytes.subarray(s.byteOffset, s.byteOffset + s.numel * DTYPE_BYTES[s.dtype]);
      };
    } else {
      const tar = bytes.length > 262 && new TextDecoder().decode(bytes.subarray(257, 262)) === 'ustar';
      throw checkpointError(
        name,
        undefined,
        tar
          ? 'a tar archive: the tar format of PyTorch before 0.4 is not supported'
          : 'not a PyTorch checkpoint (expected a zip archive starting with PK\\x03\\x04 or a legacy pickle starting with 0x80)',
      );
    }

    const paths = tensorPaths(contents.root);
    for (const ref of contents.tensors.keys()) {
      const storage = contents.storages.get(ref.storageEntry)!;
      const problem = layoutProblem(ref, storage.numel, limits.maxTensorElements);
      if (problem !== undefined) {
        throw checkpointError(
          name,
          `tensor ${paths.get(ref) ?? '(not in root)'} (storage ${ref.storageEntry})`,
          problem,
        );
      }
    }
    return new TorchCheckpoint({
      root: contents.root,
      format,
      name,
      storages: contents.storages,
      storageBytes,
      paths,
      limits,
    });
  }

  /**
   * Where a tensor is in {@link TorchCheckpoint.root}, e.g. `root['model']['conv.weight']`, or `undefined` for a
   * tensor that is not reachable from the root (or not of this checkpoint).
   */
  pathOf(ref: TorchTensorRef): string | undefined {
    return this.paths.get(ref);
  }

  /**
   * Reads tensors as float32 arrays in row-major (C) order of their shapes, gathering strided views (transposed,
   * offset, overlapping or zero strides) element by element; float64 and int64 values are rounded to float32, bool
   * is 0/1. Every ref is checked against its storage before anything is allocated; each storage is read (inflated,
   * for deflated zip entries) once per call.
   *
   * @param refs - tensors of this checkpoint (from {@link TorchCheckpoint.root}).
   * @throws SbmArgumentError (argument `refs[i]`) if a ref names no storage of this checkpoint, has another dtype
   *   than its storage, or does not fit in it; (argument `bytes`) if a storage cannot be inflated within the limits.
   */
  read(refs: readonly TorchTensorRef[]): Float32Array[] {
    if (!Array.isArray(refs))
      throw new SbmArgumentError('refs', `expected an array of TorchTensorRef, got ${describeValue(refs)}`);
    refs.forEach((ref, i) => {
      if (!(ref instanceof TorchTensorRef))
        throw new SbmArgumentError(`refs[${i}]`, `expected a TorchTensorRef, got ${describeValue(ref)}`);
      const where = `${this.name}: tensor ${this.paths.get(ref) ?? `refs[${i}]`} (storage ${ref.storageEntry})`;
      const storage = this.storages.get(ref.storageEntry);
      if (storage === undefined)
        throw new SbmArgumentError(`refs[${i}]`, `${where}: no such storage in this checkpoint`);
      if (storage.dtype !== ref.dtype) {
        throw new SbmArgumentError(
          `refs[${i}]`,
          `${where}: the tensor's dtype ${ref.dtype} is not the storage's ${storage.dtype}`,
        );
      }
      const problem = layoutProblem(ref, storage.numel, this.limits.maxTensorElements);
      if (problem !== undefined) throw new SbmArgumentError(`refs[${i}]`, `${where}: ${problem}`);
    });
    const budget = newBudget(this.limits);
    const storageBytes = new Map<string, Uint8Array>();
    return refs.map((ref) => {
      let bytes = storageBytes.get(ref.storageEntry);
      if (bytes === undefined) {
        bytes = this.storageBytes(ref.storageEntry, budget);
        storageBytes.set(ref.storageEntry, bytes);
      }
      return gatherStrided(bytes, ref.dtype, ref);
    });
  }
}

function newBudget(limits: { maxEntryBytes: number; maxTotalBytes: number }): InflateBudget {
  return {
    maxEntryBytes: limits.maxEntryBytes,
    maxTotalBytes: limits.maxTotalBytes,
    remainingBytes: limits.maxTotalBytes,
  };
}

/**
 * The path of every tensor reachable from `root` (the first one found, depth first), through `Map` keys, array
 * indices and the `args` of {@link PickleGlobal} records. Iterative, and each object is visited once, so shared
 * or cyclic references (which pickles can hold) cost nothing extra.
 */
function tensorPaths(root: unknown): Map<TorchTensorRef, string> {
  const paths = new Map<TorchTensorRef, string>();
  const visited = new Set<unknown>();
  const stack: [unknown, string][] = [[root, 'root']];
  while (stack.length > 0) {
    const [value, path] = stack.pop()!;
    if (typeof value !== 'object' || value === null || visited.has(value)) continue;
    visited.add(value);
    if (value instanceof TorchTensorRef) {
      paths.set(value, path);
      continue;
    }
    const children: [unknown, string][] = [];
    if (value instanceof Map) {
      for (const [k, v] of value)
        children.push([v, `${path}[${typeof k === 'string' ? `'${k}'` : String(k)}]`]);
    } else if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) children.push([value[i], `${path}[${i}]`]);
    } else if (Array.isArray((value as PickleGlobal).args)) {
      const { args } = value as PickleGlobal;
      for (let i = 0; i < args.length; i++) children.push([args[i], `${path}.args[${i}]`]);
    }
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
  }
  return paths;
}
