import { assertInteger, describeValue, SbmArgumentError, type ScoreFn } from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';

/**
 * How the divergence $\nabla \cdot s(x, t) = \operatorname{tr}(\partial s/\partial x)$ is computed:
 * - `'hutchinson-rademacher'` / `'hutchinson-gaussian'`: the Hutchinson–Skilling estimator
 *   $\epsilon^\top (\partial s/\partial x)\, \epsilon$ with a probe $\epsilon$ of random signs / standard normals
 *   (Skilling 1989; Hutchinson 1989), one vector–Jacobian product per evaluation, unbiased since
 *   $\mathbb{E}[\epsilon \epsilon^\top] = I$;
 * - `'exact'`: $\sum_{d=1}^{D} e_d^\top (\partial s/\partial x)\, e_d$, $D$ vector–Jacobian products ($D$ = values per example).
 */
export type DivergenceMethod = 'hutchinson-rademacher' | 'hutchinson-gaussian' | 'exact';

/** The estimator of {@link scoreAndDivergence}: a fixed probe, or the exact trace. */
export type DivergenceEstimator =
  | {
      /** Hutchinson–Skilling probe $\epsilon$, the shape of `x [B, ...]` (random signs or standard normals). */
      probe: tf.Tensor;
    }
  | {
      /** Selects the exact trace $\sum_d e_d^\top (\partial s/\partial x)\, e_d$, with $D$ one-hot directions $e_d$. */
      exact: true;
      /** Unit directions $e_d$ per backward pass (the batch is tiled this many times), default all $D$. */
      directionsPerPass?: number;
    };

/** What {@link scoreAndDivergence} returns (new tensors; the caller disposes them). */
export interface ScoreAndDivergence {
  /** $s(x, t)$, the shape of `x [B, ...]`. */
  score: tf.Tensor;
  /** $\nabla \cdot s(x, t)$ (exact) or $\epsilon^\top (\partial s/\partial x)\, \epsilon$ (Hutchinson), `[B]`. */
  divergence: tf.Tensor1D;
}

/** Calls `f` under tf.grad, keeping the score `f` produced on the way. */
function scoreAndVjp(
  scoreFn: ScoreFn,
  x: tf.Tensor,
  t: tf.Tensor1D,
  cotangent: tf.Tensor,
): { score: tf.Tensor; vjp: tf.Tensor } {
  let score: tf.Tensor | undefined;
  const vjp = tf.grad((xv: tf.Tensor) => {
    const s = scoreFn(xv, t);
    if (!(s instanceof tf.Tensor) || !tf.util.arraysEqual(s.shape, xv.shape)) {
      throw new SbmArgumentError(
        'scoreFn',
        `expected a score of the shape of x [${xv.shape.join(',')}], got ${describeValue(s)}`,
      );
    }
    score = tf.keep(s);
    return tf.sum(tf.mul(s, cotangent));
  })(x);
  return { score: score!, vjp };
}

/**
 * The score $s(x, t)$ and its divergence $\nabla \cdot s = \operatorname{tr}(\partial s/\partial x)$ per example, by
 * reverse-mode automatic differentiation through `scoreFn` (which must be differentiable with tf.grad: gradients
 * registered, e.g. by importing `@tensorflow/tfjs-layers`, and synchronous):
 *
 * - Hutchinson–Skilling (Hutchinson 1989; Skilling 1989; as in Song et al. 2021, App. D.2, and
 *   Grathwohl et al. 2019), with $\mathbb{E}[\epsilon \epsilon^\top] = I$:
 *   $$\nabla \cdot s \approx \epsilon^\top \frac{\partial s}{\partial x} \epsilon = \sum_i \epsilon_i \frac{\partial}{\partial x_i} \Big(\sum_j s_j \epsilon_j\Big),$$
 *   one forward and one backward pass for the batch;
 * - exact: $\sum_d e_d^\top (\partial s/\partial x)\, e_d$, with the batch tiled $m$ times ($m$ = `directionsPerPass`)
 *   and the one-hot cotangents $e_d$ of $m$ directions per pass, $\lceil D/m \rceil$ passes of batch $m B$.
 *
 * @param scoreFn - `s(x [B,...], t [B]) → [B,...]`; it is called with batches of `B` or `m·B` rows.
 * @param x - `[B, ...]`, float32.
 * @param t - one time for the batch.
 * @param estimator - `{ probe }` (the shape of `x`) or `{ exact: true, directionsPerPass? }`.
 * @returns `score [B,...]` and `divergence [B]` (new tensors).
 * @throws SbmArgumentError naming `x`, `estimator.probe` or `estimator.directionsPerPass`.
 */
