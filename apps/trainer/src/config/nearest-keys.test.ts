import { describe, expect, it } from 'vitest';
import { editDistance, nearestKeys } from './nearest-keys.js';

describe('editDistance', () => {
  it('is the Levenshtein distance, ignoring case', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('batchsize', 'batchSize')).toBe(0);
    expect(editDistance('lrr', 'lr')).toBe(1);
  });
});

describe('nearestKeys', () => {
  const keys = ['optimizer', 'lr', 'beta1', 'beta2', 'eps', 'warmup', 'gradClip', 'weightDecay'];
  it('returns the closest keys first and drops far ones', () => {
    expect(nearestKeys('lrr', keys)).toEqual(['lr']);
    expect(nearestKeys('beta3', keys)).toEqual(['beta1', 'beta2']);
    expect(nearestKeys('momentum', keys)).toEqual([]);
  });
  it('finds keys that contain the typed key', () => {
    expect(nearestKeys('freq', ['logFreq', 'evalFreq', 'nIters'])).toEqual(['logFreq', 'evalFreq']);
  });
  it('limits the number of suggestions', () => {
    expect(nearestKeys('beta', ['beta1', 'beta2', 'beta3', 'beta4'], 2)).toEqual(['beta1', 'beta2']);
  });
});
