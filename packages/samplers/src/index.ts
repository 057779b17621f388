/**
 * {@include ../README.md#site}
 *
 * @module @sbm/samplers
 */
export {
  type DDIMSampleOptions,
  DDIMStepper,
  type DDIMStepperOptions,
  type DDPMSampleOptions,
  ddimSample,
  ddpmSample,
} from './ddim.js';
export { type DPMSolverOptions, dpmSolverSample } from './dpm-solver.js';
export {
  type DPMSolverPlusPlusAlgorithm,
  type DPMSolverPlusPlusOptions,
  type DPMSolverPlusPlusState,
  DPMSolverPlusPlusStepper,
  type DPMSolverPlusPlusStepperOptions,
  dpmSolverPlusPlusSample,
} from './dpm-solver-pp.js';
export { type EDMSampleOptions, edmSample } from './edm-sampler.js';
export {
  ModelAdapter,
  type ModelAdapterOptions,
  type ModelFunction,
  type ModelLayout,
  type ModelLike,
  type ModelObject,
  type ModelOutput,
  type TimeDtype,
  type TimeInputKind,
  type TimeShape,
  wrapModel,
} from './model-adapter.js';
export { MODEL_INPUT_ALIASES, type ModelInputNames, type ModelTensorInfo } from './model-inputs.js';
export { NoiseStreams } from './noise-streams.js';
export {
  type OdeEncodeOptions,
  type OdeMethod,
  type OdeOptions,
  type OdeSampleOptions,
  type OdeSampleResult,
  odeEncode,
  odeSample,
} from './ode-sampler.js';
export { type Corrector, type PCSampleOptions, type Predictor, pcSample } from './pc-sampler.js';
export {
  integrateRk45,
  type OdeRightHandSide,
  type Rk45Options,
  type Rk45Result,
} from './rk45-integrator.js';
export { SbmSamplingError } from './sampling-error.js';
export type { SampleResult, SamplerBaseOptions, StepCallbackInfo } from './sampling-run.js';
export type { StepInfo, StepOutput } from './stepper.js';
export type { LogSNRMarginals, TimeGridOptions } from './time-grid.js';
export {
  resolveTimeFormat,
  type TimeFormat,
  timeInputFunction,
  timeInputShape,
} from './time-input-function.js';
export {
  disposeUniPCState,
  type UniPCSampleOptions,
  type UniPCState,
  UniPCStepper,
  type UniPCStepperOptions,
  type UniPCVariant,
  unipcSample,
} from './unipc.js';
