import { describeValue, SbmArgumentError } from '@sbm/sde';

/**
 * What a model declares about one of its inputs or outputs: a `GraphModel`'s `inputs[i]` / `outputs[i]`
 * (`TensorInfo`, free dimensions `-1`) or a `LayersModel`'s symbolic `inputs[i]` / `outputs[i]` (free
 * dimensions `null`), e.g. `{ name: 'x', shape: [-1, 32, 32, 3], dtype: 'float32' }`.
 */
export interface ModelTensorInfo {
  /** The tensor's name (a graph node name, or a Keras input/output name). */
  readonly name?: string;
  /** The declared shape (`-1` or `null` for any size), e.g. `[-1, H, W, C]`; absent if unknown. */
  readonly shape?: readonly (number | null)[] | null;
  /** The declared dtype (`'float32'`, `'int32'`, …). */
  readonly dtype?: string;
}

/**
 * Which model input receives the sample `x [B, ...]`, the time `t` and the class `labels [B, ...]`, by the
 * names of the model's inputs (a converted SavedModel's signature keys such as `'sample'`, `'timestep'`,
 * `'class_labels'`, its graph node names, or a LayersModel's input names).
 */
export interface ModelInputNames {
  /** Name of the input that takes the noisy sample `x`. */
  readonly x?: string;
  /** Name of the input that takes the time (step index, continuous time or noise level). */
  readonly t?: string;
  /** Name of the input that takes the class labels. */
  readonly labels?: string;
}

/**
 * The input names `wrapModel` recognizes for `x`, `t` and `labels` when `inputNames` is not given. Names
 * are compared in lower case, without a `:0` tensor suffix and without the `serving_default_` prefix a
 * converted SavedModel gives its placeholders, and must match exactly (no substrings).
 */
export const MODEL_INPUT_ALIASES: {
  /** Names of the noisy-sample input `x [B, ...]` (`'x'`, `'sample'`, `'noisy_images'`, `'latents'`, …). */
  readonly x: readonly string[];
  /** Names of the time input (`'t'`, `'timestep'`, `'sigma'`, `'noise_level'`, `'c_noise'`, …). */
  readonly t: readonly string[];
  /** Names of the class-label input `labels [B, ...]` (`'labels'`, `'class_labels'`, `'y'`, …). */
  readonly labels: readonly string[];
} = Object.freeze({
  x: Object.freeze([
    'x',
    'x_t',
    'xt',
    'x_noisy',
    'noisy_x',
    'noisy',
    'noisy_input',
    'noisy_sample',
    'noisy_samples',
    'noisy_images',
    'sample',
    'samples',
    'input',
    'inputs',
    'latent',
    'latents',
    'z',
    'z_t',
    'image',
    'images',
  ]),
  t: Object.freeze([
    't',
    'time',
    'times',
    'timestep',
    'timesteps',
    'time_step',
    'time_steps',
    'diffusion_step',
    'diffusion_steps',
    'step',
    'steps',
    'sigma',
    'sigmas',
    'noise_level',
    'noise_levels',
    'c_noise',
  ]),
  labels: Object.freeze([
    'labels',
    'label',
    'class_labels',
    'class_label',
    'classes',
    'class',
    'class_id',
    'class_ids',
    'y',
  ]),
});

/** A role a model input can play. @internal */
export type InputRole = 'x' | 't' | 'labels';

const ROLES: readonly InputRole[] = ['x', 't', 'labels'];

/** A declared model input or output, read from a model object. @internal */
export interface DeclaredTensor {
  /** The name the model is executed by (GraphModel signature key or node name, LayersModel input name). */
  readonly key: string | undefined;
  /** Every name the tensor goes by (key and tensor name). */
  readonly names: readonly string[];
  /** Declared shape with `-1` for free dimensions; undefined if the rank is unknown. */
  readonly shape: readonly number[] | undefined;
  /** Declared dtype, if any. */
  readonly dtype: string | undefined;
}

