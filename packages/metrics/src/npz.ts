import { crc32, type InflateBudget, ZipArchive } from '@sbm/pth';
import { SbmArgumentError } from '@sbm/sde';
import type { FidStatistics } from './frechet-distance.js';

/** Element types of {@link NpyArray} (numpy's names). */
export type NpyDtype =
  | 'float64'
  | 'float32'
  | 'int64'
  | 'int32'
  | 'int16'
  | 'int8'
  | 'uint64'
  | 'uint32'
  | 'uint16'
  | 'uint8'
  | 'bool';

/** Typed-array storage of an {@link NpyArray}: `Float64Array` for float64, `BigInt64Array` for int64, `Uint8Array` for bool, … */
export type NpyData =
  | Float64Array
  | Float32Array
  | BigInt64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | BigUint64Array
  | Uint32Array
  | Uint16Array
  | Uint8Array;

/** An n-dimensional array as stored in a `.npy` file, always in C (row-major) order here. */
export interface NpyArray {
  /** Element type (numpy's name; the `descr` `'<f8'` is `'float64'`); decides the typed array of `data`. */
  dtype: NpyDtype;
  /** Shape (`[]` for a 0-d array). */
  shape: number[];
  /** `∏ shape` elements in C order. */
  data: NpyData;
}

/** Options of {@link readNpz} and {@link readFidStatistics}. */
export interface ReadNpzOptions {
  /** Name of the file for error messages (default `'<bytes>'`). */
  name?: string;
  /** Largest accepted (uncompressed) entry, in bytes (default 1 GiB). */
  maxEntryBytes?: number;
  /** Largest accepted sum of the uncompressed entries, in bytes (default 2 GiB). */
  maxTotalBytes?: number;
}

interface DtypeInfo {
  dtype: NpyDtype;
  size: number;
  make: (n: number) => NpyData;
  get: (view: DataView, offset: number, little: boolean) => number | bigint;
  set: (view: DataView, offset: number, value: number | bigint, little: boolean) => void;
}

const DTYPES: Record<string, DtypeInfo> = {
  f8: info('float64', 8, (n) => new Float64Array(n), 'Float64'),
  f4: info('float32', 4, (n) => new Float32Array(n), 'Float32'),
  i8: info('int64', 8, (n) => new BigInt64Array(n), 'BigInt64'),
  i4: info('int32', 4, (n) => new Int32Array(n), 'Int32'),
  i2: info('int16', 2, (n) => new Int16Array(n), 'Int16'),
  i1: info('int8', 1, (n) => new Int8Array(n), 'Int8'),
  u8: info('uint64', 8, (n) => new BigUint64Array(n), 'BigUint64'),
  u4: info('uint32', 4, (n) => new Uint32Array(n), 'Uint32'),
  u2: info('uint16', 2, (n) => new Uint16Array(n), 'Uint16'),
  u1: info('uint8', 1, (n) => new Uint8Array(n), 'Uint8'),
  b1: info('bool', 1, (n) => new Uint8Array(n), 'Uint8'),
};

type ViewType =
  | 'Float64'
  | 'Float32'
  | 'BigInt64'
  | 'Int32'
  | 'Int16'
  | 'Int8'
  | 'BigUint64'
  | 'Uint32'
  | 'Uint16'
  | 'Uint8';

function info(dtype: NpyDtype, size: number, make: (n: number) => NpyData, view: ViewType): DtypeInfo {
  const getter = `get${view}` as const;
  const setter = `set${view}` as const;
  return {
    dtype,
    size,
    make,
    get: (v, o, little) => (v[getter] as (o: number, l: boolean) => number | bigint).call(v, o, little),
    set: (v, o, x, little) =>
      (v[setter] as (o: number, x: number | bigint, l: boolean) => void).call(v, o, x, little),
  };
}

