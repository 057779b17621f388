import { Inflate } from 'fflate';
import { checkpointError } from './checkpoint-error.js';
import { crc32 } from './crc32.js';

/** One file of a zip archive, as its central directory describes it (zip64 fields resolved). */
export interface ZipEntry {
  /** Path of the entry in the archive, e.g. `archive/data/0` or `mu.npy`. */
  readonly name: string;
  /** Compression method: 0 (stored) or 8 (deflate). */
  readonly method: number;
  /** Bytes of (possibly compressed) data in the archive. */
  readonly compressedSize: number;
  /** Declared size of the entry's contents, in bytes. */
  readonly size: number;
  /** Declared CRC-32 of the entry's contents (see {@link crc32}), an unsigned 32-bit integer. */
  readonly crc32: number;
  /** Byte offset of the entry's data in the archive. */
  readonly dataOffset: number;
}

/**
 * Limits on the memory one operation may fill from a zip archive (see {@link ZipArchive.read}): the declared size of
 * each entry is checked before it is read, and the running total is kept in `remainingBytes`. Deflated entries
 * always count (they are inflated into new memory); stored entries, returned as views of the archive, count only
 * with `countStored` (for callers that copy them).
 */
export interface InflateBudget {
  /** Largest declared size of one counted entry, in bytes (named `maxEntryBytes` in messages). */
  readonly maxEntryBytes: number;
  /** Bytes that counted entries may still declare in the current operation; decreased by each one read. */
  remainingBytes: number;
  /** The total that `remainingBytes` started from (named `maxTotalBytes` in messages). */
  readonly maxTotalBytes: number;
  /** Count stored entries against the limits too (default false: only deflated entries count). */
  readonly countStored?: boolean;
}

/** Options of {@link ZipArchive.read}. */
export interface ZipReadOptions {
  /** Compare the CRC-32 of the contents with the one the central directory declares (default true). */
  readonly verifyCrc?: boolean;
}

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
/** Compressed bytes fed to the inflater at a time: one push produces at most ~1032 times as many bytes. */
const INFLATE_CHUNK = 16 * 1024;

/**
 * A zip archive (PKWARE's APPNOTE.TXT) read through its central directory: what `torch.save` writes (stored
 * entries, zip64 when large) and what numpy's `np.savez` / `np.savez_compressed` write (stored or deflated `.npy`
 * entries, zip64 extra fields). The directory is checked for consistency before any entry is used: every entry lies
 * inside the archive, stored entries have equal compressed and declared sizes, no name appears twice, no entry is
 * encrypted and every method is stored or deflate. Stored entries are returned as views of the archive (no copy);
 * deflated entries are inflated with fflate's streaming inflater under an {@link InflateBudget}. Each entry read is
 * checked against its declared CRC-32 (unless `verifyCrc: false`).
 *
 * Every error is an `SbmArgumentError` on the argument `bytes` whose message names the file and, when known, the
 * entry, e.g. `bytes: stats.npz: sigma.npy: CRC-32 mismatch ...`.
 *
 * @example
 * ```ts
 * const zip = ZipArchive.open(bytes, 'stats.npz');
 * const budget = { maxEntryBytes: 2 ** 30, maxTotalBytes: 2 ** 31, remainingBytes: 2 ** 31 };
 * for (const name of zip.entries.keys()) console.log(name, zip.read(name, budget).length);
 * ```
 */
export class ZipArchive {
  /** Entries by name. */
  readonly entries: ReadonlyMap<string, ZipEntry>;
  private readonly bytes: Uint8Array;
  private readonly file: string;

  private constructor(bytes: Uint8Array, file: string, entries: Map<string, ZipEntry>) {
    this.bytes = bytes;
    this.file = file;
    this.entries = entries;
  }

