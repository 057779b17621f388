import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectNoLeaks, useCpuBackend } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileSystemIO } from './fs-io.js';
import {
  catchArgumentError,
  localFixtureDir,
  maxRelativeError,
  type ReferenceFixture,
  readFixture,
  sharedFixtureDir,
} from './reference-fixtures.testing.js';
import { importScoreSdeCheckpoint } from './score-sde-checkpoint.js';
import { loadUNet } from './unet.js';

beforeAll(useCpuBackend);

const tmp = mkdtempSync(join(tmpdir(), 'sbm-unet-import-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// Checkpoints written by the published score_sde PyTorch code, with its outputs for given inputs:
// - ../shared/fixtures/score-sde: DDPM++ cont. and DDPM at 16×16 (the fixtures);
// - test-fixtures/: NCSN++ variants at 8×8 (scripts/score-sde-reference.py): FIR BigGAN blocks + Fourier
//   embedding + residual input pyramid + scale_by_sigma (VE); DDPM blocks with fused FIR conv resampling +
//   output_skip + input_skip/cat; residual output and input pyramids with the positional σ table.
const FIXTURES: [string, string][] = [
  [sharedFixtureDir, 'ddpmpp_small'],
  [sharedFixtureDir, 'ddpm_small'],
  [localFixtureDir, 'ncsnpp_ve_tiny'],
  [localFixtureDir, 'ncsnpp_skip_tiny'],
  [localFixtureDir, 'ncsnpp_residual_tiny'],
];

describe.each(FIXTURES)('score_sde checkpoint %s/%s', (dir, name) => {
  let fixture: ReferenceFixture;
  beforeAll(() => {
    fixture = readFixture(dir, name);
  });

  it.each(['model', 'ema'] as const)(
    'reproduces the reference output with the %s weights through import, save and load (1e-4)',
    async (weights) => {
      const net = importScoreSdeCheckpoint(fixture.pth, fixture.config, { weights });
      expect(net.countParams()).toBe(fixture.numParams);
      const out = join(tmp, `${name}-${weights}`);
      await net.save(fileSystemIO(out));
      const loaded = await loadUNet(fileSystemIO(out));
      const direct = net.predict(fixture.x, fixture.timeCond).dataSync();
      const roundTrip = loaded.predict(fixture.x, fixture.timeCond).dataSync();
      expect(Array.from(roundTrip)).toEqual(Array.from(direct));
      const reference = weights === 'model' ? fixture.outModel : fixture.outEma;
      const other = weights === 'model' ? fixture.outEma : fixture.outModel;
      const error = maxRelativeError(roundTrip, reference);
      console.log(`${name} ${weights}: max |Δ| / max |ref| = ${error.toExponential(2)}`);
      expect(error).toBeLessThan(1e-4);
      // The model and EMA outputs differ clearly, so mixing the two weight sets up cannot pass.
      expect(maxRelativeError(roundTrip, other)).toBeGreaterThan(1e-2);
      net.dispose();
      loaded.dispose();
    },
  );
});

describe('checkpoint mismatches', () => {
  let ddpmpp: ReferenceFixture;
  let ddpm: ReferenceFixture;
  beforeAll(() => {
    ddpmpp = readFixture(sharedFixtureDir, 'ddpmpp_small');
    ddpm = readFixture(sharedFixtureDir, 'ddpm_small');
  });
  const message = (f: () => unknown): string => catchArgumentError(f).message;

  it('names unmatched and missing tensors', () => {
    const m = message(() => importScoreSdeCheckpoint(ddpm.pth, ddpmpp.config, { weights: 'model' }));
    expect(m).toMatch(/checkpoint tensors with no network weight: .*all_modules\.\d+\.NIN_0\.W/);
    expect(m).toMatch(/network weights missing from the checkpoint: .*all_modules\.\d+\.Conv_2\.weight/);
    const extra = message(() =>
      importScoreSdeCheckpoint(ddpmpp.pth, { ...ddpmpp.config, numResBlocks: 2 }, { weights: 'ema' }),
    );
    expect(extra).toMatch(/missing from the checkpoint: .*all_modules\.\d+/);
  });

  it('names a tensor of the wrong shape', () => {
    const m = message(() =>
      importScoreSdeCheckpoint(ddpmpp.pth, { ...ddpmpp.config, numChannels: 1 }, { weights: 'model' }),
    );
    expect(m).toMatch(
      /all_modules\.2\.weight has shape \[32,3,3,3\] \(tfjs \[3,3,3,32\]\), the network expects \[3,3,1,32\]/,
    );
  });

  it('checks the sigmas buffer against the config', () => {
    const m = message(() =>
      importScoreSdeCheckpoint(ddpmpp.pth, { ...ddpmpp.config, sigmaMax: 10 }, { weights: 'model' }),
    );
    expect(m).toMatch(/sigmas buffer/);
  });

  it('rejects an unknown weight source', () => {
    expect(() => importScoreSdeCheckpoint(ddpmpp.pth, ddpmpp.config, { weights: 'best' as never })).toThrow(
      /options.weights/,
    );
  });

  it('does not leak tensors', async () => {
    await expectNoLeaks(() => {
      const net = importScoreSdeCheckpoint(ddpmpp.pth, ddpmpp.config, { weights: 'ema' });
      net.dispose();
    });
    expect(tf.memory().numTensors).toBeGreaterThan(0);
  });
});
