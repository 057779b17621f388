import * as tf from '@tensorflow/tfjs-core';

/**
 * Group normalization (Wu & He 2018), as `nn.GroupNorm`: per example and group of C/G channels,
 * y = (x − μ)/√(σ² + eps)·γ + β with the biased variance over H, W and the group's channels.
 *
 * @param x - `[B, H, W, C]`; `gamma`, `beta` - `[C]`.
 */
export function groupNorm(
  x: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  groups: number,
  eps: number,
): tf.Tensor4D {
  return tf.tidy(() => {
    const [b, h, w, c] = x.shape as [number, number, number, number];
    const grouped = tf.reshape(x, [b, h, w, groups, c / groups]);
    const { mean, variance } = tf.moments(grouped, [1, 2, 4], true);
    const normalized = tf.mul(tf.sub(grouped, mean), tf.rsqrt(tf.add(variance, eps)));
    return tf.add(tf.mul(tf.reshape(normalized, [b, h, w, c]), gamma), beta) as tf.Tensor4D;
  });
}

/** A 2-D convolution with bias, stride 1, 'same' padding (PyTorch padding k/2): `weight` `[k, k, Cin, Cout]`. */
export function conv2dSame(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor): tf.Tensor4D {
  return tf.tidy(
    () => tf.add(tf.conv2d(x as tf.Tensor4D, weight as tf.Tensor4D, 1, 'same'), bias) as tf.Tensor4D,
  );
}

/**
 * A linear map on the last axis: y = x·W + b, `W` `[in, out]` (score_sde's `NIN` on NHWC features, or
 * `nn.Linear` with its weight transposed). `x` `[..., in]` → `[..., out]`.
 */
export function linear(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const inDim = x.shape[x.shape.length - 1]!;
    const outDim = weight.shape[1]!;
    const flat = tf.reshape(x, [-1, inDim]) as tf.Tensor2D;
    const y = tf.add(tf.matMul(flat, weight as tf.Tensor2D), bias);
    return tf.reshape(y, [...x.shape.slice(0, -1), outDim]);
  });
}

/** (a + b)/√2 when `rescale` (score_sde's `skip_rescale`), else a + b. */
export function skipSum(a: tf.Tensor, b: tf.Tensor, rescale: boolean): tf.Tensor {
  return tf.tidy(() => (rescale ? tf.div(tf.add(a, b), Math.SQRT2) : tf.add(a, b)));
}
