import {
  MODEL_INPUT_ALIASES,
  type ModelTensorInfo,
  resolveTimeFormat,
  type TimeDtype,
  type TimeInputKind,
  type TimeShape,
  timeInputFunction,
  timeInputShape,
} from '@sbm/samplers';
import { describeValue, type MarginalCoefficients, SbmArgumentError } from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';

/**
 * A noise-conditional classifier as a function `(x, t) => logits`: `x [B, ...]` the noisy sample,
 * `t` its time input (`[B]`, or `[B, 1]` / `[]` with `timeShape`, after the `timeInput` conversion),
 * returning unnormalized log-probabilities `logits [B, K]`. It must be synchronous and built from tfjs
 * ops on `x` (it is differentiated with respect to `x`).
 */
export type ClassifierFunction = (x: tf.Tensor, t: tf.Tensor) => tf.Tensor;

/**
 * A tfjs model object used as a classifier: a `LayersModel` (called with
 * `apply([x, t], { training: false })`) or a `GraphModel` (`execute([x, t])`), with two inputs, the
 * noisy sample and the time, and one output, the logits `[B, K]`. Which input is which is read from the
 * declared input names (the names `wrapModel` recognizes, {@link MODEL_INPUT_ALIASES}), else their order
 * `[x, t]`; the time input's rank and dtype are read from its declaration.
 */
export interface ClassifierObject {
  /** LayersModel: `apply(inputs [in model order], { training: false })`. */
  apply?(inputs: tf.Tensor[], kwargs?: { training?: boolean }): unknown;
  /** GraphModel: synchronous execution of the inputs in the order of `inputs` (default outputs). */
  execute?(inputs: tf.Tensor[] | tf.NamedTensorMap, outputs?: string | string[]): unknown;
  /** Declared inputs (name, shape, dtype). */
  readonly inputs?: readonly ModelTensorInfo[];
  /** LayersModel: input names, in the order of `inputs`. */
  readonly inputNames?: readonly string[];
  /** GraphModel: the names the inputs are executed by, in the order of `inputs`. */
  readonly inputNodes?: readonly string[];
}

/** Anything {@link wrapClassifier} accepts. */
export type ClassifierLike = ClassifierFunction | ClassifierObject;

/** Options of {@link wrapClassifier}. */
export interface ClassifierAdapterOptions {
  /** Marginal coefficients $\alpha(t)$, $\sigma(t)$ on `[0, T]` (for `timeInput: 'sigma'` and the end time `T`). */
  sde: MarginalCoefficients & {
    /** Number of discretization steps $N$ of the SDE (e.g. 1000 for `VPSDE`): the default `numTrainSteps` of `timeInput: 'index'`. */
    readonly N?: number;
  };
  /** Number of classes $K \ge 2$: the classifier's logits are `[B, K]` and labels lie in $\lbrace 0, \dots, K - 1 \rbrace$. */
  numClasses: number;
  /**
   * What the classifier takes as time, as in `wrapModel`: `'continuous'` ($t$, default), `'index'`
   * ($t (N - 1)/T$, $N$ = `numTrainSteps`), `'sigma'` ($\sigma(t)$) or a function of $t$.
   */
  timeInput?: TimeInputKind;
  /** `N` for `timeInput: 'index'`, default `sde.N`, else 1000. */
  numTrainSteps?: number;
  /** Dtype of the time input; default the classifier's declared time dtype, else float32 (int32 rounds). */
  timeDtype?: TimeDtype;
  /**
   * Shape of the time input: `[B]` (`'vector'`), `[B, 1]` (`'column'`) or `[]` (`'scalar'`); default from
   * the rank of the declared time input, else vector.
   */
  timeShape?: TimeShape;
  /** Names of the model inputs taking `x` and `t`; default recognized from the input names, else `[x, t]`. */
  inputNames?: {
    /** Name of the input that takes the noisy sample `x [B, ...]` (a signature key, node name or Keras input name). */
    readonly x?: string;
    /** Name of the input that takes the time (after the `timeInput` conversion). */
    readonly t?: string;
  };
  /** Name used in error messages, default `'classifier'`. */
  name?: string;
}

