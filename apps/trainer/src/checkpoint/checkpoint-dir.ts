import { mkdir, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDirectory, isCode, parseTempName } from './atomic-file.js';
import { CheckpointError } from './checkpoint-error.js';
import {
  type Checkpoint,
  type CheckpointContent,
  readCheckpoint,
  type WriteCheckpointOptions,
  writeCheckpoint,
} from './checkpoint-file.js';

/** File name extension of checkpoint files. */
export const CHECKPOINT_EXTENSION = '.sbmckpt';

const NAME_PATTERN = /^ckpt-(\d{8,})\.sbmckpt$/;

/**
 * The file name of the checkpoint of `step` in a run's checkpoint directory: `ckpt-<step, 8 digits>.sbmckpt`
 * (more digits past 99,999,999 steps; names sort by step either way through {@link listCheckpoints}).
 */
export function checkpointFileName(step: number): string {
  if (!Number.isSafeInteger(step) || step < 0) {
    throw new RangeError(`checkpointFileName: step: expected a non-negative integer, got ${step}`);
  }
  return `ckpt-${String(step).padStart(8, '0')}${CHECKPOINT_EXTENSION}`;
}

/** The step of a checkpoint file name made by {@link checkpointFileName}, or `undefined` for any other name. */
export function parseCheckpointFileName(name: string): number | undefined {
  const match = NAME_PATTERN.exec(name);
  return match === null ? undefined : Number(match[1]);
}

/** A checkpoint file of a directory: its step and path. */
export interface CheckpointEntry {
  step: number;
  path: string;
}

/** Receives warnings (a corrupt checkpoint skipped, a temp file of a live writer kept, …). */
export type CheckpointWarningHandler = (message: string, error?: CheckpointError) => void;

const defaultWarning: CheckpointWarningHandler = (message) => {
  process.emitWarning(message, 'CheckpointWarning');
};

/** The names in `directory`, or `[]` if it does not exist. */
async function readdirOrEmpty(directory: string): Promise<string[]> {
  try {
    return await readdir(directory);
  } catch (error) {
    if (isCode(error, 'ENOENT')) return [];
    throw error;
  }
}

/**
 * The checkpoint files of `directory` (`ckpt-*.sbmckpt`, not temp files), oldest step first; `[]` if the
 * directory does not exist.
 */
export async function listCheckpoints(directory: string): Promise<CheckpointEntry[]> {
  const names = await readdirOrEmpty(directory);
  const entries: CheckpointEntry[] = [];
  for (const name of names) {
    const step = parseCheckpointFileName(name);
    if (step !== undefined) entries.push({ step, path: join(directory, name) });
  }
  return entries.sort((a, b) => a.step - b.step);
}

/** Whether a process with this pid exists (signal 0 probes without signalling). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return isCode(error, 'EPERM');
  }
}

/** Options of {@link removeStaleTempFiles}. */
export interface RemoveStaleTempOptions {
  /** Whether a writer's process still runs; default {@link isProcessAlive}. */
  isAlive?: (pid: number) => boolean;
  onWarning?: CheckpointWarningHandler;
}

/**
 * Deletes the temp files that writers killed mid-write left in `directory` (`ckpt-*.sbmckpt.tmp-<pid>-<rand>`):
 * those whose pid is not running, or is this process's own (a previous process with a recycled pid — this
 * process is only opening the directory). Temp files of other live processes are kept, with a warning.
 *
 * @returns The deleted paths.
 */
export async function removeStaleTempFiles(
  directory: string,
  options: RemoveStaleTempOptions = {},
): Promise<string[]> {
  const isAlive = options.isAlive ?? isProcessAlive;
  const warn = options.onWarning ?? defaultWarning;
  const names = await readdirOrEmpty(directory);
  const removed: string[] = [];
  for (const name of names) {
    const temp = parseTempName(name);
    if (temp === undefined || parseCheckpointFileName(temp.target) === undefined) continue;
    const path = join(directory, name);
    if (temp.pid !== process.pid && isAlive(temp.pid)) {
      warn(`checkpoint ${path}: kept: the process writing it (pid ${temp.pid}) is still running`);
      continue;
    }
    try {
      await unlink(path);
      removed.push(path);
    } catch (error) {
      if (!isCode(error, 'ENOENT')) throw error;
    }
  }
  if (removed.length > 0) await fsyncDirectory(directory);
  return removed;
}

/** Options of {@link latestCheckpoint}. */
export interface LatestCheckpointOptions {
  /**
   * If the newest checkpoint is unreadable: `false` (default) throws a {@link CheckpointError} naming it;
   * `true` warns and tries the previous one, and so on.
   */
  fallback?: boolean;
  /** Receives the fallback warnings; default `process.emitWarning` (type `CheckpointWarning`). */
  onWarning?: CheckpointWarningHandler;
}

/** The checkpoint {@link latestCheckpoint} found. */
export interface LatestCheckpoint extends CheckpointEntry {
  /** The checkpoint, read and fully validated. */
  checkpoint: Checkpoint;
  /** Newer checkpoints that were unreadable and skipped (only with `fallback: true`), newest first. */
  skipped: { path: string; error: CheckpointError }[];
}

/**
 * The newest readable checkpoint of `directory` (fully validated, see {@link readCheckpoint}), or `undefined`
 * if there is none.
 *
 * @throws CheckpointError naming the newest checkpoint and what is wrong with it (without `fallback`), or
 *   naming the directory when no checkpoint is readable (with `fallback`).
 */
