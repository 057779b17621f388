import { assertInteger, assertPositive, describeValue, SbmArgumentError } from '@sbm/sde';
import { DORMAND_PRINCE } from './dormand-prince.js';

/**
 * Right-hand side $dy/dt = F(t, y)$ of an ODE over a flat float64 state `y [n]`; returns a new array of
 * length `n` (synchronously or as a promise). It must not modify `y`.
 */
export type OdeRightHandSide = (t: number, y: Float64Array) => Float64Array | Promise<Float64Array>;

/** Options of {@link integrateRk45}. */
export interface Rk45Options {
  /** Relative tolerance, default 1e-3 (as `scipy.integrate.solve_ivp`). */
  rtol?: number;
  /** Absolute tolerance, default 1e-6 (as `scipy.integrate.solve_ivp`). */
  atol?: number;
  /** Most step attempts (accepted + rejected) before failing, default 10000. */
  maxSteps?: number;
  /** Aborts between evaluations (the signal's reason is thrown). */
  signal?: AbortSignal;
  /** Called after every accepted step with the time reached and the state there (read-only, valid during the call). */
  onStep?: (t: number, y: Float64Array) => void;
}

/** What {@link integrateRk45} returns. */
export interface Rk45Result {
  /** The state at `t1`, `[n]`. */
  y: Float64Array;
  /** Evaluations of the right-hand side (scipy's `nfev`): 2 + 6 per step attempt. */
  nfev: number;
  /** Accepted steps. */
  steps: number;
  /** Rejected step attempts. */
  rejected: number;
}

const { a: A, b: B, c: C, e: E } = DORMAND_PRINCE;
const SAFETY = 0.9;
const MIN_FACTOR = 0.2;
const MAX_FACTOR = 10;
/** `−1/(q + 1)` for the embedded 4th-order error estimate (q = 4). */
const ERROR_EXPONENT = -1 / 5;

/** RMS norm `‖v‖ / √n`. */
function rms(v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  return Math.sqrt(s / v.length);
}

/** The next float64 after `t` towards `+∞` or `−∞` (as `numpy.nextafter`). */
function nextAfter(t: number, direction: number): number {
  if (t === 0) return direction * Number.MIN_VALUE;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, t);
  const bits = view.getBigInt64(0);
  view.setBigInt64(0, t > 0 === direction > 0 ? bits + 1n : bits - 1n);
  return view.getFloat64(0);
}

/**
 * Integrates $dy/dt = F(t, y)$ from `t0` to `t1` (either direction) with the explicit Runge–Kutta
 * method of Dormand & Prince (1980), order 5 with an embedded order-4 error estimate, and adaptive
 * steps — step for step the algorithm of `scipy.integrate.solve_ivp(method='RK45')` (SciPy 1.10;
 * Hairer, Nørsett & Wanner, "Solving ODEs I", Sec. II.4), so that its evaluation count and solution
 * agree with score_sde's likelihood computation. A step of size $h$ evaluates the seven stages
 * $k_s = F\big(t + c_s h,\ y + h \sum_{j<s} a_{sj} k_j\big)$ (the last at the new point, reused by the next step),
 * takes $y' = y + h \sum_j b_j k_j$ and estimates its error by $e = h \sum_j (b_j - \hat b_j) k_j$:
 *
 * - the initial step: with the scale $w_i = \text{atol} + \text{rtol}\, |y_{0,i}|$ and the RMS norm
 *   $\lVert u \rVert = \sqrt{\tfrac1n \sum_i u_i^2}$, $d_0 = \lVert y_0/w \rVert$, $d_1 = \lVert F_0/w \rVert$,
 *   $h_0 = 0.01\, d_0/d_1$, $d_2 = \lVert (F(t_0 + h_0, y_0 + h_0 F_0) - F_0)/w \rVert / h_0$ and
 *   $$h = \min\big(100\, h_0,\ (0.01/\max(d_1, d_2))^{1/5}\big);$$
 * - a step is accepted when $\mathrm{err} = \lVert e_i / (\text{atol} + \text{rtol} \max(|y_i|, |y'_i|)) \rVert < 1$; the next
 *   step is then $h \cdot \min(10,\ 0.9\, \mathrm{err}^{-1/5})$ (not growing right after a rejection), else the step
 *   is retried with $h \cdot \max(0.2,\ 0.9\, \mathrm{err}^{-1/5})$.
 *
 * The state is float64 throughout; `F` decides the precision of its own evaluation.
 *
 * @param fun - the right-hand side $F(t, y)$, `y [n]`.
 * @param t0 - start time.
 * @param t1 - end time.
 * @param y0 - initial state `[n]` (not modified).
 * @throws SbmArgumentError naming the argument or option that is invalid, `options.maxSteps` when the
 *   step budget runs out, and `fun` when it returns a wrong length or non-finite values.
 */
