import { SbmArgumentError } from '@sbm/sde';
import { expectNoLeaks, expectTensorsClose, useCpuBackend } from '@sbm/test-utils';
import { createUNet, type UNet, unetPreset } from '@sbm/unet';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmaState, ExponentialMovingAverage } from './ema.js';
import { lossForConfig, unetNetwork } from './loss-for-config.js';
import { type AdamState, ScoreSdeAdam } from './optimizer.js';
import { NonFiniteLossError, stepSeed, type TrainStepContext, trainStep } from './train-step.js';
import { readVariables, trainableVariables, writeVariables } from './variables.js';

// The stock cpu backend: no @sbm/backend kernels are registered in this file (the GPU path runs the stock
// tensorflow kernels, so the training step must not need them). The smallest preset, tiny/ddpmpp, narrowed further
// (nf 8, 4×4 images) so that a step takes ~0.3 s with tfjs' naive cpu filter gradient.
beforeAll(useCpuBackend);

const PRESET = () => unetPreset('tiny/ddpmpp', { nf: 8, imageSize: 4, attnResolutions: [2] });
// score_sde's VP continuous DSM with σ² weighting (the ε loss of DDPM++ cont.).
const vpLoss = lossForConfig({
  sde: { kind: 'vp' },
  continuous: true,
  reduceMean: true,
  likelihoodWeighting: false,
});
const RUN_SEED = 20240501;

let batch: tf.Tensor4D;
let initialWeights: Record<string, Float32Array>;
beforeAll(() => {
  batch = tf.tidy(
    () => tf.reshape(tf.sin(tf.mul(tf.range(0, 2 * 4 * 4 * 3), 0.37)), [2, 4, 4, 3]) as tf.Tensor4D,
  );
  // createUNet's initializers are not seeded: every run starts from these weights.
  const net = createUNet(PRESET());
  initialWeights = readVariables(trainableVariables(net));
  net.dispose();
});
afterAll(() => batch.dispose());

interface Run {
  net: UNet;
  context: TrainStepContext;
}

function freshRun(weights: Record<string, Float32Array>, lr = 1e-3): Run {
  const net = createUNet(PRESET());
  const variables = trainableVariables(net);
  writeVariables(variables, weights);
  return {
    net,
    context: {
      variables,
      model: vpLoss.wrap(unetNetwork(net)),
      loss: vpLoss.loss,
      optimizer: new ScoreSdeAdam({ lr, warmup: 2, gradClip: 1 }),
      ema: new ExponentialMovingAverage(variables, { decay: 0.999 }),
      runSeed: RUN_SEED,
    },
  };
}

function disposeRun(run: Run) {
  run.context.optimizer.dispose();
  run.context.ema?.dispose();
  run.net.dispose();
}

/** A checkpoint as plain data, through JSON (what a checkpoint file would hold). */
function roundTrip<T>(value: T): T {
  const text = JSON.stringify(value, (_k, v) => (v instanceof Float32Array ? { f32: Array.from(v) } : v));
  return JSON.parse(text, (_k, v) =>
    v !== null && typeof v === 'object' && 'f32' in v ? Float32Array.from(v.f32 as number[]) : v,
  ) as T;
}

describe('stepSeed', () => {
  it('is a deterministic 32-bit hash of (runSeed, step), distinct for neighbouring steps and seeds', () => {
    expect(stepSeed(1, 5)).toBe(stepSeed(1, 5));
    const seeds = new Set<number>();
    for (let s = 0; s < 1000; s++) seeds.add(stepSeed(1, s));
    for (let r = 0; r < 1000; r++) seeds.add(stepSeed(r + 2, 0));
    expect(seeds.size).toBe(2000);
    for (const v of seeds) expect(Number.isInteger(v) && v >= 0 && v < 2 ** 32).toBe(true);
    expect(stepSeed(2 ** 40, 3)).not.toBe(stepSeed(0, 3));
    expect(() => stepSeed(1.5, 0)).toThrow(SbmArgumentError);
    expect(() => stepSeed(1, -1)).toThrow(/^step/);
  });
});

