/**
 * Formats samples `[n, D]` (row-major float32, e.g. 2-D points `x0, y0, x1, y1, …`) as CSV: one line per
 * sample, its D values separated by commas (`x,y` for points), no header, each line ending in `\n`. Values
 * are printed with 9 significant digits (enough to read back every float32 exactly) without trailing zeros;
 * −0 as `-0`, NaN and ±∞ as `NaN`, `Infinity`, `-Infinity`. Concatenating the CSV of consecutive index ranges gives the
 * CSV of their union.
 *
 * @param samples - `[n, D]` row-major.
 * @param dim - D ≥ 1.
 */
export function pointsCsv(samples: ArrayLike<number>, dim: number): string {
  if (!Number.isInteger(dim) || dim < 1) throw new Error(`dim: expected a positive integer, got ${dim}`);
  if (samples.length % dim !== 0) {
    throw new Error(`samples: expected a multiple of dim = ${dim} values, got ${samples.length}`);
  }
  const lines: string[] = [];
  const row: string[] = new Array(dim);
  for (let i = 0; i < samples.length; i += dim) {
    for (let d = 0; d < dim; d++) {
      const v = samples[i + d]!;
      row[d] = Object.is(v, -0) ? '-0' : Number.isFinite(v) ? String(Number(v.toPrecision(9))) : String(v);
    }
    lines.push(`${row.join(',')}\n`);
  }
  return lines.join('');
}
