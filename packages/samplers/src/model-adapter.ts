import {
  convertPrediction,
  describeValue,
  type MarginalCoefficients,
  type Parameterization,
  SbmArgumentError,
  type ScoreFn,
} from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';
import {
  channelsFirstPerm,
  channelsLastPerm,
  type DeclaredTensor,
  declaredTensors,
  describeTensors,
  formatShape,
  type InputPlan,
  type ModelInputNames,
  type ModelTensorInfo,
  planInputs,
  planOutput,
  shapeFits,
  toChannelsFirst,
} from './model-inputs.js';
import { resolveTimeFormat, timeInputFunction, timeInputShape } from './time-input-function.js';

/**
 * What a model may return: one tensor (the prediction, the shape of `x [B, ...]`), several tensors (an
 * array, chosen with `options.output`) or a map of named tensors.
 */
export type ModelOutput = tf.Tensor | tf.Tensor[] | tf.NamedTensorMap;

/**
 * A model as a function `(x, t, labels?) => Tensor`, synchronous or asynchronous: `x [B, ...]`, `t [B]`
 * (a {@link ScoreFn} fits), `[B, 1]` with `timeShape: 'column'` or `[]` with `timeShape: 'scalar'`, and
 * `labels [B, ...]` when the sampler has labels.
 */
export type ModelFunction =
  | ((x: tf.Tensor, t: tf.Tensor1D, labels?: tf.Tensor) => ModelOutput | Promise<ModelOutput>)
  | ((x: tf.Tensor, t: tf.Tensor2D, labels?: tf.Tensor) => ModelOutput | Promise<ModelOutput>)
  | ((x: tf.Tensor, t: tf.Tensor, labels?: tf.Tensor) => ModelOutput | Promise<ModelOutput>);

/**
 * A tfjs model object: a `LayersModel` (called with `apply(inputs, { training: false })`, which keeps its
 * declared input ranks), a `GraphModel` (`execute`, or `executeAsync` for graphs with control flow or
 * dynamic shapes) or any object with `predict`/`executeAsync` taking `[x, t, labels?]`. Its declared
 * `inputs`/`outputs` (names, shapes, dtypes) decide which input gets `x`, `t` and `labels`, the time
 * input's shape and dtype, the output used, and the fixed sizes checked.
 */
export interface ModelObject {
  /** LayersModel: `apply(inputs [in model order], { training: false })`. */
  apply?(inputs: tf.Tensor[], kwargs?: { training?: boolean }): unknown;
  /** GraphModel: synchronous execution, by input name (`NamedTensorMap`) or position, of the named outputs. */
  execute?(inputs: tf.Tensor[] | tf.NamedTensorMap, outputs?: string | string[]): unknown;
  /** GraphModel: asynchronous execution (control flow, dynamic shapes). */
  executeAsync?(inputs: tf.Tensor[] | tf.NamedTensorMap, outputs?: string | string[]): Promise<unknown>;
  /** Any other model: `predict([x, t, labels?])`. */
  predict?(inputs: tf.Tensor[]): unknown;
  /** Declared inputs (name, shape, dtype). */
  readonly inputs?: readonly ModelTensorInfo[];
  /** Declared outputs (name, shape, dtype). */
  readonly outputs?: readonly ModelTensorInfo[];
  /** GraphModel: the names inputs are executed by (signature keys), in the order of `inputs`. */
  readonly inputNodes?: readonly string[];
  /** GraphModel: the names outputs are requested by, in the order of `outputs`. */
  readonly outputNodes?: readonly string[];
  /** LayersModel: input names, in the order of `inputs`. */
  readonly inputNames?: readonly string[];
  /** LayersModel: output names, in the order of `outputs`. */
  readonly outputNames?: readonly string[];
  /** GraphModel: the SavedModel signature (shapes and dtypes of outputs the graph does not declare). */
  readonly modelSignature?: unknown;
}

/** Anything {@link wrapModel} accepts. */
export type ModelLike = ModelFunction | ModelObject;

