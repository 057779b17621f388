import { describe, expect, it } from 'vitest';
import { readLegacyFormat } from './legacy-format.js';
import { expectCheckpointError, expected, fixture } from './pth-fixtures.test-support.js';

describe('readLegacyFormat', () => {
  const bytes = fixture('mixed-legacy.pth');
  const layout = expected.legacyLayout;

  it("finds every storage where Python's pickle module does (scripts/pth-fixtures.py)", () => {
    const { storages } = readLegacyFormat(bytes, 'mixed-legacy.pth');
    expect([...storages.keys()]).toEqual(layout.storages.map((s) => s.key));
    for (const s of layout.storages) {
      const found = storages.get(s.key)!;
      expect({ byteOffset: found.byteOffset, numel: found.numel }).toEqual({
        byteOffset: s.headerOffset + 8,
        numel: s.numel,
      });
      expect(found.dtype.length).toBeGreaterThan(0);
    }
  });

  it('maps every tensor to a storage of the file', () => {
    const { tensors, storages } = readLegacyFormat(bytes, 'mixed-legacy.pth');
    expect(tensors.size).toBeGreaterThan(0);
    for (const [ref, use] of tensors) {
      expect(ref.storageEntry).toBe(use.key);
      expect(storages.get(use.key)!.dtype).toBe(ref.dtype);
    }
  });

  it('rejects a zip file and a pickle that is not the magic number', () => {
    expectCheckpointError(() => readLegacyFormat(fixture('mixed-zip.pth'), 'f'), 'f', 'magic number pickle');
    expectCheckpointError(
      () => readLegacyFormat(Uint8Array.of(0x80, 0x02, 0x4b, 0x01, 0x2e), 'f'),
      'f',
      'magic',
    );
  });
});
