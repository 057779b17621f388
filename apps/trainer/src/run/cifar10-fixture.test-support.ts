import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Xoshiro128StarStar } from '../data/rng.js';

/** Writes CIFAR-10 binary batches in the real format: per record 1 label byte, then R, G, B planes of 32×32. */
export async function writeCifar10(dir: string, perBatch: number): Promise<void> {
  const rng = Xoshiro128StarStar.fromSeed(5);
  const files = [
    'data_batch_1.bin',
    'data_batch_2.bin',
    'data_batch_3.bin',
    'data_batch_4.bin',
    'data_batch_5.bin',
    'test_batch.bin',
  ];
  for (const file of files) {
    const bytes = new Uint8Array(perBatch * 3073);
    for (let r = 0; r < perBatch; r++) {
      const label = rng.nextInt(10);
      bytes[r * 3073] = label;
      // smooth images: a per-record colour gradient, so that the network has something to learn
      for (let c = 0; c < 3; c++) {
        for (let p = 0; p < 1024; p++) {
          const y = Math.floor(p / 32);
          bytes[r * 3073 + 1 + c * 1024 + p] = Math.round(((y * 8 + label * 20 + c * 40) % 256) * 0.9);
        }
      }
    }
    await writeFile(join(dir, file), bytes);
  }
}

/** `--set` overrides of a tiny VP DDPM++-style run on 32×32 CIFAR-format data in `dir` (about 0.4 s a step on wasm). */
export function tinyRunSettings(dir: string): string[] {
  return [
    `data.path=${dir}`,
    'model.preset=tiny/ddpmpp',
    'model.nf=8',
    'model.chMult=[1,1,1]', // the bottleneck's attention at 8×8, not 32×32
    'model.numResBlocks=1',
    'model.attnResolutions=[]',
    'model.dropout=0',
    'training.batchSize=4',
    'training.nIters=6',
    'training.snapshotFreq=6',
    'training.snapshotFreqForPreemption=3',
    'training.logFreq=1',
    'optim.warmup=2',
    'optim.lr=0.001',
    'sampling.sampler=ddim',
    'sampling.steps=2',
  ];
}

/**
 * A temporary directory `root` with CIFAR-10 batches of 4 images each in `cifarDir`
 * (`root/cifar-10-batches-bin`); `remove()` deletes it.
 */
export async function cifar10Fixture(
  prefix: string,
): Promise<{ root: string; cifarDir: string; remove: () => Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  const cifarDir = join(root, 'cifar-10-batches-bin');
  await mkdir(cifarDir);
  await writeCifar10(cifarDir, 4);
  return { root, cifarDir, remove: () => rm(root, { recursive: true, force: true }) };
}
