// The training step of the trainer: score_sde's optimizer, EMA, loss selection and one-step update.
export { type EmaOptions, type EmaState, ExponentialMovingAverage } from './ema.js';
export {
  checkUNetForLoss,
  lossForConfig,
  type NetworkFn,
  type SdeConfig,
  type TrainingLoss,
  type TrainingLossConfig,
  type TrainingLossKind,
  unetNetwork,
} from './loss-for-config.js';
export {
  createMlpNetwork,
  loadMlpNetwork,
  type MlpConfig,
  MlpNetwork,
  mlpNetwork,
  validateMlpConfig,
} from './mlp-network.js';
export {
  type AdamOptions,
  type AdamState,
  type AdamUpdate,
  clipScale,
  gradientSquaredNorms,
  ScoreSdeAdam,
  warmupLearningRate,
} from './optimizer.js';
export {
  NonFiniteLossError,
  stepSeed,
  type TrainStepContext,
  type TrainStepResult,
  trainStep,
} from './train-step.js';
export {
  checkNamedArrays,
  type LayersModelLike,
  type NamedVariables,
  readVariables,
  trainableVariables,
  writeVariables,
} from './variables.js';
