import { unzipSync, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import {
  centralHeaderOffset,
  expectCheckpointError,
  expected,
  fixture,
  indexOfBytes,
  littleEndian,
  patched,
} from './pth-fixtures.test-support.js';
import { type InflateBudget, ZipArchive } from './zip-archive.js';

const budget = (maxEntryBytes = 2 ** 32, maxTotalBytes = 2 ** 32, countStored = false): InflateBudget => ({
  maxEntryBytes,
  maxTotalBytes,
  remainingBytes: maxTotalBytes,
  countStored,
});

/** The CRC-32 field of an entry's central directory header, read directly from the bytes. */
const declaredCrc = (zip: Uint8Array, name: string) =>
  new DataView(zip.buffer, zip.byteOffset, zip.byteLength).getUint32(
    centralHeaderOffset(zip, name) + 16,
    true,
  );

const file = 'test.zip';
const text = new TextEncoder().encode('score-based generative modeling '.repeat(64));
const binary = Uint8Array.from({ length: 3000 }, (_, i) => (i * 7919) % 251);
// Written by fflate (an independent zip writer): one stored and one deflated entry.
const archive = zipSync({ 'x/stored.bin': [binary, { level: 0 }], 'x/text.txt': [text, { level: 9 }] });

describe('ZipArchive', () => {
  it('reads stored and deflated entries written by fflate, verifying the CRC-32 fflate computed', () => {
    const zip = ZipArchive.open(archive, file);
    expect([...zip.entries.keys()]).toEqual(['x/stored.bin', 'x/text.txt']);
    expect(zip.entries.get('x/stored.bin')!.method).toBe(0);
    expect(zip.entries.get('x/text.txt')!.method).toBe(8);
    for (const name of zip.entries.keys())
      expect(zip.entries.get(name)!.crc32).toBe(declaredCrc(archive, name));
    expect(zip.read('x/stored.bin', budget())).toEqual(binary);
    expect(zip.read('x/text.txt', budget())).toEqual(text);
  });

  it('rejects contents whose CRC-32 differs from the declared one, unless verifyCrc is false', () => {
    // A flipped bit in a stored entry's data.
    const stored = ZipArchive.open(archive, file).entries.get('x/stored.bin')!;
    const flipped = patched(archive, stored.dataOffset + 1000, [binary[1000]! ^ 0x10]);
    const zip = ZipArchive.open(flipped, file);
    expectCheckpointError(
      () => zip.read('x/stored.bin', budget()),
      file,
      'x/stored.bin: CRC-32 mismatch',
      `declares 0x${declaredCrc(archive, 'x/stored.bin').toString(16).padStart(8, '0')}`,
    );
    const unchecked = zip.read('x/stored.bin', budget(), { verifyCrc: false });
    expect(unchecked.findIndex((b, i) => b !== binary[i])).toBe(1000);
    // A deflated entry whose declared CRC-32 is changed (its data still inflates to the same text).
    const header = centralHeaderOffset(archive, 'x/text.txt');
    const forged = ZipArchive.open(
      patched(archive, header + 16, littleEndian(declaredCrc(archive, 'x/text.txt') ^ 1, 4)),
      file,
    );
    expectCheckpointError(() => forged.read('x/text.txt', budget()), file, 'x/text.txt: CRC-32 mismatch');
    expect(forged.read('x/text.txt', budget(), { verifyCrc: false })).toEqual(text);
  });

  it('verifies the CRC-32 that torch.save wrote for every entry, and catches one flipped byte of a storage', () => {
    const pth = fixture('mixed-zip.pth');
    const zip = ZipArchive.open(pth, file);
    for (const name of zip.entries.keys()) zip.read(name, budget());
    const storage = zip.entries.get('mixed-zip/data/0')!;
    expect(storage.size).toBeGreaterThan(0);
    const damaged = ZipArchive.open(
      patched(pth, storage.dataOffset, [pth[storage.dataOffset]! ^ 0x01]),
      file,
    );
    expectCheckpointError(
      () => damaged.read('mixed-zip/data/0', budget()),
      file,
      'mixed-zip/data/0: CRC-32 mismatch',
    );
  });

  it('returns stored entries as views of the archive and deflates nothing for them', () => {
    const b = budget(1, 1);
    const stored = ZipArchive.open(archive, file).read('x/stored.bin', b);
    expect(stored.buffer).toBe(archive.buffer);
    expect(b.remainingBytes).toBe(1);
  });

  it('reads zip64 extra fields and end records written by CPython zipfile', () => {
    const zip64 = fixture('zip64.zip');
    const check = (bytes: Uint8Array) => {
      const zip = ZipArchive.open(bytes, file);
      for (const [name, values] of Object.entries(expected.zip64Entries))
        expect(Array.from(zip.read(name, budget())), name).toEqual(values);
    };
    check(zip64);
    // Saturate the classic end record's central directory offset, so that only the zip64 record gives it.
    const eocd = zip64.length - 22;
    expect(Array.from(zip64.subarray(eocd, eocd + 4))).toEqual([0x50, 0x4b, 0x05, 0x06]);
    check(patched(zip64, eocd + 16, littleEndian(0xffffffff, 4)));
    // Without the zip64 locator, the saturated field cannot be resolved.
    const noLocator = patched(
      patched(zip64, eocd + 16, littleEndian(0xffffffff, 4)),
      eocd - 20,
      [0, 0, 0, 0],
    );
    expectCheckpointError(() => ZipArchive.open(noLocator, file), file, 'no zip64 locator');
  });

  it('checks a deflated entry forged to declare 2^40 bytes before inflating it', () => {
    const zip64 = fixture('zip64.zip');
    const header = centralHeaderOffset(zip64, 'a/deflated.txt');
    // The zip64 extra field (id 1) of the entry starts with its 64-bit size.
    const extra = indexOfBytes(zip64, [0x01, 0x00], header + 46 + 'a/deflated.txt'.length) + 4;
    expect(Array.from(zip64.subarray(extra, extra + 8))).toEqual(littleEndian(480, 8));
    const forged = ZipArchive.open(patched(zip64, extra, littleEndian(2 ** 40, 8)), file);
    expectCheckpointError(
      () => forged.read('a/deflated.txt', budget()),
      file,
      'a/deflated.txt: declares 1099511627776 bytes',
      'maxEntryBytes',
    );
  });

  it('stops inflating as soon as an entry passes its declared size (zip bomb)', () => {
    const bomb = zipSync({ 'b/zeros': [new Uint8Array(4 << 20), { level: 9 }] });
    expect(bomb.length).toBeLessThan(8 << 10);
    const forged = patched(bomb, centralHeaderOffset(bomb, 'b/zeros') + 24, littleEndian(1000, 4));
    const zip = ZipArchive.open(forged, file);
    expectCheckpointError(
      () => zip.read('b/zeros', budget()),
      file,
      'b/zeros: inflates to more than its declared 1000',
    );
  });

  it('rejects an entry that inflates to less than its declared size, and corrupt deflate data', () => {
    const header = centralHeaderOffset(archive, 'x/text.txt');
    const larger = ZipArchive.open(patched(archive, header + 24, littleEndian(text.length + 1, 4)), file);
    expectCheckpointError(
      () => larger.read('x/text.txt', budget()),
      file,
      `inflates to ${text.length} bytes`,
    );
    const entry = ZipArchive.open(archive, file).entries.get('x/text.txt')!;
    // Block type 3 is invalid in deflate.
    const corrupt = ZipArchive.open(patched(archive, entry.dataOffset, [0x07]), file);
    expectCheckpointError(
      () => corrupt.read('x/text.txt', budget()),
      file,
      'x/text.txt: corrupt deflate data',
    );
  });

  it('enforces the per-entry and total budgets on declared sizes', () => {
    const zip = ZipArchive.open(archive, file);
    expectCheckpointError(() => zip.read('x/text.txt', budget(100)), file, 'maxEntryBytes');
    const b = budget(2 ** 32, text.length + 10);
    zip.read('x/text.txt', b);
    expect(b.remainingBytes).toBe(10);
    expectCheckpointError(() => zip.read('x/text.txt', b), file, 'maxTotalBytes');
  });

  it('counts stored entries against the budgets only with countStored', () => {
    const zip = ZipArchive.open(archive, file);
    expectCheckpointError(
      () => zip.read('x/stored.bin', budget(100, 2 ** 32, true)),
      file,
      `x/stored.bin: declares ${binary.length} bytes, more than the 100 allowed (option maxEntryBytes)`,
    );
    const b = budget(2 ** 32, binary.length + text.length - 1, true);
    expect(zip.read('x/stored.bin', b)).toEqual(binary);
    expect(b.remainingBytes).toBe(text.length - 1);
    expectCheckpointError(() => zip.read('x/text.txt', b), file, 'x/text.txt', 'option maxTotalBytes');
  });

  it('rejects truncated archives and inconsistent directories, naming the entry', () => {
    for (const n of [0, 21, 100, archive.length - 1]) {
      expectCheckpointError(
        () => ZipArchive.open(archive.subarray(0, n), file),
        file,
        'no end of central directory',
      );
    }
    const header = centralHeaderOffset(archive, 'x/stored.bin');
    const method = (m: number) => patched(archive, header + 10, littleEndian(m, 2));
    expectCheckpointError(
      () => ZipArchive.open(method(12), file),
      file,
      'x/stored.bin: compression method 12',
    );
    const encrypted = patched(archive, header + 8, [0x01]);
    expectCheckpointError(() => ZipArchive.open(encrypted, file), file, 'x/stored.bin: encrypted');
    const pastEnd = patched(archive, header + 20, littleEndian(1 << 20, 4));
    expectCheckpointError(
      () => ZipArchive.open(patched(pastEnd, header + 24, littleEndian(1 << 20, 4)), file),
      file,
      'x/stored.bin',
      'truncated archive',
    );
    const badLocal = patched(archive, header + 42, littleEndian(7, 4));
    expectCheckpointError(() => ZipArchive.open(badLocal, file), file, 'x/stored.bin: no local file header');
    // Two entries of the same name ('x/text.txt' renamed to 'x/stored.bin' needs equal lengths: rename both).
    const twin = zipSync({ 'x/a': new Uint8Array([1]), 'x/b': new Uint8Array([2]) }, { level: 0 });
    const renamed = patched(twin, centralHeaderOffset(twin, 'x/b') + 46, new TextEncoder().encode('x/a'));
    expectCheckpointError(() => ZipArchive.open(renamed, file), file, 'x/a: the entry appears twice');
    expectCheckpointError(
      () => ZipArchive.open(archive, file).read('x/none', budget()),
      file,
      'x/none: no such entry',
    );
  });

  it('agrees with fflate on the entries of a real torch.save archive', () => {
    const pth = fixture('mixed-zip.pth');
    const zip = ZipArchive.open(pth, file);
    const reference = unzipSync(pth);
    expect([...zip.entries.keys()].sort()).toEqual(Object.keys(reference).sort());
    for (const [name, bytes] of Object.entries(reference))
      expect(zip.read(name, budget()), name).toEqual(bytes);
  });
});
