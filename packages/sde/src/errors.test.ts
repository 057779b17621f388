import { describe, expect, it } from 'vitest';
import {
  assertFinite,
  assertInteger,
  assertNonNegative,
  assertPositive,
  SbmArgumentError,
} from './errors.js';

describe('SbmArgumentError', () => {
  it('starts the message with the argument name and keeps it on the error', () => {
    const e = new SbmArgumentError('options.N', 'expected an integer');
    expect(e).toBeInstanceOf(Error);
    expect(e.message).toBe('options.N: expected an integer');
    expect(e.argument).toBe('options.N');
    expect(e.name).toBe('SbmArgumentError');
  });

  it('assertion helpers describe what they received', () => {
    expect(() => assertFinite('a', Number.NaN)).toThrow('a: expected a finite number, got NaN');
    expect(() => assertFinite('a', '1')).toThrow('a: expected a finite number, got string');
    expect(() => assertPositive('b', 0)).toThrow('b: expected a number > 0, got 0');
    expect(() => assertNonNegative('c', -1)).toThrow('c: expected a number >= 0, got -1');
    expect(() => assertInteger('d', 2.5)).toThrow('d: expected an integer >= 1, got 2.5');
    expect(() => assertInteger('d', 0, 0)).not.toThrow();
  });
});
