import { VPSDE } from '@sbm/sde';
import { expectNoLeaks, expectTensorsClose, linearSdeCoefficients, useCpuBackend } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { DDIMStepper } from './ddim.js';
import { dpmSolverPlusPlusSample } from './dpm-solver-pp.js';
import {
  cases,
  exactScore,
  expectMixture,
  latents,
  meanAbsDiff,
  referenceOde,
} from './oracle.test-support.js';
import { disposeUniPCState, type UniPCState, UniPCStepper, unipcSample } from './unipc.js';

beforeAll(useCpuBackend);

/** Least-squares slope of log(error) against log(steps): the measured order of convergence. */
function slope(steps: readonly number[], errors: readonly number[]): number {
  const xs = steps.map(Math.log);
  const ys = errors.map(Math.log);
  const mx = xs.reduce((a, b) => a + b) / xs.length;
  const my = ys.reduce((a, b) => a + b) / ys.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return -num / den;
}

describe.each(cases)('UniPC on the $name mixture oracle', ({ name, sde, spec }) => {
  it('20 steps (20 NFE: the corrector costs no evaluation) reproduce the mixture', async () => {
    const { samples, nfe } = await unipcSample({
      sde,
      model: exactScore(spec),
      shape: [2000, 2],
      seed: 1,
      steps: 20,
    });
    expect(nfe).toBe(20);
    expectMixture(samples, `${name} UniPC-2`);
    samples.dispose();
  });
});

describe.each([cases[0]!, cases[2]!])(
  'UniPC converges to the float64 RK4 solution of the PF-ODE at order p + 1 ($name, fixed latents)',
  ({ name, sde, spec }) => {
    const n = 32;
    const z = latents(n, sde.priorStd, 31);
    const tMin = name === 'VE' ? 1e-5 : 1e-3;
    const reference = referenceOde(spec, z, 1, tMin);
    const error = async (
      steps: number,
      options: { order: 1 | 2 | 3; variant?: 'bh1' | 'bh2'; predictX0?: boolean },
    ) => {
      const xT = tf.tensor2d(Float32Array.from(z), [n, 2]);
      const { samples } = await unipcSample({
        sde,
        model: exactScore(spec),
        xT,
        steps,
        tMin,
        lowerOrderFinal: false, // a first-order final step would cap the global order at 1
        ...options,
      });
      const e = meanAbsDiff(samples.dataSync(), reference);
      tf.dispose([xT, samples]);
      return e;
    };
    const measure = async (steps: number[], options: Parameters<typeof error>[1]) => {
      const errors: number[] = [];
      for (const s of steps) errors.push(await error(s, options));
      return { errors, slope: slope(steps, errors) };
    };

    // Step counts where the error is asymptotic yet well above float32 round-off (~1e-6 here).
    it.each([
      { order: 1, variant: 'bh2', steps: [20, 40, 80], lo: 1.7, hi: 2.3 },
      { order: 2, variant: 'bh2', steps: [40, 80, 160], lo: 2.6, hi: 3.4 },
      { order: 2, variant: 'bh1', steps: [40, 80, 160], lo: 2.6, hi: 3.4 },
      { order: 3, variant: 'bh2', steps: [20, 40, 80], lo: 3.6, hi: 5.3 },
    ] as const)('UniPC-$order ($variant): slope within [$lo, $hi] over $steps steps', async (c) => {
      const { errors, slope: s } = await measure([...c.steps], { order: c.order, variant: c.variant });
      expect(s, `errors ${errors.map((e) => e.toExponential(2)).join(', ')}`).toBeGreaterThan(c.lo);
      expect(s, `errors ${errors.map((e) => e.toExponential(2)).join(', ')}`).toBeLessThan(c.hi);
    });

    it('noise-prediction UniPC-2 (predictX0: false) is third order too', async () => {
      const { errors, slope: s } = await measure([40, 80, 160], { order: 2, predictX0: false });
      expect(s, `errors ${errors.join(', ')}`).toBeGreaterThan(2.6);
      expect(s).toBeLessThan(3.4);
    });

    it('higher orders are more accurate at 40 steps', async () => {
      const e1 = await error(40, { order: 1 });
      const e2 = await error(40, { order: 2 });
      const e3 = await error(40, { order: 3 });
      expect(e2).toBeLessThan(e1 / 2);
      expect(e3).toBeLessThan(e2 / 2);
    });

    it('bh1 and bh2 give different samples at 10 steps (both converge: see the slopes)', async () => {
      const run = async (variant: 'bh1' | 'bh2') => {
        const xT = tf.tensor2d(Float32Array.from(z), [n, 2]);
        const { samples } = await unipcSample({ sde, model: exactScore(spec), xT, steps: 10, tMin, variant });
        const values = samples.dataSync().slice();
        tf.dispose([xT, samples]);
        return values;
      };
      expect(meanAbsDiff(await run('bh1'), await run('bh2'))).toBeGreaterThan(1e-2);
    });
  },
);