interface DeclaredInput {
  readonly names: string[];
  readonly rank: number | undefined;
  readonly dtype: string | undefined;
}

/** `'x'` ← `'serving_default_X:0'`. */
function normalizeName(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/:\d+$/, '')
    .replace(/^serving_default_/, '');
}

function readInputs(object: ClassifierObject): DeclaredInput[] | undefined {
  const infos = object.inputs;
  if (!Array.isArray(infos) || infos.length === 0) return undefined;
  const keys = object.inputNames ?? object.inputNodes;
  return infos.map((info: ModelTensorInfo, i) => {
    const names = [keys?.[i], info.name].filter((n): n is string => typeof n === 'string' && n !== '');
    return {
      names: names.map(normalizeName),
      rank: Array.isArray(info.shape) ? info.shape.length : undefined,
      dtype: info.dtype,
    };
  });
}

/** Positions of `x` and `t` among two declared inputs: by option, by recognized name, else `[x, t]`. */
function planInputs(
  inputs: DeclaredInput[],
  names: ClassifierAdapterOptions['inputNames'],
  label: string,
): { x: number; t: number } {
  const all = inputs.map((d) => d.names.join("'/'") || '?').join("', '");
  if (inputs.length !== 2) {
    throw new SbmArgumentError(
      'classifier',
      `${label} has ${inputs.length} inputs ('${all}'); expected two, the noisy sample x and the time t`,
    );
  }
  const find = (role: 'x' | 't'): number => {
    const wanted = names?.[role];
    if (wanted !== undefined) {
      const i = inputs.findIndex((d) => d.names.includes(normalizeName(wanted)));
      if (i < 0) {
        throw new SbmArgumentError(
          `options.inputNames.${role}`,
          `'${wanted}' is not among the inputs '${all}' of ${label}`,
        );
      }
      return i;
    }
    const aliases = MODEL_INPUT_ALIASES[role];
    return inputs.findIndex((d) => d.names.some((n) => aliases.includes(n)));
  };
  let x = find('x');
  let t = find('t');
  if (x < 0 && t < 0) [x, t] = [0, 1];
  else if (x < 0) x = 1 - t;
  else if (t < 0) t = 1 - x;
  if (x === t) {
    throw new SbmArgumentError(
      'options.inputNames',
      `x and t both name the input '${inputs[x]!.names[0]}' of ${label}`,
    );
  }
  return { x, t };
}

/** The single tensor in a classifier result (a tensor, a one-element array or a one-entry map). */
function singleTensor(out: unknown): unknown {
  if (Array.isArray(out)) return out.length === 1 ? out[0] : out;
  if (out !== null && typeof out === 'object' && !(out instanceof tf.Tensor)) {
    const values = Object.values(out);
    return values.length === 1 ? values[0] : out;
  }
  return out;
}

function describeOutput(out: unknown): string {
  if (out instanceof tf.Tensor) return `logits of shape [${out.shape.join(',')}]`;
  if (Array.isArray(out)) return `${out.length} outputs`;
  if (out instanceof Promise) return 'a Promise (the classifier must be synchronous to be differentiated)';
  return describeValue(out);
}

/**
 * A noise-conditional classifier $p_\phi(y \mid x_t, t)$ seen by classifier guidance: evaluates its logits at
 * `(x, t)` with the time input converted as `wrapModel` converts a diffusion model's (continuous $t$,
 * DDPM index $t (N - 1)/T$, $\sigma(t)$ or a function of $t$; float32 or int32) and takes the gradient of the
 * log-probability of given labels with respect to `x` by automatic differentiation. Built by
 * {@link wrapClassifier}.
 */
export class ClassifierAdapter {
  /** Name used in error messages. */
  readonly name: string;
  /** Number of classes $K$ (the width of the logits `[B, K]`). */
  readonly numClasses: number;
  /** The marginal coefficients used for the time conversion. */
  readonly sde: MarginalCoefficients;
  readonly #call: (x: tf.Tensor, time: tf.Tensor) => unknown;
  readonly #time: (t: number) => number;
  readonly #timeDtype: TimeDtype;
  readonly #timeShape: TimeShape;
  /** Label tensors already checked (tensors are immutable, so a check holds for the tensor's lifetime). */
  readonly #checkedLabels = new WeakSet<tf.Tensor>();

