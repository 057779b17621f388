/**
 * The Dormand–Prince 5(4) Runge–Kutta tableau (Dormand & Prince 1980, "A family of embedded Runge–Kutta
 * formulae"), first same as last: seven stages, the seventh evaluated at the new state, so it is the next step's
 * first. Shared by the probability-flow ODE sampler (tensor state) and {@link integrateRk45} (float64 state).
 *
 * Stage `s` is evaluated at `t + c[s]·h` on `y + h Σ_{j<s} a[s][j] k_j`; the 5th-order solution is
 * `y + h Σ b[j] k_j` (= stage 7's input), and `h Σ e[j] k_j` estimates its error against the embedded 4th-order one.
 */
export const DORMAND_PRINCE = Object.freeze({
  c: [0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1, 1] as readonly number[],
  a: [
    [],
    [1 / 5],
    [3 / 40, 9 / 40],
    [44 / 45, -56 / 15, 32 / 9],
    [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
    [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
    [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84],
  ] as readonly (readonly number[])[],
  /** 5th-order weights (the last row of `a`). */
  b: [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84] as readonly number[],
  /** `b5 − b4` over the seven stages, as SciPy writes it (exact rationals). */
  e: [-71 / 57600, 0, 71 / 16695, -71 / 1920, 17253 / 339200, -22 / 525, 1 / 40] as readonly number[],
});
