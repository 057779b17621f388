export { cifar10BatchBytes, cifar10HwcMismatches, cifar10Pixel } from './cifar10-files.js';
export { DdpmUnet, type DdpmUnetConfig, type GroupNormFn, groupNormViaMoments } from './ddpm-unet.js';
export {
  expectTensorsClose,
  type TensorLike,
  type TensorsCloseOptions,
} from './expect-tensors-close.js';
export {
  GaussianMixture,
  type GaussianMixtureParams,
  type MixturePoints,
} from './gaussian-mixture.js';
export { jpegFile, type PixelFn, pngFile, rgbaOf } from './image-files.js';
export {
  addScaledIdentity,
  cholesky,
  choleskySolve,
  identity,
  inverseSpd,
  logDetFromCholesky,
  type Matrix,
  matMul,
  matVec,
  scaleMatrix,
  solveLowerTriangular,
  solveUpperTriangularTransposed,
  transpose,
} from './linalg.js';
export {
  type LinearSdeCoefficients,
  type LinearSdeSpec,
  linearSdeCoefficients,
} from './linear-sde-oracle.js';
export { energyDistance, sampleCovariance, sampleMean } from './moments.js';
export { disposeDeep, expectNoLeaks, type NoLeaksOptions } from './no-leaks.js';
export { createRng, type Rng } from './rng.js';
export { useCpuBackend } from './setup-tf.js';
