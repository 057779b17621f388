import { expectNoLeaks, useCpuBackend } from '@sbm/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { NoiseStreams } from './noise-streams.js';

beforeAll(useCpuBackend);

const rows = (streams: NoiseStreams, shape: number[]) => {
  const t = streams.normal(shape);
  const out = Array.from(t.dataSync());
  t.dispose();
  return out;
};

describe('NoiseStreams', () => {
  it('is reproducible, and the noise of sample k does not depend on the batch size or split', () => {
    const a = new NoiseStreams(42, 3);
    const b = new NoiseStreams(42, 7);
    const c = new NoiseStreams(42, 4, 3); // samples 3..6
    for (let step = 0; step < 3; step++) {
      const ra = rows(a, [3, 5]);
      const rb = rows(b, [7, 5]);
      const rc = rows(c, [4, 5]);
      expect(ra).toEqual(rb.slice(0, 15));
      expect(rc).toEqual(rb.slice(15));
    }
    expect(rows(new NoiseStreams(43, 3), [3, 5])).not.toEqual(rows(new NoiseStreams(42, 3), [3, 5]));
  });

  it('draws standard normals: mean, variance, tails, and no correlation between streams (Monte Carlo, 4 s.e.)', () => {
    const n = 20000;
    const streams = new NoiseStreams(7, 2);
    const v = rows(streams, [2, n]);
    const first = v.slice(0, n);
    const second = v.slice(n);
    for (const s of [first, second]) {
      const mean = s.reduce((p, q) => p + q, 0) / n;
      const variance = s.reduce((p, q) => p + (q - mean) ** 2, 0) / (n - 1);
      const tail = s.filter((q) => Math.abs(q) > 1.959964).length / n;
      expect(Math.abs(mean)).toBeLessThan(4 / Math.sqrt(n));
      expect(Math.abs(variance - 1)).toBeLessThan(4 * Math.sqrt(2 / n));
      expect(Math.abs(tail - 0.05)).toBeLessThan(4 * Math.sqrt((0.05 * 0.95) / n));
    }
    const corr = first.reduce((p, q, i) => p + q * second[i]!, 0) / n;
    expect(Math.abs(corr)).toBeLessThan(4 / Math.sqrt(n));
    // lag-1 autocorrelation within a stream
    const lag = first.slice(1).reduce((p, q, i) => p + q * first[i]!, 0) / (n - 1);
    expect(Math.abs(lag)).toBeLessThan(4 / Math.sqrt(n));
  });

  it('checks its arguments and leaks no tensors', async () => {
    expect(() => new NoiseStreams(1.5, 2)).toThrow(/^seed: /);
    expect(() => new NoiseStreams(1, 0)).toThrow(/^batch: /);
    expect(() => new NoiseStreams(1, 2, -1)).toThrow(/^firstSample: /);
    const s = new NoiseStreams(1, 2);
    expect(() => s.normal([3, 2])).toThrow(/^shape: expected a batch of 2/);
    await expectNoLeaks(() => s.normal([2, 4], 3));
  });
});
