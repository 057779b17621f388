/**
 * Small float64 numeric helpers shared by the schedules and SDEs.
 * @internal
 */

/** `n` evenly spaced numbers from `start` to `stop` inclusive (exact endpoints). */
export function linspace(start: number, stop: number, n: number): number[] {
  if (n === 1) return [start];
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = start + ((stop - start) * i) / (n - 1);
  out[n - 1] = stop;
  return out;
}

/** `log(1 + e^x)` without overflow or loss of precision. */
export function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/**
 * Root of a monotone function on `[lo, hi]` by bisection to float64 resolution.
 * `f(lo)` and `f(hi)` must have opposite signs (or one of them be 0).
 */
export function bisect(f: (x: number) => number, lo: number, hi: number): number {
  let flo = f(lo);
  if (flo === 0) return lo;
  for (let i = 0; i < 200; i++) {
    const mid = 0.5 * (lo + hi);
    if (mid <= lo || mid >= hi) break;
    const fm = f(mid);
    if (fm === 0) return mid;
    if (fm < 0 === flo < 0) {
      lo = mid;
      flo = fm;
    } else {
      hi = mid;
    }
  }
  return 0.5 * (lo + hi);
}
