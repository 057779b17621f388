import { PNG } from 'pngjs';

/** Encodes an RGBA image (`rgba.length = 4·width·height`, row-major) as a PNG with pngjs. */
export function encodePng(width: number, height: number, rgba: Uint8Array): Buffer {
  if (rgba.length !== 4 * width * height) {
    throw new Error(`rgba: expected 4·${width}·${height} = ${4 * width * height} bytes, got ${rgba.length}`);
  }
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  return PNG.sync.write(png);
}
