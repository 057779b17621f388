import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cifar10BatchBytes, type PixelFn, pngFile } from '@sbm/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frechetDistance } from '../frechet-distance.js';
import { loadFixtureInception } from '../inception-fixtures.test-support.js';
import { inceptionScore } from '../inception-score.js';
import type { FidInception } from '../inception-v3.js';
import { kernelInceptionDistance } from '../kernel-inception-distance.js';
import { openImageSource } from '../node/image-source.js';
import { type ImageMeasurements, measureImages } from '../node/measure-images.js';
import { readFidStatistics, writeFidStatistics } from '../npz.js';
import { runMetricsCli, WEIGHTS_ENV } from './run-cli.js';

// The CLI on the strided-weights FID Inception fixture (a real torch.save file, test-fixtures/inception): its
// results must equal the library functions applied to what measureImages measures.
const weights = fileURLToPath(
  new URL('../../test-fixtures/inception/fid_inception_strided.pth', import.meta.url),
);

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runMetricsCli(argv, {
    out: { write: (s: string) => out.push(s) },
    err: { write: (s: string) => err.push(s) },
    env: {},
  });
  return { code, out: out.join(''), err: err.join('') };
}
const events = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

const colour =
  (k: number): PixelFn =>
  (x, y) => [(k * 50 + 7 * x) % 256, (11 * y + 2 * x * k) % 256, (30 * k + x * y) % 256];

let root: string;
let model: FidInception;
let samples: ImageMeasurements;
let reference: ImageMeasurements;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sbm-metrics-cli-'));
  await mkdir(join(root, 'samples'));
  for (let k = 0; k < 4; k++) await writeFile(join(root, 'samples', `s${k}.png`), pngFile(32, 32, colour(k)));
  await mkdir(join(root, 'cifar'));
  await writeFile(join(root, 'cifar', 'test_batch.bin'), cifar10BatchBytes(0, [1, 4, 7]));
  // The library path (the CLI sets the backend itself; measure after one CLI call has set it up).
  expect(
    (
      await cli(
        'stats',
        join(root, 'samples'),
        '--weights',
        weights,
        '--out',
        join(root, 'warm.npz'),
        '--backend',
        'wasm',
        '--quiet',
      )
    ).code,
  ).toBe(0);
  model = loadFixtureInception();
  const keep = { keepFeatures: true, keepLogits: true };
  samples = await measureImages(model, await openImageSource(join(root, 'samples')), keep);
  reference = await measureImages(model, await openImageSource(join(root, 'cifar'), { split: 'test' }), keep);
});
afterAll(async () => {
  model?.dispose();
  await rm(root, { recursive: true, force: true });
});

const relDiff = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);

