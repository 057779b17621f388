import { SbmArgumentError } from '@sbm/sde';
import { unzipSync, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import {
  atPath,
  centralHeaderOffset,
  type ExpectedTensor,
  expectCheckpointError,
  expected,
  expectedFloat32,
  fixture,
  indexOfBytes,
  littleEndian,
  patched,
} from './pth-fixtures.test-support.js';
import { TorchCheckpoint } from './torch-checkpoint.js';
import { TorchTensorRef } from './torch-tensor-ref.js';

// Every .pth here was written by torch.save (PyTorch 1.13, scripts/pth-fixtures.py), and expected.json holds what
// torch.load reads back from them; corrupt files are derived from these real files byte by byte.

const FILES = { zip: 'mixed-zip.pth', legacy: 'mixed-legacy.pth' } as const;

function tensorAt(ckpt: TorchCheckpoint, path: (string | number)[]): TorchTensorRef {
  const ref = atPath(ckpt.root, path);
  expect(ref, `tensor at ${path.join('.')}`).toBeInstanceOf(TorchTensorRef);
  return ref as TorchTensorRef;
}

function expectTensorsAsTorchReads(ckpt: TorchCheckpoint, tensors: ExpectedTensor[]): void {
  const refs = tensors.map((t) => tensorAt(ckpt, t.path));
  const values = ckpt.read(refs);
  tensors.forEach((t, i) => {
    const ref = refs[i]!;
    expect({ dtype: ref.dtype, shape: ref.shape, stride: ref.stride, offset: ref.offset }).toEqual({
      dtype: t.dtype,
      shape: t.shape,
      stride: t.stride,
      offset: t.offset,
    });
    // Exact: float16/bfloat16/int values are float32-representable, float64 and int64 are rounded as Math.fround.
    expect(Array.from(values[i]!), t.path.join('.')).toEqual(expectedFloat32(t.values));
  });
}

describe.each(Object.entries(FILES))(
  'TorchCheckpoint on a %s-format file written by torch.save',
  (format, file) => {
    const ckpt = TorchCheckpoint.parse(fixture(file), { name: file });

    it('detects the format', () => {
      expect(ckpt.format).toBe(format);
      expect(ckpt.name).toBe(file);
    });

    it('reads every tensor (all storage types, 0-d, empty, strided views) with the values torch.load gives', () => {
      expectTensorsAsTorchReads(ckpt, expected.mixed);
    });

    it('reads the tensors one by one as in one call', () => {
      for (const t of expected.mixed.slice(0, 6)) {
        expect(Array.from(ckpt.read([tensorAt(ckpt, t.path)])[0]!)).toEqual(expectedFloat32(t.values));
      }
    });

    it('keeps views on one storage and names tensors by their path', () => {
      const base = tensorAt(ckpt, ['tensors', 'base']);
      for (const view of ['transposed', 'offset', 'stepped', 'expanded'])
        expect(tensorAt(ckpt, ['tensors', view]).storageEntry).toBe(base.storageEntry);
      expect(ckpt.pathOf(base)).toBe("root['tensors']['base']");
      expect(ckpt.pathOf(tensorAt(ckpt, ['nested', 'tuple', 0]))).toBe("root['nested']['tuple'][0]");
    });

    it('unpickles dicts, OrderedDicts, lists, tuples and Python scalars', () => {
      expect(atPath(ckpt.root, ['nested', 'list'])).toEqual(expected.mixedPlain.list);
      const ordered = atPath(ckpt.root, ['ordered']);
      expect(ordered).toBeInstanceOf(Map);
      expect([...(ordered as Map<string, unknown>).keys()]).toEqual(expected.mixedPlain.orderedKeys);
    });
  },
);

describe('TorchCheckpoint across formats', () => {
  it('gives the same object graph for both formats', () => {
    const [zip, legacy] = [FILES.zip, FILES.legacy].map((f) => TorchCheckpoint.parse(fixture(f)));
    const shapeOf = (root: unknown): unknown =>
      root instanceof Map
        ? [...root].map(([k, v]) => [k, shapeOf(v)])
        : Array.isArray(root)
          ? root.map(shapeOf)
          : root instanceof TorchTensorRef
            ? { dtype: root.dtype, shape: root.shape, stride: root.stride, offset: root.offset }
            : root;
    expect(shapeOf(legacy!.root)).toEqual(shapeOf(zip!.root));
  });

  it('reads the legacy-format state_dict of an nn.Module in order, with the values torch.load gives', () => {
    const ckpt = TorchCheckpoint.parse(fixture('module-legacy.pth'));
    expect(ckpt.format).toBe('legacy');
    expect([...(ckpt.root as Map<string, unknown>).keys()]).toEqual(expected.module.map((t) => t.path[0]));
    expectTensorsAsTorchReads(ckpt, expected.module);
  });

  it('reads a zip whose entries are deflate-compressed (fflate) like the stored original', () => {
    const entries = unzipSync(fixture(FILES.zip));
    const deflated = zipSync(
      Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, [v, { level: 6 }]])),
    );
    expect(
      unzipSync(deflated, { filter: (f) => f.name.endsWith('data.pkl') && f.compression === 8 }),
    ).not.toEqual({});
    expectTensorsAsTorchReads(TorchCheckpoint.parse(deflated), expected.mixed);
  });
});

