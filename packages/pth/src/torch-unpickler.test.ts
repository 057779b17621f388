import { describe, expect, it } from 'vitest';
import { expectCheckpointError, expected, fixture } from './pth-fixtures.test-support.js';
import { TorchTensorRef } from './torch-tensor-ref.js';
import { type PickleGlobal, unpickleTorch } from './torch-unpickler.js';

describe('unpickleTorch', () => {
  const bytes = fixture('mixed-legacy.pth');
  const layout = expected.legacyLayout;

  it("stops after the STOP opcode, where Python's pickle.load stops (scripts/pth-fixtures.py)", () => {
    const version = unpickleTorch(bytes.subarray(layout.magicEnd), 'f', 'version', 'none');
    expect(version.root).toBe(1001);
    expect(layout.magicEnd + version.end).toBe(layout.protocolEnd);
    const info = unpickleTorch(bytes.subarray(layout.protocolEnd), 'f', 'info', 'none');
    expect(layout.protocolEnd + info.end).toBe(layout.sysInfoEnd);
    const root = info.root as Map<string, unknown>;
    expect(root.get('little_endian')).toBe(true);
    expect(root.get('protocol_version')).toBe(1001);
    const object = unpickleTorch(bytes.subarray(layout.sysInfoEnd), 'f', 'object', 'legacy');
    expect(layout.sysInfoEnd + object.end).toBe(layout.objectEnd);
  });

  it('builds one TorchTensorRef per rebuilt tensor, with the storage named by its persistent id', () => {
    const { tensors } = unpickleTorch(
      bytes.subarray(layout.sysInfoEnd),
      'f',
      'object',
      'legacy',
      (k) => `s/${k}`,
    );
    // The `offset` view appears twice in the object (tensors.offset, nested.tuple[1][0]) but is pickled once.
    expect(tensors.size).toBe(expected.mixed.length - 1);
    const numels = new Map(layout.storages.map((s) => [s.key, s.numel]));
    for (const [ref, use] of tensors) {
      expect(ref).toBeInstanceOf(TorchTensorRef);
      expect(ref.storageEntry).toBe(`s/${use.key}`);
      expect(use.numel).toBe(numels.get(use.key));
    }
  });

  it('keeps other globals as records of the call and decodes protocol-2 bytes (a numpy float64 scalar)', () => {
    const { root } = unpickleTorch(bytes.subarray(layout.sysInfoEnd), 'f', 'object', 'legacy');
    const scalar = (root as Map<string, unknown>).get('numpy') as PickleGlobal;
    expect(scalar.global).toBe('numpy.core.multiarray.scalar');
    expect((scalar.args[0] as PickleGlobal).global).toBe('numpy.dtype');
    const data = scalar.args[1] as Uint8Array;
    expect(data).toBeInstanceOf(Uint8Array);
    expect(new DataView(data.buffer, data.byteOffset, 8).getFloat64(0, true)).toBe(0.5);
  });

  it('rejects persistent ids where the format has none, and pickles without a STOP', () => {
    expectCheckpointError(
      () => unpickleTorch(bytes.subarray(layout.sysInfoEnd), 'f.pth', 'keys', 'none'),
      'f.pth',
      'keys: could not unpickle (unexpected persistent id)',
    );
    expectCheckpointError(
      () => unpickleTorch(bytes.subarray(layout.protocolEnd, layout.sysInfoEnd - 1), 'f.pth', 'info', 'none'),
      'f.pth',
      'info: could not unpickle',
    );
    // The legacy 6-tuples are not zip-format persistent ids.
    expectCheckpointError(
      () => unpickleTorch(bytes.subarray(layout.sysInfoEnd), 'f.pth', 'data.pkl', 'zip'),
      'f.pth',
      'data.pkl: could not unpickle (unsupported persistent id',
    );
  });
});
