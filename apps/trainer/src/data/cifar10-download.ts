/**
 * Downloads and unpacks the CIFAR-10 binary archive (`cifar-10-binary.tar.gz`) into
 * `<dir>/cifar-10-batches-bin/`, resumably and atomically:
 *
 * - the archive is fetched into `<dir>/cifar-10-binary.tar.gz.partial`; a later call continues an
 *   interrupted transfer with an HTTP `Range: bytes=<size>-` request (a server that ignores the range and
 *   answers 200 makes the download start over); every chunk read from the response is written before the
 *   next is read, though bytes still queued inside `fetch` when a connection drops are lost and re-fetched;
 * - the complete archive's MD5 is checked (a mismatch deletes the partial file);
 * - it is gunzipped (node:zlib) and untarred (the `tar` package, strict mode) into a fresh temporary
 *   directory `<dir>/.cifar-10-batches-bin.tmp-<random>`, checked to contain every batch file with a whole
 *   number of records, and only then renamed to `<dir>/cifar-10-batches-bin` (a single rename on one file
 *   system), after which the archive is deleted;
 * - temporary directories left by a killed run are removed at the start of every call.
 *
 * So at any time `<dir>/cifar-10-batches-bin` either does not exist or is complete. Concurrent calls on the
 * same `dir` are not supported (each removes the other's temporary directory).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { createGunzip } from 'node:zlib';
import { CIFAR10_RECORD_BYTES, CIFAR10_TEST_FILES, CIFAR10_TRAIN_FILES } from '@sbm/metrics/node';
import { x as untar } from 'tar';

/** The official download location of the CIFAR-10 binary version. */
export const CIFAR10_URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz';
/** The published MD5 of `cifar-10-binary.tar.gz` (lowercase hex). */
export const CIFAR10_MD5 = 'c32a1d4ab5d03f1284b67883e8d87530';
/** File name of the archive. */
export const CIFAR10_ARCHIVE_NAME = 'cifar-10-binary.tar.gz';
/** Name of the directory the archive unpacks to (and that is created inside `dir`). */
export const CIFAR10_BATCHES_DIR = 'cifar-10-batches-bin';

const PARTIAL_NAME = `${CIFAR10_ARCHIVE_NAME}.partial`;
const TEMP_PREFIX = `.${CIFAR10_BATCHES_DIR}.tmp-`;
const REQUIRED_FILES: readonly string[] = [...CIFAR10_TRAIN_FILES, ...CIFAR10_TEST_FILES];

/** Progress reports: bytes of the archive received so far (including a resumed prefix), then phase changes. */
export type DownloadProgress =
  | { phase: 'download'; bytes: number; totalBytes: number | null }
  | { phase: 'verify' | 'extract'; archive: string };

/** Options of {@link downloadCifar10}. */
export interface DownloadCifar10Options {
  /** Directory that receives `cifar-10-batches-bin/` (created if missing). */
  dir: string;
  /** Where to download the archive from (default {@link CIFAR10_URL}); ignored when `file` is given. */
  url?: string;
  /** A local copy of `cifar-10-binary.tar.gz` to unpack instead of downloading (it is never modified). */
  file?: string;
  /** Expected MD5 of the archive, hex (default {@link CIFAR10_MD5}); `null` skips the check. */
  md5?: string | null;
  /** The fetch implementation (default `globalThis.fetch`); injectable for tests and proxies. */
  fetch?: typeof globalThis.fetch;
  /** Called as the download advances and when verification and extraction start. */
  onProgress?: (progress: DownloadProgress) => void;
}

/** Result of {@link downloadCifar10}: `path` is `<dir>/cifar-10-batches-bin`. */
export interface DownloadCifar10Result {
  path: string;
  /** False when the dataset was already present (nothing was fetched or unpacked). */
  downloaded: boolean;
  /** True when the archive came from `file` rather than the network. */
  fromFile: boolean;
}

