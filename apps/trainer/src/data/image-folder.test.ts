import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jpegFile, type PixelFn as Pixel, pngFile } from '@sbm/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cropResize, decodeImage, loadImageFolder } from './image-folder.js';

/**
 * Reference crop+resize by supersampling: the source is split into sub-cells of side 1/(2·size) pixel, which
 * tile the crop offset (a multiple of ½), the pixel edges and the output-pixel edges exactly, so the mean of
 * the sub-cells each output pixel covers is its exact area average.
 */
function supersample(w: number, h: number, f: Pixel, size: number): number[] {
  const s = Math.min(w, h);
  const k = 2 * size; // sub-cells per source pixel
  const x0 = ((w - s) / 2) * k;
  const y0 = ((h - s) / 2) * k;
  const per = (s * k) / size; // sub-cells per output pixel, per axis
  const out: number[] = [];
  for (let oy = 0; oy < size; oy++) {
    for (let ox = 0; ox < size; ox++) {
      const sum = [0, 0, 0];
      for (let j = 0; j < per; j++) {
        for (let i = 0; i < per; i++) {
          const sx = Math.floor((x0 + ox * per + i) / k);
          const sy = Math.floor((y0 + oy * per + j) / k);
          const p = f(sx, sy);
          for (let c = 0; c < 3; c++) sum[c]! += p[c]!;
        }
      }
      out.push(...sum.map((v) => Math.round(v / (per * per))));
    }
  }
  return out;
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'image-folder-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const gradient: Pixel = (x, y) => [6 * x, 10 * y, 100];

describe('cropResize', () => {
  it('crops a 40×20 gradient to its central 20×20 and halves it (known closed form)', () => {
    const img = decodeImage(pngFile(40, 20, gradient), 'g.png');
    const out = cropResize(img, 10, 3);
    // Output (ox, oy) averages source columns 10+2ox, 11+2ox and rows 2oy, 2oy+1.
    for (let oy = 0; oy < 10; oy++) {
      for (let ox = 0; ox < 10; ox++) {
        expect(Array.from(out.subarray((oy * 10 + ox) * 3, (oy * 10 + ox) * 3 + 3))).toEqual([
          63 + 12 * ox,
          20 * oy + 5,
          100,
        ]);
      }
    }
  });

  it('matches a supersampled reference for non-integer scales and half-pixel crops', () => {
    const f: Pixel = (x, y) => [(x * 37 + y * 11) % 256, (x * x + 3 * y) % 256, (200 - 5 * x + 7 * y) & 255];
    for (const [w, h, size] of [
      [5, 3, 2],
      [7, 4, 3],
      [9, 12, 5],
      [6, 6, 4],
      [3, 5, 7], // upscaling
    ] as const) {
      const got = cropResize(decodeImage(pngFile(w, h, f), 'f.png'), size, 3);
      expect(Array.from(got), `${w}×${h} → ${size}`).toEqual(supersample(w, h, f, size));
    }
  });

  it('converts to BT.601 luma for one channel', () => {
    const img = decodeImage(
      pngFile(2, 2, () => [200, 100, 50]),
      'c.png',
    );
    expect(Array.from(cropResize(img, 1, 1))).toEqual([Math.round(0.299 * 200 + 0.587 * 100 + 0.114 * 50)]);
    const gray = decodeImage(
      pngFile(4, 4, (x, y) => [17 * x + y, 17 * x + y, 17 * x + y]),
      'g.png',
    );
    expect(Array.from(cropResize(gray, 4, 1))).toEqual(
      Array.from({ length: 16 }, (_, i) => 17 * (i % 4) + Math.floor(i / 4)),
    );
  });
});

describe('loadImageFolder', () => {
  it('loads PNG and JPEG files sorted by path, without labels', async () => {
    await writeFile(join(dir, 'b.png'), pngFile(40, 20, gradient));
    await writeFile(
      join(dir, 'a.jpg'),
      jpegFile(8, 8, () => [10, 20, 30]),
    );
    await writeFile(join(dir, 'readme.txt'), 'ignored');
    const ds = await loadImageFolder({ dir, size: 10 });
    expect(ds.files).toEqual(['a.jpg', 'b.png']);
    expect(ds.shape).toEqual([10, 10, 3]);
    expect(ds.size).toBe(2);
    expect(ds.labels).toBeNull();
    expect(Array.from(ds.data.subarray(300, 303))).toEqual([63, 5, 100]);
    for (let i = 0; i < 100; i++) expect(Math.abs(ds.data[i * 3]! - 10)).toBeLessThanOrEqual(3);
  });

  it('labels by sorted first-level subfolders', async () => {
    for (const [cls, color] of [
      ['zebra', 250],
      ['ant', 0],
      ['cat', 128],
    ] as const) {
      await mkdir(join(dir, cls, 'nested'), { recursive: true });
      await writeFile(
        join(dir, cls, 'x.png'),
        pngFile(4, 4, () => [color, color, color]),
      );
      await writeFile(
        join(dir, cls, 'nested', 'y.png'),
        pngFile(4, 4, () => [color, color, color]),
      );
    }
    const ds = await loadImageFolder({ dir, size: 2, channels: 1, labels: true, name: 'toyfolder' });
    expect(ds.name).toBe('toyfolder');
    expect(ds.classNames).toEqual(['ant', 'cat', 'zebra']);
    expect(ds.numClasses).toBe(3);
    expect(ds.files).toEqual([
      join('ant', 'nested', 'y.png'),
      join('ant', 'x.png'),
      join('cat', 'nested', 'y.png'),
      join('cat', 'x.png'),
      join('zebra', 'nested', 'y.png'),
      join('zebra', 'x.png'),
    ]);
    expect(Array.from(ds.labels!)).toEqual([0, 0, 1, 1, 2, 2]);
    expect(Array.from(ds.data.subarray(0, 4))).toEqual([0, 0, 0, 0]);
    expect(Array.from(ds.data.subarray(8, 12))).toEqual([128, 128, 128, 128]);
  });

  it('names a corrupt file, an empty folder and misplaced images', async () => {
    await expect(loadImageFolder({ dir, size: 4 })).rejects.toThrow(
      `loadImageFolder: ${dir} holds no PNG/JPEG images`,
    );
    await writeFile(join(dir, 'ok.png'), pngFile(4, 4, gradient));
    await expect(loadImageFolder({ dir, size: 4, labels: true })).rejects.toThrow(
      `loadImageFolder: ${join(dir, 'ok.png')} is not inside a class subfolder (labels: true)`,
    );
    await writeFile(join(dir, 'broken.png'), pngFile(4, 4, gradient).subarray(0, 50));
    await expect(loadImageFolder({ dir, size: 4 })).rejects.toThrow(
      `${join(dir, 'broken.png')}: cannot decode PNG image`,
    );
    await expect(loadImageFolder({ dir: join(dir, 'nope'), size: 4 })).rejects.toThrow(
      /cannot read folder .*nope/,
    );
    await expect(loadImageFolder({ dir, size: 0 })).rejects.toThrow(/size must be a positive integer, got 0/);
  });
});
