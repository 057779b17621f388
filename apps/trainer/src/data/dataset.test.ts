import { describe, expect, it } from 'vitest';
import { createDataset, isImageDataset, sampleLength } from './dataset.js';

describe('createDataset', () => {
  it('derives size from data and shape and keeps the arrays as given', () => {
    const data = new Uint8Array(2 * 4 * 3 * 3);
    const labels = Uint8Array.of(0, 9, 4);
    const ds = createDataset({ name: 'x', shape: [2, 4, 3], data, labels, numClasses: 10 });
    expect(ds.size).toBe(3);
    expect(ds.shape).toEqual([2, 4, 3]);
    expect(ds.data).toBe(data);
    expect(ds.labels).toBe(labels);
    expect(ds.numClasses).toBe(10);
    expect(isImageDataset(ds)).toBe(true);
  });

  it('accepts float data without labels', () => {
    const ds = createDataset({ name: 'toy', shape: [2], data: new Float32Array(10) });
    expect(ds.size).toBe(5);
    expect(ds.labels).toBeNull();
    expect(ds.numClasses).toBe(0);
    expect(isImageDataset(ds)).toBe(false);
  });

  it('rejects inconsistent input with messages naming the field', () => {
    const data = new Uint8Array(12);
    expect(() => createDataset({ name: 'a', shape: [5], data })).toThrow(
      'dataset a: data has 12 values, expected a positive multiple of 5 (prod of shape [5])',
    );
    expect(() => createDataset({ name: 'a', shape: [0, 3], data })).toThrow(/dataset a: shape: expected/);
    expect(() => createDataset({ name: 'a', shape: [3], data: new Uint8Array(0) })).toThrow(
      /positive multiple/,
    );
    expect(() =>
      createDataset({ name: 'a', shape: [3], data, labels: new Uint8Array(3), numClasses: 2 }),
    ).toThrow('dataset a: labels has 3 entries, expected one per sample (4)');
    expect(() => createDataset({ name: 'a', shape: [3], data, labels: Uint8Array.of(0, 1, 2, 1) })).toThrow(
      /numClasses must be an integer/,
    );
    expect(() =>
      createDataset({ name: 'a', shape: [3], data, labels: Uint8Array.of(0, 1, 2, 1), numClasses: 2 }),
    ).toThrow('dataset a: label 2 of sample 2 is not < numClasses 2');
    expect(() => createDataset({ name: 'a', shape: [3], data, numClasses: 3 })).toThrow(/without labels/);
    expect(() => createDataset({ name: '', shape: [3], data })).toThrow(/name must be/);
  });
});

describe('sampleLength', () => {
  it('is the product of the dims', () => {
    expect(sampleLength([32, 32, 3])).toBe(3072);
    expect(sampleLength([2])).toBe(2);
    expect(() => sampleLength([])).toThrow(/non-empty/);
    expect(() => sampleLength([2.5])).toThrow(/positive integers/);
  });
});
