import { describe, expect, it } from 'vitest';
import { type ArrayDataset, createDataset } from './dataset.js';
import { type Batch, type BatchStream, createBatchStream, epochPermutation, prefetch } from './pipeline.js';

/** N images of H×W×C with distinct, left–right asymmetric pixels; label i mod 10. */
function images(N: number, H: number, W: number, C: number): ArrayDataset {
  const data = new Uint8Array(N * H * W * C);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37 + (i >> 3)) & 255;
  const labels = Uint8Array.from({ length: N }, (_, i) => i % 10);
  return createDataset({ name: 'img', shape: [H, W, C], data, labels, numClasses: 10 });
}

function take(stream: BatchStream, n: number): Batch[] {
  return Array.from({ length: n }, () => stream.next());
}

const ds = images(23, 4, 5, 3);
const opts = { dataset: ds, batchSize: 4, seed: 17, randomFlip: true, centered: false };

describe('createBatchStream', () => {
  it('visits a fresh permutation each epoch and drops the remainder', () => {
    const s = createBatchStream(opts);
    expect(s.batchesPerEpoch).toBe(5); // floor(23 / 4)
    const orders: number[][] = [];
    for (let e = 0; e < 3; e++) {
      const seen = take(s, 5).flatMap((b) => Array.from(b.indices));
      expect(seen).toHaveLength(20);
      expect(new Set(seen).size).toBe(20); // no repeats within an epoch
      const dropped = Array.from(epochPermutation(23, 17, e)).slice(20);
      expect([...seen, ...dropped].sort((a, b) => a - b)).toEqual(Array.from({ length: 23 }, (_, i) => i));
      orders.push(seen);
    }
    expect(orders[1]).not.toEqual(orders[0]);
    expect(s.position).toEqual({ epoch: 3, index: 0 });
  });

  it('delivers each sample exactly as stored, mirrored iff flagged, scaled to [0, 1]', () => {
    const [H, W, C] = [4, 5, 3];
    const s = createBatchStream(opts);
    for (const b of take(s, 10)) {
      expect(b.shape).toEqual([4, H, W, C]);
      expect(b.x.length).toBe(4 * H * W * C);
      for (let k = 0; k < 4; k++) {
        const i = b.indices[k]!;
        expect(b.labels![k]).toBe(i % 10);
        for (let y = 0; y < H; y++) {
          for (let x = 0; x < W; x++) {
            const sx = b.flipped![k] === 1 ? W - 1 - x : x;
            for (let c = 0; c < C; c++) {
              const want = ds.data[((i * H + y) * W + sx) * C + c]! / 255;
              expect(b.x[((k * H + y) * W + x) * C + c]).toBe(Math.fround(want));
            }
          }
        }
      }
    }
  });

  it('flips about half of the samples', () => {
    const big = images(1000, 2, 2, 1);
    const s = createBatchStream({ dataset: big, batchSize: 100, seed: 3, randomFlip: true, centered: false });
    let flips = 0;
    for (const b of take(s, 40)) for (const f of b.flipped!) flips += f;
    // 4000 Bernoulli(½) draws: standard deviation 31.6.
    expect(Math.abs(flips - 2000)).toBeLessThan(130);
    const none = createBatchStream({
      dataset: big,
      batchSize: 100,
      seed: 3,
      randomFlip: false,
      centered: false,
    });
    expect(none.next().flipped).toBeNull();
  });

  it('maps 0 → −1 and 255 → 1 when centered', () => {
    const data = Uint8Array.of(0, 255, 51, 204);
    const d = createDataset({ name: 'c', shape: [1, 1, 1], data });
    const b = createBatchStream({
      dataset: d,
      batchSize: 4,
      seed: 0,
      randomFlip: false,
      centered: true,
    }).next();
    const byIndex = Array.from(b.indices)
      .map((i, k) => [i, b.x[k]!] as const)
      .sort((p, q) => p[0] - q[0]);
    expect(byIndex.map(([, v]) => v)).toEqual([-1, 1, -0.6, 0.6].map((v) => Math.fround(v)));
    expect(b.labels).toBeNull();
  });

  it('passes float data through unchanged and refuses flips on it', () => {
    const data = Float32Array.of(0.5, -3, 7, 1e-3, 2, 2);
    const d = createDataset({ name: 'toy', shape: [2], data });
    const b = createBatchStream({
      dataset: d,
      batchSize: 3,
      seed: 1,
      randomFlip: false,
      centered: true,
    }).next();
    for (let k = 0; k < 3; k++) {
      const i = b.indices[k]!;
      expect([b.x[2 * k], b.x[2 * k + 1]]).toEqual([data[2 * i], data[2 * i + 1]]);
    }
    expect(() =>
      createBatchStream({ dataset: d, batchSize: 3, seed: 1, randomFlip: true, centered: false }),
    ).toThrow(/randomFlip needs an image dataset .* toy has shape \[2\]/);
  });

  it('is deterministic in the seed', () => {
    const a = take(createBatchStream(opts), 7);
    const b = take(createBatchStream(opts), 7);
    expect(b).toEqual(a);
    const c = take(createBatchStream({ ...opts, seed: 18 }), 7);
    expect(c.map((x) => Array.from(x.indices))).not.toEqual(a.map((x) => Array.from(x.indices)));
  });

  it('resumes at any saved position with exactly the batches of an uninterrupted run', () => {
    const full = take(createBatchStream(opts), 16);
    for (let k = 0; k < 16; k++) {
      // The position a checkpoint would save after k batches.
      const s = createBatchStream(opts);
      take(s, k);
      const saved = s.position;
      expect(saved).toEqual(full[k]!.position);
      const resumed = take(createBatchStream({ ...opts, position: saved }), 16 - k);
      expect(resumed).toEqual(full.slice(k));
    }
    // index = batchesPerEpoch means the start of the next epoch.
    expect(createBatchStream({ ...opts, position: { epoch: 1, index: 5 } }).next()).toEqual(full[10]);
  });

  it('validates its arguments', () => {
    expect(() => createBatchStream({ ...opts, batchSize: 24 })).toThrow(
      'createBatchStream: batchSize must be an integer in 1…23 (the size of img), got 24',
    );
    expect(() => createBatchStream({ ...opts, seed: 1.5 })).toThrow(/seed must be a safe integer/);
    expect(() => createBatchStream({ ...opts, position: { epoch: 0, index: 6 } })).toThrow(/index in 0…5/);
    expect(() => createBatchStream({ ...opts, position: { epoch: -1, index: 0 } })).toThrow(
      /integer epoch ≥ 0/,
    );
  });
});

