import { ModelAdapter, type ModelAdapterOptions, type ModelLike, wrapModel } from '@sbm/samplers';
import { describeValue, SbmArgumentError } from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';
import { checkClassLabels } from './guidance-labels.js';

/** Options of {@link classifierFreeGuidance}. */
export interface ClassifierFreeGuidanceOptions {
  /**
   * Guidance scale $w \ge 0$ in $\hat g = u + w (c - u)$: 0 is the unconditional model, 1 the conditional one,
   * $w > 1$ guides. Ho & Salimans' weight $w'$ (their Eq. 6) is $w - 1$.
   */
  scale: number;
  /**
   * The null (unconditional) condition:
   * - a class id (the model's extra "no class" label, e.g. @sbm/unet's `numClasses`; default `numClasses`
   *   when that is given) for class-conditional models with `labels [B]`;
   * - a tensor of the shape of one condition (`labels [B, ...d]` → `[...d]`) for vector-conditional models
   *   (not disposed here; keep it alive while the guided model is used);
   * - `'zeros'`: the zero vector of that shape.
   */
  nullLabel?: number | tf.Tensor | 'zeros';
  /** Number of classes $K$: class labels must lie in $\lbrace 0, \dots, K - 1 \rbrace$ (and differ from the null label). */
  numClasses?: number;
  /**
   * Guidance interval `[tLow, tHigh]` in the model's time (`0 <= tLow <= tHigh <= T`), after Kynkäänniemi
   * et al. (2024): guided inside, the conditional prediction (one un-doubled call, batch B) outside.
   * Default: guide at every time.
   */
  interval?: readonly [number, number];
  /**
   * Rescale factor $\phi \in [0, 1]$ of Lin et al. (2024), Sec. 3.4 (default 0, no rescale):
   * $\hat g \leftarrow \phi\, \hat g \operatorname{std}(c)/\operatorname{std}(\hat g) + (1 - \phi)\, \hat g$, applied in the model's own
   * parameterization (see {@link classifierFreeGuidance}).
   */
  rescale?: number;
  /** How to wrap `model` when it is not already a {@link ModelAdapter} (as {@link wrapModel}'s options). */
  adapter?: ModelAdapterOptions;
}

/** Reads `options.scale`. */
function readScale(scale: unknown): number {
  if (typeof scale !== 'number' || !Number.isFinite(scale) || scale < 0) {
    throw new SbmArgumentError('options.scale', `expected a finite number >= 0, got ${describeValue(scale)}`);
  }
  return scale;
}

/** Reads `options.rescale`. */
function readRescale(rescale: unknown): number {
  const value = rescale ?? 0;
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw new SbmArgumentError('options.rescale', `expected a number in [0, 1], got ${describeValue(value)}`);
  }
  return value;
}

/** Reads `options.interval` against the time range `[0, T]`. */
function readInterval(interval: unknown, T: number): readonly [number, number] {
  if (interval === undefined) return [0, T];
  if (
    !Array.isArray(interval) ||
    interval.length !== 2 ||
    !interval.every((v) => typeof v === 'number' && Number.isFinite(v))
  ) {
    throw new SbmArgumentError(
      'options.interval',
      `expected [tLow, tHigh], two finite times, got ${describeValue(interval)}`,
    );
  }
  const [tLow, tHigh] = interval as [number, number];
  if (!(tLow >= 0 && tLow <= tHigh && tHigh <= T)) {
    throw new SbmArgumentError(
      'options.interval',
      `expected 0 <= tLow <= tHigh <= T = ${T}, got [${tLow}, ${tHigh}]`,
    );
  }
  return [tLow, tHigh];
}

/** The null condition and how a batch of it is made. */
interface NullCondition {
  /** Checks the sampler's labels for a batch of `B` (cached per labels tensor). */
  check(labels: tf.Tensor | undefined, B: number): asserts labels is tf.Tensor;
  /** `B` null conditions shaped and typed like `labels`. */
  batch(labels: tf.Tensor): tf.Tensor;
}

function classNull(nullLabel: number, numClasses: number | undefined): NullCondition {
  const checked = new WeakSet<tf.Tensor>();
  return {
    check(labels, B) {
      if (labels instanceof tf.Tensor && checked.has(labels) && labels.shape[0] === B) return;
      checkClassLabels(labels, B, { numClasses, nullLabel });
      checked.add(labels);
    },
    batch: (labels) => tf.fill(labels.shape, nullLabel, labels.dtype),
  };
}

