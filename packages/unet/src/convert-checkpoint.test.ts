import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useCpuBackend } from '@sbm/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runConvertCli } from './convert-checkpoint.js';
import { fileSystemIO } from './fs-io.js';
import { maxRelativeError, readFixture, sharedFixtureDir } from './reference-fixtures.testing.js';
import { loadUNet } from './unet.js';

beforeAll(useCpuBackend);

const tmp = mkdtempSync(join(tmpdir(), 'sbm-unet-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('sbm-unet-convert', () => {
  it('converts a score_sde checkpoint into a loadable tfjs model directory', async () => {
    const fixture = readFixture(sharedFixtureDir, 'ddpm_small');
    const out = join(tmp, 'ddpm');
    const logs: string[] = [];
    const overrides = JSON.stringify({
      'data.image_size': 16,
      'model.nf': 32,
      'model.ch_mult': [1, 2],
      'model.num_res_blocks': 1,
      'model.attn_resolutions': [8],
      'model.dropout': 0,
    });
    const code = await runConvertCli(
      [
        join(sharedFixtureDir, 'ddpm_small.pth'),
        out,
        '--preset',
        'vp/ddpm/cifar10_continuous',
        '--overrides',
        overrides,
      ],
      (s) => logs.push(s),
      (s) => logs.push(s),
    );
    expect(logs.join('\n')).toMatch(/685731 parameters, ema weights/);
    expect(code).toBe(0);
    const net = await loadUNet(fileSystemIO(out));
    expect(
      maxRelativeError(net.predict(fixture.x, fixture.timeCond).dataSync(), fixture.outEma),
    ).toBeLessThan(1e-4);
    net.dispose();
  });

  it('reports usage errors and conversion errors with exit codes 2 and 1', async () => {
    const errors: string[] = [];
    expect(await runConvertCli(['only-one-arg'], undefined, (s) => errors.push(s))).toBe(2);
    expect(errors[0]).toMatch(/expected <checkpoint.pth> <out-dir>/);
    expect(
      await runConvertCli(['a.pth', 'out', '--preset', 'tiny/ddpm', '--weights', 'best'], undefined, (s) =>
        errors.push(s),
      ),
    ).toBe(2);
    expect(errors[1]).toMatch(/--weights/);
    const pth = join(sharedFixtureDir, 'ddpm_small.pth');
    expect(
      await runConvertCli([pth, join(tmp, 'x'), '--preset', 'tiny/ddpmpp'], undefined, (s) => errors.push(s)),
    ).toBe(1);
    expect(errors[2]).toMatch(/does not match the network/);
  });
});