  /**
   * Reads what `classifier` declares and checks `options` against it; see {@link wrapClassifier}.
   *
   * @throws SbmArgumentError naming the option (or `classifier`) when it cannot be used as configured.
   */
  constructor(classifier: ClassifierLike, options: ClassifierAdapterOptions) {
    if (!options || typeof options !== 'object' || !options.sde || typeof options.sde.sigma !== 'function') {
      throw new SbmArgumentError('options.sde', 'expected an SDE or the marginals of a discrete schedule');
    }
    const { sde, numClasses } = options;
    if (typeof numClasses !== 'number' || !Number.isInteger(numClasses) || numClasses < 2) {
      throw new SbmArgumentError(
        'options.numClasses',
        `expected the classifier's number of classes, an integer >= 2, got ${describeValue(numClasses)}`,
      );
    }
    if (options.name !== undefined && typeof options.name !== 'string') {
      throw new SbmArgumentError('options.name', `expected a string, got ${describeValue(options.name)}`);
    }
    this.name = options.name ?? 'classifier';
    this.numClasses = numClasses;
    this.sde = sde;
    const label = this.name;

    let declared: DeclaredInput | undefined;
    if (typeof classifier === 'function') {
      if (options.inputNames !== undefined) {
        throw new SbmArgumentError(
          'options.inputNames',
          'a classifier function is called as fn(x, t); input names apply to LayersModels and GraphModels',
        );
      }
      this.#call = (x, time) => classifier(x, time);
    } else if (
      classifier &&
      typeof classifier === 'object' &&
      (typeof classifier.apply === 'function' || typeof classifier.execute === 'function')
    ) {
      const inputs = readInputs(classifier);
      const plan =
        inputs === undefined ? { x: 0, t: 1 } : planInputs(inputs, options.inputNames, `the ${label} model`);
      declared = inputs?.[plan.t];
      const order = (x: tf.Tensor, time: tf.Tensor): tf.Tensor[] => {
        const list: tf.Tensor[] = [];
        list[plan.x] = x;
        list[plan.t] = time;
        return list;
      };
      this.#call =
        typeof classifier.apply === 'function'
          ? (x, time) => classifier.apply!(order(x, time), { training: false })
          : (x, time) => classifier.execute!(order(x, time));
    } else {
      throw new SbmArgumentError(
        'classifier',
        `expected a function (x, t) => logits [B, K] or a LayersModel/GraphModel with inputs [x, t], got ${describeValue(classifier)}`,
      );
    }

    const timeInput = options.timeInput ?? 'continuous';
    this.#time = timeInputFunction(timeInput, sde, options.numTrainSteps);

    const { shape: timeShape, dtype: timeDtype } = resolveTimeFormat(
      options,
      declared,
      `the time input of the ${label} model`,
    );
    this.#timeShape = timeShape;
    if (timeDtype === 'int32' && timeInput === 'sigma') {
      throw new SbmArgumentError(
        'options.timeInput',
        `'sigma' gives noise levels σ(t), but the time input of ${label} is int32 (integer steps); use 'index'`,
      );
    }
    this.#timeDtype = timeDtype;
  }

  /**
   * The value the classifier receives as its time input at diffusion time $t$: $t$, $t (N - 1)/T$,
   * $\sigma(t)$ or `timeInput(t)`, rounded to the nearest integer for an int32 time input.
   */
  timeValue(t: number): number {
    const raw = this.#time(t);
    return this.#timeDtype === 'int32' ? Math.round(raw) : raw;
  }

  /**
   * The classifier's logits `[B, K]` at `x [B, ...]` and diffusion time `t` (one number for the batch, in
   * `[0, T]`): a new float32 tensor. Inputs are not disposed.
   *
   * @throws SbmArgumentError if the output is not `[B, K]` with `K = numClasses`.
   */
  logits(x: tf.Tensor, t: number): tf.Tensor2D {
    const B = this.#checkArguments(x, t);
    const time = this.#timeTensor(t, B);
    try {
      return tf.tidy(() => {
        const out = this.#evaluate(x, time);
        if (typeof out === 'string') throw new SbmArgumentError(this.name, out);
        return out;
      });
    } finally {
      time.dispose();
    }
  }

