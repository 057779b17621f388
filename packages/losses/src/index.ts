/**
 * {@include ../README.md#site}
 *
 * @module @sbm/losses
 */
export type { Batch, CommonLossOptions, LossFn, Reduction } from './batch.js';
export {
  type DenoisingScoreMatchingOptions,
  type DsmWeighting,
  denoisingScoreMatchingLoss,
} from './denoising-score-matching.js';
export { type DdpmLossOptions, ddpmLoss, type SmldLossOptions, smldLoss } from './discrete-losses.js';
export {
  type EdmCoefficients,
  type EdmDenoiserOptions,
  type EdmLossOptions,
  edmDenoiser,
  edmLoss,
  edmPreconditioning,
} from './edm.js';
export { implicitScoreMatchingLoss } from './implicit-score-matching.js';
export type { ScoreMatchingOptions } from './jacobian.js';
export { dropLabels, type LabelDropout } from './label-dropout.js';
export type { DiffusionModel, ModelFn, ModelInput } from './model.js';
export { type SlicedScoreMatchingOptions, slicedScoreMatchingLoss } from './sliced-score-matching.js';
