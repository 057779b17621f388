/**
 * The energy distance `2 E‖X − Y‖ − E‖X − X′‖ − E‖Y − Y′‖` (Székely & Rizzo) between two samples given row-major as
 * `n·D` and `m·D` values, with the means over all pairs (V-statistic, the pairs of a point with itself included).
 * Zero only when the laws agree; O(n m D) in float64. Rows with a NaN or infinite value are skipped.
 */
export function energyDistance(a: ArrayLike<number>, b: ArrayLike<number>, dim: number): number {
  const finiteRows = (v: ArrayLike<number>): Float64Array => {
    const rows: number[] = [];
    for (let i = 0; i + dim <= v.length; i += dim) {
      let ok = true;
      for (let d = 0; d < dim; d++) if (!Number.isFinite(v[i + d]!)) ok = false;
      if (ok) for (let d = 0; d < dim; d++) rows.push(v[i + d]!);
    }
    return Float64Array.from(rows);
  };
  const x = finiteRows(a);
  const y = finiteRows(b);
  const meanDistance = (p: Float64Array, q: Float64Array): number => {
    const n = p.length / dim;
    const m = q.length / dim;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < m; j++) {
        let s = 0;
        for (let d = 0; d < dim; d++) s += (p[i * dim + d]! - q[j * dim + d]!) ** 2;
        sum += Math.sqrt(s);
      }
    }
    return sum / (n * m);
  };
  if (x.length === 0 || y.length === 0) return Number.NaN;
  return 2 * meanDistance(x, y) - meanDistance(x, x) - meanDistance(y, y);
}
