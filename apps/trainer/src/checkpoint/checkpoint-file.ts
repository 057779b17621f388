import { createHash, type Hash } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';
import { endianness } from 'node:os';
import { writeFileAtomic } from './atomic-file.js';
import { CheckpointError } from './checkpoint-error.js';

/**
 * The single-file checkpoint format (`.sbmckpt`), version 1. All integers little-endian.
 *
 * | offset        | size | content                                                                        |
 * | ------------- | ---- | ------------------------------------------------------------------------------ |
 * | 0             | 8    | magic `SBMCKPT\0`                                                              |
 * | 8             | 4    | format version (uint32)                                                        |
 * | 12            | 4    | header length H (uint32, a multiple of 8)                                      |
 * | 16            | 8    | payload length P (uint64)                                                      |
 * | 24            | 8    | first 8 bytes of SHA-256 of bytes 0–23 (guards the length fields)              |
 * | 32            | H    | UTF-8 JSON header `{format, created, meta, arrays: [{name, dtype, shape, offset, byteLength}]}`, space-padded |
 * | 32 + H        | P    | payload: each array's elements, little-endian, at `offset` (8-byte aligned, zero padding) |
 * | 32 + H + P    | 32   | SHA-256 of the header bytes                                                    |
 * | 64 + H + P    | 32   | SHA-256 of the payload bytes                                                   |
 */
export const CHECKPOINT_FORMAT_VERSION = 1;

/** The 8 magic bytes every checkpoint file starts with. */
export const CHECKPOINT_MAGIC: Uint8Array = new Uint8Array([0x53, 0x42, 0x4d, 0x43, 0x4b, 0x50, 0x54, 0x00]);

const PREAMBLE_BYTES = 32;
const TRAILER_BYTES = 64;
const ALIGN = 8;
const READ_CHUNK = 64 * 1024 * 1024;
const HOST_LITTLE_ENDIAN = endianness() === 'LE';

/** Element types a checkpoint array can have (4 bytes each). */
export type CheckpointDType = 'float32' | 'int32' | 'uint32';

/** The typed array of each {@link CheckpointDType}. */
export type CheckpointTypedArray = Float32Array | Int32Array | Uint32Array;

/** One named array of a checkpoint: row-major `data` of `shape` (`data.length` = product of `shape`). */
export interface CheckpointArray {
  dtype: CheckpointDType;
  shape: number[];
  data: CheckpointTypedArray;
}

/** What a checkpoint holds: JSON metadata and named arrays (in insertion order). */
export interface CheckpointContent {
  /** Any JSON-serializable object (non-finite numbers become `null`, as with `JSON.stringify`). */
  meta: Record<string, unknown>;
  arrays: Record<string, CheckpointArray>;
}

/** Index entry of one array in a checkpoint's header. */
export interface CheckpointArrayEntry {
  name: string;
  dtype: CheckpointDType;
  shape: number[];
  /** Byte offset from the start of the payload. */
  offset: number;
  byteLength: number;
}

/** A checkpoint's header: everything but the array data. */
export interface CheckpointHeader {
  path: string;
  version: number;
  /** ISO 8601 time of writing. */
  created: string;
  meta: Record<string, unknown>;
  /** Where each array lies in the payload, in file order. */
  index: CheckpointArrayEntry[];
  /** Size of the whole file in bytes. */
  byteLength: number;
}

/**
 * A checkpoint read by {@link readCheckpoint}: its header and its arrays (fresh, unshared buffers, in file
 * order); `{ meta, arrays }` can be written again as it is.
 */
export interface Checkpoint extends CheckpointHeader, CheckpointContent {}

/** Options of {@link writeCheckpoint}. */
export interface WriteCheckpointOptions {
  /** Largest single write, default 4 MiB. */
  chunkBytes?: number;
  /**
   * Called after every write with the bytes written so far and the file's total size (awaited: a slow hook
   * slows the writer down, which is how the tests kill a writer mid-file).
   */
  onProgress?: (written: number, total: number) => void | Promise<void>;
  /** Time stamp stored in the header, default now. */
  created?: Date;
}

