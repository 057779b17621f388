import { encode as encodeJpeg } from 'jpeg-js';
import { PNG } from 'pngjs';

/** The colour `[r, g, b]` (0–255) of pixel `(x, y)`. */
export type PixelFn = (x: number, y: number) => [number, number, number];

/** `[h, w, 4]` RGBA bytes (alpha 255) of the image `f`. */
export function rgbaOf(w: number, h: number, f: PixelFn): Uint8Array {
  const out = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) out.set([...f(x, y), 255], (y * w + x) * 4);
  }
  return out;
}

/** A real PNG file (8-bit RGBA, written by pngjs) of the image `f`. */
export function pngFile(w: number, h: number, f: PixelFn): Buffer {
  const png = new PNG({ width: w, height: h });
  png.data = Buffer.from(rgbaOf(w, h, f));
  return PNG.sync.write(png);
}

/** A real baseline JPEG file (jpeg-js, quality 100) of the image `f`. */
export function jpegFile(w: number, h: number, f: PixelFn): Buffer {
  return encodeJpeg({ width: w, height: h, data: Buffer.from(rgbaOf(w, h, f)) }, 100).data;
}
