import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempPathFor } from './atomic-file.js';
import {
  checkpointFileName,
  latestCheckpoint,
  listCheckpoints,
  openCheckpointDir,
  parseCheckpointFileName,
} from './checkpoint-dir.js';
import { CheckpointError } from './checkpoint-error.js';
import { type CheckpointContent, readCheckpoint } from './checkpoint-file.js';
import { transpileForChild } from './child-modules.test-support.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sbm-ckpt-dir-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let counter = 0;
async function freshDir(): Promise<string> {
  const dir = join(root, `run-${counter++}`, 'checkpoints');
  await mkdir(dir, { recursive: true });
  return dir;
}

/** A checkpoint whose one array is filled with `step` (so that its content identifies it). */
function stepContent(step: number, elements = 100): CheckpointContent {
  return {
    meta: { step },
    arrays: { w: { dtype: 'float32', shape: [elements], data: new Float32Array(elements).fill(step) } },
  };
}

const quiet = () => {};

describe('checkpoint file names', () => {
  it('pads the step to 8 digits and parses it back', () => {
    expect(checkpointFileName(1234)).toBe('ckpt-00001234.sbmckpt');
    expect(checkpointFileName(123456789)).toBe('ckpt-123456789.sbmckpt');
    expect(parseCheckpointFileName('ckpt-00001234.sbmckpt')).toBe(1234);
    expect(parseCheckpointFileName('ckpt-123456789.sbmckpt')).toBe(123456789);
    expect(parseCheckpointFileName('ckpt-00001234.sbmckpt.tmp-12-0badf00d')).toBeUndefined();
    expect(parseCheckpointFileName('ckpt-12.sbmckpt')).toBeUndefined();
    expect(() => checkpointFileName(-1)).toThrow(/step: expected a non-negative integer, got -1/);
  });
});

