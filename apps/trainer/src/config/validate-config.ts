import { ConfigError } from './config-error.js';
import { formatConfigError } from './format-config-error.js';
import { resolveMlpConfig } from './mlp-config.js';
import { type TrainerConfig, trainerConfigSchema } from './schema.js';
import { resolveUNetConfig } from './unet-config.js';

/**
 * Validates a raw trainer config (parsed JSON/YAML, a preset) and fills in the defaults: the schema of
 * `schema.ts`, the rules between sections, and, for a U-Net, `@sbm/unet`'s own checks of the resulting network
 * (divisibility of the resolution, group-norm widths, …), for an MLP those of `resolveMlpConfig`.
 *
 * @param source where the config came from, named in the error message (a preset, a file).
 * @throws ConfigError with one line per problem, each naming the key path and what was expected.
 */
export function validateConfig(raw: unknown, source?: string): TrainerConfig {
  const result = trainerConfigSchema.safeParse(raw, { reportInput: true });
  if (!result.success) throw new ConfigError(formatConfigError(result.error, raw), source);
  const config = result.data;
  try {
    if (config.model.kind === 'unet') resolveUNetConfig(config);
    else resolveMlpConfig(config);
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(error.problems, source);
    throw error;
  }
  return config;
}
