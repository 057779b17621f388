import { describe, expect, it } from 'vitest';
import { parseShard, shardFromEnvironment, shardRange } from './shard.js';

describe('shards', () => {
  it('parses i/n and rejects malformed or out-of-range shards by name', () => {
    expect(parseShard('3/16')).toEqual({ index: 3, total: 16 });
    expect(parseShard(' 0 / 1 ')).toEqual({ index: 0, total: 1 });
    for (const bad of ['16/16', '1/0', 'a/b', '3', '-1/4', '1.5/4']) {
      expect(() => parseShard(bad)).toThrow(/^--shard: expected/);
    }
  });

  it('splits [0, count) into contiguous disjoint ranges that cover it, sizes within one', () => {
    for (const [count, total] of [
      [50_000, 16],
      [10, 3],
      [3, 5],
      [0, 2],
      [7, 7],
    ] as const) {
      const ranges = Array.from({ length: total }, (_, index) => shardRange(count, { index, total }));
      expect(ranges[0]!.start).toBe(0);
      expect(ranges.at(-1)!.end).toBe(count);
      for (let i = 1; i < total; i++) expect(ranges[i]!.start).toBe(ranges[i - 1]!.end);
      const sizes = ranges.map((r) => r.end - r.start);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
  });

  it('takes the shard from --shard, a Kubernetes Indexed Job or a SLURM array', () => {
    expect(shardFromEnvironment({ shard: '2/4' }, { JOB_COMPLETION_INDEX: '1' })).toEqual({
      index: 2,
      total: 4,
    });
    expect(shardFromEnvironment({ shards: 8 }, { JOB_COMPLETION_INDEX: '5' })).toEqual({
      index: 5,
      total: 8,
    });
    expect(() => shardFromEnvironment({}, { JOB_COMPLETION_INDEX: '5' })).toThrow(
      /^--shards: JOB_COMPLETION_INDEX/,
    );
    expect(
      shardFromEnvironment(
        {},
        { SLURM_ARRAY_TASK_ID: '11', SLURM_ARRAY_TASK_MIN: '10', SLURM_ARRAY_TASK_COUNT: '4' },
      ),
    ).toEqual({ index: 1, total: 4 });
    expect(() => shardFromEnvironment({}, { SLURM_ARRAY_TASK_ID: '1' })).toThrow(
      /^--shards: SLURM_ARRAY_TASK_ID/,
    );
    expect(shardFromEnvironment({}, {})).toEqual({ index: 0, total: 1 });
    expect(() => shardFromEnvironment({ shards: 3 }, {})).toThrow(/^--shard:/);
  });
});