export async function latestCheckpoint(
  directory: string,
  options: LatestCheckpointOptions = {},
): Promise<LatestCheckpoint | undefined> {
  const warn = options.onWarning ?? defaultWarning;
  const entries = (await listCheckpoints(directory)).reverse();
  const skipped: LatestCheckpoint['skipped'] = [];
  for (const entry of entries) {
    try {
      const checkpoint = await readCheckpoint(entry.path);
      return { ...entry, checkpoint, skipped };
    } catch (error) {
      if (!(error instanceof CheckpointError)) throw error;
      if (options.fallback !== true) {
        throw new CheckpointError(
          entry.path,
          `the newest checkpoint is unreadable: ${error.reason} (resume with fallback to use the previous one)`,
          { cause: error },
        );
      }
      skipped.push({ path: entry.path, error });
      warn(`${error.message}; falling back to the previous checkpoint`, error);
    }
  }
  if (skipped.length > 0) {
    throw new CheckpointError(
      directory,
      `no readable checkpoint: ${skipped.map((s) => `${s.path}: ${s.error.reason}`).join('; ')}`,
    );
  }
  return undefined;
}

/** Options of {@link openCheckpointDir}. */
export interface OpenCheckpointDirOptions {
  /** How many checkpoints to keep (the newest), default 3; `Infinity` keeps all. */
  keep?: number;
  onWarning?: CheckpointWarningHandler;
  /** Whether a temp file's writer still runs; default {@link isProcessAlive}. */
  isAlive?: (pid: number) => boolean;
}

/** What {@link CheckpointDir.save} did. */
export interface SaveResult extends CheckpointEntry {
  byteLength: number;
  /** Older checkpoints deleted to keep the newest `keep`. */
  deleted: string[];
}

/**
 * A run's checkpoint directory (`<run>/checkpoints/`) holding `ckpt-<step>.sbmckpt` files; made by
 * {@link openCheckpointDir}.
 */
export class CheckpointDir {
  readonly path: string;
  readonly keep: number;
  /** Temp files of killed writers that opening the directory deleted. */
  readonly removedTempFiles: readonly string[];
  readonly #warn: CheckpointWarningHandler;

  constructor(
    path: string,
    keep: number,
    removedTempFiles: readonly string[],
    warn: CheckpointWarningHandler,
  ) {
    this.path = path;
    this.keep = keep;
    this.removedTempFiles = removedTempFiles;
    this.#warn = warn;
  }

  /**
   * Writes the checkpoint of `step` atomically ({@link writeCheckpoint}) and only then deletes the oldest
   * checkpoints beyond `keep`. Checkpoints of later steps than `step` (left by a run resumed from an earlier
   * checkpoint) are never deleted here; a warning names them.
   */
  async save(
    step: number,
    content: CheckpointContent,
    options: WriteCheckpointOptions = {},
  ): Promise<SaveResult> {
    const path = join(this.path, checkpointFileName(step));
    const { byteLength } = await writeCheckpoint(path, content, options);
    const all = await listCheckpoints(this.path);
    const newer = all.filter((e) => e.step > step);
    if (newer.length > 0) {
      this.#warn(
        `checkpoint ${path}: saved, but later checkpoints exist and are kept (latestCheckpoint prefers them): ${newer
          .map((e) => e.path)
          .join(', ')}`,
      );
    }
    const older = all.filter((e) => e.step < step);
    const excess = older.length - (this.keep - 1);
    const deleted: string[] = [];
    for (const entry of older.slice(0, Math.max(0, excess))) {
      try {
        await unlink(entry.path);
        deleted.push(entry.path);
      } catch (error) {
        if (!isCode(error, 'ENOENT')) throw error;
      }
    }
    if (deleted.length > 0) await fsyncDirectory(this.path);
    return { step, path, byteLength, deleted };
  }

  /** The checkpoints, oldest first. */
  list(): Promise<CheckpointEntry[]> {
    return listCheckpoints(this.path);
  }

  /** {@link latestCheckpoint} of this directory (warnings go to the directory's handler by default). */
  latest(options: LatestCheckpointOptions = {}): Promise<LatestCheckpoint | undefined> {
    return latestCheckpoint(this.path, { onWarning: this.#warn, ...options });
  }
}

/**
 * Opens (creating it if needed) a run's checkpoint directory and deletes the temp files that killed writers
 * left in it ({@link removeStaleTempFiles}).
 *
 * @example
 * ```ts
 * const checkpoints = await openCheckpointDir('runs/cifar10/checkpoints', { keep: 3 });
 * const resume = await checkpoints.latest({ fallback: true });
 * await checkpoints.save(step, trainStateToCheckpoint(state));
 * ```
 */
export async function openCheckpointDir(
  directory: string,
  options: OpenCheckpointDirOptions = {},
): Promise<CheckpointDir> {
  const keep = options.keep ?? 3;
  if (!(keep === Number.POSITIVE_INFINITY || (Number.isInteger(keep) && keep >= 1))) {
    throw new RangeError(`openCheckpointDir: options.keep: expected an integer ≥ 1 or Infinity, got ${keep}`);
  }
  const warn = options.onWarning ?? defaultWarning;
  await mkdir(directory, { recursive: true });
  const removed = await removeStaleTempFiles(directory, {
    onWarning: warn,
    ...(options.isAlive === undefined ? {} : { isAlive: options.isAlive }),
  });
  return new CheckpointDir(directory, keep, removed, warn);
}
