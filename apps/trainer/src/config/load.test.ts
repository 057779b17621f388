import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ConfigError } from './config-error.js';
import { loadConfig, readConfigFile } from './load.js';
import { trainerPreset } from './presets.js';
import { validateConfig } from './validate-config.js';
import { writeResolvedConfig } from './write-resolved-config.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sbm-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function errorOf(promise: Promise<unknown>): Promise<ConfigError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

describe('loadConfig', () => {
  it('resolves a preset with every default filled in', async () => {
    const config = await loadConfig({ preset: 'mnist/small' });
    expect(config).toEqual(validateConfig(trainerPreset('mnist/small')));
    expect(config.optim.lr).toBe(2e-3);
  });

  it('reads a full JSON config file', async () => {
    const file = join(dir, 'full.json');
    await writeFile(file, JSON.stringify(trainerPreset('toy/mixture')));
    expect(await loadConfig({ file })).toEqual(validateConfig(trainerPreset('toy/mixture')));
  });

  it('reads a YAML file (.yaml and .yml) and merges it over a preset', async () => {
    const text = stringify({ optim: { lr: 5e-4 }, training: { batchSize: 32 }, model: { chMult: [1, 2] } });
    for (const name of ['over.yaml', 'over.yml']) {
      const file = join(dir, name);
      await writeFile(file, text);
      const config = await loadConfig({ preset: 'mnist/small', file });
      expect(config.optim.lr).toBe(5e-4);
      expect(config.optim.beta1).toBe(0.9); // kept from the preset
      expect(config.training.batchSize).toBe(32);
      expect(config.model).toMatchObject({ kind: 'unet', chMult: [1, 2], nf: 32 });
    }
  });

  it('replaces a section whose discriminator a file changes', async () => {
    const file = join(dir, 'ddim.yaml');
    await writeFile(file, 'sampling:\n  sampler: ddim\n  steps: 25\n');
    const config = await loadConfig({ preset: 've/cifar10_ncsnpp_continuous', file });
    expect(config.sampling).toEqual({ sampler: 'ddim', steps: 25, eta: 0 });
  });

  it('applies --set overrides in order, values parsed as YAML', async () => {
    const config = await loadConfig({
      preset: 'mnist/small',
      set: [
        'optim.lr=1e-3',
        'model.chMult=[1,2]',
        'training.reduceMean=false',
        'optim.gradClip=null',
        'optim.lr=3e-3',
      ],
    });
    expect(config.optim.lr).toBe(3e-3);
    expect(config.model).toMatchObject({ chMult: [1, 2] });
    expect(config.training.reduceMean).toBe(false);
    expect(config.optim.gradClip).toBeNull();
  });

  it('starts a section afresh when --set changes its discriminator', async () => {
    const config = await loadConfig({
      preset: 'vp/cifar10_ddpmpp_continuous',
      set: ['sampling.sampler=dpmSolverPlusPlus', 'sampling.steps=20', 'sampling.order=3'],
    });
    expect(config.sampling).toEqual({ sampler: 'dpmSolverPlusPlus', steps: 20, order: 3 });
  });

  it('names an unknown --set key and the nearest valid keys', async () => {
    const error = await errorOf(loadConfig({ preset: 'mnist/small', set: ['optim.lrr=1e-3'] }));
    expect(error.problems).toEqual([
      'optim.lrr: unknown key (from --set optim.lrr=1e-3); did you mean optim.lr? ' +
        '(valid keys of optim: optimizer, lr, beta1, beta2, eps, warmup, gradClip, weightDecay)',
    ]);
    const section = await errorOf(loadConfig({ preset: 'mnist/small', set: ['optimm.lr=1'] }));
    expect(section.problems[0]).toMatch(/^optimm: unknown key .*did you mean optim\?/);
    const deep = await errorOf(loadConfig({ preset: 'mnist/small', set: ['optim.lr.x=1'] }));
    expect(deep.problems[0]).toMatch(/optim\.lr is a value, not a section/);
  });

  it('names the key of a value the schema rejects, with what was expected and what it got', async () => {
    const error = await errorOf(
      loadConfig({ preset: 'mnist/small', set: ['optim.lr=-1', 'data.channels=two'] }),
    );
    expect(error.problems).toEqual([
      'data.channels: expected a positive integer, got "two"',
      'optim.lr: expected a positive number, got -1',
    ]);
    expect(error.message).toContain('preset mnist/small + 2 --set overrides');
  });

  it('names the trainer key when @sbm/unet rejects the network', async () => {
    const error = await errorOf(loadConfig({ preset: 'mnist/small', set: ['data.resolution=30'] }));
    expect(error.problems).toEqual([
      'data.resolution: expected a multiple of 2^(levels − 1) = 4 for 3 levels, got 30',
    ]);
  });

  it('rejects malformed --set arguments, files and missing sources with clear messages', async () => {
    expect((await errorOf(loadConfig({ preset: 'mnist/small', set: ['optim.lr'] }))).problems[0]).toMatch(
      /expected key=value/,
    );
    expect((await errorOf(loadConfig({}))).problems[0]).toMatch(
      /^preset: expected a preset name or a config file/,
    );
    expect((await errorOf(loadConfig({ file: join(dir, 'missing.yaml') }))).problems[0]).toMatch(
      /^file: cannot read/,
    );
    const txt = join(dir, 'config.txt');
    await writeFile(txt, '{}');
    expect((await errorOf(loadConfig({ file: txt }))).problems[0]).toMatch(
      /expected a \.json, \.yaml or \.yml file/,
    );
    const broken = join(dir, 'broken.json');
    await writeFile(broken, '{ "optim": ');
    expect((await errorOf(readConfigFile(broken))).problems[0]).toMatch(/is not valid JSON/);
    const list = join(dir, 'list.yaml');
    await writeFile(list, '- 1\n- 2\n');
    expect((await errorOf(readConfigFile(list))).problems[0]).toMatch(
      /expected a mapping of config sections/,
    );
  });

  it('reports unknown keys in a file with the nearest valid ones', async () => {
    const file = join(dir, 'typo.yaml');
    await writeFile(file, 'training:\n  batchsize: 16\n');
    const error = await errorOf(loadConfig({ preset: 'mnist/small', file }));
    expect(error.problems[0]).toMatch(
      /^training\.batchsize: unknown key; did you mean training\.batchSize\?/,
    );
  });
});

describe('writeResolvedConfig', () => {
  it('writes config.json that loads back to the same config, leaving no temp file', async () => {
    const config = await loadConfig({ preset: 've/cifar10_ncsnpp_continuous', set: ['optim.gradClip=null'] });
    const runDir = join(dir, 'run', 'nested');
    const path = await writeResolvedConfig(runDir, config);
    expect(path).toBe(join(runDir, 'config.json'));
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(config);
    expect(await loadConfig({ file: path })).toEqual(config);
    const { readdir } = await import('node:fs/promises');
    expect(await readdir(runDir)).toEqual(['config.json']);
  });

  it('replaces an existing config.json', async () => {
    const runDir = join(dir, 'run2');
    await writeResolvedConfig(runDir, await loadConfig({ preset: 'mnist/small' }));
    const second = await loadConfig({ preset: 'toy/mixture' });
    await writeResolvedConfig(runDir, second);
    expect(await loadConfig({ file: join(runDir, 'config.json') })).toEqual(second);
  });
});
