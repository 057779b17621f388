import { describe, expect, it } from 'vitest';
import { gatherStrided, layoutProblem, type StridedLayout } from './tensor-layout.js';

/** Storage indices of every element of a layout, in row-major order, by enumerating all multi-indices. */
function storageIndices({ offset, shape, stride }: StridedLayout): number[] {
  let indices = [offset];
  for (let d = 0; d < shape.length; d++) {
    const next: number[] = [];
    for (const base of indices) for (let i = 0; i < shape[d]!; i++) next.push(base + i * stride[d]!);
    indices = next;
  }
  return indices;
}

/** A small deterministic pseudo-random generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomLayout(next: () => number): StridedLayout {
  const rank = Math.floor(next() * 4);
  const shape = Array.from({ length: rank }, () => Math.floor(next() * 5));
  const stride = Array.from({ length: rank }, () => Math.floor(next() * 9));
  return { offset: Math.floor(next() * 6), shape, stride };
}

describe('layoutProblem', () => {
  it('accepts a layout exactly when every element it reads is inside the storage (vs enumeration)', () => {
    const next = rng(7);
    for (let trial = 0; trial < 500; trial++) {
      const layout = randomLayout(next);
      const indices = storageIndices(layout);
      // The smallest storage that holds every element read (0 when no element is read).
      const needed = indices.length === 0 ? 0 : Math.max(...indices) + 1;
      expect(layoutProblem(layout, needed, 1e9), JSON.stringify(layout)).toBeUndefined();
      if (needed > 0)
        expect(layoutProblem(layout, needed - 1, 1e9), JSON.stringify(layout)).toMatch(/reach element/);
    }
  });

  it('accepts the overlapping-stride layout of the Inception fixture: (1008, 2048) with stride (7, 1)', () => {
    const layout = { offset: 0, shape: [1008, 2048], stride: [7, 1] };
    expect(layoutProblem(layout, 1007 * 7 + 2048, 2 ** 30)).toBeUndefined();
    expect(layoutProblem(layout, 1007 * 7 + 2047, 2 ** 30)).toBe(
      'offset 0, shape [1008, 2048] and stride [7, 1] reach element 9096 of a storage of 9096 elements',
    );
  });

  it('rejects negative, fractional and non-numeric sizes, strides and offsets, and mismatched ranks', () => {
    const ok = { offset: 0, shape: [2, 3], stride: [3, 1] };
    expect(layoutProblem(ok, 6, 100)).toBeUndefined();
    expect(layoutProblem({ ...ok, shape: [2, -3] }, 6, 100)).toMatch(
      /shape \[2, -3\] is not a list of non-negative/,
    );
    expect(layoutProblem({ ...ok, shape: [2, 1.5] }, 6, 100)).toMatch(/shape/);
    expect(layoutProblem({ ...ok, shape: 6 as unknown as number[] }, 6, 100)).toMatch(/shape 6/);
    expect(layoutProblem({ ...ok, stride: [3, -1] }, 6, 100)).toMatch(/stride \[3, -1\]/);
    expect(layoutProblem({ ...ok, stride: [3, Number.NaN] }, 6, 100)).toMatch(/stride/);
    expect(layoutProblem({ ...ok, offset: -1 }, 6, 100)).toMatch(/storage offset -1/);
    expect(layoutProblem({ ...ok, offset: 2 ** 60 }, 6, 100)).toMatch(/storage offset/);
    expect(layoutProblem({ ...ok, stride: [1] }, 6, 100)).toMatch(/different ranks/);
  });

  it('rejects element counts over the limit (zero strides make them independent of the storage size)', () => {
    const broadcast = { offset: 0, shape: [2 ** 20, 2 ** 20], stride: [0, 0] };
    expect(layoutProblem(broadcast, 1, 2 ** 30)).toMatch(/more than the 1073741824 elements allowed/);
    expect(layoutProblem({ ...broadcast, shape: [2 ** 10, 2 ** 10] }, 1, 2 ** 30)).toBeUndefined();
  });

  it('does not let huge sizes and strides wrap around', () => {
    const huge = Number.MAX_SAFE_INTEGER;
    expect(layoutProblem({ offset: 0, shape: [2, 2], stride: [huge, huge] }, 10, 100)).toMatch(
      /reach element/,
    );
    expect(layoutProblem({ offset: huge, shape: [], stride: [] }, 10, 100)).toMatch(/reach element/);
  });
});

describe('gatherStrided', () => {
  const storageValues = Float32Array.from({ length: 40 }, (_, i) => Math.fround(Math.sin(i + 1) * 10));
  const storage = new Uint8Array(storageValues.buffer);

  it('gathers out[i] = storage[offset + Σ i_d stride_d] in row-major order (vs enumeration)', () => {
    const next = rng(11);
    for (let trial = 0; trial < 300; trial++) {
      const layout = randomLayout(next);
      const indices = storageIndices(layout);
      if (indices.some((i) => i >= storageValues.length)) continue;
      expect(Array.from(gatherStrided(storage, 'float32', layout)), JSON.stringify(layout)).toEqual(
        indices.map((i) => storageValues[i]),
      );
    }
  });

  it('copies contiguous float32 runs (also with size-1 dimensions of any stride) like the general path', () => {
    const layout = { offset: 3, shape: [2, 1, 5], stride: [5, 99, 1] };
    expect(Array.from(gatherStrided(storage, 'float32', layout))).toEqual(
      storageIndices(layout).map((i) => storageValues[i]),
    );
    // A storage that is not 4-byte aligned in its buffer.
    const unaligned = new Uint8Array(storage.length + 1).fill(0);
    unaligned.set(storage, 1);
    expect(gatherStrided(unaligned.subarray(1), 'float32', layout)).toEqual(
      gatherStrided(storage, 'float32', layout),
    );
  });

  it('reads 0-d tensors and tensors with no elements', () => {
    expect(Array.from(gatherStrided(storage, 'float32', { offset: 7, shape: [], stride: [] }))).toEqual([
      storageValues[7],
    ]);
    expect(gatherStrided(storage, 'float32', { offset: 0, shape: [0, 3], stride: [3, 1] })).toHaveLength(0);
  });
});
