import {
  discreteMarginals,
  discreteSchedule,
  linearBetas,
  type SDE,
  type TimeSpacing,
  VESDE,
  VPSDE,
} from '@sbm/sde';
import { useCpuBackend } from '@sbm/test-utils';
import type * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ddimSample } from './ddim.js';
import { dpmSolverSample } from './dpm-solver.js';
import { dpmSolverPlusPlusSample } from './dpm-solver-pp.js';
import { edmSample } from './edm-sampler.js';
import { odeSample } from './ode-sampler.js';
import { cases, exactScore, expectMixture } from './oracle.test-support.js';
import { pcSample } from './pc-sampler.js';
import type { SampleResult, SamplerBaseOptions } from './sampling-run.js';
import { gridSchedule, gridTimes } from './time-grid.js';
import { unipcSample } from './unipc.js';

beforeAll(useCpuBackend);

// VE SDE with σ_min = 0.01, σ_max = 50: α = 1 and σ(t) = σ_min (σ_max/σ_min)^t in closed form, so every
// spacing has an independent closed form in t.
const sigmaMin = 0.01;
const sigmaMax = 50;
const veSigma = (t: number) => sigmaMin * (sigmaMax / sigmaMin) ** t;
const veTime = (sigma: number) => Math.log(sigma / sigmaMin) / Math.log(sigmaMax / sigmaMin);

/** The closed-form grid of `n + 1` VE times from 1 to `tMin` for each spacing. */
function veGrid(spacing: TimeSpacing, n: number, tMin: number, rho = 7): number[] {
  return Array.from({ length: n + 1 }, (_, i) => {
    const u = i / n;
    if (spacing === 'uniform') return 1 + u * (tMin - 1);
    if (spacing === 'quadratic') return tMin + (1 - tMin) * (1 - u) ** 2;
    // log-SNR = −2 log σ is linear in t for VE, so 'logSNR' is uniform in t as well.
    if (spacing === 'logSNR') return 1 + u * (tMin - 1);
    const a = sigmaMax ** (1 / rho);
    const b = veSigma(tMin) ** (1 / rho);
    return veTime((a + u * (b - a)) ** rho);
  });
}

const spacings: TimeSpacing[] = ['uniform', 'quadratic', 'logSNR', 'karras'];

describe('gridTimes / gridSchedule', () => {
  const sde = new VESDE({ sigmaMin, sigmaMax });

  it.each(spacings)(
    "'%s': n + 1 times from T to tMin as the closed form, n steps ending at tMin",
    (spacing) => {
      const n = 8;
      const tMin = 1e-3;
      const ts = gridTimes(sde, { steps: n, tMin, spacing, rho: 5 }, { steps: 99, spacing: 'uniform' });
      const expected = veGrid(spacing, n, tMin, 5);
      expect(ts).toHaveLength(n + 1);
      for (let i = 0; i <= n; i++) expect(ts[i]).toBeCloseTo(expected[i]!, 9);
      const steps = gridSchedule(sde, { steps: n, tMin, spacing, rho: 5 }, { steps: 99, spacing: 'uniform' });
      expect(steps.map((s) => s.t)).toEqual(ts.slice(0, n));
      expect(steps.map((s) => s.tNext)).toEqual(ts.slice(1));
      expect(steps.map((s) => s.index)).toEqual([...Array(n).keys()]);
    },
  );

  it("finalStep 'clean': n evaluated times from T to tMin, the last step to clean data (null)", () => {
    const ts = gridSchedule(
      sde,
      { steps: 5, tMin: 0.1, finalStep: 'clean' },
      { steps: 9, spacing: 'uniform' },
    );
    const expected = veGrid('uniform', 4, 0.1);
    expect(ts).toHaveLength(5);
    ts.forEach((s, i) => {
      expect(s.t).toBeCloseTo(expected[i]!, 12);
      if (i < 4) expect(s.tNext).toBeCloseTo(expected[i + 1]!, 12);
    });
    expect(ts[4]!.tNext).toBeNull();
    const one = gridSchedule(sde, { steps: 1, finalStep: 'clean' }, { steps: 9, spacing: 'uniform' });
    expect(one).toEqual([{ index: 0, t: 1, tNext: null }]);
    const list = gridSchedule(
      sde,
      { timesteps: [0.9, 0.5], finalStep: 'clean' },
      { steps: 9, spacing: 'uniform' },
    );
    expect(list.map((s) => [s.t, s.tNext])).toEqual([
      [0.9, 0.5],
      [0.5, null],
    ]);
  });

  it('takes the default step count and spacing, and explicit timesteps over both', () => {
    expect(gridTimes(sde, {}, { steps: 4, spacing: 'quadratic' })).toHaveLength(5);
    expect(
      gridTimes(sde, { timesteps: [1, 0.3, 0.2], spacing: 'karras' }, { steps: 4, spacing: 'uniform' }),
    ).toEqual([1, 0.3, 0.2]);
  });

  it("'karras' and 'logSNR' work on a DDPM schedule's discreteMarginals: σ/α follows EDM Eq. 5 exactly", () => {
    const m = discreteMarginals(discreteSchedule(linearBetas(1000)));
    const ts = gridTimes(m, { steps: 9, tMin: 0, spacing: 'karras' }, { steps: 9, spacing: 'uniform' });
    const scaled = (t: number) => m.sigma(t) / m.alpha(t);
    const a = scaled(999) ** (1 / 7);
    const b = scaled(0) ** (1 / 7);
    for (let i = 0; i <= 9; i++) {
      expect(Math.abs(scaled(ts[i]!) / (a + (i / 9) * (b - a)) ** 7 - 1)).toBeLessThan(1e-9);
    }
  });

  it('rejects bad arguments by name', () => {
    const d = { steps: 4, spacing: 'uniform' as const };
    const plain = { T: 1, alpha: () => 1, sigma: (t: number) => t + 0.1 };
    expect(() => gridTimes(plain, { spacing: 'karras' }, d)).toThrow(
      /^options.sde: expected an SDE or discreteMarginals/,
    );
    expect(() => gridTimes(sde, { timesteps: [0.5] }, d)).toThrow(
      /^options.timesteps: expected at least 2 times/,
    );
    expect(() => gridTimes(sde, { timesteps: [0.5, 0.6] }, d)).toThrow(
      /^options.timesteps: expected strictly decreasing/,
    );
    expect(() => gridTimes(sde, { steps: 0 }, d)).toThrow(/^options.steps: expected an integer >= 1/);
    expect(() => gridTimes(sde, { spacing: 'karras', rho: -1 }, d)).toThrow(/^options.rho/);
    expect(() => gridSchedule(sde, { finalStep: 'end' as 'clean' }, d)).toThrow(
      /^options.finalStep: expected 'tMin' or 'clean'/,
    );
  });
});

