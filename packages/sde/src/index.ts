/**
 * {@include ../README.md#site}
 *
 * @module @sbm/sde
 */
export {
  alphaBarsFromBetas,
  cosineBetas,
  type DiscreteSchedule,
  discreteSchedule,
  linearBetas,
  scaledLinearBetas,
} from './beta-schedules.js';
export {
  assertFinite,
  assertInteger,
  assertNonNegative,
  assertPositive,
  describeValue,
  SbmArgumentError,
} from './errors.js';
export { LinearBetaSDE, type VPSDEOptions } from './linear-beta-sde.js';
export {
  type ConvertPredictionOptions,
  convertPrediction,
  type DiscreteMarginals,
  discreteMarginals,
  type MarginalCoefficients,
  type Parameterization,
} from './parameterization.js';
export { type ReverseOptions, ReverseSDE } from './reverse-sde.js';
export { SDE } from './sde.js';
export { geometricSigmas, karrasSigmas } from './sigma-schedules.js';
export { SubVPSDE } from './subvp-sde.js';
export { expandToRank, readTimes, type TimeInput } from './time-input.js';
export {
  type DiscreteSpacing,
  discreteTimesteps,
  type LogSNRSchedule,
  type TimeSpacing,
  type TimeStepsOptions,
  timeSteps,
} from './time-steps.js';
export type { Discretization, DriftDiffusion, MarginalMoments, ScoreFn } from './types.js';
export { VESDE, type VESDEOptions } from './ve-sde.js';
export { VPSDE } from './vp-sde.js';
