import { SbmArgumentError } from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';
import { checkNamedArrays, type NamedVariables } from './variables.js';

/**
 * Options of {@link ScoreSdeAdam}: score_sde's `config.optim` (defaults are `configs/default_cifar10_configs.py`:
 * `lr 2e-4`, `beta1 0.9`, `eps 1e-8`, `weight_decay 0`, `warmup 5000`, `grad_clip 1`).
 */
export interface AdamOptions {
  /** Peak learning rate (`optim.lr`), > 0. */
  lr: number;
  /** First-moment decay, default 0.9. */
  beta1?: number;
  /** Second-moment decay, default 0.999 (score_sde hard-codes it). */
  beta2?: number;
  /** Added to `√v̂` (not inside the square root), default 1e-8. */
  eps?: number;
  /** L2 penalty added to the gradient after clipping (torch.optim.Adam's `weight_decay`, not decoupled), default 0. */
  weightDecay?: number;
  /** Linear warm-up length in steps (`optim.warmup`); 0 disables it. Default 0. */
  warmup?: number;
  /** Maximal global gradient norm (`optim.grad_clip`); a negative value disables clipping. Default −1. */
  gradClip?: number;
}

/**
 * The optimizer's complete state as plain arrays, so that a checkpoint restores it exactly: `step` is the number
 * of updates applied so far (score_sde's `state['step']` and torch.optim.Adam's per-parameter `step`), `m`/`v` the
 * first/second moment estimates per variable name (`exp_avg`/`exp_avg_sq`).
 */
export interface AdamState {
  step: number;
  m: Record<string, Float32Array>;
  v: Record<string, Float32Array>;
}

/** What {@link ScoreSdeAdam.apply} did. */
export interface AdamUpdate {
  /** The learning rate used (after warm-up). */
  lr: number;
  /** Global gradient norm before clipping (what `clip_grad_norm_` returns). */
  gradNorm: number;
  /** The factor the gradients were multiplied by (1 without clipping). */
  clipScale: number;
}

/**
 * Learning rate of the update made at `step` (0-based: the number of updates already applied), as score_sde's
 * `optimization_manager` sets it: `lr · min(step / warmup, 1)` for `warmup > 0`, else `lr`. The reference calls it
 * with `state['step']` before incrementing it, so **the very first update (step 0) has learning rate 0** (Adam's
 * moments and bias-correction counter still advance).
 */
export function warmupLearningRate(lr: number, warmup: number, step: number): number {
  return warmup > 0 ? lr * Math.min(step / warmup, 1) : lr;
}

/**
 * The scale `torch.nn.utils.clip_grad_norm_(params, max_norm)` applies to every gradient:
 * `min(1, maxNorm / (‖g‖ + 1e-6))` (torch adds 1e-6 to the norm); 1 for a negative `maxNorm` (clipping disabled,
 * score_sde's `grad_clip < 0`).
 */
export function clipScale(gradNorm: number, maxNorm: number): number {
  if (maxNorm < 0) return 1;
  return Math.min(1, maxNorm / (gradNorm + 1e-6));
}

/**
 * Squared L2 norms of every gradient, read in one download; `gradNorm = √Σ`. Used by the training step to find a
 * non-finite gradient before anything is updated.
 */
export function gradientSquaredNorms(
  names: readonly string[],
  grads: Record<string, tf.Tensor>,
): Float32Array {
  const sums = tf.tidy(() => tf.stack(names.map((n) => tf.sum(tf.square(grads[n]!)))));
  const values = sums.dataSync() as Float32Array;
  sums.dispose();
  return values;
}

function checkNumber(name: string, value: unknown, ok: (v: number) => boolean, expected: string): number {
  if (typeof value !== 'number' || !ok(value)) {
    throw new SbmArgumentError(name, `expected ${expected}, got ${String(value)}`);
  }
  return value;
}

