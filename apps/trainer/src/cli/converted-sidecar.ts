import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { referenceOverrides, unetPreset } from '@sbm/unet';
import { writeFileAtomic } from '../checkpoint/atomic-file.js';
import { MODEL_INFO_FILE, modelInfoSchema, type SbmModelInfo } from '../checkpoint/export-model.js';
import { resolveModelIO } from '../config/model-io.js';
import { TRAINER_PRESET_NAMES, trainerPreset } from '../config/presets.js';
import { trainerConfigSchema } from '../config/schema.js';

/**
 * The `sbm-model.json` sidecar of a score_sde checkpoint converted by `sbm convert`, so that `sbm sample --model`
 * and `wrapModel` know its SDE, output and time input: taken from the trainer preset of the same name as the
 * converter's `--preset` (score_sde's config file), with the network's data shape after `--overrides`.
 * Returns `undefined` when `--preset` is not a trainer preset (the model then needs its sidecar written by hand),
 * else the sidecar and the output directory (the second positional argument).
 */
export function convertedModelInfo(
  argv: readonly string[],
): { info: SbmModelInfo; outDir: string } | undefined {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { preset: { type: 'string' }, weights: { type: 'string' }, overrides: { type: 'string' } },
  });
  const preset = values.preset;
  const outDir = positionals[1];
  if (
    outDir === undefined ||
    preset === undefined ||
    !(TRAINER_PRESET_NAMES as readonly string[]).includes(preset)
  ) {
    return undefined;
  }
  const config = trainerConfigSchema.parse({
    ...trainerPreset(preset),
    data: { ...trainerPreset(preset).data, path: '-' },
  });
  const unet = unetPreset(preset, values.overrides ? referenceOverrides(JSON.parse(values.overrides)) : {});
  const io = resolveModelIO(config);
  const s = config.sde;
  const info = modelInfoSchema.parse({
    format: 'sbm-model',
    version: 1,
    sde:
      s.kind === 've'
        ? { kind: 've', sigmaMin: s.sigmaMin, sigmaMax: s.sigmaMax, N: s.numScales }
        : { kind: s.kind, betaMin: s.betaMin, betaMax: s.betaMax, N: s.numScales },
    prediction: io.prediction,
    timeInput: io.timeInput,
    numTrainSteps: 1000,
    data: { centered: unet.centered, imageSize: unet.imageSize, numChannels: unet.numChannels },
    numClasses: unet.numClasses ?? 0,
    weights: values.weights === 'model' ? 'model' : 'ema',
    step: 0,
  });
  return { info, outDir };
}

/** Writes {@link convertedModelInfo} next to the converted `model.json` in `outDir` (atomically). */
export async function writeConvertedModelInfo(outDir: string, info: SbmModelInfo): Promise<void> {
  await writeFileAtomic(join(outDir, MODEL_INFO_FILE), async (h) => {
    await h.writeFile(`${JSON.stringify(info, null, 2)}\n`);
  });
}
