import { describe, expect, it } from 'vitest';
import { pointsCsv } from './points-csv.js';

describe('pointsCsv', () => {
  it('writes one x,y line per sample that reads back to the same float32 values', () => {
    const values = Float32Array.from([0.1, -2.5, 1e-7, 123456.789, Math.PI, -0, 3.4e38, 1.17549435e-38]);
    const csv = pointsCsv(values, 2);
    const lines = csv.split('\n');
    expect(lines.at(-1)).toBe('');
    expect(lines).toHaveLength(5);
    const back = lines.slice(0, -1).flatMap((l) => l.split(',').map(Number));
    expect(back.map((v) => Math.fround(v))).toEqual(Array.from(values));
    expect(lines[0]).toBe('0.100000001,-2.5');
  });

  it('concatenates: the CSV of two consecutive ranges is the CSV of their union; names bad arguments', () => {
    const v = Float32Array.from({ length: 12 }, (_, i) => Math.sin(i) * 10);
    expect(pointsCsv(v.subarray(0, 4), 2) + pointsCsv(v.subarray(4), 2)).toBe(pointsCsv(v, 2));
    expect(pointsCsv([Number.NaN, Number.POSITIVE_INFINITY], 2)).toBe('NaN,Infinity\n');
    expect(() => pointsCsv([1, 2, 3], 2)).toThrow(/^samples: expected a multiple of dim = 2 values, got 3/);
    expect(() => pointsCsv([1, 2], 0)).toThrow(/^dim: expected a positive integer, got 0/);
  });
});