describe('CheckpointDir', () => {
  it('keeps the newest K checkpoints, ordered by step (not by name)', async () => {
    const dir = await freshDir();
    const ckpts = await openCheckpointDir(dir, { keep: 2, onWarning: quiet });
    for (const step of [5, 50, 500]) await ckpts.save(step, stepContent(step));
    const saved = await ckpts.save(123456789, stepContent(7));
    expect(saved.deleted).toEqual([join(dir, checkpointFileName(50))]);
    expect((await ckpts.list()).map((e) => e.step)).toEqual([500, 123456789]);
    const latest = await ckpts.latest();
    expect(latest?.step).toBe(123456789);
    expect(latest?.checkpoint.arrays.w?.data[0]).toBe(7);
    expect(await readdir(dir)).toHaveLength(2);
  });

  it('deletes nothing when the new checkpoint could not be written', async () => {
    const dir = await freshDir();
    const ckpts = await openCheckpointDir(dir, { keep: 1, onWarning: quiet });
    await ckpts.save(1, stepContent(1));
    const failing = ckpts.save(2, stepContent(2, 100_000), {
      chunkBytes: 4096,
      onProgress: (written) => {
        if (written > 50_000) throw new Error('ENOSPC (simulated)');
      },
    });
    await expect(failing).rejects.toThrow('ENOSPC (simulated)');
    expect(await readdir(dir)).toEqual([checkpointFileName(1)]);
    expect((await readCheckpoint(join(dir, checkpointFileName(1)))).meta.step).toBe(1);
  });

  it('never deletes later checkpoints when saving an earlier step, and says so', async () => {
    const dir = await freshDir();
    const warnings: string[] = [];
    const ckpts = await openCheckpointDir(dir, { keep: 1, onWarning: (m) => warnings.push(m) });
    await ckpts.save(300, stepContent(300));
    await ckpts.save(200, stepContent(200));
    expect((await ckpts.list()).map((e) => e.step)).toEqual([200, 300]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(checkpointFileName(300));
  });

  it('returns undefined for an empty or missing directory', async () => {
    expect(await latestCheckpoint(await freshDir())).toBeUndefined();
    expect(await latestCheckpoint(join(root, 'does-not-exist'))).toBeUndefined();
    expect(await listCheckpoints(join(root, 'does-not-exist'))).toEqual([]);
  });
});

describe('latestCheckpoint with a corrupt newest checkpoint', () => {
  async function withCorruptNewest(): Promise<{ dir: string; newest: string }> {
    const dir = await freshDir();
    const ckpts = await openCheckpointDir(dir, { keep: 5, onWarning: quiet });
    for (const step of [10, 20, 30]) await ckpts.save(step, stepContent(step, 1000));
    const newest = join(dir, checkpointFileName(30));
    const { size } = await stat(newest);
    await truncate(newest, size - 100);
    return { dir, newest };
  }

  it('throws a CheckpointError naming it without fallback', async () => {
    const { dir, newest } = await withCorruptNewest();
    const error = await latestCheckpoint(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckpointError);
    expect((error as CheckpointError).path).toBe(newest);
    expect((error as Error).message).toMatch(
      /ckpt-00000030\.sbmckpt: the newest checkpoint is unreadable: truncated: expected \d+ bytes, got \d+/,
    );
  });

  it('with fallback warns naming it and returns the previous good one', async () => {
    const { dir, newest } = await withCorruptNewest();
    const warnings: string[] = [];
    const latest = await latestCheckpoint(dir, { fallback: true, onWarning: (m) => warnings.push(m) });
    expect(latest?.step).toBe(20);
    expect(latest?.checkpoint.arrays.w?.data.every((v) => v === 20)).toBe(true);
    expect(latest?.skipped.map((s) => s.path)).toEqual([newest]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(newest);
    expect(warnings[0]).toContain('truncated');
  });

  it('with fallback and nothing readable throws naming the directory and every file', async () => {
    const dir = await freshDir();
    await writeFile(join(dir, checkpointFileName(1)), 'garbage that is long enough to have a preamble...');
    await writeFile(join(dir, checkpointFileName(2)), '');
    const error = await latestCheckpoint(dir, { fallback: true, onWarning: quiet }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckpointError);
    expect((error as CheckpointError).path).toBe(dir);
    expect((error as Error).message).toContain(checkpointFileName(1));
    expect((error as Error).message).toContain(checkpointFileName(2));
    expect((error as Error).message).toContain('wrong magic');
  });
});

describe('stale temp files', () => {
  it('are removed on open if their writer is gone, kept (with a warning) if it still runs', async () => {
    const dir = await freshDir();
    const dead = tempPathFor(join(dir, checkpointFileName(7)), 999_999_999);
    const alive = tempPathFor(join(dir, checkpointFileName(8)), process.ppid);
    const own = tempPathFor(join(dir, checkpointFileName(9)), process.pid);
    const unrelated = join(dir, 'notes.txt.tmp-1-0badf00d');
    for (const p of [dead, alive, own, unrelated]) await writeFile(p, 'partial');
    const warnings: string[] = [];
    const ckpts = await openCheckpointDir(dir, { onWarning: (m) => warnings.push(m) });
    expect([...ckpts.removedTempFiles].sort()).toEqual([dead, own].sort());
    expect((await readdir(dir)).sort()).toEqual(
      [alive, unrelated].map((p) => p.slice(dir.length + 1)).sort(),
    );
    expect(warnings).toEqual([expect.stringContaining(`pid ${process.ppid}) is still running`)]);
  });
});

/** Waits until `child` prints a line starting with `prefix`; returns that line. */
function waitForLine(child: ChildProcess, prefix: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdout?.on('data', (d: Buffer) => {
      buffer += d.toString();
      const line = buffer.split('\n').find((l) => l.startsWith(prefix));
      if (line !== undefined) resolve(line);
    });
    child.on('exit', (code, signal) =>
      reject(new Error(`writer exited (${code ?? signal}) before '${prefix}': ${stderr}`)),
    );
  });
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null)
      resolve({ code: child.exitCode, signal: child.signalCode });
    else child.on('exit', (code, signal) => resolve({ code, signal }));
  });
}

