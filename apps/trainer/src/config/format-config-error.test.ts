import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { describeConfigValue, formatConfigError, formatKeyPath } from './format-config-error.js';

describe('formatKeyPath', () => {
  it('writes dotted keys with list indices', () => {
    expect(formatKeyPath(['model', 'chMult', 1])).toBe('model.chMult[1]');
    expect(formatKeyPath([])).toBe('(root)');
  });
});

describe('describeConfigValue', () => {
  it('shows values as JSON, shortens long ones and names a missing key', () => {
    expect(describeConfigValue(-1)).toBe('-1');
    expect(describeConfigValue('x')).toBe('"x"');
    expect(describeConfigValue(undefined)).toBe('nothing (the key is missing)');
    expect(describeConfigValue('a'.repeat(100))).toHaveLength(60);
  });
});

describe('formatConfigError', () => {
  it('formats issues of any schema with a generic expectation when the schema gives none', () => {
    const schema = z.object({ a: z.number().min(3), b: z.array(z.number()).max(1), c: z.enum(['x', 'y']) });
    const raw = { a: 1, b: [1, 2], c: 'z' };
    const result = schema.safeParse(raw, { reportInput: true });
    expect(result.success).toBe(false);
    expect(formatConfigError(result.error!, raw)).toEqual([
      'a: expected a value >= 3, got 1',
      'b: expected a list with at most 1, got [1,2]',
      'c: expected one of "x", "y", got "z"',
    ]);
  });
  it('formats the trainer schema example from the brief', () => {
    const issue: z.core.$ZodIssue = {
      code: 'too_small',
      origin: 'number',
      minimum: 0,
      inclusive: false,
      path: ['optim', 'lr'],
      message: 'expected a positive number',
      input: -1,
    };
    expect(formatConfigError([issue])).toEqual(['optim.lr: expected a positive number, got -1']);
  });
});
