/**
 * The `sbm-metrics` command line: FID statistics of image folders and CIFAR-10 batches (`.npz` compatible with
 * pytorch-fid and TTUR), and FID, KID and Inception Score between sets of images.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parseArgs } from 'node:util';
import { type BackendChoice, setupBackend } from '@sbm/backend';
import { SbmArgumentError } from '@sbm/sde';
import { type FidStatistics, frechetDistance } from '../frechet-distance.js';
import { FID_INCEPTION_FEATURES } from '../inception-blocks.js';
import { inceptionScore } from '../inception-score.js';
import { type FidInception, loadFidInception } from '../inception-v3.js';
import { kernelInceptionDistance } from '../kernel-inception-distance.js';
import { openImageSource } from '../node/image-source.js';
import { type ImageMeasurements, measureImages } from '../node/measure-images.js';
import { readFidStatistics, writeFidStatistics } from '../npz.js';

/** Where the CLI writes (a `process.stdout`-like stream). */
export interface CliStream {
  /** Writes `text` as given (lines end in `\n`; a progress bar on a terminal rewrites its line with `\r`). */
  write(text: string): unknown;
  /** Whether the stream is a terminal: then progress is a bar redrawn every 200 ms, else a line every 10 s. */
  readonly isTTY?: boolean;
}

/** The process around the CLI: output streams, environment, stop signal. */
export interface CliIo {
  /** Results, help and (with `--jsonl`) every event; default `process.stdout`. */
  out?: CliStream;
  /** Progress, information and error messages; default `process.stderr`. */
  err?: CliStream;
  /** Environment read for `SBM_FID_WEIGHTS` ({@link WEIGHTS_ENV}); default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Stops the measurement between batches (the command then fails with the signal's reason, exit code 1). */
  signal?: AbortSignal;
}

/** Environment variable naming the weights file when `--weights` is not given. */
export const WEIGHTS_ENV = 'SBM_FID_WEIGHTS';

const COMMANDS = ['stats', 'fid', 'kid', 'is'] as const;

const SOURCE_HELP = `<images> is a folder of PNG/JPEG files (not recursive, sorted by name), a folder of CIFAR-10 binary
batches (cifar-10-batches-bin; --split train|test, default train) or one CIFAR-10 .bin file.`;

const COMMON_HELP = `Common options:
  --weights <file>   pytorch-fid's pt_inception-2015-12-05-6726825d.pth (or set ${WEIGHTS_ENV}); nothing is downloaded
  --batch <n>        images per forward pass (default 16; about 16 MB of wasm heap per image)
  --limit <n>        use only the first n images of each set
  --split train|test the CIFAR-10 split of a cifar-10-batches-bin folder (default train)
  --backend <name>   auto (default), tensorflow, wasm or cpu
  --jsonl            one JSON object per line on stdout (results and progress)
  --quiet            results only`;

const USAGE = `Usage: sbm-metrics <command> [options]

Commands:
  stats <images> --out <file.npz>   mean and covariance of the pool3 features, as pytorch-fid's .npz (mu, sigma)
  fid <a> <b>                       Fréchet Inception Distance; a and b are image sets or .npz statistics
  kid <a> <b>                       Kernel Inception Distance (unbiased MMD², cubic kernel, subsets), mean ± std
  is <images>                       Inception Score over 10 splits, mean ± std

${SOURCE_HELP}

${COMMON_HELP}

Run \`sbm-metrics <command> --help\` for the options of a command.`;