/**
 * What the model is given as its time input for diffusion time `t`:
 * - `'continuous'`: `t` itself (score_sde's continuous models; a DDPM step index when the marginals are
 *   `discreteMarginals(schedule)`, whose time is the index);
 * - `'index'`: the DDPM step $t (N - 1)/T$ with $N$ = `numTrainSteps` (score_sde's `t · 999` for
 *   DDPM checkpoints; rounded only for an int32 time input);
 * - `'sigma'`: the marginal standard deviation $\sigma(t)$ (NCSN / score_sde VE models);
 * - a function of `t` (e.g. EDM's $c_{\text{noise}} = \tfrac14 \log \sigma$).
 */
export type TimeInputKind = 'continuous' | 'index' | 'sigma' | ((t: number) => number);

/**
 * Dtype of the time input: `'float32'`, or `'int32'` for integer timesteps (DDPM-style models; values are
 * rounded to the nearest integer, halves up, as the reference pipelines pass integer steps).
 */
export type TimeDtype = 'float32' | 'int32';

/**
 * Shape of the time input for a batch of `B`: `[B]` (`'vector'`), `[B, 1]` (`'column'`) or `[]` (`'scalar'`, one
 * time for the whole batch).
 */
export type TimeShape = 'vector' | 'column' | 'scalar';

/**
 * Memory layout of the model's image input and output: `'NHWC'` (tfjs, the samplers; `x [B, H, W, C]`) or
 * `'NCHW'` (PyTorch → ONNX → TF conversions; the model gets `[B, C, H, W]` and its output is transposed
 * back). Any rank works: the last axis of `x [B, ...spatial, C]` becomes axis 1.
 */
export type ModelLayout = 'NHWC' | 'NCHW';

/** Options of {@link wrapModel}. */
export interface ModelAdapterOptions {
  /** Marginal coefficients $\alpha(t)$, $\sigma(t)$ on `[0, T]` used for the conversions (an SDE, or discreteMarginals). */
  sde: MarginalCoefficients & {
    /** Number of discretization steps $N$ of the SDE (e.g. 1000 for `VPSDE`): the default `numTrainSteps` of `timeInput: 'index'`. */
    readonly N?: number;
  };
  /** What the model outputs, default `'score'`. */
  prediction?: Parameterization;
  /** What the model takes as time, default `'continuous'`. */
  timeInput?: TimeInputKind;
  /** `N` for `timeInput: 'index'`, default `sde.N`, else 1000. */
  numTrainSteps?: number;
  /**
   * Shape of the time input: `[B]` (`'vector'`), `[B, 1]` (`'column'`) or `[]` (`'scalar'`, one time for the
   * batch); default from the rank of the model's time input, else vector.
   */
  timeShape?: TimeShape;
  /** Dtype of the time input; default the model's declared time dtype (`inputs[i].dtype`), else float32. */
  timeDtype?: TimeDtype;
  /** Names of the model inputs taking `x`, `t` and `labels`; default recognized from the input names. */
  inputNames?: ModelInputNames;
  /** The output to use, by name or index, for a model with several outputs. */
  output?: string | number;
  /** Layout of the model's `x` input and output, default `'NHWC'`. */
  layout?: ModelLayout;
  /** Multiplies `x` by `inputScaling(t)` before the model (e.g. EDM's `c_in`); default none. */
  inputScaling?: (t: number) => number;
  /** Name used in error messages, default by kind (`'model function'`, `'LayersModel'`, `'GraphModel'`). */
  name?: string;
}

const PARAMETERIZATIONS: readonly Parameterization[] = ['score', 'eps', 'x0', 'v'];

type Kind = 'function' | 'layers' | 'graph' | 'predict';

type CallResult = unknown;

/** Every tensor in a model result (a tensor, an array or a map of tensors). */
function tensorsIn(value: unknown): tf.Tensor[] {
  if (value instanceof tf.Tensor) return [value];
  if (Array.isArray(value)) return value.filter((v): v is tf.Tensor => v instanceof tf.Tensor);
  if (value !== null && typeof value === 'object') {
    return Object.values(value).filter((v): v is tf.Tensor => v instanceof tf.Tensor);
  }
  return [];
}

/** Whether tfjs-converter refused `execute` because the graph needs `executeAsync`. */
function needsExecuteAsync(error: unknown): boolean {
  return error instanceof Error && /executeAsync/.test(error.message);
}

