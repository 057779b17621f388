import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from './config-error.js';
import { discriminatorAt } from './config-keys.js';
import { trainerPreset } from './presets.js';
import type { TrainerConfig } from './schema.js';
import { applySetOverride, parseSetOverride } from './set-override.js';
import { validateConfig } from './validate-config.js';

/** Where {@link loadConfig} starts and what it changes. */
export interface LoadConfigOptions {
  /** A trainer preset name (`TRAINER_PRESET_NAMES`). */
  preset?: string;
  /** A `.json`, `.yaml` or `.yml` config file (a full config, or a partial one on top of `preset`). */
  file?: string;
  /** `key=value` overrides applied in order (`optim.lr=1e-3`, `model.chMult=[1,2,2]`). */
  set?: readonly string[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Deep merge of a file over a preset: `over` wins; arrays and scalars replace; a section whose discriminator
 * (`data.dataset`, `model.kind`, `sampling.sampler`) changes is replaced whole, as its other keys belong to the
 * old option.
 */
function mergeConfigs(base: unknown, over: unknown, path: string[] = []): unknown {
  if (!isRecord(base) || !isRecord(over)) return over;
  const discriminator = discriminatorAt(path, base);
  if (discriminator !== undefined && discriminator in over && over[discriminator] !== base[discriminator]) {
    return over;
  }
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) out[key] = mergeConfigs(base[key], value, [...path, key]);
  return out;
}

/**
 * Reads a JSON or YAML config file (by extension: `.json`, `.yaml`, `.yml`).
 *
 * @throws ConfigError when the file cannot be read, has another extension, is not valid JSON/YAML, or does not
 * hold a mapping at the top level.
 */
export async function readConfigFile(file: string): Promise<Record<string, unknown>> {
  const ext = extname(file).toLowerCase();
  if (ext !== '.json' && ext !== '.yaml' && ext !== '.yml') {
    throw new ConfigError([`file: expected a .json, .yaml or .yml file, got '${file}'`]);
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError([`file: cannot read '${file}' (${reason})`]);
  }
  let data: unknown;
  try {
    data = ext === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ConfigError([`file: '${file}' is not valid ${ext === '.json' ? 'JSON' : 'YAML'} (${reason})`]);
  }
  if (!isRecord(data)) {
    throw new ConfigError([
      `file: expected a mapping of config sections in '${file}', got ${data === null ? 'nothing' : typeof data}`,
    ]);
  }
  return data;
}

/**
 * Resolves the trainer config: starts from `preset`, deep-merges `file` on top (or uses the file alone), applies
 * the `set` overrides in order, then validates and fills in defaults ({@link validateConfig}).
 *
 * @example
 * ```ts
 * const config = await loadConfig({ preset: 'mnist/small', set: ['optim.lr=1e-3', 'model.chMult=[1,2]'] });
 * ```
 * @throws ConfigError naming the offending key: unknown preset, unreadable file, unknown `--set` key (with the
 * nearest valid keys), or a value the schema rejects.
 */
export async function loadConfig(options: LoadConfigOptions): Promise<TrainerConfig> {
  const { preset, file, set = [] } = options;
  if (preset === undefined && file === undefined) {
    throw new ConfigError(['preset: expected a preset name or a config file (neither was given)']);
  }
  let raw: unknown = preset === undefined ? {} : trainerPreset(preset);
  if (file !== undefined) raw = mergeConfigs(raw, await readConfigFile(file));
  for (const argument of set) raw = applySetOverride(raw, parseSetOverride(argument));
  const source = [
    preset === undefined ? undefined : `preset ${preset}`,
    file === undefined ? undefined : `file ${file}`,
    set.length === 0 ? undefined : `${set.length} --set override${set.length === 1 ? '' : 's'}`,
  ]
    .filter((s) => s !== undefined)
    .join(' + ');
  return validateConfig(raw, source);
}
