import { describe, expect, it } from 'vitest';
import { CheckpointError } from './checkpoint-error.js';

describe('CheckpointError', () => {
  it('names the file and the reason, and keeps the cause', () => {
    const cause = new Error('EIO');
    const error = new CheckpointError('/runs/a/ckpt-00000001.sbmckpt', 'checksum mismatch', { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('CheckpointError');
    expect(error.message).toBe('checkpoint /runs/a/ckpt-00000001.sbmckpt: checksum mismatch');
    expect(error.path).toBe('/runs/a/ckpt-00000001.sbmckpt');
    expect(error.reason).toBe('checksum mismatch');
    expect(error.cause).toBe(cause);
  });
});