/**
 * Adam (Kingma & Ba 2015, Alg. 1) with the conventions of `torch.optim.Adam` as score_sde_pytorch uses it
 * (`losses.get_optimizer` and `losses.optimization_manager`), on tf ops over the variables (any backend):
 *
 * 1. global-norm clipping `g ← g · min(1, c / (‖g‖₂ + 1e-6))` over all gradients together (`clip_grad_norm_`);
 * 2. L2 weight decay `g ← g + wd · θ` (torch's coupled `weight_decay`, after clipping);
 * 3. `t ← step + 1`, `m ← β₁ m + (1 − β₁) g`, `v ← β₂ v + (1 − β₂) g²`;
 * 4. `θ ← θ − (lr_t / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)` — ε is added to the bias-corrected `√v̂`, as torch
 *    does (tf.train.adam instead adds it to `√v` before its own bias correction);
 *
 * with `lr_t = lr · min(step / warmup, 1)` ({@link warmupLearningRate}). State is per variable name
 * ({@link AdamState}); moments are created as zeros at the first update, or restored by {@link setState}.
 */
export class ScoreSdeAdam {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly warmup: number;
  readonly gradClip: number;
  private stepCount = 0;
  private moments: Record<string, { m: tf.Variable; v: tf.Variable }> = {};

  /** @throws SbmArgumentError naming the first invalid option (`options.lr`, `options.beta1`, …). */
  constructor(options: AdamOptions) {
    if (options === null || typeof options !== 'object') {
      throw new SbmArgumentError(
        'options',
        'expected { lr, beta1?, beta2?, eps?, weightDecay?, warmup?, gradClip? }',
      );
    }
    const finite = (v: number) => Number.isFinite(v);
    this.lr = checkNumber('options.lr', options.lr, (v) => finite(v) && v >= 0, 'a finite number >= 0');
    const unit = (v: number) => v >= 0 && v < 1;
    this.beta1 = checkNumber('options.beta1', options.beta1 ?? 0.9, unit, 'a number in [0, 1)');
    this.beta2 = checkNumber('options.beta2', options.beta2 ?? 0.999, unit, 'a number in [0, 1)');
    this.eps = checkNumber(
      'options.eps',
      options.eps ?? 1e-8,
      (v) => finite(v) && v > 0,
      'a finite number > 0',
    );
    this.weightDecay = checkNumber(
      'options.weightDecay',
      options.weightDecay ?? 0,
      (v) => finite(v) && v >= 0,
      'a finite number >= 0',
    );
    this.warmup = checkNumber(
      'options.warmup',
      options.warmup ?? 0,
      (v) => Number.isInteger(v) && v >= 0,
      'an integer >= 0',
    );
    this.gradClip = checkNumber(
      'options.gradClip',
      options.gradClip ?? -1,
      (v) => !Number.isNaN(v),
      'a number (negative disables clipping)',
    );
  }

  /** Number of updates applied so far; the next update is made at this (0-based) step. */
  get step(): number {
    return this.stepCount;
  }

  /** The learning rate the next update will use. */
  currentLearningRate(): number {
    return warmupLearningRate(this.lr, this.warmup, this.stepCount);
  }

