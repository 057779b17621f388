import {
  convertPrediction,
  describeValue,
  type MarginalCoefficients,
  type Parameterization,
  SbmArgumentError,
  type ScoreFn,
} from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';

/**
 * A model as a function `(x, t, labels?) => Tensor`, synchronous or asynchronous. `t` is `[B]` (a
 * {@link ScoreFn} fits) or `[B, 1]` with `timeShape: 'column'`.
 */
export type ModelFunction =
  | ((x: tf.Tensor, t: tf.Tensor1D, labels?: tf.Tensor) => tf.Tensor | Promise<tf.Tensor>)
  | ((x: tf.Tensor, t: tf.Tensor2D, labels?: tf.Tensor) => tf.Tensor | Promise<tf.Tensor>)
  | ((x: tf.Tensor, t: tf.Tensor, labels?: tf.Tensor) => tf.Tensor | Promise<tf.Tensor>);

/**
 * A tfjs `LayersModel` (`predict`) or `GraphModel` (`executeAsync`, used when present) whose inputs are
 * `[x, t]` or `[x, t, labels]`. `inputs[1].shape` of rank 2 makes the time a column `[B, 1]`.
 */
export interface ModelObject {
  predict?(inputs: tf.Tensor[]): tf.Tensor | tf.Tensor[];
  executeAsync?(inputs: tf.Tensor[]): Promise<tf.Tensor | tf.Tensor[]>;
  inputs?: readonly { shape?: readonly (number | null)[] | null }[];
}

/** Anything {@link wrapModel} accepts. */
export type ModelLike = ModelFunction | ModelObject;

/**
 * What the model is given as its time input for diffusion time `t`:
 * - `'continuous'`: `t` itself (score_sde's continuous models; a DDPM step index when the marginals are
 *   `discreteMarginals(schedule)`, whose time is the index);
 * - `'index'`: the DDPM step `t (N − 1) / T` with `N = numTrainSteps` (score_sde's `t · 999` for
 *   DDPM checkpoints; not rounded);
 * - `'sigma'`: the marginal standard deviation `σ(t)` (NCSN / score_sde VE models);
 * - a function of `t` (e.g. EDM's `¼ log σ`).
 */
export type TimeInputKind = 'continuous' | 'index' | 'sigma' | ((t: number) => number);

/** Options of {@link wrapModel}. */
export interface ModelAdapterOptions {
  /** Marginal coefficients `α(t)`, `σ(t)` on `[0, T]` used for the conversions (an SDE, or discreteMarginals). */
  sde: MarginalCoefficients & { readonly N?: number };
  /** What the model outputs, default `'score'`. */
  prediction?: Parameterization;
  /** What the model takes as time, default `'continuous'`. */
  timeInput?: TimeInputKind;
  /** `N` for `timeInput: 'index'`, default `sde.N`, else 1000. */
  numTrainSteps?: number;
  /** Shape of the time input: `[B]` (`'vector'`) or `[B, 1]` (`'column'`); default from `inputs[1].shape`, else vector. */
  timeShape?: 'vector' | 'column';
  /** Multiplies `x` by `inputScaling(t)` before the model (e.g. EDM's `c_in`); default none. */
  inputScaling?: (t: number) => number;
  /** Name used in error messages, default by kind (`'model function'`, `'LayersModel'`, `'GraphModel'`). */
  name?: string;
}

const PARAMETERIZATIONS: readonly Parameterization[] = ['score', 'eps', 'x0', 'v'];

/**
 * A model seen by the samplers: evaluates it at `(x, t)` and converts its output to the
 * parameterization a sampler needs, exactly, with {@link convertPrediction} (`x = α x_0 + σ ε`,
 * `s = −ε/σ`, `v = α ε − σ x_0`). Built by {@link wrapModel}.
 */
