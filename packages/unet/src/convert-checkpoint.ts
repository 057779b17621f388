import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { SbmArgumentError } from '@sbm/sde';
import type { UNetConfig } from './config.js';
import { fileSystemIO } from './fs-io.js';
import { UNET_PRESET_NAMES, unetPreset } from './presets.js';
import { referenceOverrides } from './reference-overrides.js';
import { importScoreSdeCheckpoint, type WeightSource } from './score-sde-checkpoint.js';

/** Options of {@link convertScoreSdeCheckpoint}. */
export interface ConvertOptions {
  /** Path of the score_sde `.pth` checkpoint. */
  checkpoint: string;
  /** Output directory (model.json + weights.bin). */
  out: string;
  /** Config of the checkpoint's network. */
  config: UNetConfig;
  /**
   * Which weights to convert: `'ema'` (`state['ema'].shadow_params`, the exponential moving average score_sde
   * samples with; the command line's default) or `'model'` (the raw trained parameters, `state['model']`).
   */
  weights: WeightSource;
}

/**
 * Converts a score_sde_pytorch checkpoint into a tfjs model directory (`model.json` + `weights.bin`, loadable
 * with `loadUNet(fileSystemIO(dir))`). Returns the number of parameters written.
 */
export async function convertScoreSdeCheckpoint(options: ConvertOptions): Promise<number> {
  const bytes = new Uint8Array(await readFile(options.checkpoint));
  const net = importScoreSdeCheckpoint(bytes, options.config, { weights: options.weights });
  try {
    await net.save(fileSystemIO(options.out));
    return net.countParams();
  } finally {
    net.dispose();
  }
}

const USAGE = `Usage: sbm-unet-convert <checkpoint.pth> <out-dir> --preset <name> [--weights ema|model] [--overrides <json>]

Converts a score_sde_pytorch checkpoint into a tfjs model directory (model.json + weights.bin).
  --preset     the reference config the checkpoint was trained with, one of:
               ${UNET_PRESET_NAMES.join(', ')}
  --weights    'ema' (default; what score_sde samples with) or 'model'
  --overrides  JSON object of config changes, in score_sde keys ({"data.image_size": 16, "model.nf": 32})
               or @sbm/unet field names ({"imageSize": 16})`;

/**
 * The `sbm-unet-convert` command line. Returns the exit code; messages go to `log` / `error`.
 */
export async function runConvertCli(
  argv: string[],
  log: (s: string) => void = console.log,
  error: (s: string) => void = console.error,
): Promise<number> {
  let parsed: ReturnType<typeof parseCli>;
  try {
    parsed = parseCli(argv);
  } catch (e) {
    error(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed === 'help') {
    log(USAGE);
    return 0;
  }
  try {
    const n = await convertScoreSdeCheckpoint(parsed);
    log(`wrote ${parsed.out} (${n} parameters, ${parsed.weights} weights)`);
    return 0;
  } catch (e) {
    error(`sbm-unet-convert: ${(e as Error).message}`);
    return 1;
  }
}

function parseCli(argv: string[]): ConvertOptions | 'help' {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      preset: { type: 'string' },
      weights: { type: 'string', default: 'ema' },
      overrides: { type: 'string', default: '{}' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  if (positionals.length !== 2)
    throw new SbmArgumentError('arguments', 'expected <checkpoint.pth> <out-dir>');
  if (values.preset === undefined) throw new SbmArgumentError('--preset', 'required');
  if (values.weights !== 'ema' && values.weights !== 'model') {
    throw new SbmArgumentError('--weights', `expected 'ema' or 'model', got ${values.weights}`);
  }
  let overrides: Record<string, unknown>;
  try {
    overrides = JSON.parse(values.overrides) as Record<string, unknown>;
  } catch {
    throw new SbmArgumentError('--overrides', 'expected a JSON object');
  }
  return {
    checkpoint: positionals[0]!,
    out: positionals[1]!,
    config: unetPreset(values.preset, referenceOverrides(overrides)),
    weights: values.weights,
  };
}
