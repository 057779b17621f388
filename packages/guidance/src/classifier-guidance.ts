import { ModelAdapter, type ModelLike, wrapModel } from '@sbm/samplers';
import {
  describeValue,
  type MarginalCoefficients,
  type Parameterization,
  SbmArgumentError,
  type ScoreFn,
} from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';
import {
  ClassifierAdapter,
  type ClassifierAdapterOptions,
  type ClassifierLike,
  wrapClassifier,
} from './classifier-adapter.js';

/** Options of {@link classifierGuidance}. */
export interface ClassifierGuidanceOptions extends Partial<Omit<ClassifierAdapterOptions, 'sde' | 'name'>> {
  /** Guidance scale $\gamma \ge 0$ (Dhariwal & Nichol's $s$); default 1, the exact conditional score. */
  scale?: number;
  /**
   * Marginal coefficients: needed to wrap a `model` that is not a {@link ModelAdapter}, and for the
   * classifier's time input; default `model.sde`.
   */
  sde?: MarginalCoefficients & {
    /** Number of discretization steps $N$ of the SDE (e.g. 1000 for `VPSDE`): the default `numTrainSteps` of `timeInput: 'index'`. */
    readonly N?: number;
  };
  /**
   * Whether the diffusion model is class-conditional and also gets the labels (Dhariwal & Nichol 2021,
   * Table 4: a conditional model with classifier guidance); default false, the model is called without
   * labels.
   */
  conditionalModel?: boolean;
  /** Name used in error messages for the classifier, default `'classifier'`. */
  classifierName?: string;
  /** Name of the guided model in error messages, default `'classifier-guided model'`. */
  name?: string;
}

const CLASSIFIER_OPTION_KEYS = [
  'numClasses',
  'timeInput',
  'numTrainSteps',
  'timeDtype',
  'timeShape',
  'inputNames',
] as const;

/**
 * How a shift `Δs` of the score changes the prediction in parameterization `to` at `(α, σ)`: the
 * conversions of `convertPrediction` are affine in the score with slope `1` (score), `−σ` (`ε = −σ s`),
 * `σ²/α` (`x̂_0 = (x + σ² s)/α`, Tweedie) and `−σ (α² + σ²)/α` (`v = ((α² + σ²) ε − σ x)/α`).
 */
function scoreShiftFactor(to: Parameterization, alpha: number, sigma: number): number {
  switch (to) {
    case 'score':
      return 1;
    case 'eps':
      return -sigma;
    case 'x0':
      return (sigma * sigma) / alpha;
    case 'v':
      return (-sigma * (alpha * alpha + sigma * sigma)) / alpha;
    default:
      throw new SbmArgumentError('to', `expected one of score, eps, x0, v, got ${describeValue(to)}`);
  }
}

/**
 * A diffusion model guided by a noise-conditional classifier, as a {@link ModelAdapter} that every
 * sampler of `@sbm/samplers` takes unchanged (built by {@link classifierGuidance}). At `x [B, ...]`,
 * time `t` and labels `y [B]` (the sampler's `labels` option) its score is
 *
 * $$\tilde s(x, t, y) = s_\theta(x, t) + \gamma\, \nabla_x \log p_\phi(y \mid x, t)$$
 *
 * (Song et al. 2021, Sec. 5 and App. I: $\nabla_x \log p_t(x \mid y) = \nabla_x \log p_t(x) + \nabla_x \log p_t(y \mid x)$,
 * exact at $\gamma = 1$ for an exact score and classifier; Dhariwal & Nichol 2021, Sec. 4, Alg. 1 with scale
 * $s = \gamma$), equivalently in noise terms
 * $\tilde\epsilon = \epsilon_\theta(x, t) - \gamma\, \sigma(t)\, \nabla_x \log p_\phi(y \mid x, t)$ (Dhariwal & Nichol 2021,
 * Eq. 14 and Alg. 2, $\sigma(t) = \sqrt{1 - \bar\alpha_t}$). `predict(x, t, to, labels)` evaluates the base model
 * directly in the parameterization `to` the sampler asks for and adds the guidance term $g = \gamma\, \nabla_x \log p_\phi$
 * converted exactly to it: $g$, $-\sigma g$, $(\sigma^2/\alpha)\, g$, $-\sigma (\alpha^2 + \sigma^2)/\alpha \cdot g$ for score,
 * $\epsilon$, $\hat x_0$, $v$. At $\gamma = 0$ it returns the base model's prediction unchanged. `prediction` is the
 * base model's.
 */
