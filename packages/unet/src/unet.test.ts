import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectNoLeaks, useCpuBackend } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UNetConfig } from './config.js';
import { fileSystemIO } from './fs-io.js';
import { unetPreset } from './presets.js';
import { catchArgumentError } from './reference-fixtures.testing.js';
import { countUNetParameters, createUNet, loadUNet, type UNet } from './unet.js';

beforeAll(useCpuBackend);

const tmp = mkdtempSync(join(tmpdir(), 'sbm-unet-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// Parameter counts of the reference networks: the DDPM and DDPM++ figures are those of the score-sde fixtures'
// README; all were also computed by building the published models with PyTorch 1.13
// (scripts/score-sde-reference.py, `sum(p.numel() for p in model.parameters())`).
const REFERENCE_COUNTS: Record<string, number> = {
  'vp/ddpm/cifar10_continuous': 35_218_947,
  'vp/cifar10_ddpmpp_continuous': 61_804_419,
  'vp/cifar10_ddpmpp_deep_continuous': 106_632_579,
  'subvp/cifar10_ddpmpp_continuous': 61_804_419,
  'subvp/cifar10_ddpmpp_deep_continuous': 106_632_579,
  'vp/cifar10_ncsnpp_continuous': 62_693_251,
  'vp/cifar10_ncsnpp_deep_continuous': 107_521_411,
  'subvp/cifar10_ncsnpp_continuous': 62_693_251,
  'subvp/cifar10_ncsnpp_deep_continuous': 107_521_411,
  've/cifar10_ncsnpp_continuous': 62_758_915,
  've/cifar10_ncsnpp_deep_continuous': 107_587_075,
};

describe('parameter counts', () => {
  it.each(Object.entries(REFERENCE_COUNTS))('%s has the reference count', (name, count) => {
    expect(countUNetParameters(unetPreset(name))).toBe(count);
  });

  const variants: [string, UNetConfig][] = [
    ['tiny/ddpmpp', unetPreset('tiny/ddpmpp')],
    ['tiny/ncsnpp', unetPreset('tiny/ncsnpp')],
    ['tiny/ddpm', unetPreset('tiny/ddpm')],
    [
      'output_skip + input_skip cat, DDPM blocks',
      unetPreset('tiny/ncsnpp', {
        resblockType: 'ddpm',
        progressive: 'output_skip',
        progressiveInput: 'input_skip',
        progressiveCombine: 'cat',
      }),
    ],
    [
      'residual, no FIR',
      unetPreset('tiny/ddpmpp', { progressive: 'residual', progressiveInput: 'residual' }),
    ],
    ['class-conditional', unetPreset('tiny/ddpmpp', { numClasses: 10 })],
    ['unconditional', unetPreset('tiny/ddpmpp', { conditional: false })],
    ['three levels', unetPreset('tiny/ncsnpp', { chMult: [1, 2, 2], attnResolutions: [4] })],
  ];
  it.each(variants)('the shape-only count equals the built model (%s)', (_, config) => {
    const net = createUNet(config);
    expect(countUNetParameters(config)).toBe(net.countParams());
    net.dispose();
  });
});

describe('UNet', () => {
  const nets = new Map<string, UNet>();
  const net = (name: string, overrides: Partial<UNetConfig> = {}) => {
    const key = `${name} ${JSON.stringify(overrides)}`;
    if (!nets.has(key)) nets.set(key, createUNet(unetPreset(name, overrides)));
    return nets.get(key)!;
  };
  afterAll(() => {
    for (const n of nets.values()) n.dispose();
  });
  let x: tf.Tensor4D;
  let t: tf.Tensor1D;
  beforeAll(() => {
    x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
    t = tf.tensor1d([0.3, 2.5]);
  });

  it.each(['tiny/ddpmpp', 'tiny/ncsnpp', 'tiny/ddpm'])(
    '%s maps [B, H, W, C] to [B, H, W, C] at any multiple of 2^(levels−1)',
    (name) => {
      const y = net(name).predict(x, t);
      expect(y.shape).toEqual([2, 8, 8, 3]);
      const wide = net(name).predict(tf.zeros([1, 4, 10, 3]) as tf.Tensor4D, tf.tensor1d([1]));
      expect(wide.shape).toEqual([1, 4, 10, 3]);
    },
  );

  it('rejects bad inputs with errors naming the argument', () => {
    const n = net('tiny/ddpmpp');
    const err = (f: () => unknown, arg: string, text: RegExp) => {
      const error = catchArgumentError(f);
      expect(error.argument).toBe(arg);
      expect(error.message).toMatch(text);
    };
    err(() => n.predict(tf.zeros([8, 8, 3]) as unknown as tf.Tensor4D, t), 'x', /rank-4/);
    err(() => n.predict(tf.zeros([2, 8, 8, 1]) as tf.Tensor4D, t), 'x', /3 channels/);
    err(() => n.predict(tf.zeros([2, 7, 8, 3]) as tf.Tensor4D, t), 'x', /divisible by 2\^\(levels − 1\) = 2/);
    const deep = net('tiny/ncsnpp', { chMult: [1, 2, 2], attnResolutions: [4] });
    err(() => deep.predict(tf.zeros([2, 6, 8, 3]) as tf.Tensor4D, t), 'x', /= 4 for 3 levels, got 6×8/);
    err(() => n.predict(x, tf.tensor1d([1, 2, 3])), 't', /shape \[2\]/);
    err(() => n.predict(x, tf.scalar(1) as unknown as tf.Tensor1D), 't', /shape \[2\]/);
    err(
      () => n.predict(x, t, { labels: tf.tensor1d([0, 1], 'int32') }),
      'options.labels',
      /not class-conditional/,
    );
    const cond = net('tiny/ddpmpp', { numClasses: 3 });
    err(() => cond.predict(x, t), 'options.labels', /shape \[2\]/);
    err(() => cond.predict(x, t, { labels: tf.tensor1d([0, 4], 'int32') }), 'options.labels', /\{0, …, 3\}/);
  });

  it('conditions on the class; the null class is label numClasses', () => {
    const n = net('tiny/ddpmpp', { numClasses: 3 });
    // Dense layers start at zero bias and the last convs near zero: give the output path weight to see classes.
    const ys = [0, 1, 3].map((label) =>
      tf.tidy(() => n.predict(x, t, { labels: tf.tensor1d([label, label], 'int32') }).dataSync()),
    );
    const differs = (a: Float32Array, b: Float32Array) => a.some((v, i) => v !== b[i]);
    expect(differs(ys[0] as Float32Array, ys[1] as Float32Array)).toBe(true);
    expect(differs(ys[0] as Float32Array, ys[2] as Float32Array)).toBe(true);
  });

  it('applies dropout only in training mode', () => {
    const n = net('tiny/ddpmpp', { dropout: 0.5 });
    const a = n.predict(x, t).dataSync();
    const b = n.predict(x, t).dataSync();
    const c = n.predict(x, t, { training: true }).dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(c)).not.toEqual(Array.from(a));
  });

  it('initializes like score_sde: default_init variance scaling, zero biases, unit GroupNorm scales', () => {
    const n = net('tiny/ddpm');
    const byName = new Map(n.model.weights.map((w) => [w.originalName, w.read()]));
    // all_modules.2 is the first conv (3 → 32 channels, 3×3): Var = 1/fan_avg, fan_avg = 9·(3 + 32)/2.
    const w = byName.get('all_modules.2/weight')!.dataSync();
    const variance = Array.from(w).reduce((a, v) => a + v * v, 0) / w.length;
    expect(Math.abs(variance / (1 / ((9 * (3 + 32)) / 2)) - 1)).toBeLessThan(0.1);
    expect(Array.from(byName.get('all_modules.2/bias')!.dataSync()).every((v) => v === 0)).toBe(true);
    expect(Array.from(byName.get('all_modules.3/GroupNorm_0.weight')!.dataSync()).every((v) => v === 1)).toBe(
      true,
    );
    // init_scale 0 → scale 1e-10: DDPM's second conv of each block starts (almost) at zero, Var = 1e-10/fan_avg.
    const conv1 = byName.get('all_modules.3/Conv_1.weight')!.dataSync();
    const v1 = Array.from(conv1).reduce((a, v) => a + v * v, 0) / conv1.length;
    expect(Math.abs(v1 / (1e-10 / (9 * 32)) - 1)).toBeLessThan(0.1);
  });

  it('does not leak across repeated calls', async () => {
    for (const name of ['tiny/ddpmpp', 'tiny/ncsnpp', 'tiny/ddpm'])
      await expectNoLeaks(() => net(name).predict(x, t));
    const cond = net('tiny/ddpmpp', { numClasses: 3 });
    const labels = tf.tensor1d([3, 0], 'int32');
    await expectNoLeaks(() => cond.predict(x, t, { labels }));
  });

  it('trains: an optimizer step changes the weights and does not leak', async () => {
    const n = net('tiny/ncsnpp', { dropout: 0.1 });
    const optimizer = tf.train.adam(1e-3);
    const sigma = tf.tensor1d([0.5, 2]);
    const target = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 6);
    const step = () =>
      optimizer.minimize(
        () => tf.mean(tf.square(tf.sub(n.predict(x, sigma, { training: true }), target))) as tf.Scalar,
        true,
      );
    const before = n.model.getWeights()[5]!.dataSync().slice();
    await expectNoLeaks(step, { warmup: 1, repeats: 1 });
    expect(Array.from(n.model.getWeights()[5]!.dataSync())).not.toEqual(Array.from(before));
    optimizer.dispose();
  });

  it.each([
    ['tiny/ncsnpp', {}],
    ['tiny/ddpm', {}],
    [
      'tiny/ddpmpp',
      {
        numClasses: 3,
        progressive: 'output_skip',
        progressiveInput: 'input_skip',
        progressiveCombine: 'cat',
      },
    ],
  ] as [string, Partial<UNetConfig>][])(
    'saves and loads %s through fileSystemIO with bit-identical predictions',
    async (name, overrides) => {
      const n = net(name, overrides);
      const dir = join(tmp, name.replace('/', '_') + Object.keys(overrides).length);
      await n.save(fileSystemIO(dir));
      const loaded = await loadUNet(fileSystemIO(dir));
      expect(loaded.config).toEqual(n.config);
      const labels = n.config.numClasses > 0 ? { labels: tf.tensor1d([1, 3], 'int32') } : {};
      const sigma = tf.tensor1d([0.5, 3]);
      const a = n.predict(x, sigma, labels).dataSync();
      const b = loaded.predict(x, sigma, labels).dataSync();
      expect(Array.from(b)).toEqual(Array.from(a));
      // Every layer class went through the sbm serialization.
      const classes = (
        loaded.model.toJSON(null, false) as { config: { layers: { class_name: string }[] } }
      ).config.layers.map((l) => l.class_name);
      expect(classes.filter((c) => c.startsWith('sbm>')).length).toBeGreaterThan(10);
      loaded.dispose();
      await expectNoLeaks(async () => {
        (await loadUNet(fileSystemIO(dir))).dispose();
      });
    },
  );

  it('refuses a model directory without the UNet config', async () => {
    const plain = tfl.sequential({ layers: [tfl.layers.dense({ units: 1, inputShape: [1] })] });
    const dir = join(tmp, 'plain');
    await plain.save(fileSystemIO(dir));
    await expect(loadUNet(fileSystemIO(dir))).rejects.toThrow(/sbmUNetConfig/);
    plain.dispose();
  });
});
