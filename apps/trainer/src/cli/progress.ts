/**
 * Progress and log output of the CLI, in three modes: `'pretty'` (a progress line with it/s, ETA and the
 * running metrics, redrawn in place on a terminal, one line every `interval` seconds otherwise), `'quiet'`
 * (warnings and errors only) and `'jsonl'` (one JSON object per line on stdout, for scripts and schedulers).
 */

/** The output mode of {@link Reporter}. */
export type OutputMode = 'pretty' | 'quiet' | 'jsonl';

/** Where a {@link Reporter} writes (a `process.stdout`-like stream). */
export interface OutputStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

/** Options of {@link Reporter}. */
export interface ReporterOptions {
  mode: OutputMode;
  /** Progress and events (default process.stdout). */
  out?: OutputStream;
  /** Warnings and errors (default process.stderr). */
  err?: OutputStream;
  /** Clock in seconds (default performance.now()/1000). */
  now?: () => number;
  /** Seconds between progress lines when not on a terminal (and between jsonl progress events), default 10. */
  interval?: number;
}

/** Formats seconds as `1h02m`, `3m05s` or `12s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m${String(r).padStart(2, '0')}s`;
  return `${r}s`;
}

/** Formats a metric: 4 significant digits, exponent form for small or large magnitudes. */
function formatMetric(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(3) : v.toPrecision(4);
}

/**
 * Reports long work: `start(task, total)`, then `update(done, metrics)` after each unit, `finish()`;
 * `info`/`warn`/`error` messages and `event` records (a JSON line in `'jsonl'` mode). The rate is the
 * mean over the units since `start` (after the first, which includes warm-up), the ETA `remaining / rate`.
 */
export class Reporter {
  readonly mode: OutputMode;
  readonly #out: OutputStream;
  readonly #err: OutputStream;
  readonly #now: () => number;
  readonly #interval: number;
  #task = '';
  #total = 0;
  #startDone = 0;
  #firstAt: number | undefined;
  #firstDone = 0;
  #lastLineAt = Number.NEGATIVE_INFINITY;
  #drawn = false;

  constructor(options: ReporterOptions) {
    if (!['pretty', 'quiet', 'jsonl'].includes(options.mode)) {
      throw new Error(`--log: expected pretty, quiet or jsonl, got '${options.mode}'`);
    }
    this.mode = options.mode;
    this.#out = options.out ?? process.stdout;
    this.#err = options.err ?? process.stderr;
    this.#now = options.now ?? (() => performance.now() / 1000);
    this.#interval = options.interval ?? 10;
  }

  /** Starts a task of `total` units, `done` of which are already done (a resumed run). */
  start(task: string, total: number, done = 0): void {
    this.#task = task;
    this.#total = total;
    this.#startDone = done;
    this.#firstAt = undefined;
    this.#lastLineAt = Number.NEGATIVE_INFINITY;
    this.event({ event: 'start', task, total, done });
  }

  /** Units per second since the first unit after `start` (undefined before two updates). */
  rate(done: number): number | undefined {
    if (this.#firstAt === undefined) return undefined;
    const dt = this.#now() - this.#firstAt;
    return dt > 0 && done > this.#firstDone ? (done - this.#firstDone) / dt : undefined;
  }

  /** After `done` of `total` units, with the running metrics (e.g. `{ loss }`). */
  update(done: number, metrics: Record<string, number> = {}): void {
    const t = this.#now();
    if (this.#firstAt === undefined && done > this.#startDone) {
      this.#firstAt = t;
      this.#firstDone = done;
    }
    const rate = this.rate(done);
    const eta = rate ? (this.#total - done) / rate : undefined;
    if (this.mode === 'quiet') return;
    const last = done >= this.#total;
    if (this.mode === 'jsonl') {
      if (last || t - this.#lastLineAt >= this.#interval) {
        this.#lastLineAt = t;
        this.#line(
          this.#out,
          JSON.stringify({
            event: 'progress',
            task: this.#task,
            done,
            total: this.#total,
            rate,
            eta,
            ...metrics,
          }),
        );
      }
      return;
    }
    const tty = this.#out.isTTY === true;
    if (!tty && !last && t - this.#lastLineAt < this.#interval) return;
    this.#lastLineAt = t;
    const pct = this.#total > 0 ? ((100 * done) / this.#total).toFixed(1) : '100.0';
    const parts = [
      `${this.#task} ${done}/${this.#total} [${pct.padStart(5)}%]`,
      rate ? `${rate >= 10 ? rate.toFixed(0) : rate.toPrecision(3)} it/s` : '… it/s',
      `ETA ${eta === undefined ? '?' : formatDuration(eta)}`,
      ...Object.entries(metrics).map(([k, v]) => `${k} ${formatMetric(v)}`),
    ];
    const text = parts.join('  ');
    if (tty) {
      this.#out.write(`\r\x1b[2K${text}`);
      this.#drawn = true;
      if (last) this.#endLine();
    } else {
      this.#line(this.#out, text);
    }
  }

  /** Ends the progress line of a task. */
  finish(summary: Record<string, unknown> = {}): void {
    this.#endLine();
    this.event({ event: 'finish', task: this.#task, ...summary });
  }

  /** A message for people (suppressed in quiet mode; an `info` event in jsonl mode). */
  info(message: string): void {
    if (this.mode === 'pretty') this.#line(this.#out, message);
    else if (this.mode === 'jsonl') this.#line(this.#out, JSON.stringify({ event: 'info', message }));
  }

  /** A warning (always shown; on stderr, or a `warn` event in jsonl mode). */
  warn(message: string): void {
    if (this.mode === 'jsonl') this.#line(this.#out, JSON.stringify({ event: 'warn', message }));
    else this.#line(this.#err, `warning: ${message}`);
  }

  /** An error (always shown). */
  error(message: string): void {
    if (this.mode === 'jsonl') this.#line(this.#out, JSON.stringify({ event: 'error', message }));
    this.#line(this.#err, `error: ${message}`);
  }

  /** A structured record: a JSON line in jsonl mode, nothing otherwise. */
  event(record: Record<string, unknown>): void {
    if (this.mode === 'jsonl') this.#line(this.#out, JSON.stringify(record));
  }

  #endLine(): void {
    if (this.#drawn) {
      this.#out.write('\n');
      this.#drawn = false;
    }
  }

  #line(stream: OutputStream, text: string): void {
    if (stream === this.#out) this.#endLine();
    stream.write(`${text}\n`);
  }
}