/**
 * A model seen by the samplers: evaluates it at `(x, t)` and converts its output to the
 * parameterization a sampler needs, exactly, with {@link convertPrediction}: with $x = \alpha x_0 + \sigma \epsilon$,
 * the score is $s = -\epsilon/\sigma$ and $v = \alpha \epsilon - \sigma x_0$. Built by {@link wrapModel}.
 */
export class ModelAdapter {
  /** Name used in error messages (`options.name`, else `'model function'`, `'LayersModel'`, `'GraphModel'`). */
  readonly name: string;
  /** The marginal coefficients used for the conversions. */
  readonly sde: MarginalCoefficients;
  /** What the model outputs. */
  readonly prediction: Parameterization;
  readonly #call: (inputs: tf.Tensor[]) => CallResult;
  readonly #time: (t: number) => number;
  readonly #timeShape: TimeShape;
  readonly #timeDtype: TimeDtype;
  readonly #channelsFirst: boolean;
  readonly #inputScaling: ((t: number) => number) | undefined;
  /** Declared inputs (undefined for functions and models that declare none). */
  readonly #inputs: DeclaredTensor[] | undefined;
  readonly #plan: InputPlan;
  /** Run-time output choice for models that do not declare their outputs. */
  readonly #pick: string | number | undefined;
  /** Set once a GraphModel's `execute` has refused the graph. */
  #async = false;

  /**
   * Reads what `model` declares (inputs, outputs, dtypes, shapes) and checks `options` against it; see
   * {@link wrapModel}.
   *
   * @throws SbmArgumentError naming the option (or `model`) when the model cannot be used as configured.
   */
  constructor(model: ModelLike, options: ModelAdapterOptions) {
    if (!options || typeof options !== 'object' || !options.sde || typeof options.sde.alpha !== 'function') {
      throw new SbmArgumentError('options.sde', 'expected an SDE or the marginals of a discrete schedule');
    }
    const { sde } = options;
    const prediction = options.prediction ?? 'score';
    if (!PARAMETERIZATIONS.includes(prediction)) {
      throw new SbmArgumentError(
        'options.prediction',
        `expected one of ${PARAMETERIZATIONS.join(', ')}, got ${describeValue(prediction)}`,
      );
    }
    let kind: Kind;
    if (typeof model === 'function') kind = 'function';
    else if (model && typeof model === 'object' && typeof model.apply === 'function') kind = 'layers';
    else if (
      model &&
      typeof model === 'object' &&
      (typeof model.execute === 'function' || typeof model.executeAsync === 'function')
    ) {
      kind = 'graph';
    } else if (model && typeof model === 'object' && typeof model.predict === 'function') kind = 'predict';
    else {
      throw new SbmArgumentError(
        'model',
        `expected a function (x, t, labels?) => Tensor or a model with apply/execute/executeAsync/predict, got ${describeValue(model)}`,
      );
    }
    if (options.name !== undefined && typeof options.name !== 'string') {
      throw new SbmArgumentError('options.name', `expected a string, got ${describeValue(options.name)}`);
    }
    this.name =
      options.name ??
      { function: 'model function', layers: 'LayersModel', graph: 'GraphModel', predict: 'LayersModel' }[
        kind
      ];
    this.sde = sde;
    this.prediction = prediction;

    // Inputs and outputs the model declares.
    const object = kind === 'function' ? undefined : (model as ModelObject);
    const signature = (object?.modelSignature ?? {}) as { inputs?: unknown; outputs?: unknown };
    this.#inputs =
      object === undefined
        ? undefined
        : declaredTensors(object.inputs, object.inputNodes ?? object.inputNames, signature.inputs);
    if (kind === 'function' && options.inputNames !== undefined) {
      throw new SbmArgumentError(
        'options.inputNames',
        'a model function is called as fn(x, t, labels); input names apply to LayersModels and GraphModels',
      );
    }
    const plan = planInputs(this.#inputs, options.inputNames, this.name);
    this.#plan = plan;
    const outputs =
      object === undefined
        ? undefined
        : declaredTensors(object.outputs, object.outputNodes ?? object.outputNames, signature.outputs);
    const outputIndex = planOutput(outputs, options.output, this.name);
    // A GraphModel is asked for the chosen output by name and a LayersModel's extra outputs are dropped in
    // #call; models that return every output unnamed (predict, executeAsync-only objects) are narrowed later.
    const outputName =
      kind === 'graph' && outputs !== undefined && outputIndex !== undefined
        ? outputs[outputIndex]!.key
        : undefined;
    const narrowLater = kind === 'predict' || (kind === 'graph' && outputName === undefined);
    this.#pick =
      outputs === undefined ? options.output : narrowLater && outputs.length > 1 ? outputIndex : undefined;

    // How the model is called.
    if (kind === 'function') {
      const fn = model as (x: tf.Tensor, t: tf.Tensor, labels?: tf.Tensor) => CallResult;
      this.#call = (xs) => fn(xs[0]!, xs[1]!, xs[2]);
    } else if (kind === 'layers') {
      const m = object!;
      const several = outputs !== undefined && outputs.length > 1;
      this.#call = (xs) => {
        const out = m.apply!(xs, { training: false });
        if (!several || !Array.isArray(out)) return out;
        const chosen = out[outputIndex!] as unknown;
        for (const o of out) if (o !== chosen && o instanceof tf.Tensor) o.dispose();
        return chosen;
      };
    } else if (kind === 'graph') {
      const m = object!;
      const keys = this.#inputs?.map((d) => d.key);
      const feed = (xs: tf.Tensor[]): tf.Tensor[] | tf.NamedTensorMap => {
        if (!plan.named || keys === undefined) return xs;
        const map: tf.NamedTensorMap = {};
        xs.forEach((v, i) => {
          map[keys[i]!] = v;
        });
        return map;
      };
      this.#call = (xs) => {
        if (!this.#async && typeof m.execute === 'function') {
          try {
            return m.execute(feed(xs), outputName);
          } catch (error) {
            if (!(needsExecuteAsync(error) && typeof m.executeAsync === 'function')) throw error;
            this.#async = true; // control flow or dynamic shapes: from now on executeAsync
          }
        }
        return m.executeAsync!(feed(xs), outputName);
      };
    } else {
      const m = object!;
      this.#call = (xs) => m.predict!(xs);
    }

