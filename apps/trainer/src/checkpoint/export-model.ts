import { open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ModelAdapterOptions } from '@sbm/samplers';
import { SbmArgumentError, type SDE, SubVPSDE, VESDE, VPSDE } from '@sbm/sde';
import { createUNet, registerUNetLayers, type UNetConfig } from '@sbm/unet';
import { fileSystemIO } from '@sbm/unet/node';
import * as tfl from '@tensorflow/tfjs-layers';
import { z } from 'zod';
import { createMlpNetwork, type MlpConfig } from '../train/mlp-network.js';
import { fsyncDirectory, isCode, tempPathFor, writeFileAtomic } from './atomic-file.js';
import { CheckpointError } from './checkpoint-error.js';
import { configHash } from './config-hash.js';
import { type NamedWeights, type TrainState, writeModelWeights } from './train-state.js';

/** Name of the sidecar file next to `model.json` in an exported model directory. */
export const MODEL_INFO_FILE = 'sbm-model.json';

/** The files an exported model directory holds. */
const EXPORT_FILES = new Set(['model.json', 'weights.bin', MODEL_INFO_FILE]);

const positive = z.number().positive();
const count = z.number().int().nonnegative();

const sdeInfoSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.enum(['vp', 'subvp']),
    betaMin: positive,
    betaMax: positive,
    N: z.number().int().min(1),
  }),
  z.strictObject({
    kind: z.literal('ve'),
    sigmaMin: positive,
    sigmaMax: positive,
    N: z.number().int().min(1),
  }),
]);

/** Zod schema of {@link SbmModelInfo} (the sidecar `sbm-model.json`). */
export const modelInfoSchema = z.strictObject({
  format: z.literal('sbm-model'),
  version: z.literal(1),
  /** The forward SDE the network was trained with (`@sbm/sde`'s `VPSDE`, `SubVPSDE`, `VESDE` options). */
  sde: sdeInfoSchema,
  /** What the network outputs (`wrapModel`'s `prediction`). */
  prediction: z.enum(['score', 'eps', 'x0', 'v']),
  /** What its time input holds (`wrapModel`'s `timeInput`). */
  timeInput: z.enum(['continuous', 'index', 'sigma']),
  /** `wrapModel`'s `numTrainSteps` (for `timeInput: 'index'`: the time input is t·(numTrainSteps − 1)). */
  numTrainSteps: z.number().int().min(1),
  /**
   * The data the network models: images (`[−1, 1]` if centered, else `[0, 1]`; NHWC of this size), or arrays
   * of `shape` with unscaled float values (e.g. `[2]`: 2-D points, `x [B, 2]`).
   */
  data: z.union(
    [
      z.strictObject({
        centered: z.boolean(),
        imageSize: z.number().int().min(1),
        numChannels: z.number().int().min(1),
      }),
      z.strictObject({
        shape: z
          .array(z.number().int().min(1), { error: 'expected a list of positive integers' })
          .min(1, { error: 'expected a non-empty list of positive integers (the shape of one sample)' }),
      }),
    ],
    {
      error:
        'expected { centered, imageSize, numChannels } (images) or { shape } (e.g. { "shape": [2] } for 2-D points)',
    },
  ),
  /** Classes of a class-conditional network (label `numClasses` is the null class), 0 if unconditional. */
  numClasses: count,
  /** Which weights were exported. */
  weights: z.enum(['ema', 'model']),
  /** Training step of the exported weights. */
  step: count,
  /** {@link configHash} of the run's configuration, if known. */
  configHash: z.string().optional(),
});

/** The sidecar `sbm-model.json`: what `wrapModel` of `@sbm/samplers` needs besides the model itself. */
export type SbmModelInfo = z.infer<typeof modelInfoSchema>;

/** The sidecar's `data` of an image model: `x [B, imageSize, imageSize, numChannels]`. */
export type ImageDataInfo = Extract<SbmModelInfo['data'], { imageSize: number }>;
/** The sidecar's `data` of an array model (e.g. 2-D points): `x [B, ...shape]`, unscaled. */
export type ArrayDataInfo = Extract<SbmModelInfo['data'], { shape: number[] }>;

/** Whether a sidecar describes images (else arrays such as 2-D points, `data.shape`). */
export function isImageModelInfo(info: SbmModelInfo): info is SbmModelInfo & { data: ImageDataInfo } {
  return !('shape' in info.data);
}

