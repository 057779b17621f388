import { randomBytes } from 'node:crypto';
import { type FileHandle, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname } from 'node:path';

/** Marker between a file name and the writer's pid and random tag in a temp file's name. */
const TEMP_MARKER = '.tmp-';

/**
 * The temp file a writer of `path` writes before renaming it into place: `<path>.tmp-<pid>-<8 hex>`, in the
 * same directory (so that the rename is atomic) and unique per process and call.
 */
export function tempPathFor(path: string, pid: number = process.pid): string {
  return `${path}${TEMP_MARKER}${pid}-${randomBytes(4).toString('hex')}`;
}

/**
 * Parses a temp file name made by {@link tempPathFor}: the name of the file it was going to become and the
 * writer's pid, or `undefined` if `name` is not such a temp file.
 */
export function parseTempName(name: string): { target: string; pid: number } | undefined {
  const match = /^(.+)\.tmp-(\d+)-[0-9a-f]{8}$/.exec(basename(name));
  if (match === null) return undefined;
  return { target: match[1]!, pid: Number(match[2]) };
}

/**
 * Flushes a directory's entries (a rename or unlink inside it) to disk. Platforms that cannot open a directory
 * for fsync (Windows) are skipped silently; any other failure is thrown.
 */
export async function fsyncDirectory(directory: string): Promise<void> {
  let handle: FileHandle;
  try {
    handle = await open(directory, 'r');
  } catch (error) {
    if (isCode(error, 'EISDIR') || isCode(error, 'EPERM') || isCode(error, 'EACCES')) return;
    throw error;
  }
  try {
    await handle.sync();
  } catch (error) {
    // Some file systems refuse fsync on directories; the rename itself has happened.
    if (!isCode(error, 'EINVAL') && !isCode(error, 'EBADF')) throw error;
  } finally {
    await handle.close();
  }
}

/**
 * Writes `path` so that it is either absent/old or complete and durable, never partial: `write` fills a fresh
 * temp file ({@link tempPathFor}), which is fsynced, closed and renamed over `path`, and then the directory is
 * fsynced. If `write` (or any step before the rename) fails, the temp file is removed and `path` is untouched.
 *
 * @param path - The final file.
 * @param write - Writes the whole content through the handle (positioned writes or appends).
 * @returns The final path.
 */
export async function writeFileAtomic(
  path: string,
  write: (handle: FileHandle) => Promise<void>,
): Promise<string> {
  const temp = tempPathFor(path);
  const handle = await open(temp, 'wx');
  let closed = false;
  try {
    await write(handle);
    await handle.sync();
    await handle.close();
    closed = true;
    await rename(temp, path);
  } catch (error) {
    if (!closed) await handle.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await fsyncDirectory(dirname(path));
  return path;
}

/** Whether `error` is a Node system error with the given `code`. */
export function isCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}
