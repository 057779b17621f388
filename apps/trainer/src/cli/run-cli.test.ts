import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cifar10Fixture, tinyRunSettings } from '../run/cifar10-fixture.test-support.js';
import { sbm } from './run-cli.test-support.js';

let root: string;
let cifarDir: string;
let remove: () => Promise<void>;
beforeAll(async () => {
  ({ root, cifarDir, remove } = await cifar10Fixture('sbm-cli-'));
});
afterAll(() => remove());

describe('sbm', () => {
  it('lists its commands and each command has --help', async () => {
    const top = await sbm('--help');
    expect(top.code).toBe(0);
    for (const c of ['demo', 'train', 'sample', 'eval', 'convert', 'doctor', 'download'])
      expect(top.out).toContain(`  ${c} `);
    for (const c of ['demo', 'train', 'sample', 'eval', 'convert', 'doctor', 'download']) {
      const h = await sbm(c, '--help');
      expect(h.code, c).toBe(0);
      expect(h.out, c).toMatch(new RegExp(`^Usage: sbm ${c}`));
    }
    // as `pnpm demo -- --help` passes it
    expect((await sbm('demo', '--', '--help')).out).toMatch(/^Usage: sbm demo/);
  });

  it('names the option or config key of a mistake, exit code 2', async () => {
    expect(await sbm('fly')).toMatchObject({
      code: 2,
      err: expect.stringMatching(/^sbm fly: command: expected one of demo, train, sample/),
    });
    expect(await sbm('train', '--preset', 'mnist/small')).toMatchObject({
      code: 2,
      err: expect.stringContaining('--run: expected the run directory'),
    });
    const badKey = await sbm(
      'train',
      '--run',
      join(root, 'x'),
      '--preset',
      'mnist/small',
      '--set',
      'optim.lrr=1',
    );
    expect(badKey.code).toBe(2);
    expect(badKey.err).toContain('optim.lrr: unknown key (from --set optim.lrr=1); did you mean optim.lr?');
    const badValue = await sbm(
      'train',
      '--run',
      join(root, 'x'),
      '--preset',
      'mnist/small',
      '--set',
      'optim.lr=-1',
    );
    expect(badValue.err).toContain('optim.lr: expected a positive number, got -1');
    expect((await sbm('train', '--run', join(root, 'none'))).err).toContain(
      '--preset or --config: expected one',
    );
    expect((await sbm('sample', '--out', root)).err).toContain('--run or --model: expected exactly one');
    expect(await sbm('eval')).toMatchObject({
      code: 2,
      err: expect.stringContaining('--run: expected the run directory'),
    });
    expect((await sbm('eval', '--run', root)).err).toContain('no config.json; is it a run directory?');
  });

  it('doctor reports this machine: no GPU, training on a CPU backend', async () => {
    const r = await sbm('doctor');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/GPU training: not available/);
  });

  it('train (jsonl) then sample: images, a grid, and two shards equal to the unsharded run', async () => {
    const run = join(root, 'run');
    const t = await sbm(
      'train',
      '--run',
      run,
      '--preset',
      'vp/cifar10_ddpmpp_continuous',
      '--backend',
      'wasm',
      '--jsonl',
      ...tinyRunSettings(cifarDir).flatMap((s) => ['--set', s]),
    );
    expect(t.err).toBe('');
    expect(t.code).toBe(0);
    const events = t.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events.find((e) => e.event === 'backend')).toMatchObject({ backend: 'wasm' });
    expect(events.filter((e) => e.event === 'progress').at(-1)).toMatchObject({ done: 6, total: 6 });
    expect(events.find((e) => e.event === 'finish')).toMatchObject({ step: 6, reason: 'done' });
    // resuming a finished run: nothing to do, same config from the run directory
    expect((await sbm('train', '--run', run, '--quiet')).code).toBe(0);

    const whole = join(root, 'whole');
    const s = await sbm('sample', '--run', run, '--out', whole, '--count', '5', '--batch', '2', '--quiet');
    expect(s).toMatchObject({ code: 0, err: '' });
    expect((await readdir(whole)).sort()).toEqual(['0.png', '1.png', '2.png', '3.png', '4.png', 'grid.png']);
    const parts = join(root, 'parts');
    for (const shard of ['0/2', '1/2']) {
      expect(
        (
          await sbm(
            'sample',
            '--run',
            run,
            '--out',
            parts,
            '--count',
            '5',
            '--batch',
            '2',
            '--shard',
            shard,
            '--quiet',
          )
        ).code,
      ).toBe(0);
    }
    for (const f of ['0.png', '1.png', '2.png', '3.png', '4.png']) {
      expect(Buffer.compare(await readFile(join(parts, f)), await readFile(join(whole, f))), f).toBe(0);
    }
    expect((await readdir(parts)).filter((f) => f.startsWith('grid'))).toEqual(['grid-0.png', 'grid-1.png']);
  });
});
