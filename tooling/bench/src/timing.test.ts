import { describe, expect, it } from 'vitest';
import { markdownTable, time } from './timing.js';

describe('timing helpers', () => {
  it('time() runs warm-up and timed calls and orders min <= median <= max', async () => {
    let calls = 0;
    const t = await time(() => calls++, 5, 2);
    expect(calls).toBe(7);
    expect(t.minMs).toBeLessThanOrEqual(t.medianMs);
    expect(t.medianMs).toBeLessThanOrEqual(t.maxMs);
  });

  it('markdownTable writes a header, a rule and rows', () => {
    expect(markdownTable(['a', 'b'], [[1, 'x']])).toBe('| a | b |\n| --- | --- |\n| 1 | x |');
  });
});