export class ClassifierGuidedModel extends ModelAdapter {
  /** The diffusion model $s_\theta$ (or $\epsilon_\theta$, $\hat x_\theta$, $v_\theta$). */
  readonly model: ModelAdapter;
  /** The classifier $p_\phi(y \mid x_t, t)$. */
  readonly classifier: ClassifierAdapter;
  /** The guidance scale $\gamma \ge 0$. */
  readonly scale: number;
  /** Whether the model also receives the labels. */
  readonly conditionalModel: boolean;

  /** Guides `model` by `classifier` with scale $\gamma$ = `scale`; use {@link classifierGuidance}, which checks the arguments. */
  constructor(
    model: ModelAdapter,
    classifier: ClassifierAdapter,
    scale: number,
    conditionalModel: boolean,
    name: string,
  ) {
    super(
      () => {
        throw new SbmArgumentError(name, 'classifier guidance is evaluated by predict(x, t, to, labels)');
      },
      { sde: model.sde, prediction: model.prediction, name },
    );
    this.model = model;
    this.classifier = classifier;
    this.scale = scale;
    this.conditionalModel = conditionalModel;
  }

  /**
   * The guided prediction at `x [B, ...]`, time `t` (one number for the batch) and `labels [B]`
   * (classes in $\lbrace 0, \dots, K - 1 \rbrace$, required), in parameterization `to`: a new tensor of the shape of `x`.
   * Inputs are not disposed.
   *
   * @throws SbmArgumentError for missing or bad labels, a classifier output that is not `[B, K]`, a
   * classifier that cannot be differentiated, and whatever the base model refuses.
   */
  override async predict(
    x: tf.Tensor,
    t: number,
    to: Parameterization,
    labels?: tf.Tensor,
  ): Promise<tf.Tensor> {
    if (!(x instanceof tf.Tensor) || x.rank < 1) {
      throw new SbmArgumentError('x', `expected a tensor [B, ...], got ${describeValue(x)}`);
    }
    if (labels === undefined) {
      throw new SbmArgumentError(
        'labels',
        `${this.name} needs the class y of every sample: pass labels [B] (the samplers: options.labels)`,
      );
    }
    const factor = scoreShiftFactor(to, this.sde.alpha(t), this.sde.sigma(t)) * this.scale;
    // the labels are checked before the model runs (at γ = 0 the classifier is not evaluated)
    if (this.scale === 0) this.classifier.checkLabels(labels, x.shape[0]!);
    const gradient = this.scale === 0 ? undefined : this.classifier.gradient(x, t, labels);
    let base: tf.Tensor;
    try {
      base = await this.model.predict(x, t, to, this.conditionalModel ? labels : undefined);
    } catch (error) {
      gradient?.dispose();
      throw error;
    }
    if (gradient === undefined) return base;
    const guided = tf.tidy(() => tf.add(base, tf.mul(gradient, factor)));
    tf.dispose([base, gradient]);
    return guided;
  }

  /** Delegates to the base model's input-shape check. */
  override checkInputShape(shape: readonly number[]): void {
    this.model.checkInputShape(shape);
  }

  /**
   * Not available: classifier guidance needs labels, which a {@link ScoreFn} `(x, t)` does not take. Use
   * {@link ClassifierGuidedModel.predict} or a sampler with `labels`.
   *
   * @throws SbmArgumentError always.
   */
  override toScoreFn(): ScoreFn {
    throw new SbmArgumentError(
      this.name,
      'a classifier-guided model needs labels, which a score function (x, t) does not take; use predict ' +
        'or a sampler with options.labels',
    );
  }
}

