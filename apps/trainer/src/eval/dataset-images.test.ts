import { describe, expect, it } from 'vitest';
import { createDataset } from '../data/dataset.js';
import { datasetToDigitImages } from './dataset-images.js';

describe('datasetToDigitImages', () => {
  const ds = createDataset({
    name: 'tiny',
    shape: [2, 2, 1],
    data: Uint8Array.from([0, 255, 51, 102, 1, 2, 3, 4, 10, 20, 30, 40]),
    labels: Uint8Array.from([7, 1, 3]),
    numClasses: 10,
  });

  it('scales to [0, 1] and keeps labels, for a sub-range', () => {
    const im = datasetToDigitImages(ds, 0, 2);
    expect(im.count).toBe(2);
    expect(im.resolution).toBe(2);
    expect(Array.from(im.pixels.subarray(0, 4))).toEqual([0, 1, 0.2, 0.4].map(Math.fround));
    expect(Array.from(im.labels!)).toEqual([7, 1]);
    expect(datasetToDigitImages(ds).count).toBe(3);
  });

  it('names the argument on bad input', () => {
    expect(() => datasetToDigitImages(ds, 2, 1)).toThrow(/start/);
    const rgb = createDataset({ name: 'rgb', shape: [1, 1, 3], data: new Uint8Array(3) });
    expect(() => datasetToDigitImages(rgb)).toThrow(/dataset must hold/);
  });
});