/**
 * Ensures `<dir>/cifar-10-batches-bin/` holds the CIFAR-10 binary batches (see the module comment for the
 * resumable, all-or-nothing procedure) and returns its path, for {@link loadCifar10}.
 *
 * @throws on a network/HTTP error (a partial download is kept for resuming), an MD5 mismatch (the partial
 * download is deleted), a corrupt or incomplete archive (the partial download is deleted), or an existing
 * `cifar-10-batches-bin` that lacks a batch file; in every case the dataset directory is left absent or
 * complete.
 */
export async function downloadCifar10(options: DownloadCifar10Options): Promise<DownloadCifar10Result> {
  const { dir, file, onProgress } = options;
  if (typeof dir !== 'string' || dir.length === 0)
    throw new Error('downloadCifar10: dir must be a non-empty path');
  const url = options.url ?? CIFAR10_URL;
  const md5 = options.md5 === undefined ? CIFAR10_MD5 : options.md5;
  if (md5 !== null && !/^[0-9a-fA-F]{32}$/.test(md5)) {
    throw new Error(`downloadCifar10: md5 must be 32 hex digits or null, got ${JSON.stringify(md5)}`);
  }
  const fetchFn = options.fetch ?? globalThis.fetch;
  const target = join(dir, CIFAR10_BATCHES_DIR);
  const partial = join(dir, PARTIAL_NAME);

  await mkdir(dir, { recursive: true });
  await removeStaleTemps(dir);

  if (await exists(target)) {
    const problem = await checkBatches(target);
    if (problem !== null) {
      throw new Error(`downloadCifar10: ${target} exists but ${problem}; delete it to download again`);
    }
    await rm(partial, { force: true });
    return { path: target, downloaded: false, fromFile: false };
  }

  const fromFile = file !== undefined;
  let archive: string;
  if (fromFile) {
    archive = file;
    if (!(await exists(archive))) throw new Error(`downloadCifar10: file ${archive} does not exist`);
  } else {
    archive = partial;
    await fetchResumable(url, partial, fetchFn, onProgress);
  }
  const source = fromFile ? archive : `${url} (saved as ${partial})`;

  if (md5 !== null) {
    onProgress?.({ phase: 'verify', archive });
    const actual = await md5OfFile(archive);
    if (actual !== md5.toLowerCase()) {
      if (!fromFile) await rm(partial, { force: true });
      throw new Error(
        `downloadCifar10: ${source} has MD5 ${actual}, expected ${md5.toLowerCase()}` +
          (fromFile ? '' : '; the corrupt download was deleted, run again to re-download'),
      );
    }
  }

  onProgress?.({ phase: 'extract', archive });
  const temp = join(dir, `${TEMP_PREFIX}${randomBytes(6).toString('hex')}`);
  try {
    await mkdir(temp);
    try {
      await extractTarGz(archive, temp);
    } catch (e) {
      throw new Error(`${basename(archive)} is not a valid tar.gz archive (${(e as Error).message})`);
    }
    const unpacked = join(temp, CIFAR10_BATCHES_DIR);
    const problem = (await exists(unpacked))
      ? await checkBatches(unpacked)
      : `has no ${CIFAR10_BATCHES_DIR}/ directory`;
    if (problem !== null) throw new Error(`the archive ${problem}`);
    await rename(unpacked, target);
  } catch (e) {
    if (!fromFile) await rm(partial, { force: true });
    throw new Error(
      `downloadCifar10: cannot unpack ${source}: ${(e as Error).message}` +
        (fromFile ? '' : '; the download was deleted, run again to re-download'),
    );
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
  if (!fromFile) await rm(partial, { force: true });
  return { path: target, downloaded: true, fromFile };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

async function removeStaleTemps(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    if (name.startsWith(TEMP_PREFIX)) await rm(join(dir, name), { recursive: true, force: true });
  }
}

/** `null` when every batch file is present with a positive whole number of records, else what is wrong. */
async function checkBatches(batchesDir: string): Promise<string | null> {
  for (const name of REQUIRED_FILES) {
    let size: number;
    try {
      size = (await stat(join(batchesDir, name))).size;
    } catch {
      return `lacks ${CIFAR10_BATCHES_DIR}/${name}`;
    }
    if (size === 0 || size % CIFAR10_RECORD_BYTES !== 0) {
      return `has ${CIFAR10_BATCHES_DIR}/${name} of ${size} bytes, not a positive multiple of ${CIFAR10_RECORD_BYTES}`;
    }
  }
  return null;
}

async function md5OfFile(path: string): Promise<string> {
  const hash = createHash('md5');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/** Gunzips and untars `archive` into the existing directory `into`; resolves once every entry is written. */
function extractTarGz(archive: string, into: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let failure: Error | null = null;
    const unpack = untar({ cwd: into, strict: true });
    const fail = (e: Error): void => {
      failure ??= e;
      // Let the unpacker finish (or fail on) what it has, so nothing is written after we return.
      unpack.end();
    };
    const source = createReadStream(archive);
    const gunzip = createGunzip();
    source.on('error', fail);
    gunzip.on('error', fail);
    unpack.on('error', (e: Error) => {
      failure ??= e;
      reject(failure);
    });
    unpack.on('close', () => (failure === null ? resolve() : reject(failure)));
    source.pipe(gunzip).pipe(unpack);
  });
}