describe('UniPC: closed forms of its low orders (VP)', () => {
  const sde = new VPSDE();
  const spec = { kind: 'vp', betaMin: 0.1, betaMax: 20 } as const;
  const xT = [1.2, -0.5, 0.3, 2.1, -1.7, 0.8, 0.05, -2.4];
  // A fixed nonlinear noise predictor, evaluated by tf and in float64.
  const epsTf = (x: tf.Tensor, t: number) =>
    tf.tidy(() => tf.add(tf.mul(tf.tanh(x), 0.5), tf.mul(x, 0.1 * t)));
  const eps64 = (x: number, t: number) => 0.5 * Math.tanh(x) + 0.1 * t * x;

  /** Drives the stepper by hand with `epsTf`; returns the final state. */
  function drive(stepper: UniPCStepper): Float32Array {
    let x: tf.Tensor = tf.tensor2d(xT, [4, 2]);
    let state: UniPCState | undefined;
    for (const info of stepper.schedule()) {
      const eps = epsTf(x, info.t);
      const out = stepper.step(eps, info, x, state);
      tf.dispose([eps, x, out.denoised]);
      x = out.prevSample;
      state = out.state;
    }
    disposeUniPCState(state);
    const values = x.dataSync() as Float32Array;
    x.dispose();
    return values;
  }

  it.each(['bh1', 'bh2'] as const)(
    'UniPC-1 (%s) is DDIM corrected by the exponential trapezoid rule, computed in float64',
    (variant) => {
      // UniP-1 is DDIM / DPM-Solver++ first order: x̃_{i+1} = (σ_{i+1}/σ_i) x_i + α_{i+1}(1 − e^{−h}) x̂_0(x_i);
      // UniC-1 (a_1 = ½) replaces x̂_0(x_i) by x̂_0(x_i) + (B(h)/(e^{−h} − 1)) · ½ (x̂_0(x̃_{i+1}) − x̂_0(x_i)):
      // with bh2 the average of the two denoised estimates; with bh1, B(h) = −h.
      const stepper = new UniPCStepper({ sde, order: 1, variant, steps: 8, tMin: 1e-3 });
      const got = drive(stepper);
      const coef = (t: number) => linearSdeCoefficients(spec, t);
      const lambda = (t: number) => Math.log(coef(t).alpha / coef(t).sigma);
      const denoise = (x: number, t: number) => (x - coef(t).sigma * eps64(x, t)) / coef(t).alpha;
      const expected = xT.map((x0) => {
        let x = x0; // corrected state at t_i
        let predicted = x0; // x̃ at t_i (where the model is evaluated)
        let mPrev = 0;
        let xPrev = 0;
        let tPrev = 0;
        for (const { t, tNext, index } of stepper.schedule()) {
          const m = denoise(predicted, t);
          if (index > 0) {
            const h = lambda(t) - lambda(tPrev);
            const weight = variant === 'bh2' ? 0.5 : (0.5 * -h) / Math.expm1(-h);
            const mBar = mPrev + weight * (m - mPrev);
            x = (coef(t).sigma / coef(tPrev).sigma) * xPrev - coef(t).alpha * Math.expm1(-h) * mBar;
          }
          const h = lambda(tNext!) - lambda(t);
          predicted = (coef(tNext!).sigma / coef(t).sigma) * x - coef(tNext!).alpha * Math.expm1(-h) * m;
          [mPrev, xPrev, tPrev] = [m, x, t];
        }
        return predicted;
      });
      expectTensorsClose(got, expected, { rtol: 2e-5, atol: 2e-5 });
    },
  );

  it('without its corrector, UniPC-1 is DDIM (η = 0) on the same times', () => {
    const timesteps = [1, 0.6, 0.3, 0.1, 0.02, 0.005];
    const uni = new UniPCStepper({
      sde,
      order: 1,
      timesteps,
      finalStep: 'clean',
      disableCorrector: [0, 1, 2, 3, 4, 5],
    });
    const ddim = new DDIMStepper({ sde, timesteps });
    expect(uni.schedule()).toEqual(ddim.schedule());
    let x: tf.Tensor = tf.tensor2d(xT, [4, 2]);
    let y: tf.Tensor = tf.clone(x);
    let state: UniPCState | undefined;
    for (const info of uni.schedule()) {
      const ex = epsTf(x, info.t);
      const ey = epsTf(y, info.t);
      const a = uni.step(ex, info, x, state);
      const b = ddim.step(ey, info, y);
      tf.dispose([ex, ey, x, y, a.denoised, b.denoised]);
      x = a.prevSample;
      y = b.prevSample;
      state = a.state;
    }
    expectTensorsClose(x, y, { rtol: 1e-5, atol: 1e-5 });
    disposeUniPCState(state);
    tf.dispose([x, y]);
  });

  it('without its corrector, UniPC-2 (bh2) is DPM-Solver++(2M)', async () => {
    // UniP-2 with a_1 = ½ and B(h) = e^{−h} − 1 is DPM-Solver++(2M)'s update with r = h_{i−1}/h_i.
    const x = tf.tensor2d(xT, [4, 2]);
    const model = (v: tf.Tensor, t: tf.Tensor) =>
      tf.tidy(() => tf.div(epsTf(v, t.dataSync()[0]!), -sde.sigma(t.dataSync()[0]!))); // ε → score
    const a = await unipcSample({ sde, model, xT: x, steps: 12, disableCorrector: [...Array(12).keys()] });
    const b = await dpmSolverPlusPlusSample({ sde, model, xT: x, steps: 12 });
    expectTensorsClose(a.samples, b.samples, { rtol: 1e-5, atol: 1e-5 });
    const c = await unipcSample({ sde, model, xT: x, steps: 12 });
    expect(meanAbsDiff(c.samples.dataSync(), b.samples.dataSync())).toBeGreaterThan(1e-3); // UniC changes it
    tf.dispose([x, a.samples, b.samples, c.samples]);
  });
});

