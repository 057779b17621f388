import { SbmArgumentError } from '@sbm/sde';
import { jpegFile, type PixelFn, pngFile } from '@sbm/test-utils';
import { describe, expect, it } from 'vitest';
import { decodeImage, rgbUnitFloats } from './image-file.js';

const gradient: PixelFn = (x, y) => [6 * x, 10 * y, 100];

describe('decodeImage', () => {
  it('decodes PNG exactly (lossless)', () => {
    const img = decodeImage(pngFile(40, 20, gradient), 'g.png');
    expect([img.width, img.height]).toEqual([40, 20]);
    for (const [x, y] of [
      [0, 0],
      [39, 19],
      [7, 3],
    ] as const) {
      const o = (y * 40 + x) * 4;
      expect(Array.from(img.rgba.subarray(o, o + 3))).toEqual(gradient(x, y));
    }
  });

  it('decodes JPEG (near-lossless at quality 100 on flat colors)', () => {
    const img = decodeImage(
      jpegFile(16, 16, () => [200, 60, 120]),
      'a.jpg',
    );
    expect([img.width, img.height]).toEqual([16, 16]);
    for (let i = 0; i < 256; i++) {
      for (const [c, v] of [200, 60, 120].entries())
        expect(Math.abs(img.rgba[i * 4 + c]! - v)).toBeLessThanOrEqual(3);
    }
  });

  it('names the file for corrupt or unknown data', () => {
    const png = pngFile(8, 8, gradient);
    expect(() => decodeImage(png.subarray(0, 60), 'cut.png')).toThrow(/^cut\.png: cannot decode PNG image/);
    const jpg = jpegFile(16, 16, gradient);
    expect(() => decodeImage(jpg.subarray(0, 200), 'cut.jpg')).toThrow(/^cut\.jpg: cannot decode JPEG image/);
    expect(() => decodeImage(Buffer.from('hello world'), 'notes.png')).toThrow(SbmArgumentError);
    expect(() => decodeImage(Buffer.from('hello world'), 'notes.png')).toThrow(
      'notes.png: not a PNG or JPEG file (unrecognized signature)',
    );
  });
});

describe('rgbUnitFloats', () => {
  it('drops alpha and scales by 1/255 (what ToTensor does to a PIL RGB image)', () => {
    const img = decodeImage(pngFile(3, 2, gradient), 'g.png');
    const rgb = rgbUnitFloats(img);
    expect(rgb).toHaveLength(3 * 2 * 3);
    const o = (1 * 3 + 2) * 3; // pixel (x 2, y 1)
    expect(Array.from(rgb.subarray(o, o + 3))).toEqual(gradient(2, 1).map((v) => Math.fround(v / 255)));
  });
});
