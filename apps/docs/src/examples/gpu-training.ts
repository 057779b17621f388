// Examples of the guide "Train on a GPU box" (guides/gpu-training.md). Run by gpu-training.test.ts, which checks
// what they report on a machine without a GPU; training itself is the `sbm` command (shell, in the guide).
import { type BackendReport, setupBackend } from '@sbm/backend';

// #region best-backend
/**
 * Activates the best backend that loads (tensorflow GPU → tensorflow CPU →
 * wasm → cpu) and says why.
 */
export async function bestBackend(): Promise<BackendReport> {
  const report = await setupBackend();
  console.log(report.message); // the backend, and why better ones were passed over
  return report;
}
// #endregion best-backend

// #region require-gpu
/**
 * Refuses to continue without the GPU: `prefer: 'tensorflow-gpu'` must
 * load, else an `SbmBackendError` names what is missing (the package, CUDA
 * 11.2 / cuDNN 8 libraries, the driver).
 */
export async function requireGpu(): Promise<BackendReport> {
  return setupBackend({ prefer: 'tensorflow-gpu' });
}
// #endregion require-gpu