describe('UniPC: time grids, clean data, the stepper', () => {
  const { sde, spec } = cases[0]!;
  const n = 32;
  const z = latents(n, 1, 41);
  const clean = referenceOde(spec, z, 1, 1e-12); // the PF-ODE to t = 0 (VP: σ(0) = 0, clean data)

  // Uniform-in-t grids take huge λ steps near t = 0 on VP, hence the looser bound.
  it.each([
    ['uniform', 0.05],
    ['quadratic', 5e-3],
    ['logSNR', 5e-3],
    ['karras', 5e-3],
  ] as const)(
    "spacing '%s' with finalStep 'clean' (the last step to λ = +∞) converges to the ODE solution at t = 0",
    async (spacing, bound) => {
      const run = async (steps: number, predictX0: boolean) => {
        const xT = tf.tensor2d(Float32Array.from(z), [n, 2]);
        const { samples, nfe } = await unipcSample({
          sde,
          model: exactScore(spec),
          xT,
          steps,
          spacing,
          finalStep: 'clean',
          predictX0,
        });
        expect(nfe).toBe(steps);
        const e = meanAbsDiff(samples.dataSync(), clean);
        tf.dispose([xT, samples]);
        return e;
      };
      for (const predictX0 of [true, false]) {
        const e20 = await run(20, predictX0);
        const e40 = await run(40, predictX0);
        expect(e40).toBeLessThan(bound);
        expect(e40).toBeLessThan(0.6 * e20);
      }
    },
  );

  it('a last step onto σ = 0 (uniform grid to tMin = 0) is finite and accurate', async () => {
    const xT = tf.tensor2d(Float32Array.from(z), [n, 2]);
    const { samples } = await unipcSample({
      sde,
      model: exactScore(spec),
      xT,
      steps: 40,
      spacing: 'uniform',
      tMin: 0,
    });
    expect(meanAbsDiff(samples.dataSync(), clean)).toBeLessThan(1e-2);
    tf.dispose([xT, samples]);
  });

  it('the stateless stepper driven by hand equals the sampler; its state holds order + 1 tensors', async () => {
    const xT = tf.tensor2d(Float32Array.from(z), [n, 2]);
    const options = { steps: 12, order: 3, variant: 'bh1', disableCorrector: [2] } as const;
    const { samples } = await unipcSample({ sde, model: exactScore(spec), xT, ...options });
    const stepper = new UniPCStepper({ sde, prediction: 'score', ...options });
    const score = exactScore(spec);
    let x: tf.Tensor = tf.clone(xT);
    let state: UniPCState | undefined;
    const owned: number[] = [];
    const live: number[] = [];
    for (const info of stepper.schedule()) {
      const tt = tf.fill([n], info.t) as tf.Tensor1D;
      const out = score(x, tt);
      tt.dispose();
      const step = stepper.step(out, info, x, state);
      tf.dispose([out, step.denoised, x]);
      x = step.prevSample;
      state = step.state;
      owned.push(state.outputs.length + 1);
      live.push(tf.memory().numTensors);
    }
    expect(owned).toEqual([2, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4]);
    expect(new Set(live.slice(2)).size).toBe(1);
    expectTensorsClose(x, samples, { rtol: 1e-5, atol: 1e-5 });
    const held = tf.memory().numTensors;
    stepper.release(state);
    expect(tf.memory().numTensors).toBe(held - 4); // the three outputs and the last sample
    tf.dispose([x, samples, xT]);
  });

  it('correct() is the corrector step() applies at the start of the next step', () => {
    const stepper = new UniPCStepper({ sde, steps: 6, order: 3, prediction: 'score' });
    const score = exactScore(spec);
    let x: tf.Tensor = tf.tensor2d(Float32Array.from(z), [n, 2]);
    let state: UniPCState | undefined;
    const evaluate = (t: number) => tf.tidy(() => score(x, tf.fill([n], t) as tf.Tensor1D));
    for (const info of stepper.schedule().slice(0, 4)) {
      const out = evaluate(info.t);
      const step = stepper.step(out, info, x, state);
      tf.dispose([out, step.denoised, x]);
      x = step.prevSample;
      state = step.state;
    }
    const next = stepper.schedule()[4]!;
    const out = evaluate(next.t);
    const corrected = stepper.correct(out, x, state!);
    expect(state!.outputs.length).toBe(3); // correct() does not consume the state
    const step = stepper.step(out, next, x, state);
    expectTensorsClose(corrected, step.state.lastSample, { rtol: 1e-6, atol: 1e-6 });
    expect(meanAbsDiff(corrected.dataSync(), x.dataSync())).toBeGreaterThan(1e-4);
    tf.dispose([out, x, corrected, step.prevSample, step.denoised]);
    disposeUniPCState(step.state);
  });

  it('leaks no tensors', async () => {
    const small = new VPSDE({ N: 30 });
    const model = (x: tf.Tensor) => tf.neg(x);
    await expectNoLeaks(() =>
      unipcSample({ sde: small, model, shape: [3, 2], steps: 5, seed: 1, order: 3, onStep: () => {} }),
    );
    await expectNoLeaks(() =>
      unipcSample({
        sde: small,
        model,
        shape: [3, 2],
        steps: 4,
        seed: 1,
        finalStep: 'clean',
        predictX0: false,
      }),
    );
    await expectNoLeaks(async () => {
      const stepper = new UniPCStepper({ sde: small, steps: 4, order: 2 });
      let x = tf.ones([2, 2]);
      let state: UniPCState | undefined;
      for (const info of stepper.schedule()) {
        const out = tf.mul(x, 0.5);
        const step = stepper.step(out, info, x, state);
        tf.dispose([out, x, step.denoised]);
        x = step.prevSample;
        state = step.state;
      }
      const out = tf.mul(x, 0.5);
      const corrected = stepper.correct(out, x, state!);
      tf.dispose([out, x, corrected]);
      disposeUniPCState(state);
    });
    // an abort between steps leaves nothing behind either
    const controller = new AbortController();
    const before = tf.memory().numTensors;
    await expect(
      unipcSample({
        sde: small,
        model,
        shape: [3, 2],
        steps: 5,
        seed: 1,
        signal: controller.signal,
        onStep: ({ index }) => {
          if (index === 2) controller.abort(new Error('stop'));
        },
      }),
    ).rejects.toThrow('stop');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('names the bad argument', () => {
    const small = new VPSDE({ N: 30 });
    const make = (extra: object) => () => new UniPCStepper({ sde: small, ...extra } as never);
    expect(make({ sde: {} })).toThrow(/^options\.sde: expected an SDE/);
    expect(make({ order: 4 })).toThrow(/^options\.order: expected 1, 2 or 3, got 4/);
    expect(make({ variant: 'bh3' })).toThrow(/^options\.variant: expected 'bh1' or 'bh2'/);
    expect(make({ prediction: 'noise' })).toThrow(/^options\.prediction: expected one of score, eps, x0, v/);
    expect(make({ predictX0: 'yes' })).toThrow(/^options\.predictX0: expected a boolean/);
    expect(make({ lowerOrderFinal: 1 })).toThrow(/^options\.lowerOrderFinal: expected a boolean/);
    expect(make({ disableCorrector: [-1] })).toThrow(
      /^options\.disableCorrector: expected an array of step indices/,
    );
    expect(make({ steps: 0 })).toThrow(/^options\.steps: /);
    expect(make({ finalStep: 'zero' })).toThrow(/^options\.finalStep: expected 'tMin' or 'clean'/);
    expect(make({ spacing: 'cosine' })).toThrow(/^options\.spacing: /);
    expect(make({ timesteps: [0.5, 0.7] })).toThrow(/^options\.timesteps: expected strictly decreasing/);
    expect(() => new UniPCStepper(undefined as never)).toThrow(/^options: expected an options object/);

    const stepper = new UniPCStepper({ sde: small, steps: 3 });
    const x = tf.ones([2, 2]);
    expect(() => stepper.step(x, { index: 0, t: 0.5, tNext: 0.7 }, x)).toThrow(
      /^info: expected T >= t > tNext/,
    );
    expect(() => stepper.step(x, { index: 0, t: 0, tNext: null }, x)).toThrow(
      /^info: expected sigma\(t\) > 0/,
    );
    const [first, second] = stepper.schedule();
    const out = stepper.step(x, first!, x);
    expect(() => stepper.step(x, { ...second!, t: second!.t * 0.999 }, x, out.state)).toThrow(
      /^state: expected the state of the step that landed at t = /,
    );
    const noiseForm = new UniPCStepper({ sde: small, steps: 3, predictX0: false });
    expect(() => noiseForm.step(x, second!, x, out.state)).toThrow(
      /^state: expected a UniPCState .* predictX0 = false/,
    );
    const toClean = new UniPCStepper({ sde: small, timesteps: [0.5], finalStep: 'clean' });
    const last = toClean.step(x, toClean.schedule()[0]!, x);
    expect(() => toClean.correct(x, last.prevSample, last.state)).toThrow(
      /^state: expected the state of a step that landed at a time with sigma > 0/,
    );
    tf.dispose([x, out.prevSample, out.denoised, last.prevSample, last.denoised]);
    disposeUniPCState(out.state);
    disposeUniPCState(last.state);
    return expect(unipcSample({ sde: small, model: (v: tf.Tensor) => v, steps: 3 } as never)).rejects.toThrow(
      /^options\.shape: /,
    );
  });
});