describe('TorchCheckpoint on corrupt legacy files', () => {
  const file = 'bad-legacy.pth';
  const good = fixture(FILES.legacy);
  const layout = expected.legacyLayout;
  const parse = (bytes: Uint8Array) => () => TorchCheckpoint.parse(bytes, { name: file });
  const storage42 = layout.storages.find((s) => s.numel === 42)!;

  it.each([
    ['magic number pickle', layout.magicEnd - 3],
    ['protocol version pickle', layout.protocolEnd - 1],
    ['system info pickle', layout.sysInfoEnd - 20],
    ['object pickle', layout.sysInfoEnd + 1],
    ['object pickle', layout.objectEnd - 1],
    ['storage key pickle', layout.keysEnd - 5],
    [`storage ${layout.storages[2]!.key}`, layout.storages[2]!.headerOffset + 4],
    [`storage ${storage42.key}`, storage42.headerOffset + 8 + 40],
    [`storage ${layout.storages.at(-1)!.key}`, layout.fileSize - 1],
  ])('names the %s when the file is cut at byte %i', (where, length) => {
    expectCheckpointError(parse(good.subarray(0, length)), file, `${where}: `);
  });

  it('rejects a storage whose element count is shorter than its persistent id says', () => {
    const bad = patched(good, storage42.headerOffset, littleEndian(41, 8));
    expectCheckpointError(parse(bad), file, `storage ${storage42.key}: holds 41 elements`, 'declares 42');
  });

  it('rejects a storage header forged to 2^40 elements without allocating them', () => {
    const bad = patched(good, storage42.headerOffset, littleEndian(2 ** 40, 8));
    expectCheckpointError(parse(bad), file, `storage ${storage42.key}: declares 1099511627776 elements`);
  });

  it('rejects an unknown opcode', () => {
    const bad = patched(good, layout.objectEnd - 1, [0xff]);
    expectCheckpointError(parse(bad), file, 'object pickle: could not unpickle', '255');
  });

  it('rejects a tensor whose storage key is not in the file', () => {
    const first = layout.storages[0]!.key;
    const inKeyList = indexOfBytes(good, first, layout.objectEnd);
    const bad = patched(good, inKeyList + first.length - 1, [first.endsWith('9') ? 0x38 : 0x39]);
    expectCheckpointError(
      parse(bad),
      file,
      `storage ${first}: used by a tensor but missing from the storage keys`,
    );
  });

  it('rejects a tensor that reaches past its storage, naming its path', () => {
    // f32 is the first tensor: offset 0 (K\x00), size (2, 3) (K\x02 K\x03 TUPLE2); forge the size to (3, 3).
    const at = indexOfBytes(good, [0x4b, 0x00, 0x4b, 0x02, 0x4b, 0x03, 0x86], layout.sysInfoEnd);
    const bad = patched(good, at + 3, [0x03]);
    expectCheckpointError(
      parse(bad),
      file,
      "tensor root['tensors']['f32']",
      'reach element 8 of a storage of 6',
    );
  });

  it('rejects storage views of PyTorch < 0.4 and unknown persistent ids', () => {
    // The first persistent id ends with its view metadata None ('N', then TUPLE 't'); make it an empty tuple.
    const at = indexOfBytes(good, [0x4e, 0x74], indexOfBytes(good, 'cpu', layout.sysInfoEnd));
    expectCheckpointError(parse(patched(good, at, [0x29])), file, 'object pickle', 'view of another storage');
    const storage = indexOfBytes(good, 'storage', layout.sysInfoEnd);
    expectCheckpointError(parse(patched(good, storage, [0x53])), file, 'unsupported persistent id');
  });

  it('rejects a wrong magic number and a big-endian system info', () => {
    expectCheckpointError(parse(patched(good, 5, [0])), file, 'magic number pickle');
    const flag = indexOfBytes(good, 'little_endian', layout.protocolEnd) + 'little_endianq\x02'.length;
    expect(good[flag]).toBe(0x88); // NEWTRUE
    expectCheckpointError(parse(patched(good, flag, [0x89])), file, 'system info pickle', 'little-endian');
  });
});

