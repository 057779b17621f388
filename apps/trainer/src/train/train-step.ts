import type { Batch, LossFn, ModelInput } from '@sbm/losses';
import { SbmArgumentError } from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';
// Training needs the gradient functions of tfjs-core's ops (a side effect: it registers them once).
// tfjs-core registers no gradients in Node; the tfjs-layers bundle registers them all (and the U-Net needs it anyway).
import '@tensorflow/tfjs-layers';
import type { ExponentialMovingAverage } from './ema.js';
import type { ScoreSdeAdam } from './optimizer.js';
import type { NamedVariables } from './variables.js';

/**
 * Thrown by {@link trainStep} when the loss or a gradient is NaN or ±∞. Nothing has been updated when it is thrown:
 * the weights, the optimizer state (step counter included) and the EMA are those from before the step.
 */
export class NonFiniteLossError extends Error {
  /** The (0-based) step at which it happened. */
  readonly step: number;
  /** `'loss'`, or `'gradient'` (then {@link variable} names the first variable with a non-finite gradient). */
  readonly which: 'loss' | 'gradient';
  /** The variable whose gradient is not finite, for `which === 'gradient'`. */
  readonly variable: string | undefined;
  /** The loss value (may itself be finite when a gradient is not). */
  readonly loss: number;

  constructor(step: number, which: 'loss' | 'gradient', loss: number, variable?: string) {
    super(
      which === 'loss'
        ? `non-finite loss ${loss} at step ${step}; weights not updated`
        : `non-finite gradient of '${variable}' at step ${step} (loss ${loss}); weights not updated`,
    );
    this.name = 'NonFiniteLossError';
    this.step = step;
    this.which = which;
    this.variable = variable;
    this.loss = loss;
  }
}

const TWO_POW_32 = 4294967296;

/** MurmurHash3's 32-bit finalizer (Appleby): an invertible mix in which every input bit affects every output bit. */
function fmix32(h: number): number {
  let x = h >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * The seed of the loss's randomness (times, noise, label dropout) at `step` of the run seeded `runSeed`: a hash of
 * both, so that step k draws the same randomness whether the run started at 0 or was resumed at k — the property
 * that makes resumed training equal uninterrupted training. Returns an unsigned 32-bit integer.
 *
 * @throws SbmArgumentError naming `runSeed` or `step` unless they are safe integers (step ≥ 0).
 */
export function stepSeed(runSeed: number, step: number): number {
  if (!Number.isSafeInteger(runSeed)) {
    throw new SbmArgumentError('runSeed', `expected a safe integer, got ${String(runSeed)}`);
  }
  if (!Number.isSafeInteger(step) || step < 0) {
    throw new SbmArgumentError('step', `expected a safe integer >= 0, got ${String(step)}`);
  }
  const words = [
    runSeed >>> 0,
    Math.floor(runSeed / TWO_POW_32) >>> 0,
    step >>> 0,
    Math.floor(step / TWO_POW_32) >>> 0,
  ];
  let h = 0x2545f491;
  for (const w of words) h = fmix32((h ^ w) + 0x9e3779b9);
  return h;
}

/** Everything one training step needs. */
export interface TrainStepContext {
  /** The trainable variables by name (`trainableVariables(net)`), which the gradients are taken with respect to. */
  variables: NamedVariables;
  /** The model the loss calls (e.g. `lossForConfig(...).wrap(unetNetwork(net))`); it must read `variables`. */
  model: ModelInput;
  /** The loss, `(model, batch, seed) => scalar` (e.g. `lossForConfig(...).loss`). */
  loss: LossFn;
  /** Adam with warm-up and clipping; its `step` is the run's step counter. */
  optimizer: ScoreSdeAdam;
  /** Updated after the optimizer, if given (score_sde: `state['ema'].update(model.parameters())`). */
  ema?: ExponentialMovingAverage;
  /** The run's seed; step k's loss randomness is seeded by `stepSeed(runSeed, k)`. */
  runSeed: number;
}

/** What one {@link trainStep} did. */
export interface TrainStepResult {
  /** The 0-based index of this step (the optimizer's step before it). */
  step: number;
  /** The loss before the update. */
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** Learning rate of this update (after warm-up; 0 at step 0 with warm-up, as the reference). */
  lr: number;
  /** The EMA decay used, if an EMA is kept. */
  emaDecay: number | undefined;
}

/**
 * One training step as score_sde_pytorch's `losses.get_step_fn(train=True)` + `optimization_manager`:
 * `loss = lossFn(model, batch, stepSeed(runSeed, step))`, its gradients with respect to `variables`
 * (`tf.variableGrads`), a finiteness check of the loss and of every gradient's squared norm (one download; a
 * finite gradient whose squared norm overflows float32, |g| ≳ 1e19, counts as non-finite), then clipping, warm-up learning rate and the Adam update
 * ({@link ScoreSdeAdam.apply}), then the EMA update. Does not dispose the batch.
 *
 * Works on every backend with stock kernels (nothing here depends on `@sbm/backend`'s fast kernels).
 *
 * @throws NonFiniteLossError (before anything is updated) for a NaN/∞ loss or gradient.
 * @throws SbmArgumentError naming `context.variables` if a variable gets no gradient from the loss.
 */
export function trainStep(context: TrainStepContext, batch: Batch): TrainStepResult {
  const { variables, model, loss, optimizer, ema, runSeed } = context;
  const names = Object.keys(variables);
  if (names.length === 0) throw new SbmArgumentError('context.variables', 'expected at least one variable');
  const step = optimizer.step;
  const seed = stepSeed(runSeed, step);
  const list = names.map((n) => variables[n]!);
  const { value, grads } = tf.variableGrads(() => loss(model, batch, seed), list);
  try {
    const byName: Record<string, tf.Tensor> = {};
    for (const [i, name] of names.entries()) {
      const g = grads[list[i]!.name];
      if (g === undefined) {
        throw new SbmArgumentError(`context.variables['${name}']`, 'receives no gradient from the loss');
      }
      byName[name] = g;
    }
    // One download for the loss and every gradient's squared norm (a single sync per step on a GPU).
    const packed = tf.tidy(() =>
      tf.concat([tf.reshape(value, [1]), tf.stack(names.map((n) => tf.sum(tf.square(byName[n]!))))]),
    );
    const values = packed.dataSync() as Float32Array;
    packed.dispose();
    const lossValue = values[0]!;
    if (!Number.isFinite(lossValue)) throw new NonFiniteLossError(step, 'loss', lossValue);
    let sum = 0;
    for (const [i, name] of names.entries()) {
      const s = values[i + 1]!;
      if (!Number.isFinite(s)) throw new NonFiniteLossError(step, 'gradient', lossValue, name);
      sum += s;
    }
    const update = optimizer.apply(variables, byName, Math.sqrt(sum));
    const emaDecay = ema?.update(variables);
    return { step, loss: lossValue, gradNorm: update.gradNorm, lr: update.lr, emaDecay };
  } finally {
    tf.dispose([value, ...Object.values(grads)]);
  }
}
