import { describeValue, SbmArgumentError, type SDE, type TimeSpacing, timeSteps } from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';
import {
  guarded,
  linearCombination,
  readSteps,
  readTimesList,
  readTMin,
  type SampleResult,
  type SamplerBaseOptions,
  SamplingRun,
} from './sampling-run.js';

/** Options of {@link dpmSolverSample}. */
export interface DPMSolverOptions extends SamplerBaseOptions<SDE> {
  /** Order 1 (= DDIM), 2 or 3 (default 3); each step costs `order` model evaluations. */
  order?: 1 | 2 | 3;
  /** Number of steps, default 10 (30 NFE at order 3). */
  steps?: number;
  /** Last time (default 1e-3, or 1e-5 for VE). */
  tMin?: number;
  /** Step times: `'logSNR'` (uniform in λ, default), `'uniform'` or `'quadratic'` in t. */
  spacing?: TimeSpacing;
  /** Explicit decreasing times `t_0 = T > … > t_n` (overrides steps/spacing/tMin). */
  timesteps?: readonly number[];
}

/** `λ(t) = log α(t) − log σ(t)` (half the log-SNR). */
function lambdaOf(sde: SDE, t: number): number {
  return 0.5 * sde.logSNR(t);
}

/** The step times of DPM-Solver(++): `n + 1` decreasing times, or the user's. @internal */
export function solverTimes(
  sde: SDE,
  options: { steps?: number; tMin?: number; spacing?: TimeSpacing; timesteps?: readonly number[] },
  defaultSteps: number,
): number[] {
  if (options.timesteps !== undefined) {
    const ts = readTimesList(options.timesteps, sde.T);
    if (ts.length < 2) throw new SbmArgumentError('options.timesteps', 'expected at least two times');
    return ts;
  }
  const n = readSteps(options.steps, defaultSteps);
  const tMin = readTMin(sde, options.tMin);
  return timeSteps(n, { T: sde.T, tMin, spacing: options.spacing ?? 'logSNR', sde });
}

/** Checks that an SDE gives `logSNR`/`tFromLogSNR`. @internal */
export function requireLogSNR(sde: SDE, sampler: string): void {
  if (!sde || typeof sde.logSNR !== 'function' || typeof sde.tFromLogSNR !== 'function') {
    throw new SbmArgumentError(
      'options.sde',
      `expected an SDE with logSNR and tFromLogSNR for ${sampler}, got ${describeValue(sde)}`,
    );
  }
}

/**
 * Single-step DPM-Solver (Lu et al. 2022, Alg. 1–2, noise prediction) in `λ = log(α/σ)`: with
 * `h = λ_t − λ_s` and `ε_s = ε_θ(x_s, s)`,
 * - order 1 (DDIM): `x_t = (α_t/α_s) x_s − σ_t (e^h − 1) ε_s`;
 * - order 2 (`r_1 = ½`): `u = (α_{s1}/α_s) x_s − σ_{s1}(e^{h/2} − 1) ε_s`,
 *   `x_t = (α_t/α_s) x_s − σ_t (e^h − 1) ε_s − (σ_t/(2 r_1))(e^h − 1)(ε_θ(u, s1) − ε_s)`;
 * - order 3 (`r_1 = ⅓, r_2 = ⅔`): DPM-Solver-3 (Alg. 2, Eq. 3.8 terms).
 * Intermediate times `s_i = t_λ(λ_s + r_i h)`. NFE = `order · steps`.
 */
export async function dpmSolverSample(options: DPMSolverOptions): Promise<SampleResult> {
  const run = new SamplingRun('dpmSolverSample', options);
  const sde = options.sde;
  requireLogSNR(sde, 'dpmSolverSample');
  const order = options.order ?? 3;
  if (order !== 1 && order !== 2 && order !== 3) {
    throw new SbmArgumentError('options.order', `expected 1, 2 or 3, got ${describeValue(order)}`);
  }
  const times = solverTimes(sde, options, 10);
  const n = times.length - 1;
  const at = (lambda: number) => sde.tFromLogSNR(2 * lambda);
  const samples = await guarded(run.initial(sde.priorStd), async (state) => {
    for (let i = 0; i < n; i++) {
      const s = times[i]!;
      const t = times[i + 1]!;
      const lamS = lambdaOf(sde, s);
      const h = lambdaOf(sde, t) - lamS;
      const aS = sde.alpha(s);
      const epsS = await run.evaluate(state.x, s, 'eps');
      const denoised = run.denoisedFor(state.x, s, epsS, 'eps');
      // x_u = (α_u/α_s) x_s − σ_u (e^{r h} − 1) ε_s  at u = t_λ(λ_s + r h)
      const firstOrder = (u: number, r: number, extra: [number, tf.Tensor][] = []) =>
        linearCombination([
          [sde.alpha(u) / aS, state.x],
          [-sde.sigma(u) * Math.expm1(r * h), epsS],
          ...extra,
        ]);
      let next: tf.Tensor;
      if (order === 1) {
        next = firstOrder(t, 1);
      } else if (order === 2) {
        const r1 = 0.5;
        const s1 = at(lamS + r1 * h);
        const u = firstOrder(s1, r1);
        const eps1 = await run.evaluate(u, s1, 'eps');
        const c = (-sde.sigma(t) / (2 * r1)) * Math.expm1(h);
        next = firstOrder(t, 1, [
          [c, eps1],
          [-c, epsS],
        ]);
        tf.dispose([u, eps1]);
      } else {
        const r1 = 1 / 3;
        const r2 = 2 / 3;
        const s1 = at(lamS + r1 * h);
        const s2 = at(lamS + r2 * h);
        const u1 = firstOrder(s1, r1);
        const eps1 = await run.evaluate(u1, s1, 'eps');
        // D1 = ε(u1) − ε_s
        const c2 = ((-sde.sigma(s2) * r2) / r1) * (Math.expm1(r2 * h) / (r2 * h) - 1);
        const u2 = firstOrder(s2, r2, [
          [c2, eps1],
          [-c2, epsS],
        ]);
        const eps2 = await run.evaluate(u2, s2, 'eps');
        // D2 = ε(u2) − ε_s
        const c = (-sde.sigma(t) / r2) * (Math.expm1(h) / h - 1);
        next = firstOrder(t, 1, [
          [c, eps2],
          [-c, epsS],
        ]);
        tf.dispose([u1, eps1, u2, eps2]);
      }
      tf.dispose([epsS, state.x]);
      state.x = next;
      await run.afterStep(i, n, t, state.x, denoised);
    }
  });
  return { samples, nfe: run.nfe };
}
