import { SbmArgumentError } from '@sbm/sde';
import { decode as decodeJpeg } from 'jpeg-js';
import { PNG } from 'pngjs';

/** A decoded image: `rgba` is `[height, width, 4]` row-major uint8 (alpha is ignored downstream). */
export interface DecodedImage {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** The pixels, `[height, width, 4]` row-major RGBA uint8 (0–255), top row first. */
  rgba: Uint8Array;
}

/** File name endings of the images that {@link decodeImage} reads. */
export const IMAGE_EXTENSIONS: readonly string[] = Object.freeze(['.png', '.jpg', '.jpeg']);

/**
 * Decodes PNG (pngjs; any bit depth / color type, converted to 8-bit RGBA) or JPEG (jpeg-js, strict) bytes,
 * chosen by the file signature, not the name.
 *
 * @throws SbmArgumentError naming `fileName` when the bytes are neither or are corrupt.
 */
export function decodeImage(bytes: Uint8Array, fileName: string): DecodedImage {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const isPng = buf.length >= 8 && buf.readUInt32BE(0) === 0x89504e47 && buf.readUInt32BE(4) === 0x0d0a1a0a;
  const isJpeg = buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff;
  try {
    if (isPng) {
      const png = PNG.sync.read(buf);
      return { width: png.width, height: png.height, rgba: new Uint8Array(png.data) };
    }
    if (isJpeg) {
      const img = decodeJpeg(buf, { useTArray: true, formatAsRGBA: true, tolerantDecoding: false });
      if (img.data.length !== img.width * img.height * 4)
        throw new Error('decoded data has the wrong length');
      return { width: img.width, height: img.height, rgba: img.data };
    }
  } catch (e) {
    throw new SbmArgumentError(
      fileName,
      `cannot decode ${isPng ? 'PNG' : 'JPEG'} image (${(e as Error).message})`,
    );
  }
  throw new SbmArgumentError(fileName, 'not a PNG or JPEG file (unrecognized signature)');
}

/**
 * The RGB pixels of a decoded image as floats in [0, 1] (`v / 255`), `[height, width, 3]` HWC, as
 * pytorch-fid's `ImagePathDataset` gives them to the network (PIL `convert('RGB')`, `ToTensor`).
 */
export function rgbUnitFloats(image: DecodedImage): Float32Array {
  const n = image.width * image.height;
  const out = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    out[3 * i] = image.rgba[4 * i]! / 255;
    out[3 * i + 1] = image.rgba[4 * i + 1]! / 255;
    out[3 * i + 2] = image.rgba[4 * i + 2]! / 255;
  }
  return out;
}