/**
 * Reads `infos` (a model's `inputs` or `outputs`) and the names it is executed by (`keys`: a GraphModel's
 * `inputNodes`/`outputNodes`, a LayersModel's `inputNames`/`outputNames`). Undefined when the model
 * declares none. @internal
 */
export function declaredTensors(
  infos: unknown,
  keys: unknown,
  signature?: unknown,
): DeclaredTensor[] | undefined {
  if (!Array.isArray(infos) || infos.length === 0) return undefined;
  const keyList = Array.isArray(keys) && keys.length === infos.length ? keys : undefined;
  const entries = (signature !== null && typeof signature === 'object' ? signature : {}) as Record<
    string,
    unknown
  >;
  return infos.map((raw: unknown, i) => {
    const info = (raw !== null && typeof raw === 'object' ? raw : {}) as ModelTensorInfo;
    const name = typeof info.name === 'string' && info.name !== '' ? info.name : undefined;
    const k: unknown = keyList?.[i];
    const key = typeof k === 'string' && k !== '' ? k : name;
    const names = [...new Set([key, name].filter((n): n is string => n !== undefined))];
    const fromSignature = key === undefined ? undefined : signatureTensor(entries[key]);
    const shape = Array.isArray(info.shape)
      ? info.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1))
      : fromSignature?.shape;
    const dtype = typeof info.dtype === 'string' ? info.dtype : fromSignature?.dtype;
    return { key, names, shape, dtype };
  });
}

const TF_DTYPES: Record<string, string> = {
  DT_FLOAT: 'float32',
  DT_HALF: 'float32',
  DT_DOUBLE: 'float32',
  DT_INT32: 'int32',
  DT_INT64: 'int32',
  DT_INT8: 'int32',
  DT_UINT8: 'int32',
  DT_BOOL: 'bool',
  DT_STRING: 'string',
};

/**
 * Shape and tfjs dtype of a SavedModel signature entry as tfjs-converter stores it (`{ name, dtype:
 * 'DT_FLOAT', tensorShape: { dim: [{ size: '-1' }, …] } }`), used where the graph node declares none
 * (outputs). @internal
 */
export function signatureTensor(entry: unknown): { shape?: number[]; dtype?: string } | undefined {
  if (entry === null || typeof entry !== 'object') return undefined;
  const { dtype, tensorShape } = entry as { dtype?: unknown; tensorShape?: unknown };
  const result: { shape?: number[]; dtype?: string } = {};
  if (typeof dtype === 'string' && dtype in TF_DTYPES) result.dtype = TF_DTYPES[dtype];
  if (tensorShape !== null && typeof tensorShape === 'object') {
    const { dim, unknownRank } = tensorShape as { dim?: unknown; unknownRank?: unknown };
    if (unknownRank !== true) {
      const dims = Array.isArray(dim) ? dim : [];
      result.shape = dims.map((d: unknown) => {
        const size = Number((d as { size?: unknown } | null)?.size ?? -1);
        return Number.isInteger(size) && size >= 0 ? size : -1;
      });
    }
  }
  return result;
}

/** `'x'` ← `'serving_default_X:0'`: lower case, no `:n` suffix, no `serving_default_` prefix. @internal */
export function normalizeTensorName(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/:\d+$/, '')
    .replace(/^serving_default_/, '')
    .replace(/[\s-]/g, '_');
}

/** `[-1,32,32,3]`, with `?` for an unknown rank. @internal */
export function formatShape(shape: readonly number[] | undefined): string {
  return shape === undefined ? '[?]' : `[${shape.join(',')}]`;
}

/** `'sample' [-1,2] float32, 'timestep' [-1] int32` @internal */
export function describeTensors(list: readonly DeclaredTensor[]): string {
  return list
    .map((d, i) => {
      const name = d.key === undefined ? `#${i}` : `'${d.key}'`;
      return `${name} ${formatShape(d.shape)}${d.dtype === undefined ? '' : ` ${d.dtype}`}`;
    })
    .join(', ');
}