export function scoreAndDivergence(
  scoreFn: ScoreFn,
  x: tf.Tensor,
  t: number,
  estimator: DivergenceEstimator,
): ScoreAndDivergence {
  if (!(x instanceof tf.Tensor) || x.rank < 2 || x.shape[0] === 0) {
    throw new SbmArgumentError(
      'x',
      `expected a tensor [B, ...] with B >= 1 and rank >= 2, got ${describeValue(x)}`,
    );
  }
  const B = x.shape[0]!;
  const D = x.size / B;
  if ('probe' in estimator) {
    const { probe } = estimator;
    if (!(probe instanceof tf.Tensor) || !tf.util.arraysEqual(probe.shape, x.shape)) {
      throw new SbmArgumentError(
        'estimator.probe',
        `expected a tensor of the shape of x [${x.shape.join(',')}], got ${describeValue(probe)}`,
      );
    }
    return tf.tidy(() => {
      const times = tf.fill([B], t) as tf.Tensor1D;
      const { score, vjp } = scoreAndVjp(scoreFn, x, times, probe);
      const divergence = tf.sum(tf.reshape(tf.mul(vjp, probe), [B, D]), 1) as tf.Tensor1D;
      return { score, divergence };
    });
  }
  if (estimator.exact !== true) {
    throw new SbmArgumentError(
      'estimator',
      `expected { probe } or { exact: true }, got ${describeValue(estimator)}`,
    );
  }
  const m = Math.min(estimator.directionsPerPass ?? D, D);
  assertInteger('estimator.directionsPerPass', m);
  return tf.tidy(() => {
    let score: tf.Tensor | undefined;
    let divergence: tf.Tensor | undefined;
    for (let d0 = 0; d0 < D; d0 += m) {
      const count = Math.min(m, D - d0);
      const next = tf.tidy(() => {
        const tiled = tf.tile(x, [count, ...x.shape.slice(1).map(() => 1)]);
        // Row j·B + b of the tiled batch is example b with cotangent e_{d0 + j}.
        // Built on the host: tfjs-backend-wasm 4.22's OneHot ignores dtype 'float32' and writes the int32 bit
        // pattern of 1 (a float32 of 1.4e-45), which would silently zero the divergence.
        const ones = new Float32Array(count * B * D);
        for (let j = 0; j < count; j++) {
          for (let b = 0; b < B; b++) ones[(j * B + b) * D + d0 + j] = 1;
        }
        const cotangent = tf.tensor(ones, tiled.shape, 'float32');
        const times = tf.fill([count * B], t) as tf.Tensor1D;
        const { score: s, vjp } = scoreAndVjp(scoreFn, tiled, times, cotangent);
        const first = score === undefined ? tf.keep(tf.slice(s, 0, B)) : undefined;
        s.dispose();
        const diagonal = tf.sum(tf.reshape(tf.mul(vjp, cotangent), [count, B, D]), [0, 2]);
        return { first, diagonal };
      });
      if (next.first !== undefined) score = next.first;
      const sum: tf.Tensor = divergence === undefined ? next.diagonal : tf.add(divergence, next.diagonal);
      if (divergence !== undefined) {
        divergence.dispose();
        next.diagonal.dispose();
      }
      divergence = sum;
    }
    return { score: score!, divergence: divergence as tf.Tensor1D };
  });
}