/** Downloads `url` into `partial`, continuing from the bytes already there. */
async function fetchResumable(
  url: string,
  partial: string,
  fetchFn: typeof globalThis.fetch,
  onProgress: DownloadCifar10Options['onProgress'],
): Promise<void> {
  let start = 0;
  try {
    start = (await stat(partial)).size;
  } catch {
    start = 0;
  }
  const headers: Record<string, string> = start > 0 ? { Range: `bytes=${start}-` } : {};
  let res: Response;
  try {
    res = await fetchFn(url, { headers });
  } catch (e) {
    throw new Error(`downloadCifar10: cannot fetch ${url}: ${describe(e)}`);
  }
  if (start > 0 && res.status === 416) {
    // The partial file already holds the whole resource (or more): the MD5 check decides.
    await res.body?.cancel();
    return;
  }
  let append: boolean;
  let total: number | null;
  if (res.status === 206 && start > 0) {
    const range = res.headers.get('content-range') ?? '';
    const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(range);
    if (m === null || Number(m[1]) !== start) {
      await res.body?.cancel();
      throw new Error(
        `downloadCifar10: ${url} answered a request for bytes ${start}- with Content-Range ${JSON.stringify(range)}`,
      );
    }
    append = true;
    total = m[3] === '*' ? null : Number(m[3]);
  } else if (res.status === 200) {
    append = false;
    start = 0;
    const len = res.headers.get('content-length');
    total = len === null ? null : Number(len);
  } else {
    await res.body?.cancel();
    throw new Error(`downloadCifar10: GET ${url} failed with HTTP ${res.status} ${res.statusText}`);
  }
  if (res.body === null) throw new Error(`downloadCifar10: GET ${url} returned no body`);

  let bytes = start;
  onProgress?.({ phase: 'download', bytes, totalBytes: total });
  const of = total === null ? '' : ` of ${total}`;
  // Every received chunk is awaited into the file before the next is read, so an interrupted transfer
  // keeps exactly the bytes that arrived (the file is closed normally on error).
  const out = await open(partial, append ? 'a' : 'w');
  try {
    for await (const chunk of Readable.fromWeb(res.body as NodeReadableStream<Uint8Array>)) {
      await out.write(chunk as Uint8Array);
      bytes += (chunk as Uint8Array).length;
      onProgress?.({ phase: 'download', bytes, totalBytes: total });
    }
  } catch (e) {
    throw new Error(
      `downloadCifar10: the download of ${url} was interrupted after ${bytes}${of} bytes (${describe(e)}); ` +
        `${partial} is kept, run again to resume`,
    );
  } finally {
    await out.close();
  }
  if (total !== null && bytes !== total) {
    throw new Error(
      `downloadCifar10: the download of ${url} ended after ${bytes}${of} bytes; ${partial} is kept, run again to resume`,
    );
  }
}

function describe(e: unknown): string {
  const err = e as Error & { cause?: unknown };
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message ?? String(e)}${cause}`;
}
