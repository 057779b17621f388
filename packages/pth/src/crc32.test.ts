import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32 } from './crc32.js';

const ascii = (text: string) => new TextEncoder().encode(text);
const bytes = (length: number, seed: number) =>
  Uint8Array.from({ length }, (_, i) => (Math.imul(i + seed, 2654435761) >>> 24) & 0xff);

// node:zlib.crc32 (zlib's C implementation) exists from Node 20.15 / 22.2.
const zlibCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

describe('crc32', () => {
  it('gives the CRC-32/ISO-HDLC check value and the published value of the pangram', () => {
    expect(crc32(ascii('123456789'))).toBe(0xcbf43926);
    expect(crc32(ascii('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it("matches Python's zlib.crc32", () => {
    // /usr/bin/python3 -c "import zlib; print([hex(zlib.crc32(s)) for s in
    //   (b'a', b'abc', bytes(32), b'\xff' * 32, bytes(range(256)))])"
    expect(crc32(ascii('a'))).toBe(0xe8b7be43);
    expect(crc32(ascii('abc'))).toBe(0x352441c2);
    expect(crc32(new Uint8Array(32))).toBe(0x190a55ad);
    expect(crc32(new Uint8Array(32).fill(0xff))).toBe(0xff6cab0b);
    expect(crc32(Uint8Array.from({ length: 256 }, (_, i) => i))).toBe(0x29058c73);
  });

  it('continues a checksum over consecutive pieces like zlib.crc32(data, value)', () => {
    const whole = ascii('The quick brown fox jumps over the lazy dog');
    for (const cut of [0, 1, 19, whole.length - 1, whole.length])
      expect(crc32(whole.subarray(cut), crc32(whole.subarray(0, cut))), `cut ${cut}`).toBe(0x414fa339);
  });

  it.skipIf(zlibCrc32 === undefined)(
    'matches node:zlib.crc32 on data of many lengths, whole and in pieces',
    () => {
      for (const length of [1, 2, 3, 7, 8, 255, 256, 1000, 65537]) {
        const data = bytes(length, length);
        const expected = zlibCrc32!(data);
        expect(crc32(data), `length ${length}`).toBe(expected);
        const cut = length >> 1;
        expect(crc32(data.subarray(cut), crc32(data.subarray(0, cut))), `length ${length} in two`).toBe(
          expected,
        );
        // A view into a larger buffer reads only its own bytes.
        const padded = new Uint8Array(length + 6).fill(0xa5);
        padded.set(data, 3);
        expect(crc32(padded.subarray(3, 3 + length)), `view of length ${length}`).toBe(expected);
      }
    },
  );
});
