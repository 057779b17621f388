import { type IsotropicMixture, mixtureLogDensity } from './mixture.js';

/** The theme's colors, read from typedoc's CSS variables (they change with the light/dark setting). */
interface Colors {
  text: string;
  aside: string;
  points: string;
  trained: string;
  background: string;
  grid: string;
  density: [number, number, number];
}

function readColors(element: Element, ctx: CanvasRenderingContext2D): Colors {
  const style = getComputedStyle(element);
  const v = (name: string, fallback: string) => style.getPropertyValue(name).trim() || fallback;
  const text = v('--color-text', '#222');
  const aside = v('--color-text-aside', '#707070');
  // Normalize any CSS color to #rrggbb through the canvas, then to numbers for the density image.
  ctx.fillStyle = v('--color-ts-function', '#a35cde');
  const hex = String(ctx.fillStyle);
  const rgb: [number, number, number] = /^#[0-9a-f]{6}$/i.test(hex)
    ? ([1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)) as [number, number, number])
    : [128, 128, 128];
  return {
    text,
    aside,
    points: v('--color-link', '#1f70c2'),
    trained: v('--color-ts-accessor', '#c73c3c'),
    background: v('--color-background', '#fff'),
    grid: v('--color-accent', '#c5c7c9'),
    density: rgb,
  };
}

/** Sizes a canvas's backing store to its displayed size and the device pixel ratio; returns its CSS size. */
function fit(
  canvas: HTMLCanvasElement,
  aspect: number,
): { w: number; h: number; ctx: CanvasRenderingContext2D } {
  const ratio = window.devicePixelRatio || 1;
  const w = Math.max(canvas.clientWidth, 200);
  const h = Math.round(w * aspect);
  if (canvas.width !== Math.round(w * ratio) || canvas.height !== Math.round(h * ratio)) {
    canvas.width = Math.round(w * ratio);
    canvas.height = Math.round(h * ratio);
    canvas.style.height = `${h}px`;
  }
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  return { w, h, ctx };
}

/** What {@link PointsPlot.draw} shows. */
export interface PointsFrame {
  /** Points `[x0, y0, x1, y1, …]` (non-finite ones are skipped), or none. */
  points?: ArrayLike<number>;
  /** Which model made them: colors the points. */
  model?: 'exact' | 'trained';
  /** Marginal of the density drawn behind: `p_t` with these `α(t)`, `σ(t)` (default `p_0`). */
  alpha?: number;
  sigma?: number;
  /** Caption in the corner (e.g. the time). */
  caption?: string;
}

const GRID = 140;

/**
 * The square plot of the sampling run: the exact density of the mixture's marginal `p_t` as a faint image, and the
 * current points on top, in the fixed view `[−extent, extent]²`.
 */
export class PointsPlot {
  readonly #canvas: HTMLCanvasElement;
  readonly #mixture: IsotropicMixture;
  readonly #extent: number;
  readonly #cells: Float64Array;
  #densityKey = '';
  #densityImage: HTMLCanvasElement | undefined;

  constructor(canvas: HTMLCanvasElement, mixture: IsotropicMixture, extent = 3.2) {
    this.#canvas = canvas;
    this.#mixture = mixture;
    this.#extent = extent;
    // Cell centers of the density grid, row by row from the top.
    this.#cells = new Float64Array(GRID * GRID * 2);
    for (let r = 0; r < GRID; r++) {
      for (let c = 0; c < GRID; c++) {
        const i = (r * GRID + c) * 2;
        this.#cells[i] = -extent + ((c + 0.5) * 2 * extent) / GRID;
        this.#cells[i + 1] = extent - ((r + 0.5) * 2 * extent) / GRID;
      }
    }
  }