  /**
   * The gradient of the classifier's log-probability of `labels` with respect to the sample,
   * $\nabla_{x_b} \log p_\phi(y_b \mid x_b, t)$ for every row $b$ (Dhariwal & Nichol 2021, Alg. 1–2; Song et al. 2021,
   * App. I), by tfjs automatic differentiation of $\sum_b \operatorname{log\_softmax}(\text{logits})_{b, y_b}$ (the rows are
   * independent, so the sum's gradient is every row's own). `x [B, ...]` float32, `t` one time in
   * `[0, T]`, `labels [B]` integer classes in $\lbrace 0, \dots, K - 1 \rbrace$ (int32 or float32); returns a new tensor of
   * the shape of `x`. Gradients must be registered: import `'@tensorflow/tfjs-layers'` (or
   * `'@tensorflow/tfjs-core/dist/register_all_gradients'`) once, as `@tensorflow/tfjs-core` alone
   * registers none.
   *
   * @throws SbmArgumentError for bad labels, logits that are not `[B, K]`, or a classifier whose output
   * cannot be differentiated with respect to `x` (not built from tfjs ops on `x`, or an op without a
   * registered gradient).
   */
  gradient(x: tf.Tensor, t: number, labels: tf.Tensor): tf.Tensor {
    const B = this.#checkArguments(x, t);
    if (x.dtype !== 'float32') {
      throw new SbmArgumentError('x', `expected a float32 tensor to differentiate, got ${x.dtype}`);
    }
    this.checkLabels(labels, B);
    const K = this.numClasses;
    const time = this.#timeTensor(t, B);
    // (one-hot in int32, then cast: the wasm backend's OneHot writes int32 values whatever the dtype)
    const oneHot = tf.tidy(() => tf.cast(tf.oneHot(tf.cast(tf.reshape(labels, [B]), 'int32'), K), 'float32'));
    let problem: string | undefined;
    let result: { value: tf.Tensor; grads: tf.Tensor[] };
    try {
      // allowNoGradients: a classifier that does not depend on x gives an undefined gradient (reported
      // below) instead of a throw that would leave the tape's saved tensors behind.
      result = tf.engine().gradients(
        () => {
          const logits = this.#evaluate(x, time);
          if (typeof logits === 'string') {
            problem = logits;
            return tf.scalar(0);
          }
          return tf.sum(tf.mul(tf.logSoftmax(logits), oneHot));
        },
        [x],
        undefined,
        true,
      );
    } catch (error) {
      if (error instanceof SbmArgumentError) throw error;
      const message = error instanceof Error ? error.message : String(error);
      if (/gradient function not found/.test(message)) {
        throw new SbmArgumentError(
          this.name,
          `cannot differentiate the classifier with respect to x (${message}). Gradients must be registered ` +
            "(import '@tensorflow/tfjs-layers' or '@tensorflow/tfjs-core/dist/register_all_gradients'), " +
            'and every op from x to the logits needs one',
        );
      }
      throw error;
    } finally {
      time.dispose();
      oneHot.dispose();
    }
    result.value.dispose();
    const grad = result.grads[0];
    if (problem !== undefined) {
      grad?.dispose();
      throw new SbmArgumentError(this.name, problem);
    }
    if (grad == null) {
      throw new SbmArgumentError(
        this.name,
        'the gradient of the log-probability with respect to x is null: the logits do not depend on x ' +
          'through tfjs ops (e.g. values read with dataSync/arraySync and made into new tensors); ' +
          'classifier guidance needs a classifier differentiable in x',
      );
    }
    return grad;
  }

