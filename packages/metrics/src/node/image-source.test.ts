import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SbmArgumentError } from '@sbm/sde';
import { cifar10BatchBytes, cifar10Pixel, type PixelFn, pngFile } from '@sbm/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CIFAR10_TEST_FILES, CIFAR10_TRAIN_FILES } from './cifar10-batch.js';
import { type ImageBatch, openImageSource } from './image-source.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sbm-image-source-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

async function collect(batches: AsyncGenerator<ImageBatch>): Promise<ImageBatch[]> {
  const out: ImageBatch[] = [];
  for await (const b of batches) out.push(b);
  return out;
}

const colour =
  (k: number): PixelFn =>
  (x, y) => [(k * 40 + x) % 256, (y * 3) % 256, 255 - k];

describe('openImageSource: an image folder', () => {
  it('reads PNGs in name order, batches consecutive images of one size, and scales to [0, 1]', async () => {
    const dir = join(root, 'folder');
    await mkdir(dir);
    // b0, b1: 6×4; b2: 5×5; b3: 6×4; and a file that is not an image.
    await writeFile(join(dir, 'b0.png'), pngFile(6, 4, colour(0)));
    await writeFile(join(dir, 'b1.png'), pngFile(6, 4, colour(1)));
    await writeFile(join(dir, 'b2.png'), pngFile(5, 5, colour(2)));
    await writeFile(join(dir, 'b3.png'), pngFile(6, 4, colour(3)));
    await writeFile(join(dir, 'notes.txt'), 'not an image');
    const source = await openImageSource(dir);
    expect(source.count).toBe(4);
    const batches = await collect(source.batches(3));
    expect(batches.map((b) => [b.count, b.height, b.width])).toEqual([
      [2, 4, 6],
      [1, 5, 5],
      [1, 4, 6],
    ]);
    // pixel (x 3, y 2) of the second image of the first batch
    const o = ((1 * 4 + 2) * 6 + 3) * 3;
    expect(Array.from(batches[0]!.pixels.subarray(o, o + 3))).toEqual(
      colour(1)(3, 2).map((v) => Math.fround(v / 255)),
    );
    expect(
      (await collect((await openImageSource(dir, { limit: 1 })).batches(8))).map((b) => b.count),
    ).toEqual([1]);
  });

  it('names the file that cannot be decoded and the folder without images', async () => {
    const dir = join(root, 'broken');
    await mkdir(dir);
    await expect(openImageSource(dir)).rejects.toThrow(/broken: holds no \.png\/\.jpg\/\.jpeg images/);
    await writeFile(join(dir, 'cut.png'), pngFile(8, 8, colour(0)).subarray(0, 50));
    const source = await openImageSource(dir);
    await expect(collect(source.batches(2))).rejects.toThrow(/cut\.png: cannot decode PNG image/);
    await expect(openImageSource(join(root, 'nothing-here'))).rejects.toThrow(SbmArgumentError);
  });
});

describe('openImageSource: CIFAR-10 binary batches', () => {
  it('reads the train split of a cifar-10-batches-bin folder across files, in order, HWC in [0, 1]', async () => {
    const dir = join(root, 'cifar-10-batches-bin');
    await mkdir(dir);
    let first = 0;
    for (const f of [...CIFAR10_TRAIN_FILES, ...CIFAR10_TEST_FILES]) {
      await writeFile(join(dir, f), cifar10BatchBytes(first, [1, 2]));
      first += 2;
    }
    const train = await openImageSource(dir);
    expect(train.count).toBe(10);
    const batches = await collect(train.batches(3));
    // batches do not straddle files: 2 records per file
    expect(batches.map((b) => b.count)).toEqual([2, 2, 2, 2, 2]);
    // record 7 = the second record of data_batch_4.bin; pixel (x 5, y 9), green
    expect(batches[3]!.pixels[(1 * 1024 + 9 * 32 + 5) * 3 + 1]).toBe(
      Math.fround(cifar10Pixel(7, 1, 9, 5) / 255),
    );
    const test = await openImageSource(dir, { split: 'test', limit: 1 });
    const [only] = await collect(test.batches(4));
    expect(only!.count).toBe(1);
    expect(only!.pixels[0]).toBe(Math.fround(cifar10Pixel(10, 0, 0, 0) / 255));
    const single = await openImageSource(join(dir, 'data_batch_2.bin'));
    expect(single.count).toBe(2);
  });

  it('names a missing batch file', async () => {
    const dir = join(root, 'partial');
    await mkdir(dir);
    await writeFile(join(dir, 'data_batch_1.bin'), cifar10BatchBytes(0, [1]));
    await expect(openImageSource(dir)).rejects.toThrow(
      /partial: the CIFAR-10 train split needs data_batch_2\.bin/,
    );
  });
});