  draw(frame: PointsFrame = {}): void {
    const { w, h, ctx } = fit(this.#canvas, 1);
    const colors = readColors(this.#canvas, ctx);
    const e = this.#extent;
    const px = (x: number) => ((x + e) / (2 * e)) * w;
    const py = (y: number) => ((e - y) / (2 * e)) * h;
    ctx.clearRect(0, 0, w, h);
    ctx.fillStyle = colors.background;
    ctx.fillRect(0, 0, w, h);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(this.#density(frame.alpha ?? 1, frame.sigma ?? 0, colors.density), 0, 0, w, h);
    // Axes through the origin and a tick every unit.
    ctx.strokeStyle = colors.grid;
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(px(-e), py(0));
    ctx.lineTo(px(e), py(0));
    ctx.moveTo(px(0), py(-e));
    ctx.lineTo(px(0), py(e));
    for (let k = -Math.floor(e); k <= Math.floor(e); k++) {
      if (k === 0) continue;
      ctx.moveTo(px(k), py(0) - 3);
      ctx.lineTo(px(k), py(0) + 3);
      ctx.moveTo(px(0) - 3, py(k));
      ctx.lineTo(px(0) + 3, py(k));
    }
    ctx.stroke();
    const points = frame.points;
    if (points) {
      ctx.fillStyle = frame.model === 'trained' ? colors.trained : colors.points;
      ctx.globalAlpha = 0.8;
      const size = points.length > 6000 ? 1.5 : 2.2;
      for (let i = 0; i + 1 < points.length; i += 2) {
        const x = points[i]!;
        const y = points[i + 1]!;
        if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
        ctx.fillRect(px(x) - size / 2, py(y) - size / 2, size, size);
      }
      ctx.globalAlpha = 1;
    }
    if (frame.caption) {
      ctx.fillStyle = colors.aside;
      ctx.font = '12px system-ui, sans-serif';
      ctx.textBaseline = 'top';
      ctx.fillText(frame.caption, 8, 8);
    }
  }

  /** The density image of `p_t` (cached per marginal and color). */
  #density(alpha: number, sigma: number, rgb: [number, number, number]): HTMLCanvasElement {
    const key = `${alpha.toPrecision(6)}|${sigma.toPrecision(6)}|${rgb.join(',')}`;
    if (this.#densityImage && key === this.#densityKey) return this.#densityImage;
    const logp = mixtureLogDensity(this.#mixture, alpha, sigma, this.#cells);
    let max = Number.NEGATIVE_INFINITY;
    for (const v of logp) if (v > max) max = v;
    const image = this.#densityImage ?? document.createElement('canvas');
    image.width = GRID;
    image.height = GRID;
    const ctx = image.getContext('2d')!;
    const data = ctx.createImageData(GRID, GRID);
    for (let i = 0; i < GRID * GRID; i++) {
      data.data[4 * i] = rgb[0];
      data.data[4 * i + 1] = rgb[1];
      data.data[4 * i + 2] = rgb[2];
      // Relative density, square-rooted so that the tails stay visible.
      data.data[4 * i + 3] = Math.round(150 * Math.sqrt(Math.exp(logp[i]! - max)));
    }
    ctx.putImageData(data, 0, 0);
    this.#densityImage = image;
    this.#densityKey = key;
    return image;
  }
}

/** The training plot: the loss of every step (faint) and its exponential moving average. */
export class LossPlot {
  readonly #canvas: HTMLCanvasElement;

  constructor(canvas: HTMLCanvasElement) {
    this.#canvas = canvas;
  }

  draw(losses: readonly number[], smoothed: readonly number[], totalSteps: number): void {
    const { w, h, ctx } = fit(this.#canvas, 0.4);
    const colors = readColors(this.#canvas, ctx);
    ctx.clearRect(0, 0, w, h);
    ctx.fillStyle = colors.background;
    ctx.fillRect(0, 0, w, h);
    const left = 44;
    const bottom = h - 22;
    const top = 10;
    const right = w - 10;
    const n = Math.max(totalSteps, losses.length, 2);
    let yMax = 0;
    for (const v of smoothed) if (Number.isFinite(v) && v > yMax) yMax = v;
    yMax = yMax > 0 ? yMax * 1.15 : 1;
    const X = (i: number) => left + ((right - left) * i) / (n - 1);
    const Y = (v: number) => bottom - ((bottom - top) * Math.min(v, yMax)) / yMax;
    ctx.strokeStyle = colors.grid;
    ctx.fillStyle = colors.aside;
    ctx.font = '11px system-ui, sans-serif';
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(left, top);
    ctx.lineTo(left, bottom);
    ctx.lineTo(right, bottom);
    ctx.stroke();
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'right';
    for (const f of [0, 0.5, 1]) ctx.fillText((yMax * f).toFixed(2), left - 4, Y(yMax * f));
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    ctx.fillText('0', X(0), bottom + 4);
    ctx.fillText(String(n), X(n - 1) - 10, bottom + 4);
    ctx.fillText('step', (left + right) / 2, bottom + 4);
    const line = (values: readonly number[], color: string, alpha: number, width: number) => {
      if (values.length === 0) return;
      ctx.strokeStyle = color;
      ctx.globalAlpha = alpha;
      ctx.lineWidth = width;
      ctx.beginPath();
      values.forEach((v, i) => {
        if (i === 0) ctx.moveTo(X(i), Y(v));
        else ctx.lineTo(X(i), Y(v));
      });
      ctx.stroke();
      ctx.globalAlpha = 1;
    };
    line(losses, colors.aside, 0.35, 1);
    line(smoothed, colors.trained, 1, 2);
  }
}