describe('a writer process killed mid-write (SIGKILL)', () => {
  const WRITER = `
import { openCheckpointDir } from './checkpoint-dir.js';
const [dir, stepArg, elementsArg, pause] = process.argv.slice(2);
const step = Number(stepArg);
const elements = Number(elementsArg);
const ckpts = await openCheckpointDir(dir, { keep: 2 });
const data = new Float32Array(elements).fill(step);
let paused = false;
await ckpts.save(step, { meta: { step }, arrays: { w: { dtype: 'float32', shape: [elements], data } } }, {
  chunkBytes: 64 * 1024,
  onProgress: async (written, total) => {
    if (pause === 'pause' && !paused && written >= total / 2) {
      paused = true;
      process.stdout.write('PAUSED ' + written + ' ' + total + '\\n');
      await new Promise((resolve) => setTimeout(resolve, 120_000));
    }
  },
});
process.stdout.write('DONE\\n');
`;

  it('leaves earlier checkpoints intact and no partial ckpt file; the temp is removed on the next open', async () => {
    const modules = join(root, 'child-modules');
    await mkdir(modules, { recursive: true });
    await transpileForChild(modules, [
      'atomic-file.ts',
      'checkpoint-error.ts',
      'checkpoint-file.ts',
      'checkpoint-dir.ts',
    ]);
    const script = join(modules, 'writer.mjs');
    await writeFile(script, WRITER);
    const dir = await freshDir();
    const elements = 1_000_000; // 4 MB of payload: 61 writes of 64 KiB
    const run = (step: number, pause: boolean) =>
      spawn(process.execPath, [script, dir, String(step), String(elements), pause ? 'pause' : 'go'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });

    // Two complete checkpoints written by real child processes.
    for (const step of [100, 200]) {
      const child = run(step, false);
      await waitForLine(child, 'DONE');
      expect(await exited(child)).toEqual({ code: 0, signal: null });
    }

    // A third writer is killed halfway through its file.
    const child = run(300, true);
    const line = await waitForLine(child, 'PAUSED');
    const [, written, total] = line.split(' ').map(Number);
    const temps = (await readdir(dir)).filter((f) => f.includes('.tmp-'));
    expect(temps).toEqual([`${checkpointFileName(300)}.tmp-${child.pid}-${temps[0]!.slice(-8)}`]);
    const tempSize = (await stat(join(dir, temps[0]!))).size;
    expect(tempSize).toBe(written);
    expect(tempSize).toBeLessThan(total!);
    expect(child.kill('SIGKILL')).toBe(true);
    expect(await exited(child)).toEqual({ code: null, signal: 'SIGKILL' });

    // No partially written ckpt-*.sbmckpt; the earlier checkpoints are intact and the newest is step 200.
    expect((await listCheckpoints(dir)).map((e) => e.step)).toEqual([100, 200]);
    expect((await readdir(dir)).filter((f) => f.includes('.tmp-'))).toEqual(temps);
    for (const step of [100, 200]) {
      const ckpt = await readCheckpoint(join(dir, checkpointFileName(step)));
      expect(ckpt.meta.step).toBe(step);
      expect(ckpt.arrays.w?.data.length).toBe(elements);
      expect(ckpt.arrays.w?.data.every((v) => v === step)).toBe(true);
    }
    expect((await latestCheckpoint(dir))?.step).toBe(200);

    // The next open removes the dead writer's temp file, and training goes on.
    const ckpts = await openCheckpointDir(dir, { keep: 2, onWarning: quiet });
    expect(ckpts.removedTempFiles).toEqual([join(dir, temps[0]!)]);
    expect((await readdir(dir)).filter((f) => f.includes('.tmp-'))).toEqual([]);
    await ckpts.save(300, stepContent(300));
    expect((await ckpts.list()).map((e) => e.step)).toEqual([200, 300]);
  });
});
