import { createRequire } from 'node:module';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadMnist, loadMnistRaw, mnistToResolution } from './mnist.js';

// The package's data, read here independently of the module under test.
const pkg = createRequire(import.meta.url)('mnist') as Record<number, { raw: number[]; length: number }>;
const rawSamples: Array<{ label: number; pixels: number[] }> = [];
for (let d = 0; d < 10; d++) {
  for (let i = 0; i < pkg[d]!.length; i++)
    rawSamples.push({ label: d, pixels: pkg[d]!.raw.slice(i * 784, (i + 1) * 784) });
}
const key = (bytes: ArrayLike<number>): string => Buffer.from(Uint8Array.from(bytes)).toString('base64');
/** Quantized 28×28 content → indices of raw samples with that content. */
const byContent = new Map<string, number[]>();
for (const [i, s] of rawSamples.entries()) {
  const k = key(s.pixels.map((v) => Math.round(v * 255)));
  byContent.set(k, [...(byContent.get(k) ?? []), i]);
}

/** Matches each image to a distinct raw sample with the same pixels and label; returns the raw indices. */
function matchToRaw(data: Uint8Array, labels: Uint8Array, used: Set<number>): number[] {
  const out: number[] = [];
  for (let k = 0; k < labels.length; k++) {
    const candidates = byContent.get(key(data.subarray(k * 784, (k + 1) * 784))) ?? [];
    const i = candidates.find((c) => !used.has(c) && rawSamples[c]!.label === labels[k]);
    expect(i, `sample ${k} matches an unused raw digit with label ${labels[k]}`).toBeDefined();
    used.add(i!);
    out.push(i!);
  }
  return out;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('loadMnistRaw', () => {
  it('holds the package digits in package order', () => {
    const raw = loadMnistRaw();
    expect(raw.count).toBe(rawSamples.length);
    expect(raw.count).toBe(10_000);
    for (const i of [0, 1234, 5000, 9999]) {
      expect(raw.labels[i]).toBe(rawSamples[i]!.label);
      expect(Array.from(raw.pixels.subarray(i * 784, (i + 1) * 784))).toEqual(rawSamples[i]!.pixels);
    }
  });
});

describe('loadMnist', () => {
  it('splits all 10 000 digits into disjoint train/test sets with correct labels and pixels (28×28)', () => {
    const random = vi.spyOn(Math, 'random');
    const { train, test } = loadMnist({ train: 9000, test: 1000 });
    expect(random).not.toHaveBeenCalled();
    expect(train.shape).toEqual([28, 28, 1]);
    expect(train.size).toBe(9000);
    expect(test!.size).toBe(1000);
    expect(train.name).toBe('mnist28-train');
    const used = new Set<number>();
    matchToRaw(train.data as Uint8Array, train.labels!, used);
    matchToRaw(test!.data as Uint8Array, test!.labels!, used);
    expect(used.size).toBe(10_000);
    // Pixel sums against the raw package data.
    let expected = 0;
    for (const s of rawSamples) for (const v of s.pixels) expected += Math.round(v * 255);
    let got = 0;
    for (const ds of [train, test!]) for (const v of ds.data) got += v;
    expect(got).toBe(expected);
    // Every class is present in the test split (a shuffled, not digit-sorted, order).
    expect(new Set(test!.labels).size).toBe(10);
  });

  it('is deterministic, and the test set does not depend on the train count', () => {
    const a = loadMnist({ train: 100, test: 50 });
    const b = loadMnist({ train: 2000, test: 50 });
    expect(Buffer.compare(a.test!.data as Uint8Array, b.test!.data as Uint8Array)).toBe(0);
    expect(
      Buffer.compare(a.train.data as Uint8Array, (b.train.data as Uint8Array).subarray(0, 100 * 784)),
    ).toBe(0);
    expect(loadMnist({ train: 10, test: 0 }).test).toBeNull();
  });

  it('pads to 32×32 and pools+pads to 16×16 as computed directly from the package floats', () => {
    const n = 40;
    const base = loadMnist({ train: n, test: 5 });
    const p32 = loadMnist({ train: n, test: 5, resolution: 32 });
    const p16 = loadMnist({ train: n, test: 5, resolution: 16 });
    expect(p32.train.shape).toEqual([32, 32, 1]);
    expect(p16.train.shape).toEqual([16, 16, 1]);
    expect(Array.from(p32.train.labels!)).toEqual(Array.from(base.train.labels!));
    const rawIdx = matchToRaw(base.train.data as Uint8Array, base.train.labels!, new Set());
    for (let k = 0; k < n; k++) {
      const px = rawSamples[rawIdx[k]!]!.pixels;
      const want32 = new Uint8Array(1024);
      const want16 = new Uint8Array(256);
      for (let y = 0; y < 32; y++) {
        for (let x = 0; x < 32; x++) {
          const inside = y >= 2 && y < 30 && x >= 2 && x < 30;
          want32[y * 32 + x] = inside ? Math.round(255 * px[(y - 2) * 28 + (x - 2)]!) : 0;
        }
      }
      for (let y = 1; y < 15; y++) {
        for (let x = 1; x < 15; x++) {
          const sy = 2 * (y - 1);
          const sx = 2 * (x - 1);
          let s = 0;
          for (const [dy, dx] of [
            [0, 0],
            [0, 1],
            [1, 0],
            [1, 1],
          ] as const)
            s += px[(sy + dy) * 28 + sx + dx]!;
          want16[y * 16 + x] = Math.round((255 * s) / 4);
        }
      }
      expect(Array.from(p32.train.data.subarray(k * 1024, (k + 1) * 1024))).toEqual(Array.from(want32));
      expect(Array.from(p16.train.data.subarray(k * 256, (k + 1) * 256))).toEqual(Array.from(want16));
    }
  });

  it('rejects bad counts and resolutions', () => {
    expect(() => loadMnist({ train: 9000, test: 1001 })).toThrow(
      'loadMnist: train + test = 10001 exceeds the 10000 digits of the mnist package',
    );
    expect(() => loadMnist({ train: 0, test: 1 })).toThrow('loadMnist: train must be an integer ≥ 1, got 0');
    expect(() => loadMnist({ train: 1, test: -1 })).toThrow(/test must be an integer ≥ 0/);
    expect(() => loadMnist({ train: 1, test: 1, resolution: 20 as 28 })).toThrow(
      /resolution must be 28, 32 or 16, got 20/,
    );
    expect(() => mnistToResolution(new Float64Array(10), 28)).toThrow(/must have 784 values, got 10/);
  });
});