    // Time input: value, shape, dtype.
    const timeInput = options.timeInput ?? 'continuous';
    this.#time = timeInputFunction(timeInput, sde, options.numTrainSteps);
    const timeInfo = this.#inputs?.[plan.t];
    const timeLabel = timeInfo
      ? `the time input '${timeInfo.key ?? plan.t}' of ${this.name}`
      : 'the time input';
    const declaredDtype = timeInfo?.dtype;
    if (declaredDtype !== undefined && declaredDtype !== 'float32' && declaredDtype !== 'int32') {
      throw new SbmArgumentError(
        'model',
        `${timeLabel} has dtype ${declaredDtype}; expected float32 or int32 (set options.inputNames if it is not the time)`,
      );
    }
    const { shape: timeShape, dtype: timeDtype } = resolveTimeFormat(
      options,
      { rank: timeInfo?.shape?.length, dtype: declaredDtype },
      timeLabel,
    );
    this.#timeShape = timeShape;
    if (timeDtype === 'int32') checkIntegerTimes(timeInput, this.#time, sde.T, timeLabel);
    this.#timeDtype = timeDtype;

    const layout = options.layout ?? 'NHWC';
    if (layout !== 'NHWC' && layout !== 'NCHW') {
      throw new SbmArgumentError('options.layout', `expected 'NHWC' or 'NCHW', got ${describeValue(layout)}`);
    }
    this.#channelsFirst = layout === 'NCHW';
    if (options.inputScaling !== undefined && typeof options.inputScaling !== 'function') {
      throw new SbmArgumentError(
        'options.inputScaling',
        `expected a function of t, got ${describeValue(options.inputScaling)}`,
      );
    }
    this.#inputScaling = options.inputScaling;
  }

