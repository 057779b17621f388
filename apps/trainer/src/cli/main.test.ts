import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cifar10Fixture, tinyRunSettings } from '../run/cifar10-fixture.test-support.js';

// The real `sbm` process (bin/sbm.js → dist/cli/main.js, built by `pnpm build`, which `pnpm check` runs first).
const bin = resolve(dirname(fileURLToPath(import.meta.url)), '../../bin/sbm.js');
const built = resolve(dirname(fileURLToPath(import.meta.url)), '../../dist/cli/main.js');

let root: string;
let cifarDir: string;
let remove: () => Promise<void>;
beforeAll(async () => {
  ({ root, cifarDir, remove } = await cifar10Fixture('sbm-main-'));
});
afterAll(() => remove());

describe('the sbm process', () => {
  it('is built (pnpm build)', () => {
    expect(existsSync(built), `${built} is missing: run pnpm build (pnpm check does) before the tests`).toBe(
      true,
    );
  });

  it('SIGTERM during training saves a checkpoint at the step reached and exits cleanly', async () => {
    const run = join(root, 'run');
    const args = [
      'train',
      '--run',
      run,
      '--preset',
      'vp/cifar10_ddpmpp_continuous',
      '--backend',
      'wasm',
      '--jsonl',
    ];
    for (const s of [
      ...tinyRunSettings(cifarDir),
      'training.nIters=100000',
      'training.snapshotFreqForPreemption=100000',
      'training.snapshotFreq=100000',
    ]) {
      args.push('--set', s);
    }
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    // wait until a few steps are written to metrics (logFreq = 1), then stop the run as a scheduler would
    const metrics = join(run, 'metrics.jsonl');
    const linesWritten = async () =>
      existsSync(metrics) ? (await readFile(metrics, 'utf8')).trim().split('\n').length : 0;
    for (let i = 0; i < 600 && (await linesWritten()) < 3; i++) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 200));
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(err).toContain('SIGTERM received; stopping after this step');
    expect(code).toBe(0);
    const finish = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .find((e) => e.event === 'finish');
    expect(finish).toMatchObject({ reason: 'stopped' });
    expect(finish.step).toBeGreaterThanOrEqual(3);
    const files = await readdir(join(run, 'checkpoints'));
    expect(files).toContain(`ckpt-${String(finish.step).padStart(8, '0')}.sbmckpt`);
    expect(files.filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});
