import { describe, expect, it } from 'vitest';
import { DTYPE_BYTES, elementReader, STORAGE_TYPES } from './torch-dtype.js';

const u16 = (...bits: number[]) => new Uint8Array(Uint16Array.from(bits).buffer);

describe('elementReader', () => {
  it('decodes binary16 by the IEEE 754 definition (normal, subnormal, zero, infinity, NaN)', () => {
    const read = elementReader(
      'float16',
      u16(0x3c00, 0xc100, 0x7bff, 0x0400, 0x0001, 0x8000, 0x7c00, 0xfc00, 0x7e00),
    );
    const values = Array.from({ length: 9 }, (_, i) => read(i));
    expect(values).toEqual([1, -2.5, 65504, 2 ** -14, 2 ** -24, -0, Infinity, -Infinity, Number.NaN]);
  });

  it('decodes bfloat16 as the upper 16 bits of a float32', () => {
    const read = elementReader('bfloat16', u16(0x3f80, 0xc020, 0x7f80, 0x0001, 0x7fc0));
    expect(Array.from({ length: 5 }, (_, i) => read(i))).toEqual([1, -2.5, Infinity, 2 ** -133, Number.NaN]);
  });

  it('decodes little-endian integers, and any non-zero byte of a bool as 1', () => {
    const int64 = new Uint8Array(BigInt64Array.of(-(2n ** 40n), 2n ** 53n).buffer);
    const read64 = elementReader('int64', int64);
    expect([read64(0), read64(1)]).toEqual([-(2 ** 40), 2 ** 53]);
    const readBool = elementReader('bool', Uint8Array.of(0, 1, 2, 255));
    expect([0, 1, 2, 3].map(readBool)).toEqual([0, 1, 1, 1]);
    expect(elementReader('int8', Uint8Array.of(0xff))(0)).toBe(-1);
    expect(elementReader('uint8', Uint8Array.of(0xff))(0)).toBe(255);
  });

  it('reads a view into a larger buffer from the view start', () => {
    const buffer = new Float32Array([9, 1.5, -2]);
    const view = new Uint8Array(buffer.buffer, 4, 8);
    const read = elementReader('float32', view);
    expect([read(0), read(1)]).toEqual([1.5, -2]);
  });

  it('knows the element size of every storage type', () => {
    for (const dtype of Object.values(STORAGE_TYPES)) expect(DTYPE_BYTES[dtype]).toBeGreaterThan(0);
    expect(STORAGE_TYPES['BFloat16Storage']).toBe('bfloat16');
  });
});
