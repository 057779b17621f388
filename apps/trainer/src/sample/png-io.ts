import { PNG } from 'pngjs';

/** An 8-bit image, row-major HWC: `data.length = height · width · channels`, channels 1 (gray) or 3 (RGB). */
export interface Image8 {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
  readonly data: Uint8Array;
}

/** Encodes an {@link Image8} as a PNG (8-bit gray or RGB) with pngjs. */
export function encodePng(image: Image8): Buffer {
  const { width, height, channels, data } = image;
  if (data.length !== width * height * channels) {
    throw new Error(
      `image: expected ${width}·${height}·${channels} = ${width * height * channels} bytes, got ${data.length}`,
    );
  }
  const png = new PNG({
    width,
    height,
    colorType: channels === 1 ? 0 : 2,
    inputColorType: channels === 1 ? 0 : 2,
    inputHasAlpha: false,
  });
  png.data = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return PNG.sync.write(png, {
    colorType: channels === 1 ? 0 : 2,
    inputColorType: channels === 1 ? 0 : 2,
    inputHasAlpha: false,
  });
}

/** Decodes a PNG into an RGB {@link Image8} (gray and alpha are converted; alpha is dropped). */
export function decodePng(bytes: Uint8Array, name = 'png'): Image8 {
  let png: PNG;
  try {
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (error) {
    throw new Error(`${name}: not a readable PNG (${(error as Error).message})`);
  }
  const { width, height } = png;
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    data[3 * i] = png.data[4 * i]!;
    data[3 * i + 1] = png.data[4 * i + 1]!;
    data[3 * i + 2] = png.data[4 * i + 2]!;
  }
  return { width, height, channels: 3, data };
}
