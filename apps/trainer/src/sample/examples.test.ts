import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { shardBatches } from './sample-images.js';
import { shardFromEnvironment } from './shard.js';

const examples = join(dirname(fileURLToPath(import.meta.url)), '../../examples');

describe('the scheduler examples', () => {
  it('the Kubernetes Indexed Job: every completion index is a shard, together the whole run', async () => {
    const job = parse(await readFile(join(examples, 'k8s-sample-indexed-job.yaml'), 'utf8'));
    expect(job.spec.completionMode).toBe('Indexed');
    const args: string[] = job.spec.template.spec.containers[0].args;
    const arg = (name: string) => Number(args.find((a) => a.startsWith(`--${name}=`))!.split('=')[1]);
    expect(args[0]).toBe('sample');
    expect(arg('shards')).toBe(job.spec.completions);
    const count = arg('count');
    const batch = arg('batch');
    const batches = Array.from({ length: job.spec.completions }, (_, i) =>
      shardBatches(
        count,
        batch,
        shardFromEnvironment({ shards: arg('shards') }, { JOB_COMPLETION_INDEX: String(i) }),
      ),
    ).flat();
    expect(batches).toEqual(shardBatches(count, batch, { index: 0, total: 1 }));
  });

  it('the SLURM array: task ids 0…15 with SLURM_ARRAY_TASK_COUNT give the 16 shards', async () => {
    const script = await readFile(join(examples, 'slurm-sample-array.sh'), 'utf8');
    const [, lo, hi] = /#SBATCH --array=(\d+)-(\d+)/.exec(script)!;
    const count = Number(hi) - Number(lo) + 1;
    const env = (id: number) => ({
      SLURM_ARRAY_TASK_ID: String(id),
      SLURM_ARRAY_TASK_MIN: lo,
      SLURM_ARRAY_TASK_COUNT: String(count),
    });
    const shards = Array.from({ length: count }, (_, i) => shardFromEnvironment({}, env(Number(lo) + i)));
    expect(shards.map((s) => s.index)).toEqual([...Array(count).keys()]);
    expect(new Set(shards.map((s) => s.total))).toEqual(new Set([count]));
    expect(script).toContain('sbm.js sample');
  });
});