export class ModelAdapter {
  readonly name: string;
  readonly sde: MarginalCoefficients;
  readonly prediction: Parameterization;
  readonly #call: (inputs: tf.Tensor[]) => tf.Tensor | tf.Tensor[] | Promise<tf.Tensor | tf.Tensor[]>;
  readonly #time: (t: number) => number;
  readonly #column: boolean;
  readonly #inputScaling: ((t: number) => number) | undefined;

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
    let kind: string;
    let inputs: ModelObject['inputs'];
    if (typeof model === 'function') {
      kind = 'model function';
      const fn = model as (x: tf.Tensor, t: tf.Tensor, labels?: tf.Tensor) => tf.Tensor | Promise<tf.Tensor>;
      this.#call = (xs) => fn(xs[0]!, xs[1]!, xs[2]);
    } else if (model && typeof model === 'object' && typeof model.executeAsync === 'function') {
      kind = 'GraphModel';
      inputs = model.inputs;
      this.#call = (xs) => model.executeAsync!(xs);
    } else if (model && typeof model === 'object' && typeof model.predict === 'function') {
      kind = 'LayersModel';
      inputs = model.inputs;
      this.#call = (xs) => model.predict!(xs);
    } else {
      throw new SbmArgumentError(
        'model',
        `expected a function (x, t, labels?) => Tensor or a model with predict/executeAsync, got ${describeValue(model)}`,
      );
    }
    this.name = options.name ?? kind;
    this.sde = sde;
    this.prediction = prediction;
    const timeInput = options.timeInput ?? 'continuous';
    if (timeInput === 'continuous') this.#time = (t) => t;
    else if (timeInput === 'sigma') this.#time = (t) => sde.sigma(t);
    else if (timeInput === 'index') {
      const N = options.numTrainSteps ?? sde.N ?? 1000;
      if (!Number.isInteger(N) || N < 2) {
        throw new SbmArgumentError(
          'options.numTrainSteps',
          `expected an integer >= 2, got ${describeValue(N)}`,
        );
      }
      this.#time = (t) => (t * (N - 1)) / sde.T;
    } else if (typeof timeInput === 'function') this.#time = timeInput;
    else {
      throw new SbmArgumentError(
        'options.timeInput',
        `expected 'continuous', 'index', 'sigma' or a function of t, got ${describeValue(timeInput)}`,
      );
    }
    const timeShape = options.timeShape ?? (inputs?.[1]?.shape?.length === 2 ? 'column' : 'vector');
    if (timeShape !== 'vector' && timeShape !== 'column') {
      throw new SbmArgumentError(
        'options.timeShape',
        `expected 'vector' or 'column', got ${describeValue(timeShape)}`,
      );
    }
    this.#column = timeShape === 'column';
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
    return this.#finish(await this.#invoke(x, t, labels), x, t, to);
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
        void out.then(tf.dispose, () => undefined);
        throw new SbmArgumentError(
          this.name,
          'toScoreFn needs a synchronous model; use predict or the samplers',
        );
      }
      return this.#finish(out, x, t0, 'score');
    };
  }

  /** Checks the inputs and calls the model (time input and input scaling applied). */
  #invoke(
    x: tf.Tensor,
    t: number,
    labels: tf.Tensor | undefined,
  ): tf.Tensor | tf.Tensor[] | Promise<tf.Tensor | tf.Tensor[]> {
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
    const created: tf.Tensor[] = [tf.fill(this.#column ? [B, 1] : [B], this.#time(t), 'float32')];
    if (this.#inputScaling) {
      const c = this.#inputScaling(t);
      created.push(tf.tidy(() => tf.mul(x, c)));
    }
    const inputs = [created[1] ?? x, created[0]!];
    if (labels !== undefined) inputs.push(labels);
    let out: tf.Tensor | tf.Tensor[] | Promise<tf.Tensor | tf.Tensor[]>;
    try {
      out = this.#call(inputs);
    } catch (error) {
      tf.dispose(created);
      throw error;
    }
    if (out instanceof Promise) {
      return out.finally(() => tf.dispose(created));
    }
    tf.dispose(created);
    return out;
  }

  /** Checks the model output against `x` and converts it to `to`; disposes the raw output. */
  #finish(out: tf.Tensor | tf.Tensor[], x: tf.Tensor, t: number, to: Parameterization): tf.Tensor {
    if (Array.isArray(out) && out.length !== 1) {
      tf.dispose(out);
      throw new SbmArgumentError(this.name, `expected the model to return one tensor, got ${out.length}`);
    }
    const value = Array.isArray(out) ? out[0] : out;
    if (!(value instanceof tf.Tensor) || !tf.util.arraysEqual(value.shape, x.shape)) {
      tf.dispose(out);
      const got = value instanceof tf.Tensor ? `[${value.shape.join(',')}]` : describeValue(value);
      throw new SbmArgumentError(
        this.name,
        `model output shape ${got} does not match the input x shape [${x.shape.join(',')}]`,
      );
    }
    try {
      return tf.tidy(() =>
        convertPrediction({
          sde: this.sde,
          x,
          t,
          value: value.dtype === 'float32' ? value : tf.cast(value, 'float32'),
          from: this.prediction,
          to,
        }),
      );
    } finally {
      if (value !== x) value.dispose(); // a model may return its input unchanged
    }
  }
}

/**
 * Wraps a model — a function `(x, t, labels?) => Tensor` (sync or async), a tfjs `LayersModel`
 * (`predict([x, t])`) or a `GraphModel` (`executeAsync([x, t])`) — for the samplers, with its output
 * parameterization (`'score' | 'eps' | 'x0' | 'v'`), time input (continuous `t`, DDPM index, `σ`),
 * optional input scaling and class labels.
 *
 * @example
 * ```ts
 * const model = wrapModel(layersModel, { sde, prediction: 'eps', timeInput: 'index' });
 * const { samples, nfe } = await ddimSample({ sde, model, shape: [16, 32, 32, 3], steps: 50 });
 * ```
 */
export function wrapModel(model: ModelLike, options: ModelAdapterOptions): ModelAdapter {
  return new ModelAdapter(model, options);
}