/** Index of the declared tensor called `name` (exactly, else after normalization if unique), or −1. @internal */
export function findTensor(list: readonly DeclaredTensor[], name: string): number {
  const exact = list.findIndex((d) => d.names.includes(name));
  if (exact >= 0) return exact;
  const n = normalizeTensorName(name);
  const hits = list.flatMap((d, i) => (d.names.some((m) => normalizeTensorName(m) === n) ? [i] : []));
  return hits.length === 1 ? hits[0]! : -1;
}

/** Where each role goes: indices into the model's inputs (−1 for no labels input). @internal */
export interface InputPlan {
  readonly x: number;
  readonly t: number;
  readonly labels: number;
  /** True when every input has a name to execute it by (a NamedTensorMap can be built). */
  readonly named: boolean;
}

/**
 * Matches `x`, `t` and `labels` to the inputs a model declares: explicit `inputNames` first, then the
 * {@link MODEL_INPUT_ALIASES} (a role matched by exactly one input), then the positions `[x, t, labels]` for
 * models with 2 or 3 inputs whose names say nothing (consistent with any match by name). Every declared
 * input must get a role. Without declared inputs the order is `[x, t, labels]`.
 *
 * @throws SbmArgumentError naming `options.inputNames` (with the model's inputs, shapes and dtypes) when
 * the inputs cannot be matched.
 * @internal
 */
export function planInputs(
  declared: readonly DeclaredTensor[] | undefined,
  explicit: ModelInputNames | undefined,
  modelName: string,
): InputPlan {
  if (
    explicit !== undefined &&
    (explicit === null || typeof explicit !== 'object' || Array.isArray(explicit))
  ) {
    throw new SbmArgumentError(
      'options.inputNames',
      `expected an object { x?, t?, labels? } of input names, got ${describeValue(explicit)}`,
    );
  }
  for (const key of Object.keys(explicit ?? {})) {
    const value = (explicit as Record<string, unknown>)[key];
    if (!(ROLES as readonly string[]).includes(key)) {
      throw new SbmArgumentError('options.inputNames', `expected the keys x, t and labels, got '${key}'`);
    }
    if (value !== undefined && (typeof value !== 'string' || value === '')) {
      throw new SbmArgumentError(
        `options.inputNames.${key}`,
        `expected an input name, got ${describeValue(value)}`,
      );
    }
  }
  if (declared === undefined) {
    if (explicit !== undefined && Object.values(explicit).some((v) => v !== undefined)) {
      throw new SbmArgumentError(
        'options.inputNames',
        `${modelName} declares no named inputs; it is called with (x, t, labels) in this order`,
      );
    }
    return { x: 0, t: 1, labels: 2, named: false };
  }
  const at: Record<InputRole, number> = { x: -1, t: -1, labels: -1 };
  const taken = new Set<number>();
  for (const role of ROLES) {
    const name = explicit?.[role];
    if (name === undefined) continue;
    const i = findTensor(declared, name);
    if (i < 0) {
      throw new SbmArgumentError(
        `options.inputNames.${role}`,
        `'${name}' is not an input of ${modelName}; its inputs are ${describeTensors(declared)}`,
      );
    }
    if (taken.has(i)) {
      throw new SbmArgumentError(`options.inputNames.${role}`, `'${name}' is already given another role`);
    }
    at[role] = i;
    taken.add(i);
  }
  for (const role of ROLES) {
    if (at[role] >= 0) continue;
    const aliases = MODEL_INPUT_ALIASES[role];
    const hits = declared.flatMap((d, i) =>
      !taken.has(i) && d.names.some((n) => aliases.includes(normalizeTensorName(n))) ? [i] : [],
    );
    if (hits.length === 1) {
      at[role] = hits[0]!;
      taken.add(hits[0]!);
    }
  }
  if (at.x < 0 || at.t < 0) {
    const n = declared.length;
    const position: Record<InputRole, number> = { x: 0, t: 1, labels: n >= 3 ? 2 : -1 };
    const consistent =
      (n === 2 || n === 3) &&
      ROLES.every((role) =>
        at[role] >= 0 ? at[role] === position[role] : position[role] < 0 || !taken.has(position[role]),
      );
    if (!consistent) {
      throw new SbmArgumentError(
        'options.inputNames',
        `cannot tell which inputs of ${modelName} take x and t; its inputs are ${describeTensors(declared)}; ` +
          `name them, e.g. inputNames: { x: '${declared[0]?.key ?? 'x'}', t: '${declared[1]?.key ?? 't'}' }`,
      );
    }
    for (const role of ROLES) if (at[role] < 0) at[role] = position[role];
  }
  const fed = new Set([at.x, at.t, at.labels]);
  const unfed = declared.filter((_, i) => !fed.has(i));
  if (unfed.length > 0) {
    throw new SbmArgumentError(
      'options.inputNames',
      `${modelName} has inputs that are not x, t or labels: ${describeTensors(unfed)} (its inputs are ` +
        `${describeTensors(declared)}); the samplers can only feed x, t and labels`,
    );
  }
  return { ...at, named: declared.every((d) => d.key !== undefined) };
}

