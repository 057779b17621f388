import { readFileSync } from 'node:fs';
import { SbmArgumentError } from '@sbm/sde';
import { describe, expect, it } from 'vitest';
import { integrateRk45, type OdeRightHandSide } from './rk45-integrator.js';

interface ScipyCase {
  name: string;
  t_span: [number, number];
  y0: number[];
  rtol: number;
  atol: number;
  nfev: number;
  /** Accepted times, t0 first. */
  t: number[];
  y: number[];
}

// scipy.integrate.solve_ivp(method='RK45') on these right-hand sides (scripts/likelihood-reference.py).
const reference = JSON.parse(
  readFileSync(new URL('../reference/rk45-scipy.json', import.meta.url), 'utf8'),
) as { scipy: string; cases: ScipyCase[] };

const RHS: Record<string, OdeRightHandSide> = {
  van_der_pol: (_t, y) => Float64Array.of(y[1]!, 1.5 * (1 - y[0]! ** 2) * y[1]! - y[0]!),
  forced_decay_backward: (t, y) =>
    Float64Array.of(-2 * y[0]! + Math.sin(3 * t), -0.5 * y[1]! * y[0]! + Math.cos(t)),
  lotka_volterra: (_t, y) =>
    Float64Array.of(1.1 * y[0]! - 0.4 * y[0]! * y[1]!, 0.1 * y[0]! * y[1]! - 0.4 * y[1]!),
};

describe('integrateRk45', () => {
  it.each(reference.cases.map((c) => [c.name, c] as const))(
    'takes the same steps as scipy solve_ivp RK45 on %s',
    async (name, c) => {
      const times: number[] = [c.t_span[0]];
      const result = await integrateRk45(RHS[name]!, c.t_span[0], c.t_span[1], Float64Array.from(c.y0), {
        rtol: c.rtol,
        atol: c.atol,
        onStep: (t) => times.push(t),
      });
      expect(result.nfev).toBe(c.nfev);
      expect(result.steps).toBe(c.t.length - 1);
      expect(2 + 6 * (result.steps + result.rejected)).toBe(c.nfev);
      expect(times).toHaveLength(c.t.length);
      // Same arithmetic up to summation order and pow(): the step sizes agree to rounding (~1e-12 here).
      for (let i = 0; i < times.length; i++) {
        expect(Math.abs(times[i]! - c.t[i]!)).toBeLessThan(1e-10 * Math.max(1, Math.abs(c.t[i]!)));
      }
      for (let i = 0; i < c.y.length; i++) {
        expect(Math.abs(result.y[i]! - c.y[i]!)).toBeLessThan(1e-10 * Math.max(1, Math.abs(c.y[i]!)));
      }
    },
  );

  it('solves a damped rotation to its closed form within the tolerance', async () => {
    // y' = [[−0.3, −2], [2, −0.3]] y, y(0) = (1, 0): y(t) = e^{−0.3 t} (cos 2t, sin 2t).
    const fun: OdeRightHandSide = (_t, y) =>
      Float64Array.of(-0.3 * y[0]! - 2 * y[1]!, 2 * y[0]! - 0.3 * y[1]!);
    for (const [rtol, bound] of [
      [1e-6, 1e-5],
      [1e-9, 1e-8],
    ] as const) {
      const { y } = await integrateRk45(fun, 0, 3, Float64Array.of(1, 0), { rtol, atol: rtol });
      const decay = Math.exp(-0.9);
      // Global error of an adaptive method with local tolerance tol is ~ (steps × tol); 10× the tolerance bounds it here.
      expect(Math.abs(y[0]! - decay * Math.cos(6))).toBeLessThan(bound);
      expect(Math.abs(y[1]! - decay * Math.sin(6))).toBeLessThan(bound);
    }
  });

  it('returns the initial state without evaluating when t0 = t1', async () => {
    let calls = 0;
    const r = await integrateRk45(
      () => {
        calls++;
        return Float64Array.of(1);
      },
      0.5,
      0.5,
      Float64Array.of(3),
    );
    expect([...r.y]).toEqual([3]);
    expect(r.nfev).toBe(0);
    expect(calls).toBe(0);
  });

  it('rejects bad arguments and bad right-hand sides with errors naming them', async () => {
    const ok: OdeRightHandSide = (_t, y) => Float64Array.from(y);
    const y0 = Float64Array.of(1);
    const rejects = (p: Promise<unknown>, pattern: RegExp) => expect(p).rejects.toThrow(pattern);
    await rejects(integrateRk45(ok, 0, 1, new Float64Array(0)), /^y0: expected a non-empty Float64Array/);
    await rejects(integrateRk45(ok, 0, 1, Float64Array.of(Number.NaN)), /^y0: y0\[0\] is NaN/);
    await rejects(integrateRk45(ok, Number.NaN, 1, y0), /^t0: expected a finite number/);
    await rejects(integrateRk45(ok, 0, Number.POSITIVE_INFINITY, y0), /^t1: expected a finite number/);
    await rejects(integrateRk45(ok, 0, 1, y0, { rtol: 0 }), /^options\.rtol: expected a number > 0/);
    await rejects(integrateRk45(ok, 0, 1, y0, { atol: -1 }), /^options\.atol: expected a number > 0/);
    await rejects(
      integrateRk45(() => new Float64Array(2), 0, 1, y0),
      /^fun: expected a Float64Array of length 1/,
    );
    await rejects(
      integrateRk45((t) => Float64Array.of(t > 0.2 ? Number.NaN : 1), 0, 1, y0),
      /^fun: returned a non-finite value \(NaN\) at index 0, t = 0\.[2-9]/,
    );
    await rejects(
      integrateRk45((_t, y) => Float64Array.of(50 * Math.cos(50 * y[0]!)), 0, 10, y0, {
        rtol: 1e-10,
        atol: 1e-10,
        maxSteps: 5,
      }),
      /^options\.maxSteps: RK45 needed more than 5 step attempts/,
    );
    const controller = new AbortController();
    controller.abort(new Error('stopped'));
    await rejects(integrateRk45(ok, 0, 1, y0, { signal: controller.signal }), /^stopped$/);
    await expect(integrateRk45(ok, 0, 1, y0, { rtol: Number.NaN })).rejects.toBeInstanceOf(SbmArgumentError);
  });
});