type Sampler = (o: SamplerBaseOptions<SDE> & Record<string, unknown>) => Promise<SampleResult>;

// Each solver with the times it reports through onStep: `reached(i)` = the grid index its step i lands on.
const solvers: [string, Sampler, { evalsPerStep: number; clean: boolean }][] = [
  ['ddimSample', (o) => ddimSample(o), { evalsPerStep: 1, clean: true }],
  [
    'dpmSolverSample (order 2)',
    (o) => dpmSolverSample({ ...o, order: 2 }),
    { evalsPerStep: 2, clean: false },
  ],
  ['dpmSolverPlusPlusSample', (o) => dpmSolverPlusPlusSample(o), { evalsPerStep: 1, clean: false }],
  ['unipcSample', (o) => unipcSample(o), { evalsPerStep: 1, clean: false }],
  [
    'pcSample',
    (o) => pcSample({ ...o, corrector: 'none', denoise: false }),
    { evalsPerStep: 1, clean: false },
  ],
  ['odeSample (heun)', (o) => odeSample({ ...o, method: 'heun' }), { evalsPerStep: 2, clean: false }],
  ['edmSample', (o) => edmSample(o), { evalsPerStep: 2, clean: true }],
];

describe('every fixed-step solver takes every time schedule', () => {
  const [, , veCase] = cases;
  const sde = veCase!.sde;
  const model = exactScore(veCase!.spec);
  const tMin = 1e-3;
  const n = 6;

  for (const [name, sample, { evalsPerStep, clean }] of solvers) {
    it.each(spacings)(`${name}: spacing '%s' steps through the closed-form grid`, async (spacing) => {
      const reached: number[] = [];
      const { samples, nfe } = await sample({
        sde,
        model,
        shape: [3, 2],
        seed: 2,
        steps: n,
        tMin,
        spacing,
        rho: 4,
        onStep: ({ t }) => {
          reached.push(t);
        },
      });
      samples.dispose();
      // clean-ended solvers: n grid times T … tMin, then σ = 0; others: n + 1 times, ending at tMin.
      const grid = clean
        ? [...veGrid(spacing, n - 1, tMin, 4).slice(1), 0]
        : veGrid(spacing, n, tMin, 4).slice(1);
      expect(reached).toHaveLength(grid.length);
      for (let i = 0; i < grid.length; i++) expect(reached[i]).toBeCloseTo(grid[i]!, 8);
      expect(nfe).toBe(clean && evalsPerStep === 2 ? 2 * n - 1 : evalsPerStep * n);
    });
  }

  it('explicit timesteps are used as given (DPM-Solver++ and DDIM)', async () => {
    const timesteps = [1, 0.6, 0.35, 0.1, 0.01];
    for (const sample of [dpmSolverPlusPlusSample, ddimSample] as Sampler[]) {
      const reached: number[] = [];
      const { samples } = await sample({
        sde,
        model,
        shape: [2, 2],
        seed: 1,
        timesteps,
        onStep: ({ t }) => {
          reached.push(t);
        },
      });
      samples.dispose();
      expect(reached.slice(0, 4)).toEqual(timesteps.slice(1));
    }
  });

  it('DPM-Solver++(2M) on a Karras grid (VP, 25 steps) reproduces the mixture', async () => {
    const [vp] = cases;
    const { samples } = await dpmSolverPlusPlusSample({
      sde: vp!.sde,
      model: exactScore(vp!.spec),
      shape: [2000, 2],
      seed: 11,
      steps: 25,
      spacing: 'karras',
    });
    expectMixture(samples as tf.Tensor, 'DPM-Solver++ karras VP');
    samples.dispose();
  });
});

// A VPSDE is needed only to make sure the default-spacing path of log-SNR solvers still rejects a
// schedule without log-SNR.
it('log-SNR solvers reject marginals without logSNR by name', async () => {
  const plain = {
    T: 1,
    alpha: (t: number) => new VPSDE().alpha(t),
    sigma: (t: number) => new VPSDE().sigma(t),
  };
  await expect(
    dpmSolverSample({ sde: plain as never, model: () => undefined as never, shape: [1, 2] }),
  ).rejects.toThrow(
    /^options.sde: expected an SDE or discreteMarginals \(with logSNR and tFromLogSNR\) for dpmSolverSample/,
  );
});
