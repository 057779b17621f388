import { SbmArgumentError } from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';
import { fastKernelNames, registerFastKernels } from './fast-kernels.js';
import { initializeThreadedWasm, maxWasmThreads } from './wasm-threads.js';

/** The backends {@link setupBackend} can choose, best first. */
export const backendChoices = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;

/**
 * A backend choice: `tensorflow-gpu` (`@tensorflow/tfjs-node-gpu`, libtensorflow with CUDA),
 * `tensorflow` (`@tensorflow/tfjs-node`, libtensorflow on the CPU), `wasm`
 * (`@tensorflow/tfjs-backend-wasm`, XNNPACK) or `cpu` (`@tensorflow/tfjs-backend-cpu`, plain JS).
 */
export type BackendChoice = (typeof backendChoices)[number];

/** The npm package that provides each choice. */
export const backendPackages: Record<BackendChoice, string> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
};

const tfBackendName: Record<BackendChoice, 'tensorflow' | 'wasm' | 'cpu'> = {
  'tensorflow-gpu': 'tensorflow',
  tensorflow: 'tensorflow',
  wasm: 'wasm',
  cpu: 'cpu',
};

/** Options of {@link selectBackend} and {@link setupBackend}. */
export interface SetupBackendOptions {
  /**
   * `'auto'` (default) takes the first choice of {@link backendChoices} that loads; a single choice
   * must load or the call throws {@link SbmBackendError}.
   */
  prefer?: BackendChoice | 'auto';
  /**
   * Threads for the wasm backend's XNNPACK (default: the number of logical CPUs; at most 8 in Node).
   * In Node, more than one starts the package's threaded SIMD build on `worker_threads`.
   */
  threads?: number;
  /** Register the fast kernels of {@link registerFastKernels} on `cpu`/`wasm` (default true). */
  fastKernels?: boolean;
  /**
   * Loads a backend package by name (default: dynamic `import()`). Under a bundler, map the names
   * to statically imported modules; tests use it to simulate missing packages.
   */
  importModule?: (specifier: string) => Promise<unknown>;
}

/** What was found for one choice. */
export interface BackendCandidate {
  /** The backend choice that was probed. */
  choice: BackendChoice;
  /** Whether its package loaded and registered its backend. */
  available: boolean;
  /** Why it is or is not available, naming what is missing. */
  reason: string;
}

/** The outcome of {@link selectBackend}. */
export interface BackendSelection {
  /** The choice taken. */
  choice: BackendChoice;
  /** The TensorFlow.js backend name it registers: `'tensorflow'`, `'wasm'` or `'cpu'`. */
  backendName: 'tensorflow' | 'wasm' | 'cpu';
  /** Every choice that was probed, best first, with the reason it was taken or passed over. */
  candidates: BackendCandidate[];
}

/** The outcome of {@link setupBackend}: the selection plus how the backend was configured. */
export interface BackendReport extends BackendSelection {
  /** Threads the backend computes with (wasm: XNNPACK's actual count; cpu: 1; tensorflow: libtensorflow's own pool, `undefined`). */
  threads: number | undefined;
  /** Kernels replaced or supplied by {@link registerFastKernels}. */
  fastKernels: string[];
  /** Notes on the configuration (wasm binary location, threading limits). */
  notes: string[];
  /** One human-readable paragraph: which backend, why, and what was passed over. */
  message: string;
}

/** A requested backend could not be loaded; the message names what is missing. */
export class SbmBackendError extends Error {
  /** The choice that failed. */
  readonly choice: BackendChoice;

  /** Creates the error for the `choice` that failed, with a message that names what is missing. */
  constructor(choice: BackendChoice, message: string) {
    super(message);
    this.name = 'SbmBackendError';
    this.choice = choice;
  }
}

const defaultImport = (specifier: string): Promise<unknown> => import(specifier);

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Explains a failed import of the package of `choice`. */
function explainFailure(choice: BackendChoice, err: unknown): string {
  const pkg = backendPackages[choice];
  const text = errorText(err);
  const code = (err as { code?: string } | null)?.code;
  const notFound =
    code === 'ERR_MODULE_NOT_FOUND' ||
    code === 'MODULE_NOT_FOUND' ||
    /Cannot find (module|package)/.test(text);
  if (notFound && !/\.node\b|napi|binding/.test(text)) {
    const native =
      ' (its install script downloads libtensorflow 2.9.1; pnpm runs it only if the package is listed in onlyBuiltDependencies)';
    const extra =
      choice === 'tensorflow-gpu'
        ? `${native}, and a CUDA 11.2 + cuDNN 8 installation with an NVIDIA driver`
        : choice === 'tensorflow'
          ? native
          : '';
    return `${pkg} is not installed: add it to your dependencies${extra}`;
  }
  if (choice === 'tensorflow-gpu' && /cuda|cudnn|cublas|libcu|\.so\.\d/i.test(text)) {
    return (
      `${pkg} is installed but libtensorflow 2.9.1 (GPU) could not load its CUDA libraries: it needs CUDA 11.2 and ` +
      `cuDNN 8 (libcudart.so.11.0, libcublas.so.11, libcudnn.so.8 on LD_LIBRARY_PATH) and an NVIDIA driver; ${text}`
    );
  }
  if (/\.node\b|napi|binding|libtensorflow/.test(text)) {
    return (
      `${pkg} is installed but its native binding did not load (libtensorflow 2.9.1 missing: its install script did ` +
      `not run or failed; with pnpm list it in onlyBuiltDependencies and run \`pnpm rebuild ${pkg}\`): ${text}`
    );
  }
  return `${pkg} failed to load: ${text}`;
}

