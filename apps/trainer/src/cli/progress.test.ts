import { describe, expect, it } from 'vitest';
import { formatDuration, Reporter } from './progress.js';

function sink(isTTY = false) {
  const chunks: string[] = [];
  return { chunks, stream: { isTTY, write: (s: string) => chunks.push(s) } };
}

describe('Reporter', () => {
  it('pretty on a terminal: one redrawn line with it/s from the units after the first, ETA and metrics', () => {
    let t = 0;
    const out = sink(true);
    const r = new Reporter({ mode: 'pretty', out: out.stream, err: sink().stream, now: () => t });
    r.start('train', 100);
    t = 5; // the first step includes warm-up: not counted in the rate
    r.update(1, { loss: 0.5 });
    t = 7;
    r.update(5, { loss: 0.25 }); // 4 units in 2 s: 2.00 it/s, 95 left: ETA 47.5 s
    expect(out.chunks.at(-1)).toBe('\r\x1b[2Ktrain 5/100 [  5.0%]  2.00 it/s  ETA 48s  loss 0.2500');
    t = 54.5;
    r.update(100, { loss: 1e-4 });
    expect(out.chunks.at(-2)).toContain('train 100/100 [100.0%]  2.00 it/s  ETA 0s  loss 1.000e-4');
    expect(out.chunks.at(-1)).toBe('\n');
    r.finish();
    expect(out.chunks.at(-1)).toBe('\n');
  });

  it('pretty off a terminal: a line every interval seconds and the last one', () => {
    let t = 0;
    const out = sink(false);
    const r = new Reporter({
      mode: 'pretty',
      out: out.stream,
      err: sink().stream,
      now: () => t,
      interval: 10,
    });
    r.start('sample', 10);
    for (let i = 1; i <= 10; i++) {
      t = 3 * i;
      r.update(i);
    }
    // lines at t = 3 (first), 15, 27 and the last (30)
    expect(out.chunks.map((c) => c.split(' ')[1])).toEqual(['1/10', '5/10', '9/10', '10/10']);
    expect(out.chunks.every((c) => c.endsWith('\n') && !c.includes('\r'))).toBe(true);
  });

  it('jsonl: start, throttled progress and finish as JSON lines; warnings too', () => {
    let t = 0;
    const out = sink(false);
    const r = new Reporter({ mode: 'jsonl', out: out.stream, err: sink().stream, now: () => t, interval: 1 });
    r.start('train', 3, 1);
    t = 1;
    r.update(2, { loss: 0.5 });
    t = 1.5;
    r.update(3, { loss: 0.25 });
    r.warn('careful');
    r.finish({ steps: 3 });
    const records = out.chunks.map((c) => JSON.parse(c));
    expect(records).toEqual([
      { event: 'start', task: 'train', total: 3, done: 1 },
      { event: 'progress', task: 'train', done: 2, total: 3, loss: 0.5 },
      { event: 'progress', task: 'train', done: 3, total: 3, rate: 2, eta: 0, loss: 0.25 },
      { event: 'warn', message: 'careful' },
      { event: 'finish', task: 'train', steps: 3 },
    ]);
  });

  it('quiet: only warnings and errors, on stderr', () => {
    const out = sink();
    const err = sink();
    const r = new Reporter({ mode: 'quiet', out: out.stream, err: err.stream });
    r.start('train', 2);
    r.update(1, { loss: 1 });
    r.info('hello');
    r.warn('w');
    r.error('e');
    expect(out.chunks).toEqual([]);
    expect(err.chunks).toEqual(['warning: w\n', 'error: e\n']);
  });

  it('formats durations and names a bad mode', () => {
    expect([
      formatDuration(12.4),
      formatDuration(185),
      formatDuration(3725),
      formatDuration(Number.NaN),
    ]).toEqual(['12s', '3m05s', '1h02m', '?']);
    expect(() => new Reporter({ mode: 'loud' as 'quiet' })).toThrow(
      /^--log: expected pretty, quiet or jsonl/,
    );
  });
});