  /**
   * Evaluates the model at `x [B, ...]`, time `t` (one number for the batch, in `[0, T]`) and optional
   * `labels [B, ...]`, and returns its prediction converted to `to` (a new tensor of the shape of `x`).
   * Inputs are not disposed.
   */
  async predict(x: tf.Tensor, t: number, to: Parameterization, labels?: tf.Tensor): Promise<tf.Tensor> {
    return this.#finish(await this.#invoke(x, t, labels), x, t, to, labels);
  }

  /**
   * A synchronous {@link ScoreFn} `(x [B,...], t [B]) => score` for a synchronous model (as
   * `sde.reverse(scoreFn)` expects). Every `t` of the batch must be equal. Throws for an async model.
   */
  toScoreFn(): ScoreFn {
    return (x, t) => {
      const times = t.dataSync();
      const t0 = times[0]!;
      if (!times.every((v) => v === t0)) {
        throw new SbmArgumentError('t', `${this.name}: expected one time for the whole batch`);
      }
      const out = this.#invoke(x, t0, undefined);
      if (out instanceof Promise) {
        void out.then(
          (value) => tf.dispose(tensorsIn(value)),
          () => undefined,
        );
        throw new SbmArgumentError(
          this.name,
          'toScoreFn needs a synchronous model; use predict or the samplers',
        );
      }
      return this.#finish(out, x, t0, 'score', undefined);
    };
  }