async function probe(
  choice: BackendChoice,
  importModule: (s: string) => Promise<unknown>,
): Promise<BackendCandidate> {
  const pkg = backendPackages[choice];
  try {
    await importModule(pkg);
  } catch (err) {
    return { choice, available: false, reason: explainFailure(choice, err) };
  }
  if (tf.findBackendFactory(tfBackendName[choice]) === null) {
    return {
      choice,
      available: false,
      reason:
        `${pkg} loaded but registered no '${tfBackendName[choice]}' backend with this copy of @tensorflow/tfjs-core ` +
        `(${tf.version_core}): install one version of every @tensorflow/* package`,
    };
  }
  return {
    choice,
    available: true,
    reason: `${pkg} ${choice === 'tensorflow-gpu' ? '(CUDA build) ' : ''}loaded`,
  };
}

function checkOptions(options: SetupBackendOptions): BackendChoice[] {
  const prefer = options.prefer ?? 'auto';
  if (prefer !== 'auto' && !(backendChoices as readonly string[]).includes(prefer)) {
    throw new SbmArgumentError(
      'options.prefer',
      `expected 'auto' or one of ${backendChoices.join(', ')}, got ${String(prefer)}`,
    );
  }
  const { threads } = options;
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1)) {
    throw new SbmArgumentError('options.threads', `expected an integer >= 1, got ${String(threads)}`);
  }
  return prefer === 'auto' ? [...backendChoices] : [prefer];
}

/**
 * Finds the best TensorFlow.js backend that can be loaded here, in the order tensorflow GPU →
 * tensorflow CPU → wasm → cpu (or only `options.prefer`), by importing each package until one
 * loads. Importing registers the backend with tfjs but does not activate it ({@link setupBackend}
 * does). `@tensorflow/tfjs-node(-gpu)` are optional: when missing, the candidate says so.
 *
 * @throws SbmBackendError when no candidate (or the preferred one) loads, naming what is missing.
 * @throws SbmArgumentError for a bad `options.prefer` or `options.threads`.
 */
export async function selectBackend(options: SetupBackendOptions = {}): Promise<BackendSelection> {
  const order = checkOptions(options);
  const importModule = options.importModule ?? defaultImport;
  const candidates: BackendCandidate[] = [];
  for (const choice of order) {
    const candidate = await probe(choice, importModule);
    candidates.push(candidate);
    if (candidate.available) return { choice, backendName: tfBackendName[choice], candidates };
  }
  throw unavailable(order, candidates);
}

function isNode(): boolean {
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof proc?.versions?.node === 'string';
}

interface WasmModule {
  setWasmPaths(prefix: string): void;
  setThreadsCount(n: number): void;
  getThreadsCount(): number;
}

/**
 * Points the wasm backend at its `.wasm` files and sets its thread count, before it initializes.
 * @returns the threads to initialize the threaded build with in Node (see ./wasm-threads.ts), or
 *   `undefined` for the single-threaded build (one thread asked for, not Node, or already initialized).
 */