const DTYPES: Record<CheckpointDType, new (buffer: ArrayBuffer) => CheckpointTypedArray> = {
  float32: Float32Array,
  int32: Int32Array,
  uint32: Uint32Array,
};

function alignUp(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Swaps the bytes of every 4-byte word (only used on big-endian hosts). */
function swap32(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += 4) {
    out[i] = bytes[i + 3]!;
    out[i + 1] = bytes[i + 2]!;
    out[i + 2] = bytes[i + 1]!;
    out[i + 3] = bytes[i]!;
  }
  return out;
}

/** Checks one array given to {@link writeCheckpoint}; throws a TypeError/RangeError naming it. */
function checkArray(name: string, array: CheckpointArray): void {
  const where = `writeCheckpoint: arrays['${name}']`;
  if (name === '') throw new RangeError('writeCheckpoint: array names must not be empty');
  const Ctor = DTYPES[array?.dtype];
  if (Ctor === undefined) {
    throw new TypeError(
      `${where}.dtype: expected 'float32', 'int32' or 'uint32', got ${String(array?.dtype)}`,
    );
  }
  if (!(array.data instanceof Ctor)) {
    throw new TypeError(
      `${where}.data: expected a ${Ctor.name} for dtype '${array.dtype}', got ${array.data?.constructor?.name}`,
    );
  }
  if (!Array.isArray(array.shape) || !array.shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new RangeError(
      `${where}.shape: expected non-negative integers, got ${JSON.stringify(array.shape)}`,
    );
  }
  if (product(array.shape) !== array.data.length) {
    throw new RangeError(
      `${where}: shape [${array.shape.join(',')}] has ${product(array.shape)} elements but data has ${array.data.length}`,
    );
  }
}

function preamble(headerLength: number, payloadLength: number): Uint8Array {
  const bytes = new Uint8Array(PREAMBLE_BYTES);
  const view = new DataView(bytes.buffer);
  bytes.set(CHECKPOINT_MAGIC, 0);
  view.setUint32(8, CHECKPOINT_FORMAT_VERSION, true);
  view.setUint32(12, headerLength, true);
  view.setBigUint64(16, BigInt(payloadLength), true);
  bytes.set(createHash('sha256').update(bytes.subarray(0, 24)).digest().subarray(0, 8), 24);
  return bytes;
}

/**
 * Writes a checkpoint file atomically: the bytes go to `<path>.tmp-<pid>-<rand>`, which is fsynced and renamed
 * over `path`, then the directory is fsynced; on any failure the temp file is removed and an existing `path` is
 * untouched. See {@link CHECKPOINT_FORMAT_VERSION} for the layout.
 *
 * @example
 * ```ts
 * await writeCheckpoint('ckpt.sbmckpt', {
 *   meta: { step: 1000 },
 *   arrays: { w: { dtype: 'float32', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) } },
 * });
 * ```
 * @returns The path and size of the file.
 * @throws TypeError or RangeError naming the array for an invalid array (dtype, shape, data length).
 */