  /** Checks `x` and `t`; returns the batch size. */
  #checkArguments(x: tf.Tensor, t: number): number {
    if (!(x instanceof tf.Tensor) || x.rank < 1) {
      throw new SbmArgumentError('x', `expected a tensor [B, ...], got ${describeValue(x)}`);
    }
    const B = x.shape[0]!;
    if (typeof t !== 'number' || !(t >= 0 && t <= this.sde.T)) {
      throw new SbmArgumentError('t', `expected a time in [0, ${this.sde.T}], got ${describeValue(t)}`);
    }
    return B;
  }

  /**
   * Checks class labels for a batch of `B`: a tensor `[B]` (or `[B, 1]`), int32 or float32, of integers in
   * $\lbrace 0, \dots, K - 1 \rbrace$. Each tensor's values are read once (tensors are immutable).
   *
   * @throws SbmArgumentError naming `labels`.
   */
  checkLabels(labels: tf.Tensor, B: number): void {
    const K = this.numClasses;
    const hint = `expected class labels [${B}] (one per sample), integers in {0, …, ${K - 1}}`;
    if (labels === undefined) {
      throw new SbmArgumentError(
        'labels',
        `${hint}; classifier guidance needs the class y of every sample (the samplers: options.labels)`,
      );
    }
    if (!(labels instanceof tf.Tensor)) {
      throw new SbmArgumentError('labels', `${hint}, got ${describeValue(labels)}`);
    }
    if (this.#checkedLabels.has(labels)) return;
    const shapeOk =
      labels.shape[0] === B && (labels.rank === 1 || (labels.rank === 2 && labels.shape[1] === 1));
    if (!shapeOk) throw new SbmArgumentError('labels', `${hint}, got shape [${labels.shape.join(',')}]`);
    if (labels.dtype !== 'int32' && labels.dtype !== 'float32') {
      throw new SbmArgumentError('labels', `${hint}, got dtype ${labels.dtype}`);
    }
    const values = labels.dataSync();
    for (let b = 0; b < values.length; b++) {
      const y = values[b]!;
      if (!Number.isInteger(y) || y < 0 || y >= K) {
        throw new SbmArgumentError(
          'labels',
          `${hint}, got ${describeValue(y)} at index ${b}` +
            (y === K
              ? ` (${K} is the null class of a class-conditional network, not a classifier class)`
              : ''),
        );
      }
    }
    this.#checkedLabels.add(labels);
  }

  #timeTensor(t: number, B: number): tf.Tensor {
    return tf.fill(timeInputShape(this.#timeShape, B), this.timeValue(t), this.#timeDtype);
  }

  /** Calls the classifier; returns float32 logits `[B, K]`, or a description of what is wrong. */
  #evaluate(x: tf.Tensor, time: tf.Tensor): tf.Tensor2D | string {
    const out = singleTensor(this.#call(x, time));
    const B = x.shape[0]!;
    const K = this.numClasses;
    if (!(out instanceof tf.Tensor) || out.rank !== 2 || out.shape[0] !== B || out.shape[1] !== K) {
      if (out instanceof Promise)
        void out.then(
          (v) => tf.dispose(v as tf.Tensor),
          () => undefined,
        );
      return (
        `a classifier whose output does not match the class count: expected logits [B, K] = [${B}, ${K}] ` +
        `(options.numClasses = ${K}), got ${describeOutput(out)}`
      );
    }
    return (out.dtype === 'float32' ? out : tf.cast(out, 'float32')) as tf.Tensor2D;
  }
}

/**
 * Wraps a noise-conditional classifier $p_\phi(y \mid x_t, t)$ for classifier guidance — a function
 * `(x, t) => logits [B, K]`, a tfjs `LayersModel` or a `GraphModel` with inputs `[x, t]` — with its time
 * input (`timeInput`: continuous $t$, the DDPM index $t (N - 1)/T$, $\sigma(t)$ or a function of $t$;
 * `timeDtype` float32 or int32), as `wrapModel` does for a diffusion model. `x [B, ...]`, logits `[B, K]`.
 *
 * @example
 * ```ts
 * import '@tensorflow/tfjs-layers'; // registers the gradients
 * const classifier = wrapClassifier(layersModel, { sde, numClasses: 10, timeInput: 'index' });
 * const g = classifier.gradient(x, 0.5, labels); // ∇_x log p_φ(y | x, t), shape of x
 * ```
 * @throws SbmArgumentError naming the option (or `classifier`) when it cannot be used as configured.
 */
export function wrapClassifier(
  classifier: ClassifierLike,
  options: ClassifierAdapterOptions,
): ClassifierAdapter {
  return new ClassifierAdapter(classifier, options);
}
