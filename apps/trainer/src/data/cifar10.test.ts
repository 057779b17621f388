import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cifar10BatchBytes, cifar10HwcMismatches } from '@sbm/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadCifar10 } from './cifar10.js';

const encodeBatch = cifar10BatchBytes;
const expectHwc = (data: Uint8Array, count: number) => expect(cifar10HwcMismatches(data, count)).toBe(0);

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cifar10-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('loadCifar10', () => {
  const sizes = [3, 1, 2, 4, 2];

  async function writeTrain(): Promise<number[]> {
    const all: number[] = [];
    let first = 0;
    for (const [i, n] of sizes.entries()) {
      const labels = Array.from({ length: n }, (_, k) => (first + k) % 10);
      await writeFile(join(dir, `data_batch_${i + 1}.bin`), encodeBatch(first, labels));
      all.push(...labels);
      first += n;
    }
    return all;
  }

  it('concatenates batches 1–5 in order for the train split', async () => {
    const labels = await writeTrain();
    const ds = await loadCifar10(dir, 'train');
    expect(ds.name).toBe('cifar10-train');
    expect(ds.size).toBe(12);
    expect(ds.shape).toEqual([32, 32, 3]);
    expect(ds.numClasses).toBe(10);
    expect(Array.from(ds.labels!)).toEqual(labels);
    expectHwc(ds.data as Uint8Array, 12);
  });

  it('reads test_batch.bin for the test split', async () => {
    await writeFile(join(dir, 'test_batch.bin'), encodeBatch(0, [7, 8]));
    const ds = await loadCifar10(dir, 'test');
    expect(ds.size).toBe(2);
    expect(Array.from(ds.labels!)).toEqual([7, 8]);
    expectHwc(ds.data as Uint8Array, 2);
  });

  it('names a missing batch file', async () => {
    await writeTrain();
    await rm(join(dir, 'data_batch_4.bin'));
    await expect(loadCifar10(dir, 'train')).rejects.toThrow(
      `loadCifar10: missing ${join(dir, 'data_batch_4.bin')}`,
    );
    await expect(loadCifar10(dir, 'test')).rejects.toThrow(/missing .*test_batch\.bin/);
  });

  it('names a truncated batch file', async () => {
    await writeTrain();
    const bytes = encodeBatch(0, [1, 2]);
    await writeFile(join(dir, 'data_batch_3.bin'), bytes.subarray(0, bytes.length - 100));
    await expect(loadCifar10(dir, 'train')).rejects.toThrow(
      `${join(dir, 'data_batch_3.bin')}: expected a positive multiple of 3073 bytes (1 label + 3072 pixels per image), got 6046`,
    );
  });

  it('names a corrupt label in a batch file', async () => {
    await writeTrain();
    const bytes = encodeBatch(0, [1, 2]);
    bytes[3073] = 200; // the label byte of the second record
    await writeFile(join(dir, 'data_batch_5.bin'), bytes);
    await expect(loadCifar10(dir, 'train')).rejects.toThrow(
      /data_batch_5\.bin: record 1 .* has label 200, expected 0–9/,
    );
  });

  it('rejects an unknown split', async () => {
    await expect(loadCifar10(dir, 'val' as 'test')).rejects.toThrow(
      `split must be 'train' or 'test', got "val"`,
    );
  });
});
