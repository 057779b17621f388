import { SbmArgumentError } from '@sbm/sde';
import { cifar10BatchBytes, cifar10HwcMismatches } from '@sbm/test-utils';
import { describe, expect, it } from 'vitest';
import { CIFAR10_RECORD_BYTES, cifar10RecordCount, parseCifar10Batch } from './cifar10-batch.js';

describe('parseCifar10Batch', () => {
  it('moves every byte from the CHW planes to HWC and keeps the labels', () => {
    const labels = [3, 0, 9, 5];
    const b = parseCifar10Batch(cifar10BatchBytes(0, labels), 'x.bin');
    expect(b.count).toBe(4);
    expect(Array.from(b.labels)).toEqual(labels);
    expect(cifar10HwcMismatches(b.images, 4)).toBe(0);
  });

  it('writes into a target at an offset (two files concatenated without copies)', () => {
    const images = new Uint8Array(5 * 3072);
    const labels = new Uint8Array(5);
    parseCifar10Batch(cifar10BatchBytes(0, [1, 2]), 'a.bin', { images, labels, offset: 0 });
    parseCifar10Batch(cifar10BatchBytes(2, [3, 4, 5]), 'b.bin', { images, labels, offset: 2 });
    expect(Array.from(labels)).toEqual([1, 2, 3, 4, 5]);
    expect(cifar10HwcMismatches(images, 5)).toBe(0);
    expect(() =>
      parseCifar10Batch(cifar10BatchBytes(0, [1, 2]), 'c.bin', { images, labels, offset: 4 }),
    ).toThrow('target: has no room for 2 records at offset 4');
  });

  it('names the file and the expected layout on a bad length', () => {
    expect(() => parseCifar10Batch(new Uint8Array(5000), 'data_batch_1.bin')).toThrow(SbmArgumentError);
    expect(() => parseCifar10Batch(new Uint8Array(5000), 'data_batch_1.bin')).toThrow(
      'data_batch_1.bin: expected a positive multiple of 3073 bytes (1 label + 3072 pixels per image), got 5000',
    );
    expect(() => cifar10RecordCount(0, 'e.bin')).toThrow(/e.bin: .* got 0/);
    expect(cifar10RecordCount(2 * CIFAR10_RECORD_BYTES, 'f.bin')).toBe(2);
  });

  it('rejects a label byte above 9, naming the record', () => {
    const bytes = cifar10BatchBytes(0, [1, 2, 3]);
    bytes[2 * CIFAR10_RECORD_BYTES] = 10;
    expect(() => parseCifar10Batch(bytes, 'test_batch.bin')).toThrow(
      'test_batch.bin: record 2 (byte offset 6146) has label 10, expected 0–9',
    );
  });
});
