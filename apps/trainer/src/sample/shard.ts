/**
 * Sharding of a sampling run by sample index, so that a large evaluation set (e.g. 50,000 images for FID) can be
 * spread over many machines of an existing scheduler and its union is exactly the unsharded run.
 */

/** One shard of `count` samples: indices `[start, end)` of shard `index` of `total`. */
export interface Shard {
  /** 0-based shard index. */
  readonly index: number;
  /** Number of shards. */
  readonly total: number;
}

/** The sample indices `[start, end)` of a shard. */
export interface ShardRange {
  readonly start: number;
  readonly end: number;
}

/**
 * Parses `--shard i/n` (0-based `i`, `0 <= i < n`). Throws an error naming `--shard` when malformed.
 */
export function parseShard(text: string): Shard {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!match) throw new Error(`--shard: expected i/n with 0 <= i < n (e.g. 3/16), got '${text}'`);
  const index = Number(match[1]);
  const total = Number(match[2]);
  if (!(total >= 1 && index < total)) {
    throw new Error(`--shard: expected 0 <= i < n and n >= 1, got '${text}'`);
  }
  return { index, total };
}

/**
 * The shard of this process: `--shard i/n` when given, else the array index of the scheduler's job —
 * a Kubernetes Indexed Job (`JOB_COMPLETION_INDEX`, with `total` = the job's `completions`, passed as
 * `--shards n`) or a SLURM job array (`SLURM_ARRAY_TASK_ID` minus `SLURM_ARRAY_TASK_MIN`, with `total` =
 * `SLURM_ARRAY_TASK_COUNT` unless `--shards n` is given) — else the whole run (`0/1`).
 */
export function shardFromEnvironment(
  options: { shard?: string; shards?: number },
  env: Readonly<Record<string, string | undefined>> = process.env,
): Shard {
  if (options.shard !== undefined) return parseShard(options.shard);
  const k8s = env.JOB_COMPLETION_INDEX;
  if (k8s !== undefined) {
    if (options.shards === undefined) {
      throw new Error(
        "--shards: JOB_COMPLETION_INDEX is set (Kubernetes Indexed Job); pass --shards n with n = the job's completions",
      );
    }
    return parseShard(`${k8s}/${options.shards}`);
  }
  const slurm = env.SLURM_ARRAY_TASK_ID;
  if (slurm !== undefined) {
    const min = Number(env.SLURM_ARRAY_TASK_MIN ?? '0');
    const count = options.shards ?? Number(env.SLURM_ARRAY_TASK_COUNT);
    if (!Number.isInteger(count) || count < 1) {
      throw new Error(
        '--shards: SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not; pass --shards n',
      );
    }
    return parseShard(`${Number(slurm) - min}/${count}`);
  }
  if (options.shards !== undefined && options.shards !== 1) {
    throw new Error('--shard: --shards n was given without --shard i/n or a scheduler array index');
  }
  return { index: 0, total: 1 };
}

/**
 * The sample indices of shard `i` of `n` out of `count`: `[⌊i·count/n⌋, ⌊(i+1)·count/n⌋)` — contiguous,
 * disjoint, covering `[0, count)`, sizes differing by at most one.
 */
export function shardRange(count: number, shard: Shard): ShardRange {
  if (!(Number.isInteger(count) && count >= 0))
    throw new Error(`count: expected an integer >= 0, got ${count}`);
  return {
    start: Math.floor((shard.index * count) / shard.total),
    end: Math.floor(((shard.index + 1) * count) / shard.total),
  };
}