describe('TorchCheckpoint on corrupt zip files', () => {
  const file = 'bad-zip.pth';
  const good = fixture(FILES.zip);
  const entries = unzipSync(good);
  const parse =
    (bytes: Uint8Array, options = {}) =>
    () =>
      TorchCheckpoint.parse(bytes, { name: file, ...options });
  const rebuild = (change: (e: Record<string, Uint8Array>) => void) => {
    const copy = { ...entries };
    change(copy);
    return zipSync(copy, { level: 0 });
  };

  it.each([10, 2000, good.length - 30, good.length - 1])('names the file when it is cut at byte %i', (n) => {
    expectCheckpointError(parse(good.subarray(0, n)), file, 'no end of central directory record');
  });

  it('rejects a storage shorter than its persistent id says', () => {
    const bad = rebuild((e) => {
      e['mixed-zip/data/0'] = e['mixed-zip/data/0']!.subarray(0, 20);
    });
    expectCheckpointError(parse(bad), file, 'mixed-zip/data/0: holds 20 bytes', '6 × float32 (24 bytes)');
  });

  it('rejects a missing storage entry', () => {
    const bad = rebuild((e) => {
      delete e['mixed-zip/data/12'];
    });
    expectCheckpointError(parse(bad), file, 'mixed-zip/data/12: storage used by a tensor is missing');
  });

  it('rejects a stored entry whose declared size is forged', () => {
    const header = centralHeaderOffset(good, 'mixed-zip/data/12');
    const bad = patched(good, header + 24, littleEndian(0xfffffff0, 4));
    expectCheckpointError(parse(bad), file, 'mixed-zip/data/12: stored entry has 168 bytes', '4294967280');
  });

  it('rejects an unknown opcode in data.pkl', () => {
    // Rebuilt by fflate, so that the archive's CRC-32 matches the damaged pickle and the unpickler sees it.
    const pickle = entries['mixed-zip/data.pkl']!;
    const bad = rebuild((e) => {
      e['mixed-zip/data.pkl'] = patched(pickle, pickle.length - 1, [0xff]);
    });
    expectCheckpointError(parse(bad), file, 'mixed-zip/data.pkl: could not unpickle');
  });

  it('stops inflating a zip bomb whose entry inflates beyond its declared size', () => {
    // 4 MiB of zeros deflate to ~4 KiB; the entry declares the 24 bytes its persistent id asks for.
    const bomb = zipSync({ ...entries, 'mixed-zip/data/0': [new Uint8Array(4 << 20), { level: 9 }] });
    const bad = patched(bomb, centralHeaderOffset(bomb, 'mixed-zip/data/0') + 24, littleEndian(24, 4));
    const ckpt = TorchCheckpoint.parse(bad, { name: file });
    const f32 = tensorAt(ckpt, ['tensors', 'f32']);
    expectCheckpointError(
      () => ckpt.read([f32]),
      file,
      'mixed-zip/data/0: inflates to more than its declared 24',
    );
  });

  it('checks declared sizes of deflated entries against maxEntryBytes and maxTotalBytes before inflating', () => {
    const deflate = (storedPickle: boolean) =>
      zipSync(
        Object.fromEntries(
          Object.entries(entries).map(([k, v]) => [
            k,
            [v, { level: storedPickle && k.endsWith('.pkl') ? 0 : 6 }],
          ]),
        ),
      );
    const pickleBytes = entries['mixed-zip/data.pkl']!.length;
    expect(pickleBytes).toBeGreaterThan(1000);
    expectCheckpointError(
      parse(deflate(false), { maxEntryBytes: 1000 }),
      file,
      `mixed-zip/data.pkl: declares ${pickleBytes} bytes when inflated`,
    );
    expectCheckpointError(
      parse(deflate(false), { maxTotalBytes: 1000 }),
      file,
      'mixed-zip/data.pkl',
      'maxTotalBytes',
    );
    // Per read call: the base storage inflates to 168 bytes, the overlapping strip's to 640.
    const ckpt = TorchCheckpoint.parse(deflate(true), { name: file, maxTotalBytes: 700 });
    const base = tensorAt(ckpt, ['tensors', 'base']);
    const strip = tensorAt(ckpt, ['tensors', 'overlapping']);
    expect(ckpt.read([base, base])[1]).toHaveLength(42);
    expect(ckpt.read([strip])[0]).toHaveLength(1200);
    expectCheckpointError(
      () => ckpt.read([base, strip]),
      file,
      'mixed-zip/data/13: declares 640',
      'maxTotalBytes',
    );
  });

  it('rejects bytes that are not a checkpoint', () => {
    expectCheckpointError(parse(new Uint8Array([1, 2, 3, 4])), file, 'not a PyTorch checkpoint');
    expectCheckpointError(parse(new Uint8Array(0)), file, 'not a PyTorch checkpoint');
    const tar = new Uint8Array(1024);
    tar.set(new TextEncoder().encode('ustar'), 257);
    expectCheckpointError(parse(tar), file, 'tar format');
    expectCheckpointError(
      parse(zipSync({ 'a/other.txt': new Uint8Array([1]) })),
      file,
      'no <archive>/data.pkl',
    );
  });
});