/**
 * The shape of one sample of an exported model: `[H, W, C]` for images (H = W = `data.imageSize`,
 * C = `data.numChannels`), `data.shape` for arrays (`[2]` for 2-D points).
 */
export function modelSampleShape(info: SbmModelInfo): number[] {
  return isImageModelInfo(info)
    ? [info.data.imageSize, info.data.imageSize, info.data.numChannels]
    : [...(info.data as ArrayDataInfo).shape];
}

/** What the caller says about the model; the data shape and class count default to the network's config. */
export type ModelInfoInput = Omit<SbmModelInfo, 'format' | 'version' | 'data' | 'numClasses' | 'weights'> & {
  data?: Partial<ImageDataInfo> | Partial<ArrayDataInfo>;
  numClasses?: number;
  weights?: SbmModelInfo['weights'];
};

/** The network to export: a U-Net (`unetConfig`, as built by `createUNet`) or an MLP (`mlpConfig`, `createMlpNetwork`). */
export type ExportedNetwork =
  | { unetConfig: UNetConfig; mlpConfig?: never }
  | { mlpConfig: MlpConfig; unetConfig?: never };

/** Options of {@link exportModel}: the network's architecture, its weights and the sidecar's fields. */
export type ExportModelOptions = ExportedNetwork & {
  /** The weights to export (normally the EMA weights), by stable name. */
  weights: NamedWeights;
  info: ModelInfoInput;
};

async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Exports weights as a tfjs LayersModel directory that `tf.loadLayersModel(fileSystemIO(dir))` (after
 * `registerUNetLayers()`), `loadUNet` or `loadMlpNetwork` load: `model.json` + `weights.bin` (with the
 * `UNetConfig` or `MlpConfig` in the model's metadata) and the sidecar {@link MODEL_INFO_FILE}
 * ({@link SbmModelInfo}). A U-Net's sidecar describes images (`data.centered/imageSize/numChannels` from the
 * `UNetConfig`), an MLP's arrays `x [B, D]` (`data.shape` = `[mlpConfig.dim]`, e.g. `[2]` for 2-D points).
 *
 * The directory is written next to `outDir` under a temp name, fsynced, and renamed into place; an existing
 * export at `outDir` is replaced only then (a directory holding anything else is refused).
 *
 * @returns The sidecar written.
 * @throws CheckpointError if the weights do not fit the architecture (naming the first mismatching variable), if
 *   `outDir` exists and is not an exported model, or if the info is invalid.
 * @throws SbmArgumentError naming `options` unless exactly one of `unetConfig` and `mlpConfig` is given.
 */