const CODE_OF: Record<NpyDtype, string> = {
  float64: '<f8',
  float32: '<f4',
  int64: '<i8',
  int32: '<i4',
  int16: '<i2',
  int8: '|i1',
  uint64: '<u8',
  uint32: '<u4',
  uint16: '<u2',
  uint8: '|u1',
  bool: '|b1',
};

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/**
 * Parses one `.npy` file (numpy's format description, `numpy/lib/format.py`, versions 1.0, 2.0 and 3.0):
 * magic `\x93NUMPY`, version, header length (2 bytes in 1.0, 4 bytes after), a Python dict literal
 * `{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }`, then the raw data. Little- and
 * big-endian numeric dtypes and bool are read; Fortran-order arrays are transposed into C order.
 *
 * @param bytes - the file's bytes.
 * @param name - name for error messages (default `'<bytes>'`).
 * @throws SbmArgumentError naming the file for a bad magic/header, an unsupported dtype (e.g. structured,
 *   strings, objects, float16) or a data section of the wrong length.
 */
export function readNpy(bytes: Uint8Array, name = '<bytes>'): NpyArray {
  const fail = (message: string): never => {
    throw new SbmArgumentError('bytes', `${name}: ${message}`);
  };
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b))
    fail('not a .npy file (no \\x93NUMPY magic)');
  const major = bytes[6]!;
  if (major < 1 || major > 3) fail(`unsupported .npy format version ${major}.${bytes[7]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerStart = major === 1 ? 10 : 12;
  if (bytes.length < headerStart) fail('truncated .npy header');
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = headerStart + headerLength;
  if (dataStart > bytes.length)
    fail(`header length ${headerLength} runs past the end of the file (${bytes.length} bytes)`);
  const headerBytes = bytes.subarray(headerStart, dataStart);
  const header = major === 3 ? new TextDecoder('utf-8').decode(headerBytes) : latin1(headerBytes);
  let fields: Map<string, PyValue>;
  try {
    fields = parseHeader(header);
  } catch (e) {
    return fail(`cannot parse the .npy header ${JSON.stringify(header.trim())}: ${(e as Error).message}`);
  }
  const descr = fields.get('descr');
  const fortran = fields.get('fortran_order');
  const shapeValue = fields.get('shape');
  if (descr === undefined) return fail("the header has no 'descr'");
  if (typeof descr !== 'string')
    return fail(`unsupported dtype ${JSON.stringify(descr)} (only simple numeric dtypes are read)`);
  if (typeof fortran !== 'boolean') return fail("header has no boolean 'fortran_order'");
  if (
    !Array.isArray(shapeValue) ||
    !shapeValue.every((s) => typeof s === 'number' && Number.isSafeInteger(s) && s >= 0)
  ) {
    return fail("header has no valid 'shape' tuple");
  }
  const shape = shapeValue as number[];
  const order = descr[0];
  const code = descr.slice(1);
  const dt = DTYPES[code];
  if (dt === undefined || !(order === '<' || order === '>' || order === '|' || order === '=')) {
    return fail(
      `unsupported dtype '${descr}' (supported: f8, f4, i8, i4, i2, i1, u8, u4, u2, u1, b1 in either byte order)`,
    );
  }
  if (order === '|' && dt.size > 1) fail(`dtype '${descr}' needs a byte order`);
  const little = order !== '>';
  const count = shape.reduce((a, b) => a * b, 1);
  const needed = count * dt.size;
  if (!Number.isSafeInteger(needed)) fail(`shape (${shape.join(', ')}) is too large`);
  if (bytes.length - dataStart !== needed) {
    fail(
      `expected ${needed} data bytes for shape (${shape.join(', ')}) of '${descr}', found ${bytes.length - dataStart}`,
    );
  }
  const data = dt.make(count);
  const setAt = data as unknown as { [i: number]: number | bigint };
  if (!fortran || shape.length < 2) {
    for (let i = 0; i < count; i++) setAt[i] = dt.get(view, dataStart + i * dt.size, little);
  } else {
    // Fortran order: the first index varies fastest in the file; write each element at its C position.
    const rank = shape.length;
    const cStrides = new Array<number>(rank).fill(1);
    for (let k = rank - 2; k >= 0; k--) cStrides[k] = cStrides[k + 1]! * shape[k + 1]!;
    const index = new Array<number>(rank).fill(0);
    let cPos = 0;
    for (let f = 0; f < count; f++) {
      setAt[cPos] = dt.get(view, dataStart + f * dt.size, little);
      for (let k = 0; k < rank; k++) {
        index[k]!++;
        cPos += cStrides[k]!;
        if (index[k]! < shape[k]!) break;
        cPos -= cStrides[k]! * shape[k]!;
        index[k] = 0;
      }
    }
  }
  if (dt.dtype === 'bool') {
    for (let i = 0; i < count; i++)
      if ((data as Uint8Array)[i]! > 1)
        fail(`bool array holds the byte ${(data as Uint8Array)[i]} at element ${i}`);
  }
  return { dtype: dt.dtype, shape: [...shape], data };
}

/**
 * Serializes an array as a `.npy` version 1.0 file (little-endian, C order), byte-identical in layout
 * to `np.save`: the header is padded with spaces and ends in `\n` so that the data starts at a
 * multiple of 64 bytes.
 * @throws SbmArgumentError if `data.length` is not `∏ shape` or the dtype does not match the data.
 */
export function writeNpy(array: NpyArray): Uint8Array {
  const { dtype, shape, data } = array;
  const code = CODE_OF[dtype];
  if (code === undefined)
    throw new SbmArgumentError(
      'array.dtype',
      `expected one of ${Object.keys(CODE_OF).join(', ')}, got ${String(dtype)}`,
    );
  if (!Array.isArray(shape) || !shape.every((s) => Number.isSafeInteger(s) && s >= 0)) {
    throw new SbmArgumentError('array.shape', 'expected an array of integers >= 0');
  }
  const count = shape.reduce((a, b) => a * b, 1);
  if (data.length !== count) {
    throw new SbmArgumentError(
      'array.data',
      `expected ${count} elements for shape [${shape.join(', ')}], got ${data.length}`,
    );
  }
  const dt = DTYPES[code.slice(1)]!;
  const isBig = data instanceof BigInt64Array || data instanceof BigUint64Array;
  if (isBig !== (dt.size === 8 && (dtype === 'int64' || dtype === 'uint64'))) {
    throw new SbmArgumentError('array.data', `a ${data.constructor.name} cannot be written as ${dtype}`);
  }
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${code}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const total = 10 + header.length + 1;
  header += `${' '.repeat((64 - (total % 64)) % 64)}\n`;
  if (header.length > 65535)
    throw new SbmArgumentError('array.shape', 'header too long for .npy version 1.0');
  const out = new Uint8Array(10 + header.length + count * dt.size);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  const view = new DataView(out.buffer);
  view.setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const start = 10 + header.length;
  const getAt = data as unknown as { [i: number]: number | bigint };
  for (let i = 0; i < count; i++) dt.set(view, start + i * dt.size, getAt[i]!, true);
  return out;
}

/**
 * Reads a numpy `.npz` archive (a zip of `.npy` entries, as written by `np.savez` — stored — or
 * `np.savez_compressed` — deflated; zip64 extra fields, as numpy writes them, are understood) with
 * `ZipArchive` from `@sbm/pth`. Every entry, stored or deflated, is copied into a typed array, so every
 * declared size is checked against `maxEntryBytes` / `maxTotalBytes` before the entry is read, an entry that
 * inflates beyond its declared size is rejected, and every CRC-32 is verified.
 *
 * @param bytes - the archive's bytes.
 * @returns the arrays by key (the entry name without `.npy`, as `np.load(...)[key]`), in archive order.
 * @throws SbmArgumentError naming the file and entry for a malformed or truncated archive, an encrypted
 *   entry, an unsupported compression method, a size above the caps, a CRC mismatch or a bad `.npy`.
 */
export function readNpz(bytes: Uint8Array, options: ReadNpzOptions = {}): Map<string, NpyArray> {
  const name = options.name ?? '<bytes>';
  const maxEntryBytes = options.maxEntryBytes ?? 2 ** 30;
  const maxTotalBytes = options.maxTotalBytes ?? 2 ** 31;
  if (!(bytes instanceof Uint8Array)) throw new SbmArgumentError('bytes', `${name}: expected a Uint8Array`);
  const zip = ZipArchive.open(bytes, name);
  const budget: InflateBudget = {
    maxEntryBytes,
    maxTotalBytes,
    remainingBytes: maxTotalBytes,
    countStored: true,
  };
  const out = new Map<string, NpyArray>();
  for (const entryName of zip.entries.keys()) {
    const content = zip.read(entryName, budget);
    const key = entryName.endsWith('.npy') ? entryName.slice(0, -4) : entryName;
    out.set(key, readNpy(content, `${name}[${entryName}]`));
  }
  return out;
}

/**
 * Writes arrays as a `.npz` archive like `np.savez` (stored entries `<key>.npy`, no compression,
 * CRC-32 (`crc32` of `@sbm/pth`) and sizes in the local headers; no zip64 records, so entries must stay
 * below 4 GiB).
 * @param arrays - arrays by key (a `Map` or a plain object); keys become `<key>.npy`.
 */
export function writeNpz(arrays: Map<string, NpyArray> | Record<string, NpyArray>): Uint8Array {
  const list = arrays instanceof Map ? [...arrays.entries()] : Object.entries(arrays);
  const encoder = new TextEncoder();
  const files = list.map(([key, array]) => {
    if (key.length === 0) throw new SbmArgumentError('arrays', 'expected non-empty keys');
    const content = writeNpy(array);
    return { name: encoder.encode(`${key}.npy`), content, crc: crc32(content) };
  });
  if (files.length > 0xfffe)
    throw new SbmArgumentError('arrays', `expected at most 65534 arrays, got ${files.length}`);
  let localSize = 0;
  let centralSize = 0;
  for (const f of files) {
    localSize += 30 + f.name.length + f.content.length;
    centralSize += 46 + f.name.length;
  }
  if (localSize + centralSize + 22 > 0xffffffff) {
    throw new SbmArgumentError('arrays', 'the archive would exceed 4 GiB, which needs zip64 (not written)');
  }
  const out = new Uint8Array(localSize + centralSize + 22);
  const view = new DataView(out.buffer);
  const offsets: number[] = [];
  let p = 0;
  // DOS date 1980-01-01 00:00 (numpy writes the same).
  const header = (sig: number, f: (typeof files)[number], central: boolean): void => {
    view.setUint32(p, sig, true);
    p += 4;
    if (central) {
      view.setUint16(p, 20, true); // version made by
      p += 2;
    }
    view.setUint16(p, 20, true); // version needed
    view.setUint16(p + 2, 0, true); // flags
    view.setUint16(p + 4, 0, true); // method: stored
    view.setUint16(p + 6, 0, true); // time
    view.setUint16(p + 8, 0x21, true); // date
    view.setUint32(p + 10, f.crc, true);
    view.setUint32(p + 14, f.content.length, true);
    view.setUint32(p + 18, f.content.length, true);
    view.setUint16(p + 22, f.name.length, true);
    view.setUint16(p + 24, 0, true); // extra length
    p += 26;
  };
  for (const f of files) {
    offsets.push(p);
    header(0x04034b50, f, false);
    out.set(f.name, p);
    p += f.name.length;
    out.set(f.content, p);
    p += f.content.length;
  }
  const cdStart = p;
  files.forEach((f, i) => {
    header(0x02014b50, f, true);
    view.setUint16(p, 0, true); // comment length
    view.setUint16(p + 2, 0, true); // disk number
    view.setUint16(p + 4, 0, true); // internal attributes
    view.setUint32(p + 6, 0o600 << 16, true); // external attributes (Unix mode 0600)
    view.setUint32(p + 10, offsets[i]!, true);
    p += 14;
    out.set(f.name, p);
    p += f.name.length;
  });
  view.setUint32(p, 0x06054b50, true);
  view.setUint16(p + 8, files.length, true);
  view.setUint16(p + 10, files.length, true);
  view.setUint32(p + 12, p - cdStart, true);
  view.setUint32(p + 16, cdStart, true);
  return out;
}

/**
 * Reads FID statistics from a pytorch-fid / TTUR `.npz` (`np.savez(path, mu=mu, sigma=sigma)`, e.g.
 * TTUR's `fid_stats_cifar10_train.npz`): `mu [d]` and `sigma [d, d]`, float32 or float64 (converted to float64).
 * @throws SbmArgumentError naming the file when `mu` or `sigma` is missing, not floating point or of
 *   the wrong shape (and for any archive error of {@link readNpz}).
 */
export function readFidStatistics(bytes: Uint8Array, options: ReadNpzOptions = {}): FidStatistics {
  const name = options.name ?? '<bytes>';
  const arrays = readNpz(bytes, options);
  const fail = (message: string): never => {
    throw new SbmArgumentError(
      'bytes',
      `${name}: ${message} — expected FID statistics as np.savez(path, mu=mu, sigma=sigma)`,
    );
  };
  const found = `(arrays: ${[...arrays.keys()].join(', ') || 'none'})`;
  const mu = arrays.get('mu') ?? fail(`no array 'mu' ${found}`);
  const sigma = arrays.get('sigma') ?? fail(`no array 'sigma' ${found}`);
  for (const [key, a] of [
    ['mu', mu],
    ['sigma', sigma],
  ] as const) {
    if (a.dtype !== 'float64' && a.dtype !== 'float32')
      fail(`'${key}' has dtype ${a.dtype}, expected float32 or float64`);
  }
  if (mu.shape.length !== 1 || mu.shape[0]! < 1)
    fail(`'mu' has shape [${mu.shape.join(', ')}], expected [d]`);
  const d = mu.shape[0]!;
  if (sigma.shape.length !== 2 || sigma.shape[0] !== d || sigma.shape[1] !== d) {
    fail(`'sigma' has shape [${sigma.shape.join(', ')}], expected [${d}, ${d}] to match 'mu'`);
  }
  return {
    mu: Float64Array.from(mu.data as Float64Array | Float32Array),
    sigma: Float64Array.from(sigma.data as Float64Array | Float32Array),
    dim: d,
  };
}

/** Writes FID statistics like pytorch-fid's `np.savez(path, mu=mu, sigma=sigma)` (float64, stored). */
export function writeFidStatistics(stats: FidStatistics): Uint8Array {
  const { mu, sigma, dim } = stats;
  if (!Number.isInteger(dim) || dim < 1)
    throw new SbmArgumentError('stats.dim', `expected an integer >= 1, got ${dim}`);
  if (!(mu instanceof Float64Array) || mu.length !== dim) {
    throw new SbmArgumentError('stats.mu', `expected a Float64Array of length ${dim}`);
  }
  if (!(sigma instanceof Float64Array) || sigma.length !== dim * dim) {
    throw new SbmArgumentError('stats.sigma', `expected a Float64Array of length ${dim * dim}`);
  }
  return writeNpz({
    mu: { dtype: 'float64', shape: [dim], data: mu },
    sigma: { dtype: 'float64', shape: [dim, dim], data: sigma },
  });
}

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

type PyValue = string | number | boolean | null | PyValue[] | Map<string, PyValue>;

/** Parses the Python dict literal of a `.npy` header (strings, ints, True/False/None, tuples, lists, dicts). */
function parseHeader(text: string): Map<string, PyValue> {
  let i = 0;
  const skip = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const expect = (ch: string) => {
    skip();
    if (text[i] !== ch) throw new Error(`expected '${ch}' at ${i}`);
    i++;
  };
  const value = (): PyValue => {
    skip();
    const ch = text[i];
    if (ch === "'" || ch === '"') {
      const end = text.indexOf(ch, i + 1);
      if (end < 0) throw new Error('unterminated string');
      const s = text.slice(i + 1, end);
      i = end + 1;
      return s;
    }
    if (ch === '(' || ch === '[') {
      const close = ch === '(' ? ')' : ']';
      i++;
      const items: PyValue[] = [];
      for (;;) {
        skip();
        if (text[i] === close) {
          i++;
          return items;
        }
        items.push(value());
        skip();
        if (text[i] === ',') i++;
        else if (text[i] !== close) throw new Error(`expected ',' or '${close}' at ${i}`);
      }
    }
    if (ch === '{') {
      i++;
      const map = new Map<string, PyValue>();
      for (;;) {
        skip();
        if (text[i] === '}') {
          i++;
          return map;
        }
        const key = value();
        if (typeof key !== 'string') throw new Error('dict keys must be strings');
        expect(':');
        map.set(key, value());
        skip();
        if (text[i] === ',') i++;
        else if (text[i] !== '}') throw new Error(`expected ',' or '}' at ${i}`);
      }
    }
    const m = /^(True|False|None|-?\d+L?)/.exec(text.slice(i, i + 32));
    if (m === null) throw new Error(`unexpected character at ${i}`);
    i += m[0].length;
    if (m[0] === 'True') return true;
    if (m[0] === 'False') return false;
    if (m[0] === 'None') return null;
    return Number.parseInt(m[0], 10);
  };
  const result = value();
  skip();
  if (i !== text.length || !(result instanceof Map)) throw new Error('the header is not a single dict');
  return result;
}
