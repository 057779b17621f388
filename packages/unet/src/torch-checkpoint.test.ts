import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SbmArgumentError } from '@sbm/sde';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { localFixtureDir } from './reference-fixtures.testing.js';
import { TorchCheckpoint, TorchTensorRef } from './torch-checkpoint.js';

// tensors.pth was written by torch.save (PyTorch 1.13, scripts/score-sde-reference.py); tensors.json holds the
// same tensors' shapes and values as written by PyTorch.
const expected = JSON.parse(readFileSync(join(localFixtureDir, 'tensors.json'), 'utf8')) as Record<
  string,
  { shape: number[]; values: number[] }
>;

describe('TorchCheckpoint', () => {
  const ckpt = TorchCheckpoint.parse(new Uint8Array(readFileSync(join(localFixtureDir, 'tensors.pth'))));

  it('unpickles dicts, lists, tuples, strings and None', () => {
    const root = ckpt.root as Map<string, unknown>;
    expect(root).toBeInstanceOf(Map);
    expect(root.get('list')).toEqual([1, 2.5, 'text', [3, null]]);
  });

  it.each(Object.keys(expected))('reads %s with the values PyTorch wrote', (name) => {
    const tensors = (ckpt.root as Map<string, unknown>).get('tensors') as Map<string, TorchTensorRef>;
    const ref = tensors.get(name)!;
    expect(ref).toBeInstanceOf(TorchTensorRef);
    expect(ref.shape).toEqual(expected[name]!.shape);
    const [values] = ckpt.read([ref]);
    // Exact up to float32 rounding (float64 and int64 values are returned as float32).
    expect(Array.from(values!)).toEqual(expected[name]!.values.map(Math.fround));
  });

  it('reads views of one storage (transposed, offset) through their strides', () => {
    const tensors = (ckpt.root as Map<string, unknown>).get('tensors') as Map<string, TorchTensorRef>;
    expect(tensors.get('transposed')!.storageEntry).toBe(tensors.get('base')!.storageEntry);
    expect(tensors.get('transposed')!.stride).toEqual([1, 4]);
    expect(tensors.get('offset')!.offset).toBe(5);
  });

  it('rejects bytes that are not a torch zip checkpoint', () => {
    expect(() => TorchCheckpoint.parse(new Uint8Array([1, 2, 3, 4]))).toThrow(SbmArgumentError);
    const zip = zipSync({ 'a/other.txt': new Uint8Array([1]) });
    expect(() => TorchCheckpoint.parse(zip)).toThrow(/no data.pkl/);
    const badPickle = zipSync({ 'a/data.pkl': new Uint8Array([0x80, 0x02, 0xff]) });
    expect(() => TorchCheckpoint.parse(badPickle)).toThrow(/could not unpickle/);
  });
});