/**
 * Classifier guidance (Dhariwal & Nichol 2021, "Diffusion Models Beat GANs on Image Synthesis", Sec. 4,
 * Alg. 1–2; Song et al. 2021, "Score-Based Generative Modeling through SDEs", Sec. 5 and App. I,
 * class-conditional sampling): a model whose score and noise prediction are
 *
 * $$\tilde s(x, t, y) = s_\theta(x, t) + \gamma\, \nabla_x \log p_\phi(y \mid x, t),$$
 *
 * $$\tilde\epsilon(x, t, y) = \epsilon_\theta(x, t) - \gamma\, \sigma(t)\, \nabla_x \log p_\phi(y \mid x, t),$$
 *
 * with the gradient of the classifier's `log_softmax(logits)[y]` taken by tfjs automatic differentiation.
 * `model` is a {@link ModelAdapter} (from `wrapModel`, any parameterization) or anything `wrapModel`
 * takes (then wrapped as a score model with `options.sde`); `classifier` a {@link ClassifierAdapter}
 * (from {@link wrapClassifier}) or a function `(x, t) => logits [B, K]`, `LayersModel` or `GraphModel`
 * with inputs `[x, t]`, wrapped with the classifier options here (`numClasses` required; `timeInput`,
 * `numTrainSteps`, `timeDtype`, `timeShape`, `inputNames` as in `wrapModel`). The labels `y [B]` come
 * from the sampler's `labels` option. Samples `x [B, ...]`, times `t [B]`.
 *
 * Gradients must be registered: import `'@tensorflow/tfjs-layers'` (or
 * `'@tensorflow/tfjs-core/dist/register_all_gradients'`) once.
 *
 * @example
 * ```ts
 * import '@tensorflow/tfjs-layers';
 * const model = wrapModel(unet, { sde, prediction: 'eps', timeInput: 'index' });
 * const guided = classifierGuidance(model, noisyClassifier, { numClasses: 10, timeInput: 'index', scale: 3 });
 * const labels = tf.tensor1d([0, 1, 2, 3], 'int32');
 * const { samples } = await ddimSample({ sde, model: guided, labels, shape: [4, 32, 32, 3], steps: 50 });
 * ```
 * @throws SbmArgumentError naming the option (or `model`, `classifier`) when they cannot be used as
 * configured.
 */
export function classifierGuidance(
  model: ModelAdapter | ModelLike,
  classifier: ClassifierAdapter | ClassifierLike,
  options: ClassifierGuidanceOptions,
): ClassifierGuidedModel {
  if (!options || typeof options !== 'object') {
    throw new SbmArgumentError('options', `expected an options object, got ${describeValue(options)}`);
  }
  const scale = options.scale ?? 1;
  if (typeof scale !== 'number' || !Number.isFinite(scale) || scale < 0) {
    throw new SbmArgumentError(
      'options.scale',
      `expected a finite guidance scale γ >= 0, got ${describeValue(scale)}`,
    );
  }
  if (options.name !== undefined && typeof options.name !== 'string') {
    throw new SbmArgumentError('options.name', `expected a string, got ${describeValue(options.name)}`);
  }
  if (options.conditionalModel !== undefined && typeof options.conditionalModel !== 'boolean') {
    throw new SbmArgumentError(
      'options.conditionalModel',
      `expected true or false, got ${describeValue(options.conditionalModel)}`,
    );
  }
  let base: ModelAdapter;
  if (model instanceof ModelAdapter) base = model;
  else {
    if (options.sde === undefined) {
      throw new SbmArgumentError(
        'options.sde',
        'needed to wrap a model that is not a ModelAdapter (or wrap it first with wrapModel)',
      );
    }
    base = wrapModel(model, { sde: options.sde, name: 'model' });
  }
  let adapter: ClassifierAdapter;
  if (classifier instanceof ClassifierAdapter) {
    const given = CLASSIFIER_OPTION_KEYS.filter(
      (k) => options[k] !== undefined && !(k === 'numClasses' && options[k] === classifier.numClasses),
    );
    if (given.length > 0) {
      throw new SbmArgumentError(
        `options.${given[0]}`,
        `the classifier is already a ClassifierAdapter (numClasses ${classifier.numClasses}); set its options in wrapClassifier`,
      );
    }
    adapter = classifier;
  } else {
    if (options.numClasses === undefined) {
      throw new SbmArgumentError(
        'options.numClasses',
        "expected the classifier's number of classes K (logits [B, K])",
      );
    }
    adapter = wrapClassifier(classifier, {
      sde: options.sde ?? base.sde,
      numClasses: options.numClasses,
      timeInput: options.timeInput,
      numTrainSteps: options.numTrainSteps,
      timeDtype: options.timeDtype,
      timeShape: options.timeShape,
      inputNames: options.inputNames,
      name: options.classifierName,
    });
  }
  return new ClassifierGuidedModel(
    base,
    adapter,
    scale,
    options.conditionalModel ?? false,
    options.name ?? 'classifier-guided model',
  );
}
