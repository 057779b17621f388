/** Median and spread of repeated timings of `fn`, after `warmup` untimed calls. */
export interface Timing {
  medianMs: number;
  minMs: number;
  maxMs: number;
  runs: number;
}

/** Times `fn` (sync or async) `runs` times after `warmup` calls and returns the median, min and max in ms. */
export async function time(fn: () => unknown, runs = 20, warmup = 3): Promise<Timing> {
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return {
    medianMs: samples[Math.floor(samples.length / 2)]!,
    minMs: samples[0]!,
    maxMs: samples[samples.length - 1]!,
    runs,
  };
}

/** Formats rows as a GitHub-flavoured Markdown table. */
export function markdownTable(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