describe('trainStep on the stock cpu backend with @sbm/unet and @sbm/losses (VP DSM, ε)', () => {
  it('lowers the loss over 15 steps on a fixed batch (fixed-seed evaluation before/after)', () => {
    const run = freshRun(initialWeights, 1e-2);
    const evaluate = () => {
      let sum = 0;
      for (let seed = 900; seed < 904; seed++) {
        sum += tf.tidy(() => run.context.loss(run.context.model, batch, seed).dataSync()[0]!);
      }
      return sum / 4;
    };
    const before = evaluate();
    const results = [];
    for (let s = 0; s < 15; s++) results.push(trainStep(run.context, batch));
    const after = evaluate();
    expect(results.map((r) => r.step)).toEqual([...Array(15).keys()]);
    expect(results[0]!.lr).toBe(0); // warm-up: the first update has lr 0, as score_sde
    expect(results[5]!.lr).toBe(1e-2);
    for (const r of results) expect(Number.isFinite(r.loss) && r.gradNorm > 0).toBe(true);
    expect(after).toBeLessThan(0.7 * before); // observed ≈ 0.5
    disposeRun(run);
  });

  it('is deterministic and resumes exactly: 6 steps = 3 steps, checkpoint to plain arrays, fresh network, 3 steps', () => {
    const full = freshRun(initialWeights);
    const fullLosses = Array.from({ length: 6 }, () => trainStep(full.context, batch).loss);

    // A second fresh run with the same seed, interrupted after 3 steps.
    const first = freshRun(initialWeights);
    const firstLosses = Array.from({ length: 3 }, () => trainStep(first.context, batch).loss);
    expect(firstLosses).toEqual(fullLosses.slice(0, 3)); // determinism: bit-identical losses
    const checkpoint = roundTrip({
      weights: readVariables(first.context.variables),
      optimizer: first.context.optimizer.getState() as AdamState,
      ema: first.context.ema!.getState() as EmaState,
    });
    disposeRun(first);

    // Rebuild from scratch (new variable names inside tfjs: weights are keyed by their original names).
    const resumed = freshRun(checkpoint.weights);
    resumed.context.optimizer.setState(checkpoint.optimizer, resumed.context.variables);
    resumed.context.ema!.setState(checkpoint.ema);
    const resumedResults = Array.from({ length: 3 }, () => trainStep(resumed.context, batch));
    expect(resumedResults.map((r) => r.step)).toEqual([3, 4, 5]);
    expect(resumedResults.map((r) => r.loss)).toEqual(fullLosses.slice(3));
    const a = readVariables(full.context.variables);
    const b = readVariables(resumed.context.variables);
    const emaA = full.context.ema!.getState();
    const emaB = resumed.context.ema!.getState();
    for (const name of Object.keys(a)) {
      expectTensorsClose(b[name]!, a[name]!, { rtol: 0, atol: 0, message: name });
      expectTensorsClose(emaB.shadow[name]!, emaA.shadow[name]!, {
        rtol: 0,
        atol: 0,
        message: `ema ${name}`,
      });
    }
    expect(emaB.numUpdates).toBe(6);

    // Another run seed draws other times and noise.
    const other = freshRun(initialWeights);
    other.context.runSeed = RUN_SEED + 1;
    expect(trainStep(other.context, batch).loss).not.toBe(fullLosses[0]);
    for (const r of [full, resumed, other]) disposeRun(r);
  });

  it('a NaN batch throws NonFiniteLossError (loss) before any update: weights, optimizer and EMA untouched', () => {
    const run = freshRun(initialWeights);
    trainStep(run.context, batch);
    const weights = readVariables(run.context.variables);
    const opt = run.context.optimizer.getState();
    const ema = run.context.ema!.getState();
    const bad = tf.tidy(() =>
      tf.where(
        tf.equal(tf.reshape(tf.range(0, batch.size), batch.shape), 7),
        tf.fill(batch.shape, Number.NaN),
        batch,
      ),
    );
    let error: unknown;
    try {
      trainStep(run.context, bad);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NonFiniteLossError);
    expect((error as NonFiniteLossError).step).toBe(1);
    expect((error as NonFiniteLossError).which).toBe('loss');
    const after = readVariables(run.context.variables);
    for (const name of Object.keys(weights))
      expectTensorsClose(after[name]!, weights[name]!, { rtol: 0, atol: 0 });
    expect(run.context.optimizer.step).toBe(1);
    expect(run.context.optimizer.getState()).toEqual(opt);
    expect(run.context.ema!.getState()).toEqual(ema);
    bad.dispose();
    disposeRun(run);
  });

  it('leaks no tensors (after a warm-up step)', async () => {
    const run = freshRun(initialWeights);
    await expectNoLeaks(() => trainStep(run.context, batch), { warmup: 1, repeats: 1 });
    disposeRun(run);
  });
});

describe('trainStep with a small explicit model', () => {
  it('names the variable whose gradient is not finite (finite loss), and updates nothing', () => {
    // out = x·√w: at w = 0 the loss is finite but d√w/dw is infinite.
    const w = tf.variable(tf.zeros([1]), true, 'sqrt_w');
    const u = tf.variable(tf.ones([1]), true, 'scale_u');
    const variables = { w, u };
    const optimizer = new ScoreSdeAdam({ lr: 0.1 });
    const loss = (_m: unknown, b: unknown) =>
      tf.tidy(
        () => tf.mean(tf.square(tf.sub(tf.mul(tf.mul(b as tf.Tensor, tf.sqrt(w)), u), 1))) as tf.Scalar,
      );
    const x = tf.ones([2, 3]);
    let error: unknown;
    try {
      trainStep({ variables, model: () => x, loss, optimizer, runSeed: 1 }, x);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NonFiniteLossError);
    expect((error as NonFiniteLossError).which).toBe('gradient');
    expect((error as NonFiniteLossError).variable).toBe('w');
    expect((error as NonFiniteLossError).loss).toBe(1);
    expect(optimizer.step).toBe(0);
    expectTensorsClose(u, [1], { rtol: 0, atol: 0 });
    optimizer.dispose();
    tf.dispose([w, u, x]);
  });

  it('rejects a variable the loss does not depend on, naming it', () => {
    const w = tf.variable(tf.ones([1]), true, 'used_w');
    const z = tf.variable(tf.ones([1]), true, 'unused_z');
    const optimizer = new ScoreSdeAdam({ lr: 0.1 });
    const loss = () => tf.tidy(() => tf.sum(tf.square(w)) as tf.Scalar);
    const x = tf.ones([2, 3]);
    expect(() => trainStep({ variables: { w, z }, model: () => x, loss, optimizer, runSeed: 1 }, x)).toThrow(
      /^context\.variables\['z'\]/,
    );
    optimizer.dispose();
    tf.dispose([w, z, x]);
  });
});