describe('prefetch', () => {
  it('yields the same sequence and positions as the plain stream', async () => {
    const plain = take(createBatchStream(opts), 12);
    const p = prefetch(createBatchStream(opts));
    for (let k = 0; k < 12; k++) {
      expect(p.position).toEqual(plain[k]!.position);
      expect(await p.next()).toEqual(plain[k]);
    }
    expect(p.position).toEqual({ epoch: 2, index: 2 });
  });

  it('serializes overlapping calls', async () => {
    const plain = take(createBatchStream(opts), 6);
    const p = prefetch(createBatchStream(opts));
    expect(await Promise.all(Array.from({ length: 6 }, () => p.next()))).toEqual(plain);
  });

  it('computes the next batch in the background, so the following next() finds it ready', async () => {
    const inner = createBatchStream(opts);
    let computed = 0;
    const counting: BatchStream = {
      batchesPerEpoch: inner.batchesPerEpoch,
      get position() {
        return inner.position;
      },
      next() {
        computed++;
        return inner.next();
      },
    };
    const p = prefetch(counting);
    await p.next();
    expect(computed).toBe(1);
    await new Promise((resolve) => setImmediate(resolve)); // the caller's step yields to the event loop
    expect(computed).toBe(2); // batch 2 is ready before it is asked for
    expect(p.position).toEqual({ epoch: 0, index: 1 }); // prefetched batches do not advance the position
    await p.next();
    expect(computed).toBe(2);
  });

  it('surfaces an error of the underlying stream on next()', async () => {
    let n = 0;
    const failing: BatchStream = {
      batchesPerEpoch: 1,
      position: { epoch: 0, index: 0 },
      next() {
        if (n++ === 1) throw new Error('boom');
        return createBatchStream(opts).next();
      },
    };
    const p = prefetch(failing);
    await p.next();
    await expect(p.next()).rejects.toThrow('boom');
  });
});
