export {
  fastKernelNames,
  hasFastKernels,
  originalKernel,
  registerFastKernels,
  unregisterFastKernels,
} from './fast-kernels.js';