function vectorNull(nullLabel: tf.Tensor | 'zeros'): NullCondition {
  return {
    check(labels, B) {
      if (!(labels instanceof tf.Tensor) || labels.rank < 2 || labels.shape[0] !== B) {
        throw new SbmArgumentError(
          'labels',
          `expected condition vectors [${B}, ...d] (the samplers' options.labels), got ${describeValue(labels)}`,
        );
      }
      if (nullLabel === 'zeros') return;
      if (nullLabel.isDisposed) {
        throw new SbmArgumentError('options.nullLabel', 'the null condition tensor has been disposed');
      }
      if (!tf.util.arraysEqual(nullLabel.shape, labels.shape.slice(1))) {
        throw new SbmArgumentError(
          'options.nullLabel',
          `expected the shape of one condition [${labels.shape.slice(1).join(',')}] of labels [${labels.shape.join(',')}], got [${nullLabel.shape.join(',')}]`,
        );
      }
      if (nullLabel.dtype !== labels.dtype) {
        throw new SbmArgumentError(
          'options.nullLabel',
          `expected dtype ${labels.dtype} like the labels, got ${nullLabel.dtype}`,
        );
      }
    },
    batch: (labels) =>
      nullLabel === 'zeros'
        ? tf.zeros(labels.shape, labels.dtype)
        : tf.tidy(() => tf.broadcastTo(tf.expandDims(nullLabel, 0), labels.shape)),
  };
}

function readNull(options: ClassifierFreeGuidanceOptions): NullCondition {
  const { numClasses, nullLabel } = options;
  if (numClasses !== undefined && (!Number.isInteger(numClasses) || numClasses < 1)) {
    throw new SbmArgumentError(
      'options.numClasses',
      `expected an integer >= 1, got ${describeValue(numClasses)}`,
    );
  }
  if (nullLabel instanceof tf.Tensor || nullLabel === 'zeros') {
    if (numClasses !== undefined) {
      throw new SbmArgumentError(
        'options.numClasses',
        'applies to class labels; a tensor or zeros null condition is for vector conditions',
      );
    }
    return vectorNull(nullLabel);
  }
  const id = nullLabel ?? numClasses;
  if (id === undefined) {
    throw new SbmArgumentError(
      'options.nullLabel',
      'expected the null condition (a class id, a tensor or zeros) or options.numClasses (null class = numClasses)',
    );
  }
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) {
    throw new SbmArgumentError(
      'options.nullLabel',
      `expected a class id (integer >= 0), a tensor or 'zeros', got ${describeValue(id)}`,
    );
  }
  return classNull(id, numClasses);
}

/**
 * `ĝ = u + w (c − u)`, then with `φ > 0` the rescale of Lin et al. (2024), Sec. 3.4:
 * `ĝ ← φ · ĝ std(c)/std(ĝ) + (1 − φ) · ĝ`, stds per example over all non-batch dims (factor 1 where
 * `std(ĝ) = 0`). `c`, `u [B, ...]`.
 */
function combine(c: tf.Tensor, u: tf.Tensor, w: number, phi: number): tf.Tensor {
  return tf.tidy(() => {
    const guided = tf.add(u, tf.mul(tf.sub(c, u), w));
    if (phi === 0 || c.rank < 2) return guided;
    const axes = Array.from({ length: c.rank - 1 }, (_, i) => i + 1);
    const stdC = tf.sqrt(tf.moments(c, axes, true).variance);
    const stdG = tf.sqrt(tf.moments(guided, axes, true).variance);
    const ratio = tf.where(tf.greater(stdG, 0), tf.div(stdC, tf.maximum(stdG, 1e-30)), tf.onesLike(stdG));
    return tf.mul(guided, tf.add(tf.mul(ratio, phi), 1 - phi));
  });
}

