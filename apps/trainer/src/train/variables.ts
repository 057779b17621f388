import { SbmArgumentError } from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

/**
 * The trainable variables of a model by a name that does not depend on what else lives in the process:
 * `name → tf.Variable`, in the model's `trainableWeights` order (the order of score_sde's `model.parameters()`).
 *
 * Every state of the training step (Adam moments, EMA shadow weights) is keyed by these names, so that a
 * checkpoint written by one process is read by a freshly built network in another.
 */
export type NamedVariables = Record<string, tf.Variable>;

/** Anything holding a tfjs-layers model: a `tf.LayersModel`, or a wrapper with a `model` field such as `UNet`. */
export type LayersModelLike = tfl.LayersModel | { readonly model: tfl.LayersModel };

/**
 * The trainable variables of a tfjs-layers model keyed by the weights' **original** names (e.g.
 * `all_modules.3/weight`). tfjs-layers makes the variable names themselves unique per process by appending
 * `_1`, `_2`, … when a second network is built, so `tf.Variable.name` differs between a network and its rebuilt
 * copy; the original (scoped) name does not.
 *
 * @throws SbmArgumentError naming `model` if it is not a layers model, has no trainable weights, or two weights share
 * a name.
 */
export function trainableVariables(model: LayersModelLike): NamedVariables {
  const layers = (model as { model?: tfl.LayersModel }).model ?? (model as tfl.LayersModel);
  const weights = (layers as { trainableWeights?: tfl.LayerVariable[] } | null)?.trainableWeights;
  if (!Array.isArray(weights)) {
    throw new SbmArgumentError('model', 'expected a tf.LayersModel or an object with a `model` LayersModel');
  }
  if (weights.length === 0) throw new SbmArgumentError('model', 'the model has no trainable weights');
  const out: NamedVariables = {};
  for (const w of weights) {
    const name = w.originalName;
    if (name in out) throw new SbmArgumentError('model', `two trainable weights are named '${name}'`);
    const v = w.read();
    if (!(v instanceof tf.Variable)) {
      throw new SbmArgumentError('model', `weight '${name}' is not backed by a tf.Variable`);
    }
    out[name] = v;
  }
  return out;
}

/** Copies every variable's value to a Float32Array (a plain, serializable snapshot). */
export function readVariables(variables: NamedVariables): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const [name, v] of Object.entries(variables))
    out[name] = Float32Array.from(v.dataSync() as Float32Array);
  return out;
}

/**
 * Checks that `values` has exactly the names of `variables` with matching sizes; `what` names the argument in the
 * error.
 */
export function checkNamedArrays(
  what: string,
  values: Record<string, Float32Array>,
  variables: Record<string, { size: number }>,
): void {
  if (values === null || typeof values !== 'object') {
    throw new SbmArgumentError(what, 'expected a record name → Float32Array');
  }
  for (const name of Object.keys(variables)) {
    const a = values[name];
    if (!(a instanceof Float32Array)) {
      throw new SbmArgumentError(`${what}['${name}']`, 'missing, or not a Float32Array');
    }
    if (a.length !== variables[name]!.size) {
      throw new SbmArgumentError(
        `${what}['${name}']`,
        `expected ${variables[name]!.size} values, got ${a.length}`,
      );
    }
  }
  for (const name of Object.keys(values)) {
    if (!(name in variables)) throw new SbmArgumentError(`${what}['${name}']`, 'no variable of this name');
  }
}

/** Assigns `values[name]` to every variable (sizes checked by {@link checkNamedArrays}). */
export function writeVariables(variables: NamedVariables, values: Record<string, Float32Array>): void {
  checkNamedArrays('values', values, variables);
  for (const [name, v] of Object.entries(variables)) {
    tf.tidy(() => v.assign(tf.tensor(values[name]!, v.shape, 'float32')));
  }
}
