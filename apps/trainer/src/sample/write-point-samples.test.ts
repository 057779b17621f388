import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { wrapModel } from '@sbm/samplers';
import { VPSDE } from '@sbm/sde';
import { expectNoLeaks, useCpuBackend } from '@sbm/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOY_MIXTURE } from '../data/toy.js';
import { withSeededRandom } from '../run/seeded-random.js';
import { createMlpNetwork } from '../train/mlp-network.js';
import { decodePng } from './png-io.js';
import { writePointSamples } from './write-point-samples.js';

let dir: string;
beforeAll(async () => {
  await useCpuBackend();
  dir = await mkdtemp(join(tmpdir(), 'sbm-points-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('writePointSamples', () => {
  // A randomly initialized MLP ε-network: its samples are whatever they are, but deterministic.
  const sde = new VPSDE();
  const net = withSeededRandom(5, 0, () =>
    createMlpNetwork({ dim: 2, hidden: 8, layers: 2, timeEmbeddingDim: 8, numClasses: 0 }),
  );
  const model = wrapModel(net.model, { sde, prediction: 'eps', timeInput: 'index', name: 'mlp' });
  afterAll(() => net.dispose());
  const run = (outDir: string, shard = { index: 0, total: 1 }, mixture = TOY_MIXTURE) =>
    writePointSamples({
      sde,
      model,
      sampler: 'ddim',
      samplerOptions: { steps: 3 },
      sampleShape: [2],
      count: 5,
      batchSize: 2,
      seed: 9,
      shard,
      outDir,
      mixture,
    });

  it('writes points.csv in sample order and scatter.png; shard CSVs concatenated are the unsharded file', async () => {
    const whole = await run(dir);
    expect(whole.count).toBe(5);
    expect(whole.nfe).toBe(9);
    expect((await readdir(dir)).sort()).toEqual(['points.csv', 'scatter.png']);
    const csv = await readFile(join(dir, 'points.csv'), 'utf8');
    const rows = csv.trimEnd().split('\n');
    expect(rows).toHaveLength(5);
    for (const row of rows) expect(row).toMatch(/^-?[\d.e+-]+,-?[\d.e+-]+$/);
    const png = decodePng(await readFile(join(dir, 'scatter.png')));
    expect([png.width, png.height]).toEqual([512, 512]);
    // The fit is measured against the mixture, with fresh true samples as the reference.
    expect(whole.fit!.samples.count).toBe(5);
    expect(whole.fit!.truePoints.count).toBe(5);
    const parts = join(dir, 'parts');
    await mkdir(parts);
    const first = await run(parts, { index: 0, total: 2 });
    const second = await run(parts, { index: 1, total: 2 });
    expect([first.batches, second.batches].flat()).toEqual(whole.batches);
    expect((await readdir(parts)).sort()).toEqual([
      'points-0.csv',
      'points-1.csv',
      'scatter-0.png',
      'scatter-1.png',
    ]);
    const joined =
      (await readFile(join(parts, 'points-0.csv'), 'utf8')) +
      (await readFile(join(parts, 'points-1.csv'), 'utf8'));
    expect(joined).toBe(csv);
  });

  it('refuses a sample shape that is not [D], and leaves no tensors behind', async () => {
    await expect(
      writePointSamples({
        sde,
        model,
        sampler: 'ddim',
        sampleShape: [2, 2],
        count: 1,
        batchSize: 1,
        seed: 1,
        outDir: dir,
      }),
    ).rejects.toThrow(/^sampleShape: expected \[D\] for point data, got \[2, 2\]/);
    const out = join(dir, 'leaks');
    await mkdir(out);
    await expectNoLeaks(() => run(out));
  });
});
