import { describeValue, SbmArgumentError } from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';
import {
  guarded,
  linearCombination,
  priorStdOf,
  type SampleResult,
  type SamplerBaseOptions,
  SamplingRun,
} from './sampling-run.js';
import { gridSchedule, type LogSNRMarginals, requireLogSNR, type TimeGridOptions } from './time-grid.js';

/**
 * Options of {@link dpmSolverSample}: the time grid (`steps` default 10, i.e. 30 NFE at order 3; `spacing`
 * default `'logSNR'`; any spacing, explicit `timesteps`, `finalStep`) and the order.
 */
export interface DPMSolverOptions extends SamplerBaseOptions<LogSNRMarginals>, TimeGridOptions {
  /** Order 1 (= DDIM), 2 or 3 (default 3); each step costs `order` model evaluations (one to clean data). */
  order?: 1 | 2 | 3;
}

/** $\lambda(t) = \log \alpha(t) - \log \sigma(t)$ (half the log-SNR). */
function lambdaOf(sde: LogSNRMarginals, t: number): number {
  return 0.5 * sde.logSNR(t);
}

/**
 * Single-step DPM-Solver (Lu et al. 2022, "DPM-Solver: A Fast ODE Solver for Diffusion Probabilistic Model
 * Sampling in Around 10 Steps", Alg. 1–2, noise prediction) in $\lambda = \log(\alpha/\sigma)$. A step from
 * $s$ to $t$ has $h = \lambda_t - \lambda_s$, $\epsilon_s = \epsilon_\theta(x_s, s)$ and intermediate times
 * $s_i = t_\lambda(\lambda_s + r_i h)$ ($t_\lambda$ the inverse of $\lambda(t)$); `x` is `[B, ...]` throughout.
 *
 * - Order 1 (DDIM): $x_t = (\alpha_t/\alpha_s)\, x_s - \sigma_t (e^h - 1)\, \epsilon_s$.
 * - Order 2 (DPM-Solver-2, $r_1 = \tfrac12$):
 *   $$u = \frac{\alpha_{s_1}}{\alpha_s} x_s - \sigma_{s_1} (e^{r_1 h} - 1)\, \epsilon_s,$$
 *   $$x_t = \frac{\alpha_t}{\alpha_s} x_s - \sigma_t (e^h - 1)\, \epsilon_s - \frac{\sigma_t}{2 r_1} (e^h - 1) \big(\epsilon_\theta(u, s_1) - \epsilon_s\big).$$
 * - Order 3 (DPM-Solver-3, $r_1 = \tfrac13$, $r_2 = \tfrac23$): $u_1$ as $u$ above at $s_1$,
 *   $D_1 = \epsilon_\theta(u_1, s_1) - \epsilon_s$,
 *   $$u_2 = \frac{\alpha_{s_2}}{\alpha_s} x_s - \sigma_{s_2} (e^{r_2 h} - 1)\, \epsilon_s - \frac{\sigma_{s_2} r_2}{r_1} \Big(\frac{e^{r_2 h} - 1}{r_2 h} - 1\Big) D_1,$$
 *   $D_2 = \epsilon_\theta(u_2, s_2) - \epsilon_s$ and
 *   $$x_t = \frac{\alpha_t}{\alpha_s} x_s - \sigma_t (e^h - 1)\, \epsilon_s - \frac{\sigma_t}{r_2} \Big(\frac{e^h - 1}{h} - 1\Big) D_2.$$
 *
 * NFE = `order · steps`. With `finalStep: 'clean'` the last step goes from `tMin` to clean data
 * ($\sigma = 0$, $h = +\infty$), where the intermediate times do not exist; it is the exact limit of the order-1
 * step, $x_0 = (x_s - \sigma_s \epsilon_s)/\alpha_s = \hat x_0$ (one evaluation), so NFE = `order · (steps − 1) + 1`.
 */
export async function dpmSolverSample(options: DPMSolverOptions): Promise<SampleResult> {
  requireLogSNR(options?.sde, 'dpmSolverSample');
  const run = new SamplingRun('dpmSolverSample', options);
  const sde = options.sde;
  const order = options.order ?? 3;
  if (order !== 1 && order !== 2 && order !== 3) {
    throw new SbmArgumentError('options.order', `expected 1, 2 or 3, got ${describeValue(order)}`);
  }
  const schedule = gridSchedule(sde, options, { steps: 10, spacing: 'logSNR' });
  const n = schedule.length;
  const at = (lambda: number) => sde.tFromLogSNR(2 * lambda);
  const samples = await guarded(run.initial(priorStdOf(sde)), async (state) => {
    for (let i = 0; i < n; i++) {
      const s = schedule[i]!.t;
      const tNext = schedule[i]!.tNext;
      const lamS = lambdaOf(sde, s);
      const h = (tNext === null ? Number.POSITIVE_INFINITY : lambdaOf(sde, tNext)) - lamS;
      if (h === Number.POSITIVE_INFINITY) {
        // to σ = 0 (clean data, or e.g. VP at t = 0): the limit h → ∞ of the order-1 step is α_next x̂_0
        const x0 = await run.evaluate(state.x, s, 'x0');
        const alphaNext = tNext === null ? 1 : sde.alpha(tNext);
        const next = alphaNext === 1 ? x0 : tf.tidy(() => tf.mul(x0, alphaNext));
        const denoised = next === x0 ? (run.wantsDenoised ? tf.clone(x0) : undefined) : run.keepDenoised(x0);
        state.x.dispose();
        state.x = next;
        await run.afterStep(i, n, tNext ?? 0, state.x, denoised);
        continue;
      }
      const t = tNext!;
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
