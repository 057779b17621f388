/**
 * {@include ../README.md#site}
 *
 * @module @sbm/metrics
 */
export { type DequantizeOptions, uniformDequantize } from './dequantize.js';
export {
  type DivergenceEstimator,
  type DivergenceMethod,
  type ScoreAndDivergence,
  scoreAndDivergence,
} from './divergence.js';
export { FeatureStatistics } from './feature-statistics.js';
export { type FidStatistics, type FrechetDistanceOptions, frechetDistance } from './frechet-distance.js';
export {
  FID_INCEPTION_CLASSES,
  FID_INCEPTION_FEATURES,
  fidInceptionStateDictShapes,
} from './inception-blocks.js';
export {
  type InceptionFeatures,
  type InceptionFeaturesOptions,
  type InceptionImageSource,
  inceptionFeatures,
} from './inception-features.js';
export {
  checkUnitImages,
  FID_INCEPTION_SIZE,
  imagesFromUint8,
  preprocessForInception,
} from './inception-preprocess.js';
export { type InceptionScoreOptions, inceptionScore, type MeanStd } from './inception-score.js';
export {
  FidInception,
  type FidInceptionOutputs,
  type LoadFidInceptionOptions,
  loadFidInception,
} from './inception-v3.js';
export { type KernelInceptionDistanceOptions, kernelInceptionDistance } from './kernel-inception-distance.js';
export {
  bitsPerDim,
  type LikelihoodOdeOptions,
  type LikelihoodOptions,
  type LikelihoodResult,
  likelihood,
  likelihoodOde,
} from './likelihood.js';
export {
  type NpyArray,
  type NpyData,
  type NpyDtype,
  type ReadNpzOptions,
  readFidStatistics,
  readNpy,
  readNpz,
  writeFidStatistics,
  writeNpy,
  writeNpz,
} from './npz.js';
export { symmetricEigenvalues } from './symmetric-eigen.js';