export async function integrateRk45(
  fun: OdeRightHandSide,
  t0: number,
  t1: number,
  y0: Float64Array,
  options: Rk45Options = {},
): Promise<Rk45Result> {
  if (typeof fun !== 'function') {
    throw new SbmArgumentError(
      'fun',
      `expected a function (t, y) => Float64Array, got ${describeValue(fun)}`,
    );
  }
  if (!Number.isFinite(t0))
    throw new SbmArgumentError('t0', `expected a finite number, got ${describeValue(t0)}`);
  if (!Number.isFinite(t1))
    throw new SbmArgumentError('t1', `expected a finite number, got ${describeValue(t1)}`);
  if (!(y0 instanceof Float64Array) || y0.length === 0) {
    throw new SbmArgumentError('y0', `expected a non-empty Float64Array, got ${describeValue(y0)}`);
  }
  for (let i = 0; i < y0.length; i++) {
    if (!Number.isFinite(y0[i]!))
      throw new SbmArgumentError('y0', `y0[${i}] is ${y0[i]}, expected finite values`);
  }
  const rtol = options.rtol ?? 1e-3;
  const atol = options.atol ?? 1e-6;
  const maxSteps = options.maxSteps ?? 10000;
  assertPositive('options.rtol', rtol);
  assertPositive('options.atol', atol);
  assertInteger('options.maxSteps', maxSteps);
  const { signal } = options;
  const n = y0.length;
  if (t0 === t1) return { y: Float64Array.from(y0), nfev: 0, steps: 0, rejected: 0 };

  let nfev = 0;
  const evaluate = async (t: number, y: Float64Array): Promise<Float64Array> => {
    signal?.throwIfAborted();
    const f = await fun(t, y);
    nfev++;
    if (!(f instanceof Float64Array) || f.length !== n) {
      throw new SbmArgumentError('fun', `expected a Float64Array of length ${n}, got ${describeValue(f)}`);
    }
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(f[i]!)) {
        throw new SbmArgumentError('fun', `returned a non-finite value (${f[i]}) at index ${i}, t = ${t}`);
      }
    }
    return f;
  };

  const direction = Math.sign(t1 - t0);
  let t = t0;
  let y = Float64Array.from(y0);
  let f = await evaluate(t, y);

  // Initial step (Hairer et al., Sec. II.4; scipy's select_initial_step).
  let hAbs: number;
  {
    const scaled = (v: Float64Array): number => {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = v[i]! / (atol + Math.abs(y[i]!) * rtol);
      return rms(out);
    };
    const d0 = scaled(y);
    const d1 = scaled(f);
    const h0 = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : (0.01 * d0) / d1;
    const y1 = new Float64Array(n);
    for (let i = 0; i < n; i++) y1[i] = y[i]! + h0 * direction * f[i]!;
    const f1 = await evaluate(t + h0 * direction, y1);
    const diff = new Float64Array(n);
    for (let i = 0; i < n; i++) diff[i] = f1[i]! - f[i]!;
    const d2 = scaled(diff) / h0;
    const h1 = d1 <= 1e-15 && d2 <= 1e-15 ? Math.max(1e-6, h0 * 1e-3) : (0.01 / Math.max(d1, d2)) ** (1 / 5);
    hAbs = Math.min(100 * h0, h1);
  }

  let steps = 0;
  let rejected = 0;
  const K: Float64Array[] = new Array(7);
  while (direction * (t - t1) < 0) {
    const minStep = 10 * Math.abs(nextAfter(t, direction) - t);
    if (hAbs < minStep) hAbs = minStep;
    let accepted = false;
    let stepRejected = false;
    while (!accepted) {
      if (steps + rejected >= maxSteps) {
        throw new SbmArgumentError(
          'options.maxSteps',
          `RK45 needed more than ${maxSteps} step attempts (reached t = ${t}); loosen rtol/atol or raise maxSteps`,
        );
      }
      if (hAbs < minStep) {
        throw new SbmArgumentError(
          'fun',
          `RK45 step size fell below ${minStep} at t = ${t} (a stiff or singular ODE)`,
        );
      }
      let tNew = t + hAbs * direction;
      if (direction * (tNew - t1) > 0) tNew = t1;
      const h = tNew - t;
      hAbs = Math.abs(h);
      K[0] = f;
      for (let s = 1; s < 6; s++) {
        const a = A[s]!;
        const stage = new Float64Array(n);
        for (let i = 0; i < n; i++) {
          let dy = 0;
          for (let j = 0; j < s; j++) dy += K[j]![i]! * a[j]!;
          stage[i] = y[i]! + dy * h;
        }
        K[s] = await evaluate(t + C[s]! * h, stage);
      }
      const yNew = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        let dy = 0;
        for (let j = 0; j < 6; j++) dy += K[j]![i]! * B[j]!;
        yNew[i] = y[i]! + h * dy;
      }
      const fNew = await evaluate(t + h, yNew);
      K[6] = fNew;
      const err = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        let e = 0;
        for (let j = 0; j < 7; j++) e += K[j]![i]! * E[j]!;
        err[i] = (e * h) / (atol + Math.max(Math.abs(y[i]!), Math.abs(yNew[i]!)) * rtol);
      }
      const errorNorm = rms(err);
      if (errorNorm < 1) {
        let factor =
          errorNorm === 0 ? MAX_FACTOR : Math.min(MAX_FACTOR, SAFETY * errorNorm ** ERROR_EXPONENT);
        if (stepRejected) factor = Math.min(1, factor);
        hAbs *= factor;
        accepted = true;
        t = tNew;
        y = yNew;
        f = fNew;
        steps++;
        options.onStep?.(t, y);
      } else {
        hAbs *= Math.max(MIN_FACTOR, SAFETY * errorNorm ** ERROR_EXPONENT);
        stepRejected = true;
        rejected++;
      }
    }
  }
  return { y, nfev, steps, rejected };
}
