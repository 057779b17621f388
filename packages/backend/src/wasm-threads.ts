import * as tf from '@tensorflow/tfjs-core';

/**
 * Multi-threaded wasm in Node.
 *
 * tfjs-backend-wasm 4.22 ships a threaded SIMD build (Emscripten pthreads + XNNPACK's pthreadpool)
 * but never uses it in Node, for three reasons, each handled here for the duration of the backend's
 * initialization only (and a fourth, below):
 *
 * 1. `WASM_HAS_MULTITHREAD_SUPPORT` is hard-wired to false when `IS_NODE`; the flag is set to true.
 * 2. The pthread workers are created with `new Worker(<blob: URL of an inline script>)`, which Node's
 *    `worker_threads` rejects (`ERR_WORKER_PATH`), and each worker is then told to `importScripts`
 *    the main glue from a second `blob:` URL, which the worker's Node shim reads with
 *    `fs.readFileSync`. While the backend initializes, `worker_threads.Worker` is a subclass that
 *    runs the package's own worker script (`wasm-out/*.worker.js`, evaluated) for a `blob:` URL
 *    and rewrites the `load` message to name the glue file the package ships
 *    (`wasm-out/tfjs-backend-wasm-threaded-simd.js`).
 * 3. The C++ side caps the pool at `emscripten_num_logical_cores() / 2` (it assumes two hardware
 *    threads per core), which Emscripten reads from `os.cpus().length` in Node: one thread on a
 *    2-core machine. `os.cpus()` reports `2 × threads` entries during initialization.
 *
 * 4. Once running, Emscripten `ref()`s each worker that runs a pthread, and XNNPACK's pool threads
 *    live as long as the backend, so a Node process would never exit; the workers ignore `ref()`.
 *
 * The pool is created once, when the backend initializes; its size is fixed from then on (at most
 * 8, the number of workers the build pre-spawns). The glue file the workers load is the Emscripten
 * output of the same build as the factory the package's Node bundle inlines (a transpiled copy), for
 * the same `.wasm`. The glue assigns its `Worker` class to `globalThis.Worker` (as it does in any
 * Node process that starts the threaded build); that stays the subclass.
 */

/** The most threads the threaded build can use (its pre-spawned worker pool). */
export const maxWasmThreads = 8;

interface WorkerThreadsModule {
  Worker: new (filename: string | URL, options?: Record<string, unknown>) => unknown;
}

interface OsModule {
  cpus: () => unknown[];
}

/** Paths of the threaded build's worker script source and main glue inside the installed package. */
function threadedBuildFiles(
  require: NodeJS.Require,
  { dirname, join }: typeof import('node:path'),
): { workerSource: string; mainScript: string } {
  const entry = require.resolve('@tensorflow/tfjs-backend-wasm');
  const wasmOut = join(dirname(entry), '..', 'wasm-out');
  const worker = require(join(wasmOut, 'tfjs-backend-wasm-threaded-simd.worker.js')) as {
    wasmWorkerContents?: unknown;
  };
  if (typeof worker.wasmWorkerContents !== 'string') {
    throw new Error(
      `${wasmOut}/tfjs-backend-wasm-threaded-simd.worker.js does not export wasmWorkerContents`,
    );
  }
  // The script is a template literal whose "\n" escapes became newlines inside string literals;
  // escape them back, as the package does before making its Blob.
  return {
    workerSource: worker.wasmWorkerContents.replace(/\n/g, '\\n'),
    mainScript: join(wasmOut, 'tfjs-backend-wasm-threaded-simd.js'),
  };
}

/**
 * Runs `initialize` (which must initialize the wasm backend, e.g. `tf.setBackend('wasm')`) with the
 * threaded SIMD build enabled for `threads` threads in Node, and restores `worker_threads.Worker`
 * and `os.cpus` afterwards, whatever happens. `threads` must be 2…{@link maxWasmThreads}.
 */
export async function initializeThreadedWasm<T>(threads: number, initialize: () => Promise<T>): Promise<T> {
  // Imported here, not at the top, so that bundles of this package for the browser never load them.
  const { createRequire } = await import('node:module');
  const require = createRequire(import.meta.url);
  const { workerSource, mainScript } = threadedBuildFiles(require, await import('node:path'));
  // The CommonJS export objects of the built-ins, which the package's CommonJS glue reads (an ESM
  // namespace import would be a frozen copy).
  const workerThreads = require('node:worker_threads') as WorkerThreadsModule;
  const os = require('node:os') as OsModule;
  const NodeWorker = workerThreads.Worker;
  const nodeCpus = os.cpus;

  class PthreadWorker extends (NodeWorker as new (
    filename: string | URL,
    options?: Record<string, unknown>,
  ) => { postMessage(message: unknown, transfer?: unknown): void; ref(): void }) {
    constructor(filename: string | URL, options?: Record<string, unknown>) {
      if (String(filename).startsWith('blob:')) super(workerSource, { ...options, eval: true });
      else super(filename, options);
    }

    /**
     * Reason 4 above. tfjs calls are synchronous on the main thread, which never waits on the event
     * loop for a pool thread, so the workers can stay unreferenced.
     */
    override ref(): void {}

    override postMessage(message: unknown, transfer?: unknown): void {
      const m = message as { cmd?: unknown; urlOrBlob?: unknown } | null;
      if (m !== null && typeof m === 'object' && m.cmd === 'load' && typeof m.urlOrBlob !== 'string') {
        super.postMessage({ ...m, urlOrBlob: mainScript }, transfer);
        return;
      }
      super.postMessage(message, transfer);
    }
  }

  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  workerThreads.Worker = PthreadWorker;
  os.cpus = () => {
    const cpus = nodeCpus();
    return Array.from({ length: 2 * threads }, (_, i) => cpus[i % Math.max(1, cpus.length)]);
  };
  try {
    return await initialize();
  } finally {
    workerThreads.Worker = NodeWorker;
    os.cpus = nodeCpus;
  }
}
