import { SbmArgumentError } from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';
import { checkNamedArrays, type NamedVariables } from './variables.js';

/** Options of {@link ExponentialMovingAverage}. */
export interface EmaOptions {
  /** The decay d in [0, 1] (score_sde's `model.ema_rate`: 0.9999 for the CIFAR-10 configs, 0.999 for some VE ones). */
  decay: number;
  /**
   * Use the warm-up decay `min(d, (1 + n)/(10 + n))` with n the number of updates so far including this one
   * (score_sde_pytorch's default, `use_num_updates=True`). Default true.
   */
  useNumUpdates?: boolean;
}

/**
 * The complete EMA state as plain arrays: the decay, the number of updates (`null` without the warm-up decay, as
 * the reference's `num_updates`), and the shadow weights per variable name.
 */
export interface EmaState {
  decay: number;
  numUpdates: number | null;
  shadow: Record<string, Float32Array>;
}

/**
 * Exponential moving average of the trainable weights, as score_sde_pytorch's `models/ema.py`
 * (`ExponentialMovingAverage`, after TensorFlow's `tf.train.ExponentialMovingAverage`):
 *
 * `n ← n + 1`, `d_n = min(d, (1 + n)/(10 + n))` (with `useNumUpdates`, else `d_n = d`),
 * `θ_ema ← θ_ema − (1 − d_n)(θ_ema − θ)` (= `d_n θ_ema + (1 − d_n) θ`).
 *
 * The shadow weights start as a copy of the weights at construction. {@link copyTo} writes them into the model;
 * {@link store}/{@link restore} keep the training weights aside meanwhile (sample with EMA weights, then continue
 * training), as `ema.store; ema.copy_to; …; ema.restore` in the reference's `run_lib.train`.
 */
export class ExponentialMovingAverage {
  private decayValue: number;
  private updates: number | null;
  private shadow: Record<string, tf.Variable> = {};
  private stored: Record<string, tf.Tensor> | null = null;

  /**
   * @param variables - the trainable variables by name (see `trainableVariables`); their current values become the
   * initial shadow weights.
   * @throws SbmArgumentError naming `options.decay` outside [0, 1] or `variables` when empty.
   */
  constructor(variables: NamedVariables, options: EmaOptions) {
    if (options === null || typeof options !== 'object') {
      throw new SbmArgumentError('options', 'expected { decay, useNumUpdates? }');
    }
    const { decay } = options;
    if (typeof decay !== 'number' || !(decay >= 0 && decay <= 1)) {
      throw new SbmArgumentError('options.decay', `expected a number in [0, 1], got ${String(decay)}`);
    }
    if (variables === null || typeof variables !== 'object' || Object.keys(variables).length === 0) {
      throw new SbmArgumentError('variables', 'expected a non-empty record name → tf.Variable');
    }
    this.decayValue = decay;
    this.updates = (options.useNumUpdates ?? true) ? 0 : null;
    for (const [name, v] of Object.entries(variables)) {
      this.shadow[name] = tf.tidy(() => tf.variable(v.clone(), false));
    }
  }

  /** The configured decay d. */
  get decay(): number {
    return this.decayValue;
  }

  /** Number of updates so far (`null` without the warm-up decay). */
  get numUpdates(): number | null {
    return this.updates;
  }

  /** The decay the next {@link update} will use. */
  nextDecay(): number {
    if (this.updates === null) return this.decayValue;
    const n = this.updates + 1;
    return Math.min(this.decayValue, (1 + n) / (10 + n));
  }

  /** One EMA step towards the current `variables` (call after every optimizer update). Returns the decay used. */
  update(variables: NamedVariables): number {
    this.checkNames('variables', variables);
    const decay = this.nextDecay();
    if (this.updates !== null) this.updates += 1;
    const oneMinus = 1 - decay;
    for (const [name, s] of Object.entries(this.shadow)) {
      tf.tidy(() => s.assign(tf.sub(s, tf.mul(tf.sub(s, variables[name]!), oneMinus))));
    }
    return decay;
  }

