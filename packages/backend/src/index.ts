/**
 * {@include ../README.md#site}
 *
 * @module @sbm/backend
 */
export {
  fastKernelNames,
  hasFastKernels,
  originalKernel,
  registerFastKernels,
  unregisterFastKernels,
} from './fast-kernels.js';
export {
  type BackendCandidate,
  type BackendChoice,
  type BackendReport,
  type BackendSelection,
  backendChoices,
  backendPackages,
  SbmBackendError,
  type SetupBackendOptions,
  selectBackend,
  setupBackend,
} from './setup-backend.js';
