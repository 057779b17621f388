/**
 * {@include ../README.md#site}
 *
 * @module @sbm/guidance
 */
export {
  ClassifierAdapter,
  type ClassifierAdapterOptions,
  type ClassifierFunction,
  type ClassifierLike,
  type ClassifierObject,
  wrapClassifier,
} from './classifier-adapter.js';
export { type ClassifierFreeGuidanceOptions, classifierFreeGuidance } from './classifier-free-guidance.js';
export {
  type ClassifierGuidanceOptions,
  ClassifierGuidedModel,
  classifierGuidance,
} from './classifier-guidance.js';
export {
  type ColorizeDDIMOptions,
  type ColorizeDPMSolverPlusPlusOptions,
  type ColorizePCOptions,
  type ColorizeTarget,
  colorizeDDIM,
  colorizeDPMSolverPlusPlus,
  colorizePC,
} from './colorize.js';
export { type ClassLabelCheck, checkClassLabels } from './guidance-labels.js';
export {
  type InpaintDDIMOptions,
  type InpaintDPMSolverPlusPlusOptions,
  type InpaintPCOptions,
  type InpaintTarget,
  inpaintDDIM,
  inpaintDPMSolverPlusPlus,
  inpaintPC,
} from './inpaint.js';
export type { KnownNoise } from './replacement.js';