  /**
   * Reads the central directory (and the local header of every entry); no entry's data is read yet.
   *
   * @param bytes - the whole archive.
   * @param file - name of the file, for error messages.
   * @throws SbmArgumentError naming the file (and the entry) if the directory is missing, truncated or
   *   inconsistent, or an entry is encrypted or compressed with another method than stored or deflate.
   */
  static open(bytes: Uint8Array, file: string): ZipArchive {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const fail = (where: string | undefined, message: string) => checkpointError(file, where, message);
    const u16 = (p: number) => view.getUint16(p, true);
    const u32 = (p: number) => view.getUint32(p, true);
    const u64 = (p: number, what: string) => {
      const value = view.getBigUint64(p, true);
      if (value > BigInt(Number.MAX_SAFE_INTEGER))
        throw fail(undefined, `zip64 ${what} ${value} is too large`);
      return Number(value);
    };

    // End of central directory: 22 bytes plus a comment of at most 65535 bytes, at the end of the archive.
    let eocd = -1;
    for (let p = bytes.length - 22; p >= Math.max(0, bytes.length - 22 - 0xffff); p--) {
      if (u32(p) === EOCD_SIGNATURE && p + 22 + u16(p + 20) === bytes.length) {
        eocd = p;
        break;
      }
    }
    if (eocd < 0)
      throw fail(
        undefined,
        'no end of central directory record: the zip archive is truncated or not a zip file',
      );
    if (u16(eocd + 4) !== 0 || u16(eocd + 6) !== 0)
      throw fail(undefined, 'multi-disk zip archives are not supported');
    let count = u16(eocd + 10);
    let directorySize = u32(eocd + 12);
    let directoryOffset = u32(eocd + 16);
    let directoryEnd = eocd;
    if (count === 0xffff || directorySize === 0xffffffff || directoryOffset === 0xffffffff) {
      const locator = eocd - 20;
      if (locator < 0 || u32(locator) !== ZIP64_LOCATOR_SIGNATURE)
        throw fail(
          undefined,
          'the end of central directory needs zip64 fields but there is no zip64 locator',
        );
      const record = u64(locator + 8, 'end of central directory offset');
      if (record + 56 > locator || u32(record) !== ZIP64_EOCD_SIGNATURE)
        throw fail(undefined, 'the zip64 end of central directory record is missing or truncated');
      count = u64(record + 32, 'entry count');
      directorySize = u64(record + 40, 'central directory size');
      directoryOffset = u64(record + 48, 'central directory offset');
      directoryEnd = record;
    }
    if (directoryOffset + directorySize > directoryEnd) {
      throw fail(
        undefined,
        `the central directory (${directorySize} bytes at ${directoryOffset}) runs past its end record at ${directoryEnd}: truncated archive`,
      );
    }

    const decoder = new TextDecoder();
    const entries = new Map<string, ZipEntry>();
    let p = directoryOffset;
    for (let i = 0; i < count; i++) {
      if (p + 46 > directoryOffset + directorySize || u32(p) !== CENTRAL_SIGNATURE)
        throw fail(undefined, `central directory entry ${i} of ${count} is missing or truncated`);
      const flags = u16(p + 8);
      const method = u16(p + 10);
      const crc = u32(p + 16);
      let compressedSize = u32(p + 20);
      let size = u32(p + 24);
      const nameLength = u16(p + 28);
      const extraLength = u16(p + 30);
      const commentLength = u16(p + 32);
      let localOffset = u32(p + 42);
      const next = p + 46 + nameLength + extraLength + commentLength;
      if (next > directoryOffset + directorySize)
        throw fail(undefined, `central directory entry ${i} of ${count} is truncated`);
      const name = decoder.decode(bytes.subarray(p + 46, p + 46 + nameLength));
      // Zip64 extended information: 64-bit values for exactly the fields saturated at 0xffffffff, in this order.
      const zip64Fields: [string, number][] = [];
      if (size === 0xffffffff) zip64Fields.push(['size', 0]);
      if (compressedSize === 0xffffffff) zip64Fields.push(['compressed size', 1]);
      if (localOffset === 0xffffffff) zip64Fields.push(['local header offset', 2]);
      if (zip64Fields.length > 0) {
        const values = zip64Extra(view, p + 46 + nameLength, extraLength, zip64Fields.length);
        if (values === undefined)
          throw fail(name, 'the entry needs zip64 sizes but has no (complete) zip64 extra field');
        zip64Fields.forEach(([what, field], k) => {
          const value = values[k]!;
          if (value > BigInt(Number.MAX_SAFE_INTEGER))
            throw fail(name, `zip64 ${what} ${value} is too large`);
          if (field === 0) size = Number(value);
          else if (field === 1) compressedSize = Number(value);
          else localOffset = Number(value);
        });
      }
      if (flags & 1) throw fail(name, 'encrypted zip entries are not supported');
      if (method !== 0 && method !== 8)
        throw fail(name, `compression method ${method} is not supported (only stored and deflate)`);
      if (method === 0 && compressedSize !== size)
        throw fail(name, `stored entry has ${compressedSize} bytes of data but declares a size of ${size}`);
      if (localOffset + 30 > directoryOffset || u32(localOffset) !== LOCAL_SIGNATURE)
        throw fail(name, `no local file header at offset ${localOffset}`);
      const dataOffset = localOffset + 30 + u16(localOffset + 26) + u16(localOffset + 28);
      if (dataOffset + compressedSize > directoryOffset) {
        throw fail(
          name,
          `its ${compressedSize} bytes of data at offset ${dataOffset} run past the central directory at ${directoryOffset}: truncated archive`,
        );
      }
      if (entries.has(name)) throw fail(name, 'the entry appears twice in the central directory');
      entries.set(name, { name, method, compressedSize, size, crc32: crc, dataOffset });
      p = next;
    }
    return new ZipArchive(bytes, file, entries);
  }