const HELP: Record<(typeof COMMANDS)[number], string> = {
  stats: `Usage: sbm-metrics stats <images> --out <file.npz> [options]

Writes the mean (mu [2048]) and covariance (sigma [2048,2048], float64, divisor N−1) of the FID Inception's
pool3 features of <images>, readable by pytorch-fid (--save-stats format) and numpy.

${SOURCE_HELP}

${COMMON_HELP}`,
  fid: `Usage: sbm-metrics fid <a> <b> [options]

Fréchet Inception Distance ‖μa − μb‖² + tr Σa + tr Σb − 2 tr (Σa Σb)^½ (Heusel et al. 2017). Each of <a>, <b> is a
set of images or a .npz of statistics (pytorch-fid's, TTUR's fid_stats_cifar10_train.npz, or from \`stats\`).

${SOURCE_HELP}

${COMMON_HELP}`,
  kid: `Usage: sbm-metrics kid <a> <b> [--subset-size 1000] [--subsets 100] [--seed 0] [options]

Kernel Inception Distance (Bińkowski et al. 2018): unbiased MMD² with the kernel (xᵀy/2048 + 1)³ over
--subsets random subsets of --subset-size images of each set; prints mean ± std. Both sets must be images.

${SOURCE_HELP}

${COMMON_HELP}`,
  is: `Usage: sbm-metrics is <images> [--splits 10] [options]

Inception Score (Salimans et al. 2016): exp E KL(p(y|x) ‖ p(y)) over the 1008 classes of the FID Inception, per
split of consecutive images; prints mean ± std over the splits.

${SOURCE_HELP}

${COMMON_HELP}`,
};

/** A command-line mistake: printed with a pointer to the usage, exit code 2. */
export class UsageError extends Error {
  /** Always `'UsageError'`. */
  override readonly name = 'UsageError';
}

const commonOptions = {
  help: { type: 'boolean', short: 'h' },
  weights: { type: 'string' },
  batch: { type: 'string' },
  limit: { type: 'string' },
  split: { type: 'string' },
  backend: { type: 'string' },
  jsonl: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
} as const;

type CommonValues = {
  help?: boolean;
  weights?: string;
  batch?: string;
  limit?: string;
  split?: string;
  backend?: string;
  jsonl?: boolean;
  quiet?: boolean;
};

function positiveInt(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`--${name}: expected a positive integer, got '${text}'`);
  return n;
}

function integer(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new UsageError(`--${name}: expected an integer, got '${text}'`);
  return n;
}

/** Results and progress, as text or JSON lines. */
class Output {
  readonly #out: CliStream;
  readonly #err: CliStream;
  readonly #mode: 'pretty' | 'quiet' | 'jsonl';
  #lastProgress = 0;
  #started = 0;

  constructor(values: CommonValues, io: CliIo) {
    this.#out = io.out ?? process.stdout;
    this.#err = io.err ?? process.stderr;
    this.#mode = values.quiet ? 'quiet' : values.jsonl ? 'jsonl' : 'pretty';
  }

