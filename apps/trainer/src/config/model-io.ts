import type { TrainerConfig } from './schema.js';

/** What the score network predicts and what its time input holds. */
export interface ModelIO {
  /** Output parameterization (`@sbm/losses`/`@sbm/samplers`): `score`, `eps`, `x0` or `v`. */
  prediction: 'score' | 'eps' | 'x0' | 'v';
  /** Time input (`wrapModel`'s `timeInput`): `continuous` t, `index` t·(N − 1), or `sigma` σ(t). */
  timeInput: 'continuous' | 'index' | 'sigma';
}

/**
 * `model.prediction` and `model.timeInput`, with the defaults of score_sde's `models/utils.get_score_fn`
 * where unset: VP and sub-VP networks take 999·t (= t·(N − 1) for N = 1000) and their output is −σ(t)·score,
 * i.e. ε; VE networks take σ(t) and output the score (`scale_by_sigma` divides by σ inside the network).
 * A toy MLP defaults to the same. Note that score_sde feeds 999·t to continuous VP models whatever N is, while
 * `index` in `@sbm/samplers` means t·(numTrainSteps − 1): pass `numTrainSteps: 1000` when `sde.numScales` ≠ 1000.
 */
export function resolveModelIO(config: Pick<TrainerConfig, 'model' | 'sde'>): ModelIO {
  const ve = config.sde.kind === 've';
  return {
    prediction: config.model.prediction ?? (ve ? 'score' : 'eps'),
    timeInput: config.model.timeInput ?? (ve ? 'sigma' : 'index'),
  };
}
