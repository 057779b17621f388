import { describeValue, SbmArgumentError } from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';

/** Side length of the images the FID Inception network sees (Szegedy et al. 2016; pytorch-fid resizes to it). */
export const FID_INCEPTION_SIZE = 299;

/**
 * Checks that `images` is a float32 `[B, H, W, C]` batch with `C` = 1 or 3, no NaN, and values in `[0, 1]`.
 * Reads the minimum and maximum back from the backend (synchronously).
 *
 * @param name - the argument name used in error messages (default `'images'`).
 * @throws SbmArgumentError naming `name`, for a wrong rank, dtype or channel count, NaN, or values outside
 *   `[0, 1]` (stating the range found and how to rescale).
 */
export function checkUnitImages(images: tf.Tensor, name = 'images'): asserts images is tf.Tensor4D {
  if (!(images instanceof tf.Tensor)) {
    throw new SbmArgumentError(name, `expected a tf.Tensor4D [B,H,W,C], got ${describeValue(images)}`);
  }
  if (images.rank !== 4) {
    throw new SbmArgumentError(
      name,
      `expected a tf.Tensor4D [B,H,W,C] (channels last), got a tensor of shape [${images.shape.join(',')}]`,
    );
  }
  const [b, h, w, c] = images.shape as [number, number, number, number];
  if (c !== 1 && c !== 3) {
    throw new SbmArgumentError(
      name,
      `expected 1 (grey) or 3 (RGB) channels in the last axis of [B,H,W,C], got shape [${b},${h},${w},${c}]`,
    );
  }
  if (images.dtype !== 'float32') {
    throw new SbmArgumentError(
      name,
      `expected float32 values in [0, 1], got dtype ${images.dtype} (for uint8 pixels use imagesFromUint8)`,
    );
  }
  if (images.size === 0)
    throw new SbmArgumentError(name, `expected at least one pixel, got shape [${images.shape}]`);
  const [min, max, nan] = tf.tidy(() => [tf.min(images), tf.max(images), tf.any(tf.isNaN(images))]);
  const found = [min.dataSync()[0]!, max.dataSync()[0]!, nan.dataSync()[0]!];
  tf.dispose([min, max, nan]);
  if (found[2] !== 0) throw new SbmArgumentError(name, 'contains NaN; expected values in [0, 1]');
  if (!(found[0] >= 0 && found[1] <= 1)) {
    throw new SbmArgumentError(
      name,
      `expected values in [0, 1], found values in [${found[0]}, ${found[1]}]; divide 8-bit pixels by 255 ` +
        '(see imagesFromUint8) or map images in [-1, 1] with (x + 1) / 2',
    );
  }
}

/**
 * pytorch-fid's input transform of the FID Inception network (mseitzer/pytorch-fid, `InceptionV3.forward` with
 * `resize_input` and `normalize_input`): grey images are tiled to RGB (as PIL's `convert('RGB')` in its data
 * loader), then bilinearly resized to 299×299 with half-pixel centres (PyTorch's `F.interpolate(...,
 * mode='bilinear', align_corners=False)`, no antialiasing; also when downsampling), then mapped to `[-1, 1]` by
 * $x' = 2x - 1$.
 *
 * @param images - `[B, H, W, C]` float32 in `[0, 1]`, `C` = 1 or 3 (checked by {@link checkUnitImages}).
 * @param name - the argument name used in error messages (default `'images'`).
 * @returns `[B, 299, 299, 3]` float32 in `[-1, 1]` (a new tensor; `images` is not disposed).
 * @throws SbmArgumentError for a wrong shape, dtype, NaN or values outside `[0, 1]`.
 */
export function preprocessForInception(images: tf.Tensor4D, name = 'images'): tf.Tensor4D {
  checkUnitImages(images, name);
  return tf.tidy(() => {
    const rgb = images.shape[3] === 1 ? tf.tile(images, [1, 1, 1, 3]) : images;
    const same = rgb.shape[1] === FID_INCEPTION_SIZE && rgb.shape[2] === FID_INCEPTION_SIZE;
    const resized = same
      ? rgb
      : tf.image.resizeBilinear(rgb, [FID_INCEPTION_SIZE, FID_INCEPTION_SIZE], false, true);
    return tf.sub(tf.mul(resized, 2), 1);
  });
}

/**
 * Converts 8-bit pixels (e.g. decoded PNGs, or a `uint8` NumPy batch `[B, H, W, C]`) to the `[0, 1]` float32
 * images the FID Inception network takes, $x = p/255$ (torchvision's `ToTensor`, used by pytorch-fid).
 *
 * @param data - `B·H·W·C` pixels in row-major `[B, H, W, C]` order.
 * @param shape - `[B, H, W, C]` with `C` = 1 or 3.
 * @returns `[B, H, W, C]` float32 in `[0, 1]`.
 * @throws SbmArgumentError if `data` is not a Uint8Array / Uint8ClampedArray, `shape` is not four positive
 *   integers with 1 or 3 channels, or the lengths disagree.
 */
export function imagesFromUint8(
  data: Uint8Array | Uint8ClampedArray,
  shape: readonly [number, number, number, number],
): tf.Tensor4D {
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) {
    throw new SbmArgumentError('data', `expected a Uint8Array of pixels, got ${describeValue(data)}`);
  }
  if (!Array.isArray(shape) || shape.length !== 4 || !shape.every((d) => Number.isInteger(d) && d > 0)) {
    throw new SbmArgumentError(
      'shape',
      `expected four positive integers [B,H,W,C], got ${JSON.stringify(shape)}`,
    );
  }
  const [b, h, w, c] = shape;
  if (c !== 1 && c !== 3) {
    throw new SbmArgumentError('shape', `expected 1 (grey) or 3 (RGB) channels, got [${b},${h},${w},${c}]`);
  }
  if (data.length !== b * h * w * c) {
    throw new SbmArgumentError(
      'data',
      `expected ${b * h * w * c} pixels for shape [${b},${h},${w},${c}], got ${data.length}`,
    );
  }
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i]! / 255;
  return tf.tensor4d(out, [b, h, w, c], 'float32');
}