export async function exportModel(outDir: string, options: ExportModelOptions): Promise<SbmModelInfo> {
  const { unetConfig, mlpConfig, weights } = options;
  if ((unetConfig === undefined) === (mlpConfig === undefined)) {
    throw new SbmArgumentError(
      'options',
      'expected exactly one of unetConfig (a U-Net) and mlpConfig (an MLP)',
    );
  }
  const parsed = modelInfoSchema.safeParse({
    format: 'sbm-model',
    version: 1,
    ...options.info,
    weights: options.info.weights ?? 'ema',
    numClasses: options.info.numClasses ?? (unetConfig ?? mlpConfig)!.numClasses,
    data:
      unetConfig !== undefined
        ? {
            centered: unetConfig.centered,
            imageSize: unetConfig.imageSize,
            numChannels: unetConfig.numChannels,
            ...options.info.data,
          }
        : { shape: [mlpConfig!.dim], ...options.info.data },
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new CheckpointError(
      join(outDir, MODEL_INFO_FILE),
      `info.${issue.path.join('.')}: ${issue.message}`,
    );
  }
  const info = parsed.data;
  await refuseForeignDirectory(outDir);

  const net = unetConfig !== undefined ? createUNet(unetConfig) : createMlpNetwork(mlpConfig!);
  const temp = tempPathFor(outDir);
  try {
    writeModelWeights(net.model, weights, info.weights, join(outDir, 'model.json'));
    await net.save(fileSystemIO(temp));
    await writeFileAtomic(join(temp, MODEL_INFO_FILE), async (h) => {
      await h.write(`${JSON.stringify(info, null, 2)}\n`);
    });
    for (const name of await readdir(temp)) await fsyncFile(join(temp, name));
    await fsyncDirectory(temp);
    const old = tempPathFor(`${outDir}.old`);
    let replaced = false;
    try {
      await rename(outDir, old);
      replaced = true;
    } catch (error) {
      if (!isCode(error, 'ENOENT')) throw error;
    }
    await rename(temp, outDir);
    await fsyncDirectory(dirname(outDir));
    if (replaced) await rm(old, { recursive: true, force: true });
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  } finally {
    net.dispose();
  }
  return info;
}

/** Throws unless `outDir` is absent or an earlier export (only {@link EXPORT_FILES}). */
async function refuseForeignDirectory(outDir: string): Promise<void> {
  let names: string[];
  try {
    if (!(await stat(outDir)).isDirectory()) {
      throw new CheckpointError(
        outDir,
        'exists and is not a directory; refusing to replace it with an exported model',
      );
    }
    names = await readdir(outDir);
  } catch (error) {
    if (isCode(error, 'ENOENT')) return;
    throw error;
  }
  const foreign = names.filter((n) => !EXPORT_FILES.has(n));
  if (foreign.length > 0) {
    throw new CheckpointError(
      outDir,
      `exists and holds files that are not part of an exported model (${foreign.slice(0, 5).join(', ')}); refusing to replace it`,
    );
  }
}

/**
 * Exports a train state's EMA weights ({@link exportModel}) of a U-Net (`unetConfig`) or an MLP
 * (`mlpConfig`), with its step and config hash in the sidecar.
 *
 * @throws CheckpointError naming the state's checkpoint if it has no EMA weights.
 */
export async function exportTrainStateModel(
  outDir: string,
  state: TrainState,
  options: ExportedNetwork & { info: Omit<ModelInfoInput, 'step' | 'weights'> },
): Promise<SbmModelInfo> {
  if (state.ema === undefined) {
    throw new CheckpointError(state.source ?? '<train state>', 'has no EMA weights to export');
  }
  const network: ExportedNetwork =
    options.unetConfig !== undefined ? { unetConfig: options.unetConfig } : { mlpConfig: options.mlpConfig! };
  return exportModel(outDir, {
    ...network,
    weights: state.ema,
    info: { configHash: configHash(state.config), ...options.info, step: state.step, weights: 'ema' },
  });
}

/**
 * Reads and validates an exported model's sidecar.
 *
 * @throws CheckpointError naming `sbm-model.json` and the first invalid field.
 */
export async function readModelInfo(modelDir: string): Promise<SbmModelInfo> {
  const path = join(modelDir, MODEL_INFO_FILE);
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new CheckpointError(path, `cannot read: ${(error as Error).message}`, { cause: error });
  }
  const parsed = modelInfoSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new CheckpointError(path, `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

/**
 * Loads an exported model directory: the tfjs LayersModel (custom layers registered; a U-Net or an MLP) and
 * its sidecar.
 *
 * @example
 * ```ts
 * const { model, info } = await loadExportedModel('runs/cifar10/export');
 * ```
 */
export async function loadExportedModel(
  modelDir: string,
): Promise<{ model: tfl.LayersModel; info: SbmModelInfo }> {
  const info = await readModelInfo(modelDir);
  registerUNetLayers();
  const model = await tfl.loadLayersModel(fileSystemIO(modelDir));
  return { model, info };
}

/**
 * The `wrapModel` options (`@sbm/samplers`) a sidecar describes: the SDE object, prediction, time input and
 * numTrainSteps.
 *
 * @example
 * ```ts
 * const { model, info } = await loadExportedModel(dir);
 * const adapter = wrapModel(model, modelAdapterOptions(info));
 * ```
 */
export function modelAdapterOptions(info: SbmModelInfo): ModelAdapterOptions & { sde: SDE } {
  const s = info.sde;
  const sde =
    s.kind === 've'
      ? new VESDE({ sigmaMin: s.sigmaMin, sigmaMax: s.sigmaMax, N: s.N })
      : new (s.kind === 'vp' ? VPSDE : SubVPSDE)({ betaMin: s.betaMin, betaMax: s.betaMax, N: s.N });
  return { sde, prediction: info.prediction, timeInput: info.timeInput, numTrainSteps: info.numTrainSteps };
}