  /** Writes the shadow (EMA) weights into `variables`. */
  copyTo(variables: NamedVariables): void {
    this.checkNames('variables', variables);
    for (const [name, s] of Object.entries(this.shadow)) variables[name]!.assign(s);
  }

  /** Keeps a copy of the current `variables` for {@link restore} (replacing an earlier stored copy). */
  store(variables: NamedVariables): void {
    this.checkNames('variables', variables);
    this.disposeStored();
    const stored: Record<string, tf.Tensor> = {};
    for (const name of Object.keys(this.shadow)) stored[name] = variables[name]!.clone();
    this.stored = stored;
  }

  /**
   * Writes the weights kept by {@link store} back into `variables` and releases the copy.
   * @throws SbmArgumentError naming `variables` when nothing is stored.
   */
  restore(variables: NamedVariables): void {
    this.checkNames('variables', variables);
    if (this.stored === null)
      throw new SbmArgumentError('variables', 'nothing stored: call store() before restore()');
    for (const [name, t] of Object.entries(this.stored)) variables[name]!.assign(t);
    this.disposeStored();
  }

  /** A copy of the complete state ({@link EmaState}). */
  getState(): EmaState {
    const shadow: Record<string, Float32Array> = {};
    for (const [name, s] of Object.entries(this.shadow)) {
      shadow[name] = Float32Array.from(s.dataSync() as Float32Array);
    }
    return { decay: this.decayValue, numUpdates: this.updates, shadow };
  }

  /**
   * Restores a state from {@link getState} (copies the arrays; the reference's `load_state_dict`, decay included).
   * @throws SbmArgumentError naming `state.decay`, `state.numUpdates` or `state.shadow['<name>']`.
   */
  setState(state: EmaState): void {
    if (state === null || typeof state !== 'object') {
      throw new SbmArgumentError('state', 'expected { decay, numUpdates, shadow }');
    }
    if (typeof state.decay !== 'number' || !(state.decay >= 0 && state.decay <= 1)) {
      throw new SbmArgumentError('state.decay', `expected a number in [0, 1], got ${String(state.decay)}`);
    }
    if (state.numUpdates !== null && !(Number.isInteger(state.numUpdates) && state.numUpdates >= 0)) {
      throw new SbmArgumentError(
        'state.numUpdates',
        `expected null or an integer >= 0, got ${String(state.numUpdates)}`,
      );
    }
    checkNamedArrays('state.shadow', state.shadow, this.shadow);
    for (const [name, s] of Object.entries(this.shadow)) {
      tf.tidy(() => s.assign(tf.tensor(state.shadow[name]!, s.shape, 'float32')));
    }
    this.decayValue = state.decay;
    this.updates = state.numUpdates;
  }

  /** Releases the shadow weights and any stored copy. */
  dispose(): void {
    tf.dispose(Object.values(this.shadow));
    this.shadow = {};
    this.disposeStored();
  }

  private disposeStored(): void {
    if (this.stored !== null) tf.dispose(Object.values(this.stored));
    this.stored = null;
  }

  private checkNames(what: string, variables: NamedVariables): void {
    if (variables === null || typeof variables !== 'object') {
      throw new SbmArgumentError(what, 'expected a record name → tf.Variable');
    }
    for (const [name, s] of Object.entries(this.shadow)) {
      const v = variables[name];
      if (!(v instanceof tf.Tensor) || !tf.util.arraysEqual(v.shape, s.shape)) {
        throw new SbmArgumentError(
          `${what}['${name}']`,
          `expected a variable of shape [${s.shape.join(',')}]`,
        );
      }
    }
    for (const name of Object.keys(variables)) {
      if (!(name in this.shadow)) throw new SbmArgumentError(`${what}['${name}']`, 'not tracked by this EMA');
    }
  }
}
