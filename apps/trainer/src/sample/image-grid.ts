import type { Image8 } from './png-io.js';

/**
 * Converts a batch of samples `x [B, H, W, C]` (float, C = 1 or 3) to 8-bit images: data in `[−1, 1]`
 * (`centered`) or `[0, 1]` is mapped to `[0, 255]`, rounded to the nearest level and clipped (as EDM's
 * `generate.py`: `(x · 127.5 + 128)` truncated).
 */
export function toImages(x: Float32Array, shape: readonly number[], centered: boolean): Image8[] {
  if (shape.length !== 4 || (shape[3] !== 1 && shape[3] !== 3)) {
    throw new Error(`x: expected samples [B, H, W, C] with C = 1 or 3, got [${shape.join(',')}]`);
  }
  const [B, H, W, C] = shape as [number, number, number, 1 | 3];
  const size = H * W * C;
  if (x.length !== B * size)
    throw new Error(`x: expected ${B * size} values for [${shape.join(',')}], got ${x.length}`);
  const images: Image8[] = [];
  for (let b = 0; b < B; b++) {
    const data = new Uint8Array(size);
    for (let i = 0; i < size; i++) {
      const v = x[b * size + i]!;
      const level = Math.round(centered ? (v + 1) * 127.5 : v * 255);
      data[i] = Number.isNaN(level) ? 0 : Math.min(255, Math.max(0, level));
    }
    images.push({ width: W, height: H, channels: C, data });
  }
  return images;
}

/**
 * Tiles equally sized images row by row into one image with `columns` per row (default ⌈√n⌉) and
 * `padding` pixels of `background` (0–255) between and around them; `scale` (an integer, default 1)
 * enlarges every pixel of the images to `scale × scale` pixels first (nearest neighbour, for small digits).
 */
export function imageGrid(
  images: readonly Image8[],
  options: { columns?: number; padding?: number; background?: number; scale?: number } = {},
): Image8 {
  if (images.length === 0) throw new Error('images: expected at least one image');
  const { width: w0, height: h0, channels } = images[0]!;
  for (const [i, im] of images.entries()) {
    if (im.width !== w0 || im.height !== h0 || im.channels !== channels) {
      throw new Error(
        `images[${i}]: expected ${w0}×${h0}×${channels} like images[0], got ${im.width}×${im.height}×${im.channels}`,
      );
    }
  }
  const scale = options.scale ?? 1;
  if (!Number.isInteger(scale) || scale < 1) throw new Error(`scale: expected an integer >= 1, got ${scale}`);
  if (scale > 1) images = images.map((im) => enlarge(im, scale));
  const { width, height } = images[0]!;
  const columns = options.columns ?? Math.ceil(Math.sqrt(images.length));
  const rows = Math.ceil(images.length / columns);
  const pad = options.padding ?? 2;
  const W = columns * width + (columns + 1) * pad;
  const H = rows * height + (rows + 1) * pad;
  const data = new Uint8Array(W * H * channels).fill(options.background ?? 0);
  images.forEach((im, k) => {
    const x0 = pad + (k % columns) * (width + pad);
    const y0 = pad + Math.floor(k / columns) * (height + pad);
    for (let y = 0; y < height; y++) {
      data.set(
        im.data.subarray(y * width * channels, (y + 1) * width * channels),
        ((y0 + y) * W + x0) * channels,
      );
    }
  });
  return { width: W, height: H, channels, data };
}

/** `image` with every pixel repeated `scale × scale` times. */
function enlarge(image: Image8, scale: number): Image8 {
  const { width, height, channels } = image;
  const W = width * scale;
  const data = new Uint8Array(W * height * scale * channels);
  for (let y = 0; y < height * scale; y++) {
    const src = Math.floor(y / scale) * width;
    for (let x = 0; x < W; x++) {
      const from = (src + Math.floor(x / scale)) * channels;
      for (let c = 0; c < channels; c++) data[(y * W + x) * channels + c] = image.data[from + c]!;
    }
  }
  return { width: W, height: height * scale, channels, data };
}