  /**
   * The contents of an entry. A stored entry is a view of the archive; a deflated entry is inflated into a new
   * array. A counted entry's declared size (every deflated entry, and stored ones with `budget.countStored`) is
   * checked against `budget.maxEntryBytes` and `budget.remainingBytes` before it is read, and inflating stops with
   * an error as soon as the output passes the declared size. The CRC-32 of the contents is then compared with the
   * declared one (computed while inflating, or in one pass over a stored entry: about 0.1 s per 100 MB).
   *
   * @param name - the entry's name (a key of {@link ZipArchive.entries}).
   * @param budget - the limits, shared by the reads of one operation; `remainingBytes` is decreased.
   * @param options - `verifyCrc` (default true).
   * @throws SbmArgumentError naming the file and entry if the entry is missing or over budget, its deflate data is
   *   corrupt or does not inflate to exactly its declared size, or its CRC-32 differs from the declared one.
   */
  read(name: string, budget: InflateBudget, options: ZipReadOptions = {}): Uint8Array {
    const entry = this.entries.get(name);
    if (entry === undefined) throw checkpointError(this.file, name, 'no such entry in the zip archive');
    const fail = (message: string) => checkpointError(this.file, name, message);
    const deflated = entry.method === 8;
    if (deflated || budget.countStored === true) {
      const declares = `declares ${entry.size} bytes${deflated ? ' when inflated' : ''}`;
      if (entry.size > budget.maxEntryBytes) {
        throw fail(`${declares}, more than the ${budget.maxEntryBytes} allowed (option maxEntryBytes)`);
      }
      if (entry.size > budget.remainingBytes) {
        throw fail(
          `${declares}, which would pass the ${budget.maxTotalBytes} bytes allowed in total (option maxTotalBytes)`,
        );
      }
      budget.remainingBytes -= entry.size;
    }
    const verify = options.verifyCrc ?? true;
    const data = this.bytes.subarray(entry.dataOffset, entry.dataOffset + entry.compressedSize);
    let contents: Uint8Array;
    let crc: number;
    if (deflated) [contents, crc] = inflateEntry(data, entry.size, verify, fail);
    else [contents, crc] = [data, verify ? crc32(data) : 0];
    if (verify && crc !== entry.crc32) {
      throw fail(
        `CRC-32 mismatch: the contents give ${hex32(crc)} but the central directory declares ${hex32(entry.crc32)} (corrupt archive)`,
      );
    }
    return contents;
  }
}

/**
 * Inflates raw deflate data that must give exactly `size` bytes, a chunk of compressed input at a time so that
 * inflating stops soon after the output passes `size` (memory grows with the actual output, not the declared size),
 * and the CRC-32 of the output (0 unless `withCrc`).
 */
function inflateEntry(
  data: Uint8Array,
  size: number,
  withCrc: boolean,
  fail: (message: string) => Error,
): [Uint8Array, number] {
  const chunks: Uint8Array[] = [];
  let produced = 0;
  let crc = 0;
  let overflow = false;
  const inflater = new Inflate((chunk) => {
    produced += chunk.length;
    if (produced > size) {
      overflow = true;
      throw fail(`inflates to more than its declared ${size} bytes`);
    }
    chunks.push(chunk);
    if (withCrc) crc = crc32(chunk, crc);
  });
  try {
    for (let p = 0; p < data.length || p === 0; p += INFLATE_CHUNK) {
      inflater.push(data.subarray(p, p + INFLATE_CHUNK), p + INFLATE_CHUNK >= data.length);
    }
  } catch (error) {
    if (overflow) throw error;
    throw fail(`corrupt deflate data (${(error as Error).message})`);
  }
  if (produced !== size) throw fail(`inflates to ${produced} bytes but declares ${size}`);
  const out = new Uint8Array(produced);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return [out, crc];
}

/** `0x` and 8 hexadecimal digits. */
function hex32(value: number): string {
  return `0x${value.toString(16).padStart(8, '0')}`;
}

/** The first `count` 64-bit values of the zip64 extra field (id 1) in an extra-field block, if present. */
function zip64Extra(view: DataView, start: number, length: number, count: number): bigint[] | undefined {
  let p = start;
  while (p + 4 <= start + length) {
    const id = view.getUint16(p, true);
    const size = view.getUint16(p + 2, true);
    if (p + 4 + size > start + length) return undefined;
    if (id === 1) {
      if (size < 8 * count) return undefined;
      return Array.from({ length: count }, (_, k) => view.getBigUint64(p + 4 + 8 * k, true));
    }
    p += 4 + size;
  }
  return undefined;
}