export async function writeCheckpoint(
  path: string,
  content: CheckpointContent,
  options: WriteCheckpointOptions = {},
): Promise<{ path: string; byteLength: number }> {
  const chunkBytes = options.chunkBytes ?? 4 * 1024 * 1024;
  if (!Number.isInteger(chunkBytes) || chunkBytes <= 0 || chunkBytes % 4 !== 0) {
    throw new RangeError(
      `writeCheckpoint: options.chunkBytes: expected a positive multiple of 4, got ${chunkBytes}`,
    );
  }
  const entries: CheckpointArrayEntry[] = [];
  const sources: Uint8Array[] = [];
  let payloadLength = 0;
  for (const [name, array] of Object.entries(content.arrays)) {
    checkArray(name, array);
    const bytes = new Uint8Array(array.data.buffer, array.data.byteOffset, array.data.byteLength);
    entries.push({
      name,
      dtype: array.dtype,
      shape: [...array.shape],
      offset: payloadLength,
      byteLength: bytes.length,
    });
    sources.push(bytes);
    payloadLength = alignUp(payloadLength + bytes.length);
  }
  const header = {
    format: 'sbm-checkpoint',
    created: (options.created ?? new Date()).toISOString(),
    meta: content.meta,
    arrays: entries,
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const headerBytes = Buffer.alloc(alignUp(json.length), 0x20);
  json.copy(headerBytes);
  const total = PREAMBLE_BYTES + headerBytes.length + payloadLength + TRAILER_BYTES;

  await writeFileAtomic(path, async (handle) => {
    let position = 0;
    const put = async (bytes: Uint8Array) => {
      for (let start = 0; start < bytes.length; start += chunkBytes) {
        const piece = bytes.subarray(start, Math.min(bytes.length, start + chunkBytes));
        let done = 0;
        while (done < piece.length) {
          const { bytesWritten } = await handle.write(piece, done, piece.length - done, position);
          done += bytesWritten;
          position += bytesWritten;
        }
        await options.onProgress?.(position, total);
      }
    };
    await put(preamble(headerBytes.length, payloadLength));
    await put(headerBytes);
    const payloadHash = createHash('sha256');
    let written = 0;
    for (const [i, entry] of entries.entries()) {
      const padding = new Uint8Array(entry.offset - written);
      payloadHash.update(padding);
      await put(padding);
      const bytes = HOST_LITTLE_ENDIAN ? sources[i]! : swap32(sources[i]!);
      payloadHash.update(bytes);
      await put(bytes);
      written = entry.offset + entry.byteLength;
    }
    const tail = new Uint8Array(payloadLength - written);
    payloadHash.update(tail);
    await put(tail);
    const trailer = new Uint8Array(TRAILER_BYTES);
    trailer.set(createHash('sha256').update(headerBytes).digest(), 0);
    trailer.set(payloadHash.digest(), 32);
    await put(trailer);
    if (position !== total) throw new Error(`writeCheckpoint: wrote ${position} bytes, expected ${total}`);
  });
  return { path, byteLength: total };
}

/** Reads exactly `length` bytes at `position` into `target` (hashing them), or throws a truncation error. */
async function readExactly(
  handle: FileHandle,
  path: string,
  target: Uint8Array,
  position: number,
  hash?: Hash,
): Promise<void> {
  let done = 0;
  while (done < target.length) {
    const want = Math.min(READ_CHUNK, target.length - done);
    const { bytesRead } = await handle.read(target, done, want, position + done);
    if (bytesRead === 0) {
      throw new CheckpointError(
        path,
        `truncated while reading: expected ${position + target.length} bytes, got ${position + done}`,
      );
    }
    done += bytesRead;
  }
  hash?.update(target);
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

interface Layout {
  header: CheckpointHeader;
  headerLength: number;
  payloadLength: number;
  payloadHash: Uint8Array;
}

/** Validates the preamble, the size, the header checksum and the header's index; returns the layout. */
async function readLayout(handle: FileHandle, path: string): Promise<Layout> {
  const size = (await handle.stat()).size;
  if (size < PREAMBLE_BYTES) {
    throw new CheckpointError(
      path,
      `truncated: expected at least ${PREAMBLE_BYTES} bytes (the preamble), got ${size}`,
    );
  }
  const pre = new Uint8Array(PREAMBLE_BYTES);
  await readExactly(handle, path, pre, 0);
  const magic = pre.subarray(0, 8);
  if (!equalBytes(magic, CHECKPOINT_MAGIC)) {
    throw new CheckpointError(
      path,
      `not an sbm checkpoint: wrong magic bytes (expected ${hex(CHECKPOINT_MAGIC)} 'SBMCKPT\\0', got ${hex(magic)})`,
    );
  }
  const view = new DataView(pre.buffer);
  const version = view.getUint32(8, true);
  if (version !== CHECKPOINT_FORMAT_VERSION) {
    throw new CheckpointError(
      path,
      `unknown format version ${version} (this reader knows version ${CHECKPOINT_FORMAT_VERSION}; a newer trainer wrote it, or the file is corrupt)`,
    );
  }
  const check = createHash('sha256').update(pre.subarray(0, 24)).digest().subarray(0, 8);
  if (!equalBytes(check, pre.subarray(24, 32))) {
    throw new CheckpointError(
      path,
      'preamble checksum mismatch (the length fields in bytes 12–23 are corrupt)',
    );
  }
  const headerLength = view.getUint32(12, true);
  const payloadBig = view.getBigUint64(16, true);
  if (payloadBig > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new CheckpointError(path, `payload length ${payloadBig} is beyond what this reader supports`);
  }
  const payloadLength = Number(payloadBig);
  const expected = PREAMBLE_BYTES + headerLength + payloadLength + TRAILER_BYTES;
  if (size < expected) throw new CheckpointError(path, `truncated: expected ${expected} bytes, got ${size}`);
  if (size > expected) {
    throw new CheckpointError(
      path,
      `expected ${expected} bytes, got ${size} (unexpected data after the checksums)`,
    );
  }
  const trailer = new Uint8Array(TRAILER_BYTES);
  await readExactly(handle, path, trailer, expected - TRAILER_BYTES);
  const headerBytes = new Uint8Array(headerLength);
  const headerHash = createHash('sha256');
  await readExactly(handle, path, headerBytes, PREAMBLE_BYTES, headerHash);
  if (!equalBytes(headerHash.digest(), trailer.subarray(0, 32))) {
    throw new CheckpointError(
      path,
      `header checksum mismatch (bytes ${PREAMBLE_BYTES}–${PREAMBLE_BYTES + headerLength - 1} are corrupt)`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(headerBytes).toString('utf8'));
  } catch (error) {
    throw new CheckpointError(path, `header is not valid JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const header = validateHeader(path, parsed, payloadLength);
  return {
    header: {
      path,
      version,
      created: header.created,
      meta: header.meta,
      index: header.arrays,
      byteLength: size,
    },
    headerLength,
    payloadLength,
    payloadHash: trailer.slice(32, 64),
  };
}

/** Checks the header JSON's shape and that the array index fits the payload without overlaps. */
function validateHeader(
  path: string,
  value: unknown,
  payloadLength: number,
): { created: string; meta: Record<string, unknown>; arrays: CheckpointArrayEntry[] } {
  const bad = (what: string): never => {
    throw new CheckpointError(path, `invalid header: ${what}`);
  };
  if (typeof value !== 'object' || value === null) return bad('expected a JSON object');
  const h = value as Record<string, unknown>;
  if (h.format !== 'sbm-checkpoint') bad(`expected format 'sbm-checkpoint', got ${JSON.stringify(h.format)}`);
  if (typeof h.created !== 'string') bad('expected a string `created`');
  if (typeof h.meta !== 'object' || h.meta === null || Array.isArray(h.meta))
    bad('expected an object `meta`');
  if (!Array.isArray(h.arrays)) return bad('expected an array `arrays`');
  const names = new Set<string>();
  let end = 0;
  const arrays: CheckpointArrayEntry[] = [];
  for (const [i, raw] of (h.arrays as unknown[]).entries()) {
    const e = raw as Partial<CheckpointArrayEntry>;
    const label = typeof e?.name === 'string' ? `array '${e.name}'` : `arrays[${i}]`;
    if (typeof e?.name !== 'string' || e.name === '') bad(`${label}: expected a non-empty name`);
    if (names.has(e.name!)) bad(`${label}: duplicate name`);
    names.add(e.name!);
    if (DTYPES[e.dtype as CheckpointDType] === undefined)
      bad(`${label}: unknown dtype ${JSON.stringify(e.dtype)}`);
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) {
      bad(`${label}: invalid shape ${JSON.stringify(e.shape)}`);
    }
    const byteLength = product(e.shape!) * 4;
    if (e.byteLength !== byteLength) {
      bad(
        `${label}: byteLength ${e.byteLength} does not match shape [${e.shape!.join(',')}] (${byteLength} bytes)`,
      );
    }
    if (!Number.isInteger(e.offset) || e.offset! < end || e.offset! % ALIGN !== 0) {
      bad(`${label}: offset ${e.offset} is not 8-byte aligned after the previous array's end (${end})`);
    }
    end = e.offset! + byteLength;
    if (end > payloadLength)
      bad(`${label}: ends at payload byte ${end}, beyond the payload (${payloadLength} bytes)`);
    arrays.push({ name: e.name!, dtype: e.dtype!, shape: [...e.shape!], offset: e.offset!, byteLength });
  }
  return { created: h.created as string, meta: h.meta as Record<string, unknown>, arrays };
}

/**
 * Reads a checkpoint's header (metadata and array index) without its arrays, after checking the magic, the
 * version, the file size and the header checksum (not the payload checksum: use {@link readCheckpoint}).
 *
 * @throws CheckpointError naming the file and what is wrong.
 */
export async function readCheckpointHeader(path: string): Promise<CheckpointHeader> {
  const handle = await openForReading(path);
  try {
    return (await readLayout(handle, path)).header;
  } finally {
    await handle.close();
  }
}

async function openForReading(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (error) {
    throw new CheckpointError(path, `cannot open: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Reads and fully validates a checkpoint: magic, format version, preamble checksum, exact file size, header
 * checksum and index, payload checksum. Every array gets its own fresh buffer.
 *
 * @example
 * ```ts
 * const ckpt = await readCheckpoint('ckpt.sbmckpt');
 * ckpt.meta.step; ckpt.arrays.w.data; // Float32Array
 * ```
 * @throws CheckpointError naming the file and what is wrong: `truncated: expected N bytes, got M`,
 *   `header checksum mismatch`, `payload checksum mismatch`, `unknown format version V`, `wrong magic bytes`, ….
 */
export async function readCheckpoint(path: string): Promise<Checkpoint> {
  const handle = await openForReading(path);
  try {
    const { header, headerLength, payloadLength, payloadHash } = await readLayout(handle, path);
    const base = PREAMBLE_BYTES + headerLength;
    const hash = createHash('sha256');
    const arrays: Record<string, CheckpointArray> = {};
    let at = 0;
    for (const entry of header.index) {
      if (entry.offset > at) {
        await readExactly(handle, path, new Uint8Array(entry.offset - at), base + at, hash);
      }
      const buffer = new ArrayBuffer(entry.byteLength);
      const bytes = new Uint8Array(buffer);
      await readExactly(handle, path, bytes, base + entry.offset, hash);
      const Ctor = DTYPES[entry.dtype];
      const typed = HOST_LITTLE_ENDIAN ? new Ctor(buffer) : new Ctor(swap32(bytes).buffer as ArrayBuffer);
      arrays[entry.name] = { dtype: entry.dtype, shape: [...entry.shape], data: typed };
      at = entry.offset + entry.byteLength;
    }
    if (payloadLength > at)
      await readExactly(handle, path, new Uint8Array(payloadLength - at), base + at, hash);
    if (!equalBytes(hash.digest(), payloadHash)) {
      throw new CheckpointError(
        path,
        `payload checksum mismatch (bytes ${base}–${base + payloadLength - 1}: the array data is corrupt)`,
      );
    }
    return { ...header, arrays };
  } finally {
    await handle.close();
  }
}