  /** An informational line (stderr in text mode, an event in jsonl mode). */
  info(text: string, event?: Record<string, unknown>): void {
    if (this.#mode === 'pretty') this.#err.write(`${text}\n`);
    else if (this.#mode === 'jsonl' && event) this.#out.write(`${JSON.stringify(event)}\n`);
  }

  /** The result: a line on stdout, or a JSON line. */
  result(text: string, event: Record<string, unknown>): void {
    this.#out.write(this.#mode === 'jsonl' ? `${JSON.stringify(event)}\n` : `${text}\n`);
  }

  start(): void {
    this.#started = performance.now();
    this.#lastProgress = 0;
  }

  /** A progress bar on a terminal, a line every 10 s otherwise, a `progress` event in jsonl mode. */
  progress(task: string, done: number, total: number): void {
    const now = performance.now();
    const last = done === total;
    const tty = this.#err.isTTY === true;
    if (this.#mode === 'quiet' || (!last && now - this.#lastProgress < (tty ? 200 : 10_000))) return;
    this.#lastProgress = now;
    const seconds = (now - this.#started) / 1000;
    const rate = done / Math.max(seconds, 1e-9);
    if (this.#mode === 'jsonl') {
      this.#out.write(`${JSON.stringify({ event: 'progress', task, done, total, imagesPerSecond: rate })}\n`);
      return;
    }
    const width = 24;
    const filled = Math.round((width * done) / Math.max(total, 1));
    const eta = rate > 0 ? (total - done) / rate : Number.NaN;
    const line = `${task} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${rate.toFixed(2)} img/s ETA ${Number.isFinite(eta) ? `${Math.round(eta)}s` : '?'}`;
    this.#err.write(tty ? `\r${line}${last ? '\n' : ''}` : `${line}\n`);
  }
}

/** The Inception network and what is needed to measure image sets with it. */
interface Measurer {
  model: FidInception;
  measure(path: string, keep: { features?: boolean; logits?: boolean }): Promise<ImageMeasurements>;
}

async function measurer(values: CommonValues, io: CliIo, output: Output): Promise<Measurer> {
  const weights = values.weights ?? (io.env ?? process.env)[WEIGHTS_ENV];
  if (!weights) {
    throw new UsageError(
      `--weights: give pytorch-fid's Inception weights (pt_inception-2015-12-05-6726825d.pth, the file pytorch-fid downloads from github.com/mseitzer/pytorch-fid/releases) or set ${WEIGHTS_ENV}`,
    );
  }
  const split = values.split ?? 'train';
  if (split !== 'train' && split !== 'test')
    throw new UsageError(`--split: expected train or test, got '${split}'`);
  const batchSize = positiveInt('batch', values.batch) ?? 16;
  const limit = positiveInt('limit', values.limit);
  const prefer = (values.backend ?? 'auto') as BackendChoice | 'auto';
  const report = await setupBackend({ prefer, importModule: (name) => import(name) });
  output.info(`backend: ${report.backendName} (${report.message})`, {
    event: 'backend',
    backend: report.backendName,
  });
  let bytes: Uint8Array;
  try {
    bytes = await readFile(weights);
  } catch (error) {
    throw new SbmArgumentError('--weights', `cannot read ${weights}: ${(error as Error).message}`);
  }
  const model = loadFidInception(bytes, { name: weights });
  return {
    model,
    async measure(path, keep) {
      const source = await openImageSource(path, { split, limit });
      output.info(`measuring ${source.description}`, { event: 'source', path, count: source.count });
      output.start();
      return measureImages(model, source, {
        batchSize,
        keepFeatures: keep.features,
        keepLogits: keep.logits,
        signal: io.signal,
        onProgress: (done, total) => output.progress(path, done, total),
      });
    },
  };
}

const isNpz = (path: string) => extname(path).toLowerCase() === '.npz';

async function readStatistics(path: string): Promise<FidStatistics> {
  return readFidStatistics(await readFile(path), { name: path });
}

/** Writes `bytes` to `path` through a temporary file and a rename, so that a stopped run leaves no half file. */
async function writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
  const temp = `${path}.tmp-${process.pid}`;
  await writeFile(temp, bytes);
  await rename(temp, path);
}

function positionals(given: string[], count: number): string[] {
  if (given.length !== count) {
    throw new UsageError(
      `expected ${count === 1 ? 'one set of images' : 'two sets'}, got ${given.length} arguments`,
    );
  }
  return given;
}

async function stats(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals: given } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...commonOptions, out: { type: 'string', short: 'o' } },
  });
  if (values.help) return help('stats', io);
  const [path] = positionals(given, 1);
  if (!values.out) throw new UsageError('--out: give the .npz file to write');
  if (!isNpz(values.out)) throw new UsageError(`--out: expected a .npz file name, got '${values.out}'`);
  const output = new Output(values, io);
  const m = await measurer(values, io, output);
  try {
    const measured = await m.measure(path!, {});
    await writeAtomically(values.out, writeFidStatistics(measured.statistics));
    output.result(`wrote ${values.out} (mu [${FID_INCEPTION_FEATURES}], sigma of ${measured.count} images)`, {
      event: 'stats',
      out: values.out,
      count: measured.count,
    });
  } finally {
    m.model.dispose();
  }
  return 0;
}