describe('sbm-metrics', () => {
  it('prints its usage and each command has --help', async () => {
    const top = await cli('--help');
    expect(top.code).toBe(0);
    for (const c of ['stats', 'fid', 'kid', 'is']) {
      expect(top.out).toContain(`  ${c} `);
      const h = await cli(c, '--help');
      expect(h.code).toBe(0);
      expect(h.out).toContain(`Usage: sbm-metrics ${c}`);
    }
  });

  it('stats writes pytorch-fid statistics (mu, sigma float64) of a folder, atomically', async () => {
    const out = join(root, 'samples.npz');
    const r = await cli(
      'stats',
      join(root, 'samples'),
      '--weights',
      weights,
      '--out',
      out,
      '--backend',
      'wasm',
      '--jsonl',
    );
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(events(r.out).find((e) => e.event === 'stats')).toMatchObject({ count: 4, out });
    const stats = readFidStatistics(await readFile(out));
    expect(frechetDistance(stats, samples.statistics)).toBeLessThan(
      1e-6 * stats.sigma.reduce((a, v, i) => (i % 2049 === 0 ? a + v : a), 0),
    );
    expect((await readdir(root)).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('fid between a folder and CIFAR-10 batches equals frechetDistance of their statistics; a .npz works in place of images', async () => {
    const expected = frechetDistance(samples.statistics, reference.statistics);
    const r = await cli(
      'fid',
      join(root, 'samples'),
      join(root, 'cifar'),
      '--split',
      'test',
      '--weights',
      weights,
      '--backend',
      'wasm',
      '--jsonl',
    );
    expect(r.code).toBe(0);
    const fid = events(r.out).find((e) => e.event === 'fid')!.fid as number;
    expect(relDiff(fid, expected)).toBeLessThan(1e-4);
    const npz = join(root, 'reference.npz');
    await writeFile(npz, writeFidStatistics(reference.statistics));
    // Both sides from .npz files: no weights needed.
    await writeFile(join(root, 'samples-lib.npz'), writeFidStatistics(samples.statistics));
    const both = await cli('fid', join(root, 'samples-lib.npz'), npz, '--quiet');
    expect(both.code).toBe(0);
    expect(both.out).toBe(`FID ${expected.toFixed(4)}\n`);
    const same = await cli('fid', npz, npz, '--quiet');
    expect(same.out).toBe('FID 0.0000\n');
  });

  it('kid and is equal the library functions on the measured features and logits', async () => {
    const k = await cli(
      'kid',
      join(root, 'samples'),
      join(root, 'cifar'),
      '--split',
      'test',
      '--subset-size',
      '3',
      '--subsets',
      '4',
      '--seed',
      '5',
      '--weights',
      weights,
      '--backend',
      'wasm',
      '--jsonl',
    );
    expect(k.code).toBe(0);
    const kid = events(k.out).find((e) => e.event === 'kid')!;
    const expectedKid = kernelInceptionDistance(samples.features!, reference.features!, 2048, {
      subsetSize: 3,
      numSubsets: 4,
      seed: 5,
    });
    expect(Math.abs((kid.mean as number) - expectedKid.mean)).toBeLessThan(
      1e-4 * Math.max(Math.abs(expectedKid.mean), 1e-3),
    );
    const s = await cli(
      'is',
      join(root, 'samples'),
      '--splits',
      '2',
      '--weights',
      weights,
      '--backend',
      'wasm',
      '--jsonl',
    );
    expect(s.code).toBe(0);
    const is = events(s.out).find((e) => e.event === 'is')!;
    const expectedIs = inceptionScore(samples.logits!, 4, { splits: 2 });
    expect(relDiff(is.mean as number, expectedIs.mean)).toBeLessThan(1e-4);
    expect(is.count).toBe(4);
  });

  it('usage errors exit 2 and name the option; bad files exit 1 and name the file', async () => {
    const noWeights = await cli('fid', join(root, 'samples'), join(root, 'cifar'));
    expect(noWeights.code).toBe(2);
    expect(noWeights.err).toContain(`--weights: give pytorch-fid's Inception weights`);
    expect(noWeights.err).toContain(WEIGHTS_ENV);
    expect(
      (await cli('kid', join(root, 'samples'), join(root, 'x.npz'), '--weights', weights)).err,
    ).toContain('KID needs the features of images');
    expect((await cli('stats', join(root, 'samples'), '--weights', weights)).err).toContain(
      '--out: give the .npz',
    );
    expect((await cli('fid', join(root, 'samples'))).err).toContain('expected two sets, got 1 arguments');
    expect((await cli('nope')).code).toBe(2);
    const foreign = join(root, 'ddpm_small.pth');
    await copyFile(
      fileURLToPath(new URL('../../../../../shared/fixtures/score-sde/ddpm_small.pth', import.meta.url)),
      foreign,
    );
    const wrong = await cli(
      'is',
      join(root, 'samples'),
      '--weights',
      foreign,
      '--backend',
      'wasm',
      '--quiet',
    );
    expect(wrong.code).toBe(1);
    expect(wrong.err).toContain(`${foreign} is not the FID Inception weights`);
    await mkdir(join(root, 'broken'));
    await writeFile(join(root, 'broken', 'a.png'), pngFile(8, 8, colour(1)).subarray(0, 40));
    const broken = await cli(
      'is',
      join(root, 'broken'),
      '--weights',
      weights,
      '--backend',
      'wasm',
      '--quiet',
    );
    expect(broken.code).toBe(1);
    expect(broken.err).toContain(`${join(root, 'broken', 'a.png')}: cannot decode PNG image`);
    const badNpz = join(root, 'bad.npz');
    await writeFile(badNpz, new Uint8Array(100));
    const bad = await cli('fid', badNpz, badNpz);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain(badNpz);
  });
});
