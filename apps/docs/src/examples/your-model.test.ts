// Runs the examples of guides/your-model.md: a plain function, a saved and reloaded LayersModel, a converter-format
// GraphModel (int32 timesteps, channels first) served over HTTP and loaded with loadGraphModel, and the stepping API.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ddimSample, dpmSolverPlusPlusSample, wrapModel } from '@sbm/samplers';
import { discreteSchedule, linearBetas, VPSDE } from '@sbm/sde';
import { expectNoLeaks, expectTensorsClose, useCpuBackend } from '@sbm/test-utils';
import { GraphBuilder, loadGraphFixture } from '@sbm/test-utils/graph-model-fixtures';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildAndSave,
  epsFunction,
  ownLoop,
  sampleFromFunction,
  sampleFromGraphModel,
  sampleFromSavedLayersModel,
} from './your-model.js';

beforeAll(useCpuBackend);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sbm-docs-your-model-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/**
 * A converter-format GraphModel that predicts ε exactly for data N(μ_c, 1) per channel (μ = [1, −1, 0.5]) under
 * DDPM's linear schedule: `x [B, 3, 4, 4]` float32 (channels first), `t [B]` int32 step index,
 * `ε = σ_t (x − α_t μ)` with `α_t = √ᾱ_t`, `σ_t = √(1 − ᾱ_t)` looked up in tables by `t`.
 */
const channelMeans = [1, -1, 0.5];
function channelsFirstEpsGraph(): GraphBuilder {
  const { alphaBars } = discreteSchedule(linearBetas(1000));
  const g = new GraphBuilder();
  g.placeholder('x', 'float32', [-1, 3, 4, 4]);
  g.placeholder('t', 'int32', [-1]);
  g.constant(
    'alpha_table',
    Array.from(alphaBars, (a) => Math.sqrt(a)),
    [1000],
  );
  g.constant(
    'sigma_table',
    Array.from(alphaBars, (a) => Math.sqrt(1 - a)),
    [1000],
  );
  g.constant('mu', channelMeans, [1, 3, 1, 1]);
  g.constant('axis', [0], [], 'int32');
  const gather = { Tindices: { type: 'DT_INT32' }, Taxis: { type: 'DT_INT32' }, batch_dims: { i: '0' } };
  g.op('alpha', 'GatherV2', ['alpha_table', 't', 'axis'], gather);
  g.op('sigma', 'GatherV2', ['sigma_table', 't', 'axis'], gather);
  g.reshape('alpha4', 'alpha', [-1, 1, 1, 1]);
  g.reshape('sigma4', 'sigma', [-1, 1, 1, 1]);
  g.op('mean', 'Mul', ['alpha4', 'mu']);
  g.op('centered', 'Sub', ['x', 'mean']);
  g.op('scaled', 'Mul', ['sigma4', 'centered']);
  g.op('eps', 'Identity', ['scaled']);
  return g;
}

describe('guides/your-model examples', () => {
  it('a plain ε-function samples N(0, 4) in 20 NFE', async () => {
    const { samples, nfe } = await sampleFromFunction([4000, 1], 1);
    expect(nfe).toBe(20);
    const { mean, variance } = tf.moments(samples);
    // standard errors 2/√4000 = 0.032 and 4·√(2/3999) = 0.089; 4 of each plus 0.05 for the solver
    expect(Math.abs(mean.dataSync()[0]!)).toBeLessThan(4 * 0.032 + 0.05);
    expect(Math.abs(variance.dataSync()[0]! - 4)).toBeLessThan(4 * 0.089 + 0.05);
    tf.dispose([samples, mean, variance]);
  });

  it('a LayersModel saved with tf.io and reloaded samples exactly as the network before saving', async () => {
    const modelDir = join(dir, 'unet');
    const net = await buildAndSave(modelDir);
    const sde = new VPSDE();
    const original = wrapModel(net.model, { sde, prediction: 'eps', timeInput: 'index' });
    const before = await ddimSample({ sde, model: original, shape: [2, 8, 8, 3], steps: 10, seed: 5 });
    const after = await sampleFromSavedLayersModel(modelDir, 5);
    expect(after.nfe).toBe(10);
    expect(after.samples.shape).toEqual([2, 8, 8, 3]);
    expectTensorsClose(after.samples, before.samples, { rtol: 1e-5, atol: 1e-6 });
    // the samples are spread out (random weights, η = 0 from Gaussian latents), so the comparison is not vacuous
    const { variance } = tf.moments(after.samples);
    expect(variance.dataSync()[0]!).toBeGreaterThan(0.01);
    tf.dispose([before.samples, after.samples, variance]);
    net.dispose();
  });

  it('a converted GraphModel with int32 steps and NCHW input samples the per-channel data means', async () => {
    const graph = await loadGraphFixture(channelsFirstEpsGraph());
    expect(graph.inputs.map((i) => [i.name, i.dtype, i.shape])).toEqual([
      ['x', 'float32', [-1, 3, 4, 4]],
      ['t', 'int32', [-1]],
    ]);
    const { samples, nfe } = await sampleFromGraphModel(graph, [200, 4, 4, 3], 2);
    expect(nfe).toBe(50);
    expect(samples.shape).toEqual([200, 4, 4, 3]);
    // per channel 200 · 16 values of N(μ_c, 1): standard error 1/√3200 = 0.018; tolerance 4 of them + 0.02
    const means = tf.mean(samples, [0, 1, 2]).arraySync() as number[];
    means.forEach((m, c) => {
      expect(Math.abs(m - channelMeans[c]!), `channel ${c}`).toBeLessThan(4 * 0.018 + 0.02);
    });
    // a channels-last [B, 3, 4, 4] shape does not fit the channels-first graph, and says so
    await expect(sampleFromGraphModel(graph, [2, 3, 4, 4], 2)).rejects.toThrow(/does not fit/);
    samples.dispose();
    graph.dispose();
  });

  it('the stepping loop equals dpmSolverPlusPlusSample from the same latents', async () => {
    const sde = new VPSDE();
    const eps = epsFunction(sde, 2);
    const xT = tf.randomNormal([64, 2], 0, 1, 'float32', 9);
    const own = ownLoop(
      sde,
      (x, t) => tf.tidy(() => eps(x, tf.fill([x.shape[0]!], t) as tf.Tensor1D)),
      xT,
      15,
    );
    const model = wrapModel(eps, { sde, prediction: 'eps' });
    const { samples } = await dpmSolverPlusPlusSample({ sde, model, xT, steps: 15 });
    expectTensorsClose(own, samples, { rtol: 1e-5, atol: 1e-5 });
    tf.dispose([xT, own, samples]);
  });

  it('leaks no tensors', async () => {
    const sde = new VPSDE();
    const eps = epsFunction(sde, 2);
    const xT = tf.randomNormal([4, 2], 0, 1, 'float32', 1);
    await expectNoLeaks(() => sampleFromFunction([4, 2], 3));
    await expectNoLeaks(() =>
      ownLoop(sde, (x, t) => tf.tidy(() => eps(x, tf.fill([x.shape[0]!], t) as tf.Tensor1D)), xT, 5),
    );
    xT.dispose();
  });
});