async function fid(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals: given } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: commonOptions,
  });
  if (values.help) return help('fid', io);
  const paths = positionals(given, 2);
  const output = new Output(values, io);
  const all: FidStatistics[] = [];
  let m: Measurer | undefined;
  try {
    for (const path of paths) {
      if (isNpz(path)) {
        all.push(await readStatistics(path));
        continue;
      }
      m ??= await measurer(values, io, output);
      all.push((await m.measure(path, {})).statistics);
    }
  } finally {
    m?.model.dispose();
  }
  const value = frechetDistance(all[0]!, all[1]!);
  output.result(`FID ${value.toFixed(4)}`, { event: 'fid', fid: value, a: paths[0], b: paths[1] });
  return 0;
}

async function kid(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals: given } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...commonOptions,
      'subset-size': { type: 'string' },
      subsets: { type: 'string' },
      seed: { type: 'string' },
    },
  });
  if (values.help) return help('kid', io);
  const paths = positionals(given, 2);
  const npz = paths.find(isNpz);
  if (npz) throw new UsageError(`${npz}: KID needs the features of images, not a .npz of statistics`);
  const subsetSize = positiveInt('subset-size', values['subset-size']) ?? 1000;
  const numSubsets = positiveInt('subsets', values.subsets) ?? 100;
  const seed = integer('seed', values.seed) ?? 0;
  const output = new Output(values, io);
  const m = await measurer(values, io, output);
  const features: Float32Array[] = [];
  try {
    for (const path of paths) features.push((await m.measure(path, { features: true })).features!);
  } finally {
    m.model.dispose();
  }
  const value = kernelInceptionDistance(features[0]!, features[1]!, FID_INCEPTION_FEATURES, {
    subsetSize,
    numSubsets,
    seed,
  });
  output.result(`KID ${value.mean.toExponential(4)} ± ${value.std.toExponential(2)}`, {
    event: 'kid',
    mean: value.mean,
    std: value.std,
    subsetSize,
    numSubsets,
    a: paths[0],
    b: paths[1],
  });
  return 0;
}

async function is(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals: given } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...commonOptions, splits: { type: 'string' } },
  });
  if (values.help) return help('is', io);
  const [path] = positionals(given, 1);
  if (isNpz(path!))
    throw new UsageError(`${path}: the Inception Score needs images, not a .npz of statistics`);
  const splits = positiveInt('splits', values.splits) ?? 10;
  const output = new Output(values, io);
  const m = await measurer(values, io, output);
  let measured: ImageMeasurements;
  try {
    measured = await m.measure(path!, { logits: true });
  } finally {
    m.model.dispose();
  }
  const value = inceptionScore(measured.logits!, measured.count, { splits });
  output.result(`IS ${value.mean.toFixed(4)} ± ${value.std.toFixed(4)}`, {
    event: 'is',
    mean: value.mean,
    std: value.std,
    splits,
    count: measured.count,
  });
  return 0;
}

function help(command: (typeof COMMANDS)[number] | undefined, io: CliIo): number {
  (io.out ?? process.stdout).write(`${command ? HELP[command] : USAGE}\n`);
  return 0;
}

/**
 * Runs `sbm-metrics <command> …` in this process. Returns the exit code: 0 success, 1 failure (a message naming
 * the file or argument on stderr), 2 a usage error.
 */
export async function runMetricsCli(argv: readonly string[], io: CliIo = {}): Promise<number> {
  const [command, ...rest] = argv;
  const err = io.err ?? process.stderr;
  try {
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      return help(undefined, io);
    }
    switch (command) {
      case 'stats':
        return await stats(rest, io);
      case 'fid':
        return await fid(rest, io);
      case 'kid':
        return await kid(rest, io);
      case 'is':
        return await is(rest, io);
      default:
        throw new UsageError(`command: expected one of ${COMMANDS.join(', ')}, got '${command}'`);
    }
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      const known = COMMANDS.includes(command as never);
      err.write(
        `sbm-metrics ${known ? command : ''}: ${(error as Error).message}\nRun \`sbm-metrics ${known ? `${command} ` : ''}--help\` for usage.\n`,
      );
      return 2;
    }
    err.write(`sbm-metrics ${command}: ${(error as Error).message}\n`);
    return 1;
  }
}