  /**
   * Checks that samples of shape `shape` (`[B, ...spatial, C]`, as the samplers' `x`) fit the model's
   * declared `x` input (its rank and every fixed size, after the layout transpose); called before every
   * evaluation, and usable before sampling.
   *
   * @throws SbmArgumentError naming `x`, with the model's shape and a layout hint if it looks transposed.
   */
  checkInputShape(shape: readonly number[]): void {
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new SbmArgumentError('x', `expected a shape [B, ...], got ${describeValue(shape)}`);
    }
    const info = this.#inputs?.[this.#plan.x];
    if (info?.shape === undefined) return;
    const cf = this.#channelsFirst && shape.length > 2;
    const given = cf ? toChannelsFirst(shape) : [...shape];
    if (shapeFits(info.shape, given)) return;
    let hint = '';
    if (!cf && shape.length > 2 && shapeFits(info.shape, toChannelsFirst(shape))) {
      hint = "; the model looks channels-first: set layout: 'NCHW'";
    } else if (cf && shapeFits(info.shape, shape)) {
      hint = "; the model looks channels-last: remove layout: 'NCHW'";
    }
    throw new SbmArgumentError(
      'x',
      `the input '${info.key ?? this.#plan.x}' of ${this.name} has shape ${formatShape(info.shape)}, ` +
        `which x [${shape.join(',')}]${cf ? ` (given to the model as [${given.join(',')}], NCHW)` : ''} does not fit${hint}`,
    );
  }

  /** Checks the inputs and calls the model (time input, input scaling, layout and dtypes applied). */
  #invoke(x: tf.Tensor, t: number, labels: tf.Tensor | undefined): CallResult {
    if (!(x instanceof tf.Tensor) || x.rank < 1) {
      throw new SbmArgumentError('x', `expected a tensor [B, ...], got ${describeValue(x)}`);
    }
    const B = x.shape[0]!;
    if (!(t >= 0 && t <= this.sde.T)) {
      throw new SbmArgumentError('t', `expected a time in [0, ${this.sde.T}], got ${describeValue(t)}`);
    }
    if (labels !== undefined && (!(labels instanceof tf.Tensor) || labels.shape[0] !== B)) {
      throw new SbmArgumentError(
        'labels',
        `expected ${B} labels (one per sample of x [${x.shape.join(',')}]), got ${describeValue(labels)}`,
      );
    }
    this.checkInputShape(x.shape);
    const plan = this.#plan;
    const declared = this.#inputs;
    if (declared !== undefined) {
      if (labels !== undefined && plan.labels < 0) {
        throw new SbmArgumentError(
          'labels',
          `${this.name} has no labels input; its inputs are ${describeTensors(declared)}`,
        );
      }
      if (labels === undefined && plan.labels >= 0) {
        throw new SbmArgumentError(
          'labels',
          `the input '${declared[plan.labels]!.key ?? plan.labels}' of ${this.name} takes class labels; ` +
            'pass labels (the samplers: options.labels)',
        );
      }
    }
    const timeShape = timeInputShape(this.#timeShape, B);
    const timeInfo = declared?.[plan.t];
    if (timeInfo?.shape !== undefined && !shapeFits(timeInfo.shape, timeShape)) {
      throw new SbmArgumentError(
        't',
        `the time input '${timeInfo.key ?? plan.t}' of ${this.name} has shape ${formatShape(timeInfo.shape)}, ` +
          `which the time [${timeShape.join(',')}] for a batch of ${B} does not fit (options.timeShape)`,
      );
    }
    const labelInfo = declared?.[plan.labels];
    if (labels !== undefined && labelInfo?.shape !== undefined && !shapeFits(labelInfo.shape, labels.shape)) {
      throw new SbmArgumentError(
        'labels',
        `the input '${labelInfo.key ?? plan.labels}' of ${this.name} has shape ${formatShape(labelInfo.shape)}, ` +
          `which labels [${labels.shape.join(',')}] do not fit`,
      );
    }
    const raw = this.#time(t);
    const value = this.#timeDtype === 'int32' ? Math.round(raw) : raw;
    const created: tf.Tensor[] = [];
    let out: CallResult;
    try {
      const time = tf.fill(timeShape, value, this.#timeDtype);
      created.push(time);
      let input = x;
      if (this.#inputScaling) {
        const c = this.#inputScaling(t);
        input = tf.tidy(() => tf.mul(x, c));
        created.push(input);
      }
      if (this.#channelsFirst && x.rank > 2) {
        input = tf.transpose(input, channelsFirstPerm(x.rank));
        created.push(input);
      }
      let labelInput = labels;
      const labelDtype = labelInfo?.dtype;
      if (
        labelInput !== undefined &&
        labelDtype !== undefined &&
        labelInput.dtype !== labelDtype &&
        (labelDtype === 'int32' || labelDtype === 'float32')
      ) {
        labelInput = tf.cast(labelInput, labelDtype);
        created.push(labelInput);
      }
      const inputs: tf.Tensor[] = [];
      inputs[plan.x] = input;
      inputs[plan.t] = time;
      if (labelInput !== undefined) inputs[plan.labels] = labelInput;
      out = this.#call(inputs);
    } catch (error) {
      tf.dispose(created);
      throw error;
    }
    if (out instanceof Promise) {
      return out.then(
        (value) => {
          this.#release(created, value);
          return value;
        },
        (error: unknown) => {
          tf.dispose(created);
          throw error;
        },
      );
    }
    this.#release(created, out);
    return out;
  }

  /** Disposes the tensors made for a call, except any the model returned. */
  #release(created: tf.Tensor[], out: unknown): void {
    const returned = new Set(tensorsIn(out));
    for (const c of created) if (!returned.has(c)) c.dispose();
  }

  /** The prediction among the model's outputs (run-time choice for models that declare none). */
  #select(out: unknown): unknown {
    const pick = this.#pick;
    if (Array.isArray(out)) {
      if (typeof pick === 'number') {
        if (pick >= out.length) {
          throw new SbmArgumentError(
            'options.output',
            `index ${pick}, but ${this.name} returned ${out.length} tensors`,
          );
        }
        return out[pick];
      }
      if (out.length !== 1) {
        throw new SbmArgumentError(
          this.name,
          `expected the model to return one tensor, got ${out.length}; choose one with options.output (an index)`,
        );
      }
      return out[0];
    }
    if (out !== null && typeof out === 'object' && !(out instanceof tf.Tensor)) {
      const map = out as Record<string, unknown>;
      const keys = Object.keys(map);
      if (typeof pick === 'string') {
        if (!(pick in map)) {
          throw new SbmArgumentError(
            'options.output',
            `'${pick}' is not among the outputs ${keys.map((k) => `'${k}'`).join(', ')} of ${this.name}`,
          );
        }
        return map[pick];
      }
      if (keys.length !== 1) {
        throw new SbmArgumentError(
          this.name,
          `expected the model to return one tensor, got ${keys.length} (${keys.join(', ')}); choose one with options.output (a name)`,
        );
      }
      return map[keys[0]!];
    }
    if (pick !== undefined && pick !== 0) {
      throw new SbmArgumentError('options.output', `${this.name} returned a single tensor, not several`);
    }
    return out;
  }

  /** Picks the output, checks it against `x`, converts it to `to`; disposes the model's outputs. */
  #finish(
    out: CallResult,
    x: tf.Tensor,
    t: number,
    to: Parameterization,
    labels: tf.Tensor | undefined,
  ): tf.Tensor {
    const returned = tensorsIn(out);
    try {
      const value = this.#select(out);
      const cf = this.#channelsFirst && x.rank > 2;
      const expected = cf ? toChannelsFirst(x.shape) : x.shape;
      if (!(value instanceof tf.Tensor) || !tf.util.arraysEqual(value.shape, expected)) {
        const got = value instanceof tf.Tensor ? `[${value.shape.join(',')}]` : describeValue(value);
        throw new SbmArgumentError(
          this.name,
          `model output shape ${got} does not match the input x shape [${x.shape.join(',')}]` +
            (cf ? ` (expected [${expected.join(',')}] with layout 'NCHW')` : ''),
        );
      }
      return tf.tidy(() => {
        let v = value.dtype === 'float32' ? value : tf.cast(value, 'float32');
        if (cf) v = tf.transpose(v, channelsLastPerm(x.rank));
        return convertPrediction({ sde: this.sde, x, t, value: v, from: this.prediction, to });
      });
    } finally {
      // a model may return its inputs unchanged: never dispose the caller's x or labels
      for (const r of returned) if (r !== x && r !== labels) r.dispose();
    }
  }
}

