import { checkpointError } from './checkpoint-error.js';
import { DTYPE_BYTES, type TorchDType } from './torch-dtype.js';
import type { TorchTensorRef } from './torch-tensor-ref.js';
import { type StorageUse, unpickleTorch } from './torch-unpickler.js';

/** Where a storage of a legacy-format file is. */
export interface LegacyStorage {
  readonly dtype: TorchDType;
  /** Number of elements. */
  readonly numel: number;
  /** Byte offset of the first element in the file. */
  readonly byteOffset: number;
}

/** The parts of a legacy-format file. */
export interface LegacyContents {
  root: unknown;
  tensors: Map<TorchTensorRef, StorageUse>;
  /** Storages by key. */
  storages: Map<string, LegacyStorage>;
}

/** `torch.serialization.MAGIC_NUMBER`, 0x1950a86a20f9469cfc6c, as the 10 little-endian bytes of a pickled LONG1. */
const MAGIC_NUMBER = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];
/** `torch.serialization.PROTOCOL_VERSION`. */
const PROTOCOL_VERSION = 1001;

/**
 * Reads the layout of a file written by `torch.save(obj, f, _use_new_zipfile_serialization=False)` (the only
 * format before PyTorch 1.6), as `_legacy_load` in torch/serialization.py does: five pickles in a row — the magic
 * number, the protocol version (1001), the system info (`little_endian` must be true), the object (persistent ids
 * `('storage', storage_type, key, location, numel, None)`), the list of storage keys — then, for each key in that
 * order, an int64 little-endian element count followed by the storage's raw bytes. Every count is checked against
 * the numel of the persistent ids and against the bytes left in the file; storages are not copied.
 *
 * @param bytes - the whole file.
 * @param file - name of the file, for error messages.
 * @throws SbmArgumentError naming the file and the pickle or storage key at fault.
 */
export function readLegacyFormat(bytes: Uint8Array, file: string): LegacyContents {
  let position = magicNumberEnd(bytes, file);

  const version = unpickleTorch(bytes.subarray(position), file, 'protocol version pickle', 'none');
  if (version.root !== PROTOCOL_VERSION) {
    throw checkpointError(
      file,
      'protocol version pickle',
      `expected protocol version ${PROTOCOL_VERSION}, got ${String(version.root)}`,
    );
  }
  position += version.end;

  const sysInfo = unpickleTorch(bytes.subarray(position), file, 'system info pickle', 'none');
  if (!(sysInfo.root instanceof Map) || sysInfo.root.get('little_endian') !== true) {
    throw checkpointError(
      file,
      'system info pickle',
      'the file was not written on a little-endian machine (or has no little_endian flag); not supported',
    );
  }
  position += sysInfo.end;

  const object = unpickleTorch(bytes.subarray(position), file, 'object pickle', 'legacy');
  position += object.end;

  const keyList = unpickleTorch(bytes.subarray(position), file, 'storage key pickle', 'none');
  const keys = keyList.root;
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string'))
    throw checkpointError(file, 'storage key pickle', 'expected a list of storage keys (strings)');
  position += keyList.end;

  // The dtype and numel of each storage, from the persistent ids of the object pickle.
  const declared = new Map<string, StorageUse>();
  for (const use of object.tensors.values()) {
    const seen = declared.get(use.key);
    if (seen !== undefined && (seen.dtype !== use.dtype || seen.numel !== use.numel)) {
      throw checkpointError(
        file,
        `storage ${use.key}`,
        `the object pickle declares it both as ${seen.numel} × ${seen.dtype} and as ${use.numel} × ${use.dtype}`,
      );
    }
    declared.set(use.key, use);
  }

  const listed = new Set(keys as string[]);
  for (const key of declared.keys()) {
    if (!listed.has(key))
      throw checkpointError(file, `storage ${key}`, 'used by a tensor but missing from the storage keys');
  }

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const storages = new Map<string, LegacyStorage>();
  for (const key of keys as string[]) {
    const where = `storage ${key}`;
    const use = declared.get(key);
    if (use === undefined)
      throw checkpointError(file, where, 'listed in the storage keys but used by no tensor');
    if (storages.has(key)) throw checkpointError(file, where, 'listed twice in the storage keys');
    if (position + 8 > bytes.length)
      throw checkpointError(file, where, 'the file ends before the storage (truncated file)');
    const count = view.getBigInt64(position, true);
    const elementBytes = DTYPE_BYTES[use.dtype];
    const remaining = bytes.length - position - 8;
    if (count < 0n || count * BigInt(elementBytes) > BigInt(remaining)) {
      throw checkpointError(
        file,
        where,
        `declares ${count} elements of ${elementBytes} bytes but only ${remaining} bytes remain in the file`,
      );
    }
    const numel = Number(count);
    if (numel !== use.numel) {
      throw checkpointError(
        file,
        where,
        `holds ${numel} elements but the object pickle declares ${use.numel} (torch.load rejects this too)`,
      );
    }
    storages.set(key, { dtype: use.dtype, numel, byteOffset: position + 8 });
    position += 8 + numel * elementBytes;
  }
  return { root: object.root, tensors: object.tensors, storages };
}

/**
 * Checks the first pickle, the magic number (protocol 2 `\x80\x02\x8a\x0a<10 bytes>.`; protocol 4 and above add
 * an 8-byte FRAME), and returns the offset after it.
 */
function magicNumberEnd(bytes: Uint8Array, file: string): number {
  let p = 2;
  if (bytes.length >= 2 && bytes[0] === 0x80 && bytes[1]! >= 4 && bytes[2] === 0x95) p += 9;
  const ok =
    bytes.length >= p + 13 &&
    bytes[0] === 0x80 &&
    bytes[p] === 0x8a &&
    bytes[p + 1] === MAGIC_NUMBER.length &&
    MAGIC_NUMBER.every((b, i) => bytes[p + 2 + i] === b) &&
    bytes[p + 12] === 0x2e;
  if (!ok) {
    throw checkpointError(
      file,
      'magic number pickle',
      'not a legacy torch.save file (the first pickle is not the magic number 0x1950a86a20f9469cfc6c)',
    );
  }
  return p + 13;
}