describe('TorchCheckpoint arguments', () => {
  const ckpt = TorchCheckpoint.parse(fixture(FILES.zip), { name: 'a.pth' });
  const f32 = tensorAt(ckpt, ['tensors', 'f32']);

  it('rejects refs that do not belong to the checkpoint or do not fit their storage', () => {
    const legacy = TorchCheckpoint.parse(fixture(FILES.legacy));
    const foreign = tensorAt(legacy, ['tensors', 'f32']);
    expect(() => ckpt.read([foreign])).toThrow(/refs\[0\]: a\.pth: .*no such storage/);
    expect(() => ckpt.read([f32, { ...f32 } as TorchTensorRef])).toThrow(
      /refs\[1\]: expected a TorchTensorRef/,
    );
    const wrongType = new TorchTensorRef('int64', f32.storageEntry, 0, [3], [1]);
    expect(() => ckpt.read([wrongType])).toThrow(/dtype int64 is not the storage's float32/);
    const tooFar = new TorchTensorRef('float32', f32.storageEntry, 4, [2, 2], [1, 1]);
    expect(() => ckpt.read([tooFar])).toThrow(/refs\[0\]: .*reach element 6 of a storage of 6/);
    const huge = new TorchTensorRef('float32', f32.storageEntry, 0, [2 ** 20, 2 ** 20], [0, 0]);
    expect(() => ckpt.read([huge])).toThrow(/maxTensorElements/);
    expect(() => ckpt.read(f32 as unknown as TorchTensorRef[])).toThrow(SbmArgumentError);
  });

  it('rejects bad options', () => {
    const bytes = fixture(FILES.zip);
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      expect(() => TorchCheckpoint.parse(bytes, { maxEntryBytes: bad })).toThrow(/options\.maxEntryBytes/);
      expect(() => TorchCheckpoint.parse(bytes, { maxTotalBytes: bad })).toThrow(/options\.maxTotalBytes/);
      expect(() => TorchCheckpoint.parse(bytes, { maxTensorElements: bad })).toThrow(
        /options\.maxTensorElements/,
      );
    }
    expect(() => TorchCheckpoint.parse(bytes, { name: 3 as unknown as string })).toThrow(/options\.name/);
    expect(() => TorchCheckpoint.parse([1, 2] as unknown as Uint8Array)).toThrow(
      /bytes: expected a Uint8Array/,
    );
  });

  it("names the file '<bytes>' by default", () => {
    expectCheckpointError(
      () => TorchCheckpoint.parse(new Uint8Array([7])),
      '<bytes>',
      'not a PyTorch checkpoint',
    );
  });
});