async function configureWasm(
  options: SetupBackendOptions,
  importModule: (s: string) => Promise<unknown>,
  notes: string[],
): Promise<number | undefined> {
  const wasm = (await importModule(backendPackages.wasm)) as WasmModule;
  const initialized =
    (tf.engine() as unknown as { registry: Record<string, unknown> }).registry.wasm !== undefined;
  if (initialized) {
    notes.push('wasm was already initialized: its .wasm path and thread count were left as they were');
    return undefined;
  }
  let threads = options.threads;
  if (!isNode()) {
    threads ??= Math.max(
      1,
      (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1,
    );
    wasm.setThreadsCount(threads);
    return undefined;
  }
  const { availableParallelism } = await import('node:os');
  threads ??= availableParallelism();
  // Under pnpm the package lives in the content-addressed store; resolve it from here so the
  // .wasm binaries next to its entry point are found whatever the working directory.
  const { createRequire } = await import('node:module');
  const { dirname } = await import('node:path');
  const entry = createRequire(import.meta.url).resolve(backendPackages.wasm);
  const dir = `${dirname(entry)}/`;
  wasm.setWasmPaths(dir);
  notes.push(`wasm binaries from ${dir}`);
  if (threads > maxWasmThreads) {
    notes.push(
      `asked for ${threads} wasm threads; the threaded build has ${maxWasmThreads} workers, so ${maxWasmThreads} are used`,
    );
    threads = maxWasmThreads;
  }
  wasm.setThreadsCount(threads);
  if (threads === 1) return undefined;
  notes.push(
    `threaded SIMD build with ${threads} threads (worker_threads; tfjs-backend-wasm 4.22 itself runs single-threaded in Node)`,
  );
  return threads;
}

async function threadCount(
  backendName: 'tensorflow' | 'wasm' | 'cpu',
  importModule: (s: string) => Promise<unknown>,
): Promise<number | undefined> {
  if (backendName === 'cpu') return 1;
  if (backendName === 'tensorflow') return undefined;
  return ((await importModule(backendPackages.wasm)) as WasmModule).getThreadsCount();
}

function describe(report: Omit<BackendReport, 'message'>): string {
  const threads =
    report.threads === undefined ? "libtensorflow's thread pool" : `${report.threads} thread(s)`;
  const kernels = report.fastKernels.length > 0 ? `; fast kernels: ${report.fastKernels.join(', ')}` : '';
  const others = report.candidates
    .filter((c) => c.choice !== report.choice)
    .map((c) => `${c.choice}: ${c.reason}`)
    .join('; ');
  return (
    `Using the ${report.backendName} backend (${report.choice}, ${threads}${kernels}).` +
    (others ? ` Passed over: ${others}.` : '') +
    (report.notes.length > 0 ? ` Notes: ${report.notes.join('; ')}.` : '')
  );
}

/** Activates the backend of an available candidate; `undefined` on success, else the reason. */
async function activate(
  candidate: BackendCandidate,
  options: SetupBackendOptions,
  importModule: (s: string) => Promise<unknown>,
  notes: string[],
): Promise<string | undefined> {
  const name = tfBackendName[candidate.choice];
  let failure = '';
  try {
    const threads = name === 'wasm' ? await configureWasm(options, importModule, notes) : undefined;
    if (threads !== undefined) {
      let why = '';
      try {
        if ((await initializeThreadedWasm(threads, () => tf.setBackend(name))) && tf.getBackend() === name)
          return undefined;
      } catch (err) {
        why = `: ${errorText(err)}`;
      }
      // The threaded build failed to start: say so and try the single-threaded one.
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      notes.push(`the threaded wasm build failed to initialize${why}; using one thread`);
      ((await importModule(backendPackages.wasm)) as WasmModule).setThreadsCount(1);
    }
    if ((await tf.setBackend(name)) && tf.getBackend() === name) return undefined;
  } catch (err) {
    failure = `: ${errorText(err)}`;
  }
  return `${backendPackages[candidate.choice]} loaded but the ${name} backend failed to initialize${failure}`;
}

/**
 * Selects (like {@link selectBackend}), configures and activates the best TensorFlow.js backend,
 * then registers the fast convolution kernels on `cpu`/`wasm` ({@link registerFastKernels}).
 * wasm: the `.wasm` binaries are resolved from the installed `@tensorflow/tfjs-backend-wasm` (works
 * under pnpm's store layout) and XNNPACK's thread count is set. With `prefer: 'auto'`, a backend
 * that loads but fails to initialize is reported and the next one is tried.
 *
 * @returns the backend, its threads, the kernels registered, every candidate probed with its
 *   reason, and a one-paragraph `message`.
 * @throws SbmBackendError when the requested backend (or, for `'auto'`, every backend) cannot be
 *   loaded or initialized, naming what is missing.
 * @throws SbmArgumentError for a bad `options.prefer` or `options.threads`.
 */
export async function setupBackend(options: SetupBackendOptions = {}): Promise<BackendReport> {
  const order = checkOptions(options);
  const importModule = options.importModule ?? defaultImport;
  const candidates: BackendCandidate[] = [];
  for (const choice of order) {
    const candidate = await probe(choice, importModule);
    candidates.push(candidate);
    if (!candidate.available) continue;
    const notes: string[] = [];
    const failure = await activate(candidate, options, importModule, notes);
    if (failure !== undefined) {
      candidates[candidates.length - 1] = { choice, available: false, reason: failure };
      continue;
    }
    const backendName = tfBackendName[choice];
    let fastKernels: string[] = [];
    if (options.fastKernels !== false && (backendName === 'cpu' || backendName === 'wasm')) {
      registerFastKernels(backendName);
      fastKernels = fastKernelNames(backendName);
    }
    if (backendName === 'cpu') {
      // The report already explains the choice; skip the cpu backend's "install tfjs-node" banner.
      const cpu = tf.backend() as unknown as { firstUse?: boolean };
      if (cpu.firstUse === true) cpu.firstUse = false;
    }
    const threads = await threadCount(backendName, importModule);
    const report = { choice, backendName, candidates, threads, fastKernels, notes };
    return { ...report, message: describe(report) };
  }
  throw unavailable(order, candidates);
}

function unavailable(order: BackendChoice[], candidates: BackendCandidate[]): SbmBackendError {
  const what = candidates.map((c) => `${c.choice}: ${c.reason}`).join('; ');
  return new SbmBackendError(
    order[0]!,
    order.length === 1
      ? `the ${order[0]} backend cannot be used. ${what}`
      : `no TensorFlow.js backend can be used. ${what}`,
  );
}
