/** A square RGBA raster with a data range mapped onto it. */
export interface Panel {
  size: number;
  rgba: Uint8Array;
}

/** Options of {@link scatterPanel}. */
export interface ScatterOptions {
  /** Side of the square panel in pixels (default 240). */
  size?: number;
  /** Data shown: `[lo, hi]` on both axes (default `[-4, 4]`). */
  range?: [number, number];
  /** Point colour `[r, g, b]` (default dark blue). */
  color?: [number, number, number];
}

/**
 * Draws 2-D points (`xy`, interleaved `x0, y0, x1, y1, …`) as a density-shaded scatter plot on a white
 * square with light axes. Points outside the range are dropped.
 */
export function scatterPanel(xy: ArrayLike<number>, options: ScatterOptions = {}): Panel {
  const size = options.size ?? 240;
  const [lo, hi] = options.range ?? [-4, 4];
  const [r, g, b] = options.color ?? [20, 60, 160];
  const rgba = new Uint8Array(4 * size * size).fill(255);
  const toPixel = (v: number) => Math.floor(((v - lo) / (hi - lo)) * (size - 1));
  const put = (px: number, py: number, cr: number, cg: number, cb: number, alpha: number) => {
    if (px < 0 || py < 0 || px >= size || py >= size) return;
    const i = 4 * (py * size + px);
    rgba[i] = Math.round(rgba[i]! * (1 - alpha) + cr * alpha);
    rgba[i + 1] = Math.round(rgba[i + 1]! * (1 - alpha) + cg * alpha);
    rgba[i + 2] = Math.round(rgba[i + 2]! * (1 - alpha) + cb * alpha);
  };
  const zero = toPixel(0);
  for (let k = 0; k < size; k++) {
    put(zero, k, 200, 200, 200, 1);
    put(k, size - 1 - zero, 200, 200, 200, 1);
  }
  for (let k = 0; k < size; k++) {
    put(0, k, 120, 120, 120, 1);
    put(size - 1, k, 120, 120, 120, 1);
    put(k, 0, 120, 120, 120, 1);
    put(k, size - 1, 120, 120, 120, 1);
  }
  const n = Math.floor(xy.length / 2);
  for (let i = 0; i < n; i++) {
    const px = toPixel(xy[2 * i]!);
    const py = size - 1 - toPixel(xy[2 * i + 1]!);
    put(px, py, r, g, b, 0.5);
    put(px + 1, py, r, g, b, 0.25);
    put(px, py + 1, r, g, b, 0.25);
  }
  return { size, rgba };
}

/**
 * Places equal-size panels in a grid, left to right and top to bottom, `columns` per row (default: all in
 * one row), with a `gap`-pixel white margin; returns width, height and RGBA.
 */
export function tilePanels(
  panels: Panel[],
  gap = 8,
  columns = panels.length,
): { width: number; height: number; rgba: Uint8Array } {
  if (panels.length === 0) throw new Error('tilePanels: no panels');
  const size = panels[0]!.size;
  const cols = Math.min(columns, panels.length);
  const rows = Math.ceil(panels.length / cols);
  const width = cols * size + (cols + 1) * gap;
  const height = rows * size + (rows + 1) * gap;
  const rgba = new Uint8Array(4 * width * height).fill(255);
  panels.forEach((p, k) => {
    if (p.size !== size) throw new Error('tilePanels: panels must have the same size');
    const x0 = gap + (k % cols) * (size + gap);
    const y0 = gap + Math.floor(k / cols) * (size + gap);
    for (let y = 0; y < size; y++) {
      rgba.set(p.rgba.subarray(4 * y * size, 4 * (y + 1) * size), 4 * ((y + y0) * width + x0));
    }
  });
  return { width, height, rgba };
}
