import type { MlpConfig } from '../train/mlp-network.js';
import { ConfigError } from './config-error.js';
import type { TrainerConfig } from './schema.js';

/**
 * The {@link MlpConfig} of a trainer config: `model.hidden`, `model.layers`, `model.timeEmbeddingDim`, the
 * data dimension (2 for `toy`) and `data.numClasses`.
 *
 * @throws ConfigError naming the trainer key: `model.kind` unless the model is an MLP, `data.dataset` unless
 * the data are toy points, `sde.kind` for VE (the MLP has no σ scaling: it is built for the ε/x̂₀/v outputs of
 * VP and sub-VP), `model.timeEmbeddingDim` unless it is even and ≥ 4 (the sinusoidal embedding has
 * E/2 frequencies exp(−i·ln(10000)/(E/2 − 1))), `data.numClasses` unless it is 0 or `data.components` (the
 * labels are the component indices).
 */
export function resolveMlpConfig(config: TrainerConfig): MlpConfig {
  const { model, data } = config;
  if (model.kind !== 'mlp') {
    throw new ConfigError([`model.kind: expected 'mlp' for an MLP config, got '${model.kind}'`]);
  }
  if (data.dataset !== 'toy') {
    throw new ConfigError([`data.dataset: expected 'toy' (2-D points) for an MLP, got '${data.dataset}'`]);
  }
  const problems: string[] = [];
  if (config.sde.kind === 've') {
    problems.push(
      "sde.kind: expected 'vp' or 'subvp' for model.kind 'mlp' (the MLP predicts ε, x̂₀ or v; a VE score network needs the output divided by σ and a log σ embedding, which it does not have)",
    );
  }
  const e = model.timeEmbeddingDim;
  if (e < 4 || e % 2 !== 0) problems.push(`model.timeEmbeddingDim: expected an even integer >= 4, got ${e}`);
  if (data.numClasses !== 0 && data.numClasses !== data.components) {
    problems.push(
      `data.numClasses: expected 0 (unconditional) or data.components (${data.components}): the toy labels are the component indices; got ${data.numClasses}`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    dim: 2,
    hidden: model.hidden,
    layers: model.layers,
    timeEmbeddingDim: e,
    numClasses: data.numClasses,
  };
}
