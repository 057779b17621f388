import { unzipSync, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { expectCheckpointError, fixture } from './pth-fixtures.test-support.js';
import { DTYPE_BYTES } from './torch-dtype.js';
import { readZipFormat } from './zip-format.js';

const budget = () => ({ maxEntryBytes: 2 ** 32, maxTotalBytes: 2 ** 32, remainingBytes: 2 ** 32 });

describe('readZipFormat', () => {
  const bytes = fixture('mixed-zip.pth');
  const entries = unzipSync(bytes);

  it('declares every storage entry with the size fflate finds in the archive', () => {
    const { storages, tensors } = readZipFormat(bytes, 'mixed-zip.pth', budget());
    const dataEntries = Object.keys(entries).filter((n) => n.startsWith('mixed-zip/data/'));
    expect([...storages.keys()].sort()).toEqual(dataEntries.sort());
    for (const [name, s] of storages)
      expect(s.numel * DTYPE_BYTES[s.dtype], name).toBe(entries[name]!.length);
    for (const ref of tensors.keys()) expect(storages.has(ref.storageEntry)).toBe(true);
  });

  it('accepts a little byteorder record and rejects a big one', () => {
    const withOrder = (order: string) =>
      zipSync({ ...entries, 'mixed-zip/byteorder': new TextEncoder().encode(order) }, { level: 0 });
    expect(readZipFormat(withOrder('little'), 'f', budget()).storages.size).toBe(16);
    expectCheckpointError(
      () => readZipFormat(withOrder('big'), 'f', budget()),
      'f',
      "mixed-zip/byteorder: byte order 'big'",
    );
  });

  it('rejects archives with no or several data.pkl', () => {
    const two = zipSync({ ...entries, 'other/data.pkl': entries['mixed-zip/data.pkl']! }, { level: 0 });
    expectCheckpointError(() => readZipFormat(two, 'f', budget()), 'f', 'several data.pkl');
  });
});
