import { setupBackend } from '@sbm/backend';
import * as cpuBackend from '@tensorflow/tfjs-backend-cpu';
import * as wasmBackend from '@tensorflow/tfjs-backend-wasm';
import plainWasm from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm';
import simdWasm from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm';
import * as tf from '@tensorflow/tfjs-core';

/** The backend the page runs on. */
export interface LiveBackend {
  /** tfjs backend name: `'wasm'` or `'cpu'`. */
  name: string;
  /** One line for the page: the backend, its build and threads. */
  summary: string;
  /** Why wasm is not used, when it is not. */
  fallbackReason?: string;
}

/**
 * Starts the wasm backend from binaries embedded in the page's script (`fetch` of `file://` URLs is refused, a `data:`
 * URL is not), single-threaded (the threaded build needs cross-origin isolation, which neither `file://` nor a plain
 * static server gives), through `setupBackend` of `@sbm/backend`; falls back to the cpu backend with the reason.
 * `prefer: 'cpu'` (the page's `?backend=cpu`) skips wasm.
 */
export async function startBackend(prefer: 'wasm' | 'cpu' = 'wasm'): Promise<LiveBackend> {
  const importModule = async (name: string): Promise<unknown> => {
    if (name === '@tensorflow/tfjs-backend-wasm') return wasmBackend;
    if (name === '@tensorflow/tfjs-backend-cpu') return cpuBackend;
    throw new Error(`Cannot find module '${name}' (not in the page's bundle)`);
  };
  let fallbackReason: string | undefined;
  if (prefer === 'wasm') {
    try {
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      wasmBackend.setWasmPaths({
        'tfjs-backend-wasm.wasm': plainWasm,
        'tfjs-backend-wasm-simd.wasm': simdWasm,
        // Never loaded: multithreading is off above.
        'tfjs-backend-wasm-threaded-simd.wasm': simdWasm,
      });
      const report = await setupBackend({ prefer: 'wasm', threads: 1, importModule });
      const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
      return {
        name: report.backendName,
        summary: `wasm (${simd ? 'SIMD' : 'no SIMD'}, ${report.threads ?? 1} thread)`,
      };
    } catch (error) {
      fallbackReason = error instanceof Error ? error.message : String(error);
    }
  } else {
    fallbackReason = 'cpu asked for (?backend=cpu)';
  }
  const report = await setupBackend({ prefer: 'cpu', importModule });
  return { name: report.backendName, summary: 'cpu (plain JavaScript)', fallbackReason };
}