/**
 * For an int32 time input: refuses time inputs that are not integer steps (σ) or that rounding would
 * collapse to fewer than three steps over `[0, T]` (a continuous `t ∈ [0, 1]`).
 */
function checkIntegerTimes(
  timeInput: TimeInputKind,
  time: (t: number) => number,
  T: number,
  label: string,
): void {
  if (timeInput === 'sigma') {
    throw new SbmArgumentError(
      'options.timeInput',
      `'sigma' gives noise levels σ(t), but ${label} is int32 (integer steps); use 'index' (t·(N−1)/T) ` +
        "or 'continuous' with discreteMarginals",
    );
  }
  let lo: number;
  let hi: number;
  try {
    lo = time(0);
    hi = time(T);
  } catch {
    return;
  }
  if (Number.isFinite(lo) && Number.isFinite(hi) && Math.abs(hi - lo) < 2) {
    const what = typeof timeInput === 'function' ? 'the time function' : `'${timeInput}'`;
    throw new SbmArgumentError(
      'options.timeInput',
      `${label} is int32 (integer steps), but ${what} maps [0, T] to [${lo}, ${hi}], which rounds to ` +
        "fewer than 3 steps; use 'index' (the DDPM step t·(N−1)/T) or discreteMarginals (time = step)",
    );
  }
}

/**
 * Wraps a model for the samplers — a function `(x, t, labels?) => Tensor` (sync or async), a tfjs
 * `LayersModel` (`apply`, keeping its declared input ranks) or a `GraphModel` (`execute`, or
 * `executeAsync` for graphs with control flow) — with its output parameterization
 * (`'score' | 'eps' | 'x0' | 'v'`), time input (continuous `t`, DDPM index, $\sigma(t)$; float32 or int32),
 * inputs by name, output choice, layout (`NHWC`/`NCHW`), optional input scaling and class labels.
 * Samples are `x [B, H, W, C]` (any `[B, ...]`), the time `t [B]`.
 *
 * @example
 * ```ts
 * const model = wrapModel(layersModel, { sde, prediction: 'eps', timeInput: 'index' });
 * const { samples, nfe } = await ddimSample({ sde, model, shape: [16, 32, 32, 3], steps: 50 });
 * ```
 * @throws SbmArgumentError naming the option (or `model`) when the model cannot be used as configured.
 */
export function wrapModel(model: ModelLike, options: ModelAdapterOptions): ModelAdapter {
  return new ModelAdapter(model, options);
}
