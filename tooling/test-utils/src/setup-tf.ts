import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Selects the pure-JavaScript `cpu` backend of TensorFlow.js and waits until it is ready.
 *
 * Importing this module registers the backend (side-effect import of
 * `@tensorflow/tfjs-backend-cpu`). Also suppresses the backend's one-time "install tfjs-node"
 * console banner. Call it from a `beforeAll` in every test file that uses tf.
 *
 * @throws Error if the backend cannot be activated.
 */
export async function useCpuBackend(): Promise<void> {
  const ok = await tf.setBackend('cpu');
  await tf.ready();
  if (!ok || tf.getBackend() !== 'cpu') {
    throw new Error(`useCpuBackend: could not activate the cpu backend (active: ${tf.getBackend()})`);
  }
  // The cpu backend prints a one-time "install tfjs-node" banner on first use in Node; tests
  // use the pure-JS backend on purpose, so mark the backend as already used to keep output clean.
  const backend = tf.backend() as unknown as { firstUse?: boolean };
  if (backend.firstUse === true) backend.firstUse = false;
}