/**
 * Classifier-free guidance (Ho & Salimans 2022, "Classifier-Free Diffusion Guidance", Eq. 6) as a model
 * that every sampler of @sbm/samplers and the stepping API take unchanged: it evaluates the conditional
 * prediction $c = f(x, t, y)$ and the unconditional one $u = f(x, t, \varnothing)$ in ONE batched call on
 * `[x; x] [2B, ...]` with labels $[y; \varnothing]$, and returns
 *
 * $$\hat g = u + w\,(c - u)$$
 *
 * in the model's own parameterization ($\epsilon$, $x_0$, $v$ or score); in noise terms
 * $\tilde\epsilon = \epsilon_u + w\,(\epsilon_c - \epsilon_u)$. $w = 0$ gives $u$, $w = 1$ gives $c$; Ho & Salimans write
 * $(1 + w')\, \epsilon_c - w'\, \epsilon_u$, i.e. $w = 1 + w'$. For fixed $(x, t)$ every conversion between
 * parameterizations is affine, $p' = a\, p + b\, x$ with the same $a$, $b$ for both halves, so the combination
 * is the same whichever parameterization it is taken in. In score form it adds $w$ times the gradient of an
 * implicit classifier $p_t(y \mid x)$ to the unconditional score:
 *
 * $$\begin{aligned} & \nabla_x \log p_t(x) + w\, \nabla_x \log p_t(y \mid x) \\ & \quad = (1 - w)\, \nabla_x \log p_t(x) + w\, \nabla_x \log p_t(x \mid y). \end{aligned}$$
 *
 * The optional rescale (Lin et al. 2024, "Common Diffusion Noise Schedules and
 * Sample Steps are Flawed", Sec. 3.4; $\phi$ = `options.rescale`) is not affine and is applied in the model's
 * parameterization:
 *
 * $$\hat g_r = \hat g\, \frac{\operatorname{std}(c)}{\operatorname{std}(\hat g)}, \qquad \text{result} = \phi\, \hat g_r + (1 - \phi)\, \hat g,$$
 *
 * with population standard deviations per example over all non-batch dims (no rescale for `x [B]`, one value
 * per example, or where $\operatorname{std}(\hat g) = 0$).
 *
 * With `options.interval = [tLow, tHigh]` (Kynkäänniemi et al. 2024, "Applying Guidance in a Limited
 * Interval Improves Sample and Distribution Quality in Diffusion Models") the model is guided only for
 * `tLow <= t <= tHigh`; elsewhere it returns $c$ from one call with batch `B`. Scales 1 and 0 likewise need
 * one call with batch `B` (labels $y$, resp. $\varnothing$).
 *
 * Labels come from the samplers' `labels` option: class ids `labels [B]` (int32, integers in
 * $\lbrace 0, \dots, K - 1 \rbrace$ with $K$ = `numClasses`, not the null label) or condition vectors `labels [B, ...d]` with a tensor or
 * zero null condition. `x [B, ...]`; the model is called with `t` as the inner adapter prescribes.
 *
 * @param model a {@link ModelAdapter} (from {@link wrapModel}), or anything `wrapModel` accepts together
 *   with `options.adapter`.
 * @returns a `ModelAdapter` with the inner model's `sde` and `prediction`.
 * @throws SbmArgumentError naming the option for a bad scale, interval, rescale, null label or numClasses;
 *   at evaluation, naming `labels` when they are missing, of the wrong batch, not integer class ids or out
 *   of range.
 * @example
 * ```ts
 * const sde = new VPSDE();
 * const model = classifierFreeGuidance(unet.model, {
 *   scale: 3,
 *   numClasses: 10, // null class 10, as @sbm/unet's class embedding
 *   adapter: { sde, prediction: 'eps', timeInput: 'index' },
 * });
 * const labels = tf.tensor1d([3, 3, 7, 7], 'int32');
 * const { samples } = await ddimSample({ sde, model, shape: [4, 32, 32, 3], steps: 50, labels });
 * ```
 */
export function classifierFreeGuidance(
  model: ModelAdapter | ModelLike,
  options: ClassifierFreeGuidanceOptions,
): ModelAdapter {
  if (!options || typeof options !== 'object') {
    throw new SbmArgumentError('options', `expected an object with a scale, got ${describeValue(options)}`);
  }
  const w = readScale(options.scale);
  const phi = readRescale(options.rescale);
  const nullCondition: NullCondition = readNull(options);
  let inner: ModelAdapter;
  if (model instanceof ModelAdapter) {
    if (options.adapter !== undefined) {
      throw new SbmArgumentError('options.adapter', 'model is already a ModelAdapter; wrap it once');
    }
    inner = model;
  } else {
    if (!options.adapter || typeof options.adapter !== 'object') {
      throw new SbmArgumentError(
        'options.adapter',
        `expected wrapModel options (sde, prediction, ...) for a model that is not a ModelAdapter, got ${describeValue(options.adapter)}`,
      );
    }
    inner = wrapModel(model, options.adapter);
  }
  const [tLow, tHigh] = readInterval(options.interval, inner.sde.T);
  const prediction = inner.prediction;

  // The adapter below hands its time input to this closure synchronously before calling `guided`, so the
  // inner model gets the sampler's exact float64 time rather than its float32 copy in the `t` tensor.
  let pendingTime = Number.NaN;
  const guided = async (x: tf.Tensor, _t: tf.Tensor, labels?: tf.Tensor): Promise<tf.Tensor> => {
    const t = pendingTime;
    const B = x.shape[0]!;
    nullCondition.check(labels, B);
    const inside = t >= tLow && t <= tHigh;
    if (!inside || w === 1) return inner.predict(x, t, prediction, labels);
    if (w === 0) {
      const nulls = nullCondition.batch(labels);
      try {
        return await inner.predict(x, t, prediction, nulls);
      } finally {
        nulls.dispose();
      }
    }
    const [x2, labels2] = tf.tidy(() => {
      const nulls = nullCondition.batch(labels);
      return [tf.concat([x, x]), tf.concat([labels, nulls])];
    });
    let both: tf.Tensor;
    try {
      both = await inner.predict(x2, t, prediction, labels2);
    } finally {
      tf.dispose([x2, labels2]);
    }
    try {
      return tf.tidy(() => {
        const [c, u] = tf.split(both, 2);
        return combine(c!, u!, w, phi);
      });
    } finally {
      both.dispose();
    }
  };
  return wrapModel(guided, {
    sde: inner.sde,
    prediction,
    name: `classifier-free guidance of ${inner.name}`,
    timeInput: (t) => {
      pendingTime = t;
      return t;
    },
  });
}