  /**
   * Applies one update to `variables` from `grads` (same names; each gradient of its variable's shape).
   * Does not dispose the gradients. `gradNorm` may be passed when already known (the training step computes it to
   * check finiteness), else it is computed here.
   *
   * @throws SbmArgumentError naming `grads['<name>']` when a gradient is missing or has the wrong shape.
   */
  apply(variables: NamedVariables, grads: Record<string, tf.Tensor>, gradNorm?: number): AdamUpdate {
    const names = Object.keys(variables);
    for (const name of names) {
      const g = grads[name];
      const v = variables[name]!;
      if (!(g instanceof tf.Tensor) || !tf.util.arraysEqual(g.shape, v.shape)) {
        throw new SbmArgumentError(
          `grads['${name}']`,
          `expected a gradient of shape [${v.shape.join(',')}], got ${g instanceof tf.Tensor ? `[${g.shape.join(',')}]` : String(g)}`,
        );
      }
    }
    const norm = gradNorm ?? Math.sqrt(gradientSquaredNorms(names, grads).reduce((a, b) => a + b, 0));
    const scale = clipScale(norm, this.gradClip);
    const lr = this.currentLearningRate();
    const t = this.stepCount + 1;
    const bc1 = 1 - this.beta1 ** t;
    const bc2 = 1 - this.beta2 ** t;
    const stepSize = lr / bc1;
    const sqrtBc2 = Math.sqrt(bc2);
    for (const name of names) {
      const variable = variables[name]!;
      const slot = this.slot(name, variable);
      tf.tidy(() => {
        let g = scale === 1 ? grads[name]! : tf.mul(grads[name]!, scale);
        if (this.weightDecay !== 0) g = tf.add(g, tf.mul(variable, this.weightDecay));
        const m = tf.add(tf.mul(slot.m, this.beta1), tf.mul(g, 1 - this.beta1));
        const v = tf.add(tf.mul(slot.v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
        const denom = tf.add(tf.div(tf.sqrt(v), sqrtBc2), this.eps);
        slot.m.assign(m);
        slot.v.assign(v);
        variable.assign(tf.sub(variable, tf.mul(tf.div(m, denom), stepSize)));
      });
    }
    this.stepCount = t;
    return { lr, gradNorm: norm, clipScale: scale };
  }

  /** A copy of the complete state ({@link AdamState}); moments not created yet are absent. */
  getState(): AdamState {
    const m: Record<string, Float32Array> = {};
    const v: Record<string, Float32Array> = {};
    for (const [name, slot] of Object.entries(this.moments)) {
      m[name] = Float32Array.from(slot.m.dataSync() as Float32Array);
      v[name] = Float32Array.from(slot.v.dataSync() as Float32Array);
    }
    return { step: this.stepCount, m, v };
  }

  /**
   * Restores a state from {@link getState} (copies the arrays). `variables` gives the shapes; `m` and `v` must have
   * exactly its names (or both be empty, with `step` 0).
   *
   * @throws SbmArgumentError naming `state.step`, `state.m['<name>']` or `state.v['<name>']`.
   */
  setState(state: AdamState, variables: NamedVariables): void {
    if (state === null || typeof state !== 'object') {
      throw new SbmArgumentError('state', 'expected { step, m, v }');
    }
    checkNumber('state.step', state.step, (s) => Number.isInteger(s) && s >= 0, 'an integer >= 0');
    const empty = Object.keys(state.m ?? {}).length === 0 && Object.keys(state.v ?? {}).length === 0;
    if (!empty) {
      checkNamedArrays('state.m', state.m, variables);
      checkNamedArrays('state.v', state.v, variables);
    } else if (state.step !== 0) {
      throw new SbmArgumentError('state.m', `expected moments for every variable at step ${state.step}`);
    }
    this.disposeMoments();
    if (!empty) {
      for (const [name, variable] of Object.entries(variables)) {
        this.moments[name] = tf.tidy(() => ({
          m: tf.variable(tf.tensor(state.m[name]!, variable.shape, 'float32'), false),
          v: tf.variable(tf.tensor(state.v[name]!, variable.shape, 'float32'), false),
        }));
      }
    }
    this.stepCount = state.step;
  }

  /** Releases the moment tensors. */
  dispose(): void {
    this.disposeMoments();
  }

  private disposeMoments(): void {
    for (const slot of Object.values(this.moments)) tf.dispose([slot.m, slot.v]);
    this.moments = {};
  }

  private slot(name: string, variable: tf.Variable): { m: tf.Variable; v: tf.Variable } {
    let slot = this.moments[name];
    if (slot === undefined) {
      if (this.stepCount !== 0) {
        throw new SbmArgumentError(
          `variables['${name}']`,
          `has no optimizer state at step ${this.stepCount} (restored state from another model?)`,
        );
      }
      slot = tf.tidy(() => ({
        m: tf.variable(tf.zerosLike(variable), false),
        v: tf.variable(tf.zerosLike(variable), false),
      }));
      this.moments[name] = slot;
    }
    return slot;
  }
}
