import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { CheckpointError } from './checkpoint-error.js';
import type { CheckpointArray, CheckpointContent } from './checkpoint-file.js';
import { configHash } from './config-hash.js';

/** One float32 weight: row-major `data` of `shape`. */
export interface NamedWeight {
  shape: number[];
  data: Float32Array;
}

/**
 * A network's weights by their stable names (tfjs-layers' `originalName`, e.g. `all_modules.3/weight`: the
 * name without the `_1` suffixes tfjs adds when several models live in one process), in the model's weight
 * order.
 */
export type NamedWeights = Record<string, NamedWeight>;

/**
 * Adam's state, independent of tfjs' optimizer classes: first and second moments per variable (by the same
 * names as {@link NamedWeights}, flat, in the variable's row-major order) and the number of updates taken.
 */
export interface AdamState {
  step: number;
  m: Record<string, Float32Array>;
  v: Record<string, Float32Array>;
}

/** Where the data pipeline is: the epoch and the index of the next example (or batch) within it. */
export interface DataPosition {
  epoch: number;
  index: number;
}

/** Everything a training run needs to continue exactly where it stopped. */
export interface TrainState {
  /** Training steps (optimizer updates) done. */
  step: number;
  /** The run's configuration (any JSON object); its {@link configHash} is stored alongside. */
  config: Record<string, unknown>;
  /** The trained network's weights. */
  weights: NamedWeights;
  /**
   * The EMA (shadow) weights, by the same names (all of `weights`, or a subset such as the trainable ones);
   * absent if the run keeps no EMA.
   */
  ema?: NamedWeights;
  /** The EMA's decay and update count (`null`: no warm-up decay), as the training loop's EMA keeps them. */
  emaInfo?: { decay: number; numUpdates: number | null };
  /** Adam's moments and step; absent for a state without optimizer (e.g. weights only). */
  optimizer?: AdamState;
  data: DataPosition;
  /** The random generator's state as 32-bit words (whatever generator the loop uses). */
  rng: Uint32Array;
  /** Anything else JSON (loss history, wall time, …). */
  extra?: Record<string, unknown>;
  /** The checkpoint file this state was read from (set by {@link trainStateFromCheckpoint}; used in errors). */
  source?: string;
}

/** Value of `meta.kind` in a train-state checkpoint. */
export const TRAIN_STATE_KIND = 'sbm-train-state';
/** Version of the train-state layout inside a checkpoint. */
export const TRAIN_STATE_VERSION = 1;

const WEIGHTS = 'weights/';
const EMA = 'ema/';
const ADAM_M = 'adam.m/';
const ADAM_V = 'adam.v/';
const RNG = 'rng';

/**
 * A copy of `model`'s weights by stable name, in `model.weights` order.
 *
 * @throws TypeError for a non-float32 weight or two weights with the same stable name.
 */
export function readModelWeights(model: LayersModel): NamedWeights {
  const out: NamedWeights = {};
  for (const variable of model.weights) {
    const name = variable.originalName;
    if (name in out) throw new TypeError(`readModelWeights: two weights are named '${name}'`);
    if (variable.dtype !== 'float32') {
      throw new TypeError(
        `readModelWeights: weight '${name}' is ${variable.dtype}; only float32 weights are supported`,
      );
    }
    const data = (variable.read().dataSync() as Float32Array).slice();
    out[name] = { shape: [...variable.shape] as number[], data };
  }
  return out;
}

