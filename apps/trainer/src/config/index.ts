// The trainer's configuration: schema, presets, loading with overrides, writing the resolved config.
export { ConfigError } from './config-error.js';
export { discriminatorAt, type KeyPathTarget, resolveKeyPath, validKeysAt } from './config-keys.js';
export { describeConfigValue, formatConfigError, formatKeyPath } from './format-config-error.js';
export { type LoadConfigOptions, loadConfig, readConfigFile } from './load.js';
export { resolveMlpConfig } from './mlp-config.js';
export { type ModelIO, resolveModelIO } from './model-io.js';
export { editDistance, nearestKeys } from './nearest-keys.js';
export { TRAINER_PRESET_NAMES, trainerPreset } from './presets.js';
export {
  BACKENDS,
  DATASETS,
  type DataConfig,
  dataSchema,
  evalSchema,
  guidanceSchema,
  IMAGE_DATASETS,
  LOSS_KINDS,
  type ModelConfig,
  modelSchema,
  optimSchema,
  PREDICTIONS,
  SAMPLERS,
  type SamplingConfig,
  SDE_KINDS,
  SPACINGS,
  samplingSchema,
  sdeSchema,
  TIME_INPUTS,
  type TrainerConfig,
  type TrainerConfigInput,
  trainerConfigObjectSchema,
  trainerConfigSchema,
  trainingSchema,
} from './schema.js';
export { applySetOverride, parseSetOverride, type SetOverride } from './set-override.js';
export { resolveUNetConfig, trainerKeyOfUNetField } from './unet-config.js';
export { validateConfig } from './validate-config.js';
export { RESOLVED_CONFIG_FILE, writeResolvedConfig } from './write-resolved-config.js';
