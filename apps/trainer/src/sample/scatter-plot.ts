import type { Image8 } from './png-io.js';

/** The square data window of a scatter plot: `[x0, x0 + side] × [y0, y0 + side]`. */
export interface ScatterWindow {
  x0: number;
  y0: number;
  side: number;
}

/** Options of {@link scatterPlot}. */
export interface ScatterPlotOptions {
  /** Side of the square picture in pixels (default 512). */
  size?: number;
  /** The data window (default {@link scatterWindow} of the points and the reference). */
  window?: ScatterWindow;
  /** Points drawn first, in light grey (e.g. training data), `[m, 2]` row-major. */
  reference?: ArrayLike<number>;
}

function quantile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))]!;
}

/**
 * A square window holding the bulk of the points: per axis the 0.5 % … 99.5 % quantiles of the finite
 * coordinates (so a few stray samples do not shrink the picture), the larger span padded by 10 % on each side,
 * the same span on both axes (circles stay round). `[−1, 1]²` without finite points.
 *
 * @param sets - point sets `[n, 2]` row-major.
 */
export function scatterWindow(...sets: ArrayLike<number>[]): ScatterWindow {
  const xs: number[] = [];
  const ys: number[] = [];
  for (const set of sets) {
    for (let i = 0; i + 1 < set.length; i += 2) {
      const x = set[i]!;
      const y = set[i + 1]!;
      if (Number.isFinite(x) && Number.isFinite(y)) {
        xs.push(x);
        ys.push(y);
      }
    }
  }
  if (xs.length === 0) return { x0: -1, y0: -1, side: 2 };
  const sx = Float64Array.from(xs).sort();
  const sy = Float64Array.from(ys).sort();
  const [xl, xh, yl, yh] = [
    quantile(sx, 0.005),
    quantile(sx, 0.995),
    quantile(sy, 0.005),
    quantile(sy, 0.995),
  ];
  const span = Math.max(xh - xl, yh - yl, 1e-6) * 1.2;
  return { x0: (xl + xh) / 2 - span / 2, y0: (yl + yh) / 2 - span / 2, side: span };
}

/**
 * Rasterizes 2-D points as a scatter plot: an RGB picture `size × size` on white, with a grey frame, the axes
 * x = 0 and y = 0 in light grey where they cross the window, `options.reference` as light grey dots and the
 * points as blended dark blue dots (denser regions darker); y grows upwards. Points outside the window are
 * left out.
 *
 * @param points - `[n, 2]` row-major (`x0, y0, x1, y1, …`).
 */
export function scatterPlot(points: ArrayLike<number>, options: ScatterPlotOptions = {}): Image8 {
  const size = options.size ?? 512;
  if (!Number.isInteger(size) || size < 8) throw new Error(`size: expected an integer >= 8, got ${size}`);
  if (points.length % 2 !== 0) {
    throw new Error(`points: expected interleaved x, y values (an even length), got ${points.length} values`);
  }
  const reference = options.reference ?? [];
  const w = options.window ?? scatterWindow(points, reference);
  if (!(w.side > 0 && Number.isFinite(w.side) && Number.isFinite(w.x0) && Number.isFinite(w.y0))) {
    throw new Error(`window: expected finite x0, y0 and side > 0, got ${JSON.stringify(w)}`);
  }
  const data = new Uint8Array(3 * size * size).fill(255);
  const put = (px: number, py: number, rgb: readonly [number, number, number], alpha: number) => {
    if (px < 0 || py < 0 || px >= size || py >= size) return;
    const i = 3 * (py * size + px);
    for (let c = 0; c < 3; c++) data[i + c] = Math.round(data[i + c]! * (1 - alpha) + rgb[c]! * alpha);
  };
  const column = (x: number) => Math.floor(((x - w.x0) / w.side) * size);
  const row = (y: number) => size - 1 - Math.floor(((y - w.y0) / w.side) * size);
  const axis = [215, 215, 215] as const;
  const ax = column(0);
  const ay = row(0);
  for (let k = 0; k < size; k++) {
    put(ax, k, axis, 1);
    put(k, ay, axis, 1);
  }
  const dots = (set: ArrayLike<number>, rgb: readonly [number, number, number], alpha: number) => {
    for (let i = 0; i + 1 < set.length; i += 2) {
      const x = set[i]!;
      const y = set[i + 1]!;
      if (!(x >= w.x0 && x < w.x0 + w.side && y >= w.y0 && y < w.y0 + w.side)) continue;
      const px = column(x);
      const py = row(y);
      put(px, py, rgb, alpha);
      put(px + 1, py, rgb, alpha / 2);
      put(px, py + 1, rgb, alpha / 2);
      put(px + 1, py + 1, rgb, alpha / 4);
    }
  };
  dots(reference, [170, 170, 170], 0.35);
  dots(points, [20, 60, 160], 0.6);
  const frame = [110, 110, 110] as const;
  for (let k = 0; k < size; k++) {
    put(k, 0, frame, 1);
    put(k, size - 1, frame, 1);
    put(0, k, frame, 1);
    put(size - 1, k, frame, 1);
  }
  return { width: size, height: size, channels: 3, data };
}
