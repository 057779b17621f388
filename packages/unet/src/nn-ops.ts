import * as tf from '@tensorflow/tfjs-core';

/**
 * Group normalization (Wu & He 2018, eq. 1–2), as PyTorch's `nn.GroupNorm` (used throughout score_sde): per
 * example b and group g of C/G channels, over the group's $n = HWC/G$ values,
 *
 * $$\mu = \frac{1}{n} \sum x, \qquad \sigma^2 = \frac{1}{n} \sum (x - \mu)^2 \ \text{(biased)},$$
 *
 * $$\hat{x} = \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}}, \qquad y = \gamma \hat{x} + \beta.$$
 *
 * Written for the wasm and cpu backends: the means over H·W are global average pools (XNNPACK on
 * wasm) instead of reductions over middle axes (a transpose and a reduction each), and the gradient
 * is the closed form (tfjs `customGrad`), which needs 2 such pools and 5 elementwise passes instead
 * of autodiff through `moments`:
 *
 * $$\frac{\partial L}{\partial \beta} = \sum_{b,hw} \delta, \qquad
 *   \frac{\partial L}{\partial \gamma} = \sum_{b,hw} \delta \hat{x},$$
 *
 * $$\frac{\partial L}{\partial x} = \frac{\gamma\delta - \operatorname{mean}_g(\gamma\delta)
 *     - \hat{x} \operatorname{mean}_g(\gamma\delta\hat{x})}{\sqrt{\sigma^2 + \epsilon}},$$
 *
 * with $\delta = \partial L / \partial y$ and $\operatorname{mean}_g$ the average over the n values of the
 * example's group. First-order gradients only (the closed form is not itself differentiated).
 *
 * @param x - `[B, H, W, C]`.
 * @param gamma - scale $\gamma$, `[C]`.
 * @param beta - shift $\beta$, `[C]`.
 * @param groups - number of groups G; must divide C.
 * @param eps - $\epsilon$ added to the variance (score_sde: 1e−6).
 * @returns `[B, H, W, C]`.
 */
export function groupNorm(
  x: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  groups: number,
  eps: number,
): tf.Tensor4D {
  const [b, h, w, c] = x.shape as [number, number, number, number];
  const size = c / groups;
  // Per-channel means over the pixels, [B,1,1,C]: a global average pool (XNNPACK on wasm).
  const pixelMean = (t: tf.Tensor) => tf.avgPool(t as tf.Tensor4D, [h, w], 1, 'valid');
  // [B,1,1,C] per-channel values → the mean over each channel's group, broadcast back to [B,1,1,C].
  const groupMean = (perChannel: tf.Tensor) => {
    const means = tf.mean(tf.reshape(perChannel, [b, groups, size]), 2, true);
    return tf.reshape(tf.mul(means, tf.ones([1, 1, size])), [b, 1, 1, c]);
  };
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xIn, gammaIn, betaIn] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const centered = tf.sub(xIn!, groupMean(pixelMean(xIn!)));
    const rstd = tf.rsqrt(tf.add(groupMean(pixelMean(tf.square(centered))), eps));
    save([centered, rstd, gammaIn!]);
    return {
      value: tf.add(tf.mul(centered, tf.mul(rstd, gammaIn!)), betaIn!),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xc, r, g] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        const meanDy = pixelMean(dy); // mean_hw dy, [B,1,1,C]
        const meanDyXhat = tf.mul(pixelMean(tf.mul(dy, xc)), r); // mean_hw dy·x̂
        const m1 = groupMean(tf.mul(meanDy, g)); // mean_g(γ·dy)
        const m2 = groupMean(tf.mul(meanDyXhat, g)); // mean_g(γ·dy·x̂)
        // dx = r·γ·dy − r²·m2·(x − μ) − r·m1
        const dx = tf.add(
          tf.add(tf.mul(dy, tf.mul(r, g)), tf.mul(xc, tf.neg(tf.mul(tf.square(r), m2)))),
          tf.neg(tf.mul(r, m1)),
        );
        const pixels = h * w;
        return [
          dx,
          tf.reshape(tf.mul(tf.sum(meanDyXhat, [0, 1, 2]), pixels), [c]),
          tf.reshape(tf.mul(tf.sum(meanDy, [0, 1, 2]), pixels), [c]),
        ];
      },
    };
  });
  return tf.tidy(() => op(x, gamma, beta) as tf.Tensor4D);
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