function sameShape(a: readonly (number | null)[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Checks that `weights` fit `model` (same architecture: every weight by stable name, with its shape) without
 * assigning anything.
 *
 * @param what - What the weights are, for errors (`'weights'`, `'ema'`).
 * @param source - The file they came from, for errors.
 * @throws CheckpointError naming the first mismatching variable (checkpoint order for extra ones, model order for
 *   missing ones and shape mismatches) and both shapes.
 */
export function checkModelWeights(
  model: LayersModel,
  weights: NamedWeights,
  what = 'weights',
  source = '<train state>',
): void {
  const variables = model.weights;
  const modelNames = new Set(variables.map((v) => v.originalName));
  for (const name of Object.keys(weights)) {
    if (!modelNames.has(name)) {
      throw new CheckpointError(
        source,
        `${what}: variable '${name}' [${weights[name]!.shape.join(',')}] is not in the model '${model.name}' (a different architecture?)`,
      );
    }
  }
  for (const variable of variables) {
    const w = weights[variable.originalName];
    if (w === undefined) {
      throw new CheckpointError(
        source,
        `${what}: the model's variable '${variable.originalName}' [${variable.shape.join(',')}] is missing from the checkpoint`,
      );
    }
    if (!sameShape(variable.shape, w.shape)) {
      throw new CheckpointError(
        source,
        `${what}: variable '${variable.originalName}' has shape [${w.shape.join(',')}] in the checkpoint but [${variable.shape.join(',')}] in the model`,
      );
    }
    if (w.data.length !== w.shape.reduce((a, b) => a * b, 1)) {
      throw new CheckpointError(
        source,
        `${what}: variable '${variable.originalName}' has ${w.data.length} values for shape [${w.shape.join(',')}]`,
      );
    }
  }
}

/**
 * Puts `weights` into `model` after {@link checkModelWeights}, so that a mismatch leaves the model as it was.
 *
 * @throws CheckpointError naming the first mismatching variable and both shapes.
 */
export function writeModelWeights(
  model: LayersModel,
  weights: NamedWeights,
  what = 'weights',
  source = '<train state>',
): void {
  checkModelWeights(model, weights, what, source);
  const tensors = model.weights.map((v) => {
    const w = weights[v.originalName]!;
    return tf.tensor(w.data, w.shape, 'float32');
  });
  try {
    model.setWeights(tensors);
  } finally {
    tf.dispose(tensors);
  }
}

function checkCount(label: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(
      `trainStateToCheckpoint: ${label}: expected a non-negative integer, got ${String(value)}`,
    );
  }
  return value;
}

/**
 * The checkpoint content (arrays and meta, for {@link writeCheckpoint} or `CheckpointDir.save`) of a train state.
 * Arrays: `weights/<name>`, `ema/<name>`, `adam.m/<name>`, `adam.v/<name>` (weight-shaped), `rng` (uint32);
 * meta: `{ kind, version, step, config, configHash, data, weights: names, ema: names | null, optimizer: { kind:
 * 'adam', step, variables: names } | null, extra }`.
 *
 * The arrays share the state's buffers (no copy); write before changing them.
 *
 * @throws RangeError/TypeError naming the offending field (bad counts, moments of unknown variables or of the
 *   wrong size, EMA names differing from the weights').
 */
export function trainStateToCheckpoint(state: TrainState): CheckpointContent {
  checkCount('state.step', state.step);
  checkCount('state.data.epoch', state.data?.epoch);
  checkCount('state.data.index', state.data?.index);
  if (!(state.rng instanceof Uint32Array))
    throw new TypeError('trainStateToCheckpoint: state.rng: expected a Uint32Array');
  const arrays: Record<string, CheckpointArray> = {};
  const names = Object.keys(state.weights);
  for (const name of names) {
    const w = state.weights[name]!;
    arrays[WEIGHTS + name] = { dtype: 'float32', shape: w.shape, data: w.data };
  }
  if (state.ema !== undefined) {
    for (const name of Object.keys(state.ema)) {
      const w = state.ema[name]!;
      const like = state.weights[name];
      if (like === undefined || !sameShape(like.shape, w.shape)) {
        throw new RangeError(
          `trainStateToCheckpoint: state.ema['${name}']: expected a weight of state.weights with its shape${like === undefined ? ' (no such weight)' : ` [${like.shape.join(',')}], got [${w.shape.join(',')}]`}`,
        );
      }
      arrays[EMA + name] = { dtype: 'float32', shape: w.shape, data: w.data };
    }
  }
  let optimizer: Record<string, unknown> | null = null;
  if (state.optimizer !== undefined) {
    const { m, v } = state.optimizer;
    const variables = Object.keys(m);
    for (const name of variables) {
      const w = state.weights[name];
      if (w === undefined)
        throw new RangeError(`trainStateToCheckpoint: state.optimizer.m['${name}']: no such weight`);
      for (const [moment, table] of [
        ['m', m],
        ['v', v],
      ] as const) {
        const values = table[name];
        if (!(values instanceof Float32Array) || values.length !== w.data.length) {
          throw new RangeError(
            `trainStateToCheckpoint: state.optimizer.${moment}['${name}']: expected a Float32Array of ${w.data.length} values (the weight's size)`,
          );
        }
      }
      arrays[ADAM_M + name] = { dtype: 'float32', shape: w.shape, data: m[name]! };
      arrays[ADAM_V + name] = { dtype: 'float32', shape: w.shape, data: v[name]! };
    }
    const extraV = Object.keys(v).find((name) => !(name in m));
    if (extraV !== undefined)
      throw new RangeError(`trainStateToCheckpoint: state.optimizer.v['${extraV}'] has no first moment`);
    optimizer = { kind: 'adam', step: checkCount('state.optimizer.step', state.optimizer.step), variables };
  }
  arrays[RNG] = { dtype: 'uint32', shape: [state.rng.length], data: state.rng };
  return {
    meta: {
      kind: TRAIN_STATE_KIND,
      version: TRAIN_STATE_VERSION,
      step: state.step,
      config: state.config,
      configHash: configHash(state.config),
      data: { epoch: state.data.epoch, index: state.data.index },
      weights: names,
      ema: state.ema === undefined ? null : Object.keys(state.ema),
      emaInfo: state.emaInfo ?? null,
      optimizer,
      extra: state.extra ?? {},
    },
    arrays,
  };
}

/**
 * The train state stored in a checkpoint (as read by {@link readCheckpoint} or `latestCheckpoint`). The arrays
 * are used as they are (no copy).
 *
 * @param path - The checkpoint's file, for errors (default `checkpoint.path` when present).
 * @throws CheckpointError naming the file and the missing or invalid part (not a train state, unknown version,
 *   missing array, shape or dtype mismatch, config hash mismatch).
 */
export function trainStateFromCheckpoint(
  checkpoint: CheckpointContent & { path?: string },
  path: string = checkpoint.path ?? '<checkpoint>',
): TrainState {
  const bad = (what: string): never => {
    throw new CheckpointError(path, what);
  };
  const meta = checkpoint.meta;
  if (meta.kind !== TRAIN_STATE_KIND)
    bad(`not a train state (meta.kind is ${JSON.stringify(meta.kind)}, expected '${TRAIN_STATE_KIND}')`);
  if (meta.version !== TRAIN_STATE_VERSION) {
    bad(
      `unknown train-state version ${JSON.stringify(meta.version)} (this reader knows ${TRAIN_STATE_VERSION})`,
    );
  }
  const count = (label: string, value: unknown): number =>
    typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
      ? value
      : bad(`meta.${label}: expected a non-negative integer, got ${JSON.stringify(value)}`);
  const nameList = (label: string, value: unknown): string[] =>
    Array.isArray(value) && value.every((n) => typeof n === 'string')
      ? (value as string[])
      : bad(`meta.${label}: expected a list of variable names`);
  const array = (name: string, dtype: 'float32' | 'uint32'): CheckpointArray => {
    const a = checkpoint.arrays[name];
    if (a === undefined) return bad(`missing array '${name}'`);
    if (a.dtype !== dtype) bad(`array '${name}' is ${a.dtype}, expected ${dtype}`);
    return a;
  };
  const weightTable = (prefix: string, names: string[]): NamedWeights => {
    const out: NamedWeights = {};
    for (const name of names) {
      const a = array(prefix + name, 'float32');
      out[name] = { shape: [...a.shape], data: a.data as Float32Array };
    }
    return out;
  };
  if (typeof meta.config !== 'object' || meta.config === null || Array.isArray(meta.config))
    bad('meta.config: expected an object');
  const config = meta.config as Record<string, unknown>;
  const hash = configHash(config);
  if (meta.configHash !== hash)
    bad(`meta.configHash ${JSON.stringify(meta.configHash)} does not match the stored config (${hash})`);
  const step = count('step', meta.step);
  const data = meta.data as Partial<DataPosition> | undefined;
  const position = { epoch: count('data.epoch', data?.epoch), index: count('data.index', data?.index) };
  const names = nameList('weights', meta.weights);
  const weights = weightTable(WEIGHTS, names);
  const state: TrainState = {
    step,
    config,
    weights,
    data: position,
    rng: array(RNG, 'uint32').data as Uint32Array,
    extra: (meta.extra ?? {}) as Record<string, unknown>,
    source: path,
  };
  if (meta.ema !== null && meta.ema !== undefined) {
    state.ema = weightTable(EMA, nameList('ema', meta.ema));
    const info = meta.emaInfo as { decay?: unknown; numUpdates?: unknown } | null | undefined;
    if (info !== null && info !== undefined) {
      if (typeof info.decay !== 'number') bad('meta.emaInfo.decay: expected a number');
      state.emaInfo = {
        decay: info.decay as number,
        numUpdates: info.numUpdates === null ? null : count('emaInfo.numUpdates', info.numUpdates),
      };
    }
    for (const name of Object.keys(state.ema)) {
      if (!sameShape(state.ema[name]!.shape, weights[name]?.shape ?? [])) {
        bad(`array '${EMA}${name}' has shape [${state.ema[name]!.shape.join(',')}], unlike the weight's`);
      }
    }
  }
  if (meta.optimizer !== null && meta.optimizer !== undefined) {
    const o = meta.optimizer as { kind?: unknown; step?: unknown; variables?: unknown };
    if (o.kind !== 'adam') bad(`meta.optimizer.kind: expected 'adam', got ${JSON.stringify(o.kind)}`);
    const optimizer: AdamState = { step: count('optimizer.step', o.step), m: {}, v: {} };
    for (const name of nameList('optimizer.variables', o.variables)) {
      const size = weights[name]?.data.length ?? bad(`meta.optimizer.variables: '${name}' is not a weight`);
      for (const [prefix, table] of [
        [ADAM_M, optimizer.m],
        [ADAM_V, optimizer.v],
      ] as const) {
        const a = array(prefix + name, 'float32');
        if (a.data.length !== size)
          bad(`array '${prefix}${name}' has ${a.data.length} values, the weight ${size}`);
        table[name] = a.data as Float32Array;
      }
    }
    state.optimizer = optimizer;
  }
  return state;
}

/**
 * Weight tables from flat arrays by name (e.g. an EMA's shadow weights or a `readVariables` snapshot), with the
 * shapes of `model`'s weights of the same names, in the model's order.
 *
 * @throws RangeError naming an array that is not a weight of the model or has the wrong size.
 */
export function withModelShapes(model: LayersModel, arrays: Record<string, Float32Array>): NamedWeights {
  const out: NamedWeights = {};
  const shapes = new Map(model.weights.map((v) => [v.originalName, v.shape as number[]]));
  for (const name of Object.keys(arrays)) {
    if (!shapes.has(name))
      throw new RangeError(`withModelShapes: '${name}' is not a weight of model '${model.name}'`);
  }
  for (const [name, shape] of shapes) {
    const data = arrays[name];
    if (data === undefined) continue;
    const size = shape.reduce((a, b) => a * b, 1);
    if (data.length !== size) {
      throw new RangeError(
        `withModelShapes: '${name}' has ${data.length} values, the weight [${shape.join(',')}] ${size}`,
      );
    }
    out[name] = { shape: [...shape], data };
  }
  return out;
}

/** The models {@link restoreTrainState} puts weights into. */
export interface RestoreTargets {
  /** The trained network (same architecture as the checkpoint's). */
  model: LayersModel;
  /** The EMA network, if the loop keeps the EMA as a model; needs `state.ema`. */
  ema?: LayersModel;
}

/**
 * Puts a train state's weights back into models of the same architecture (and its EMA weights into `targets.ema`
 * if given). The optimizer state, data position, RNG and step are for the training loop to take from `state`.
 *
 * @throws CheckpointError naming the checkpoint and the first mismatching variable with both shapes, or saying the
 *   state has no EMA weights; nothing is assigned then.
 */
export function restoreTrainState(state: TrainState, targets: RestoreTargets): void {
  const source = state.source ?? '<train state>';
  if (targets.ema !== undefined && state.ema === undefined) {
    throw new CheckpointError(source, 'ema: the checkpoint has no EMA weights, but an EMA model was given');
  }
  // Check both before assigning either.
  checkModelWeights(targets.model, state.weights, 'weights', source);
  if (targets.ema !== undefined) checkModelWeights(targets.ema, state.ema!, 'ema', source);
  writeModelWeights(targets.model, state.weights, 'weights', source);
  if (targets.ema !== undefined) writeModelWeights(targets.ema, state.ema!, 'ema', source);
}