/**
 * Index of the output chosen by `option` (a name or an index) among the declared outputs; 0 when the model
 * declares one output; undefined when it declares none (chosen at run time from what it returns).
 *
 * @throws SbmArgumentError naming `options.output` (listing the outputs) for a model with several outputs
 * and no choice, an unknown name or an index out of range.
 * @internal
 */
export function planOutput(
  declared: readonly DeclaredTensor[] | undefined,
  option: string | number | undefined,
  modelName: string,
): number | undefined {
  if (option !== undefined && typeof option !== 'string' && typeof option !== 'number') {
    throw new SbmArgumentError(
      'options.output',
      `expected an output name or index, got ${describeValue(option)}`,
    );
  }
  if (typeof option === 'number' && !(Number.isInteger(option) && option >= 0)) {
    throw new SbmArgumentError(
      'options.output',
      `expected an integer index >= 0, got ${describeValue(option)}`,
    );
  }
  if (declared === undefined) return typeof option === 'number' ? option : undefined;
  if (option === undefined) {
    if (declared.length > 1) {
      throw new SbmArgumentError(
        'options.output',
        `${modelName} has ${declared.length} outputs: ${describeTensors(declared)}; choose one by name or index`,
      );
    }
    return 0;
  }
  const index = typeof option === 'number' ? option : findTensor(declared, option);
  if (index < 0 || index >= declared.length) {
    const what = typeof option === 'number' ? `index ${option}` : `'${option}'`;
    throw new SbmArgumentError(
      'options.output',
      `${what} is not an output of ${modelName}; its outputs are ${describeTensors(declared)}`,
    );
  }
  return index;
}

/** Whether `actual` fits `declared` (same rank; every fixed dimension equal). @internal */
export function shapeFits(declared: readonly number[], actual: readonly number[]): boolean {
  return declared.length === actual.length && declared.every((d, i) => d < 0 || d === actual[i]);
}

/** `[B, H, W, C]` → `[B, C, H, W]` (any rank ≥ 2: the last axis moves to position 1). @internal */
export function toChannelsFirst(shape: readonly number[]): number[] {
  return shape.length < 3 ? [...shape] : [shape[0]!, shape[shape.length - 1]!, ...shape.slice(1, -1)];
}

/** Permutation taking `[B, ...spatial, C]` to `[B, C, ...spatial]`. @internal */
export function channelsFirstPerm(rank: number): number[] {
  return [0, rank - 1, ...Array.from({ length: rank - 2 }, (_, i) => i + 1)];
}

/** Permutation taking `[B, C, ...spatial]` to `[B, ...spatial, C]`. @internal */
export function channelsLastPerm(rank: number): number[] {
  return [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2), 1];
}
