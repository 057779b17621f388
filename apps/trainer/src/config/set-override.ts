import { parse as parseYaml } from 'yaml';
import { ConfigError } from './config-error.js';
import { discriminatorAt, resolveKeyPath } from './config-keys.js';
import { nearestKeys } from './nearest-keys.js';

/** One `--set key=value` override: the dotted key split into its parts and the parsed value. */
export interface SetOverride {
  /** The argument as given, for error messages. */
  source: string;
  /** `optim.lr` → `['optim', 'lr']`. */
  path: string[];
  /** The value parsed as YAML: numbers (`1e-3`), booleans, `null`, strings, flow sequences (`[1, 2, 2]`), maps. */
  value: unknown;
}

/**
 * Parses `key=value`: the key is a dotted path (`optim.lr`, `model.chMult`), the value a YAML scalar or flow
 * collection (`1e-3` → 0.001, `true`, `null`, `[1,2,2]`, `eulerMaruyama`).
 *
 * @throws ConfigError when there is no `=`, the key is empty or has an empty part, or the value is not YAML.
 */
export function parseSetOverride(argument: string): SetOverride {
  const eq = argument.indexOf('=');
  if (eq < 0) {
    throw new ConfigError([`--set ${argument}: expected key=value (e.g. optim.lr=1e-3), got no '='`]);
  }
  const key = argument.slice(0, eq).trim();
  const text = argument.slice(eq + 1).trim();
  const path = key.split('.');
  if (key === '' || path.some((p) => p === '')) {
    throw new ConfigError([
      `--set ${argument}: expected a dotted key such as optim.lr before '=', got '${key}'`,
    ]);
  }
  if (text === '') {
    throw new ConfigError([
      `--set ${argument}: expected a value after '=' (use null to clear an optional key)`,
    ]);
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ConfigError([
      `${key}: expected a YAML scalar or flow sequence after '=', got '${text}' (${reason})`,
    ]);
  }
  return { source: argument, path, value };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Applies one override to a raw config and returns the new config (the input is not modified). The key must
 * exist in the schema (for the union options currently selected); setting a section's discriminator
 * (`data.dataset`, `model.kind`, `sampling.sampler`) to a new value starts that section afresh from its
 * defaults, since the other keys belong to the old option: `--set sampling.sampler=ddim --set sampling.steps=50`.
 *
 * @throws ConfigError naming the unknown key and the nearest valid keys of its section.
 */
export function applySetOverride(config: unknown, override: SetOverride): Record<string, unknown> {
  const { path, value, source } = override;
  const target = resolveKeyPath(path, config);
  if (target.kind === 'unknown') {
    const section = path.slice(0, target.at);
    const key = path.slice(0, target.at + 1).join('.');
    if (target.validKeys.length === 0) {
      throw new ConfigError([
        `--set ${source}: ${section.join('.')} is a value, not a section, so ${key} does not exist`,
      ]);
    }
    const prefix = section.length === 0 ? '' : `${section.join('.')}.`;
    const near = nearestKeys(path[target.at]!, target.validKeys).map((k) => `${prefix}${k}`);
    const hint = near.length > 0 ? `did you mean ${near.join(' or ')}? ` : '';
    const where = section.length === 0 ? 'the top level' : section.join('.');
    throw new ConfigError([
      `${key}: unknown key (from --set ${source}); ${hint}(valid keys of ${where}: ${target.validKeys.join(', ')})`,
    ]);
  }
  const root: Record<string, unknown> = isRecord(config) ? structuredClone(config) : {};
  const parentPath = path.slice(0, -1);
  const last = path[path.length - 1]!;
  let parent = root;
  for (const part of parentPath) {
    const child = parent[part];
    if (!isRecord(child)) parent[part] = {};
    parent = parent[part] as Record<string, unknown>;
  }
  if (discriminatorAt(parentPath, config) === last && parent[last] !== value) {
    for (const key of Object.keys(parent)) delete parent[key];
  }
  parent[last] = value;
  return root;
}
