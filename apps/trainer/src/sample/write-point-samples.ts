import { join } from 'node:path';
import { writeFileAtomic } from '../checkpoint/atomic-file.js';
import { type GaussianMixture2D, sampleToy } from '../data/toy.js';
import { type MixtureFit, mixtureFit } from '../eval/mixture-fit.js';
import { encodePng } from './png-io.js';
import { pointsCsv } from './points-csv.js';
import { type IndexBatch, type SampleBatchesOptions, sampleBatches } from './sample-images.js';
import { scatterPlot } from './scatter-plot.js';

/** Options of {@link writePointSamples}: a {@link sampleBatches} run of `[D]`-shaped samples, and where to write. */
export interface WritePointSamplesOptions extends Omit<SampleBatchesOptions, 'onBatch'> {
  /** The output directory (must exist). */
  outDir: string;
  /** The mixture the model was trained on, if known (toy data): the points' fit to it is measured. */
  mixture?: GaussianMixture2D;
  /** Called after each batch with the number of samples done so far in this shard. */
  onProgress?: (done: number) => void;
}

/** What {@link writePointSamples} wrote. */
export interface WritePointSamplesResult {
  /** The batches of this shard (global index ranges). */
  batches: IndexBatch[];
  /** Model evaluations spent. */
  nfe: number;
  /** Samples written. */
  count: number;
  /** The CSV file: `points.csv`, or `points-<i>.csv` for shard i of several. */
  csvPath: string;
  /** The scatter plot (2-D samples only): `scatter.png`, or `scatter-<i>.png`. */
  scatterPath?: string;
  /** With `mixture` (2-D): the samples' fit, and that of as many fresh true samples as the reference. */
  fit?: { samples: MixtureFit; truePoints: MixtureFit };
}

/**
 * Samples one shard of a point-data run (`sampleShape` `[D]`, e.g. `[2]`) with {@link sampleBatches} and
 * writes the samples in sample-index order as `points.csv` (one `x,y` line per sample, no header; see
 * {@link pointsCsv}) and, for D = 2, a scatter plot `scatter.png`; shard i of n > 1 writes `points-<i>.csv`
 * and `scatter-<i>.png`, and the shards' CSV files concatenated in shard order are the unsharded run's
 * `points.csv`, byte for byte (every shard computes whole global batches). With `mixture`, also measures the
 * samples against it ({@link mixtureFit}) and, as the reference, as many fresh samples of the mixture
 * (`sampleToy` with the run's seed).
 */
export async function writePointSamples(options: WritePointSamplesOptions): Promise<WritePointSamplesResult> {
  const { outDir, mixture, onProgress, ...run } = options;
  if (run.sampleShape.length !== 1) {
    throw new Error(`sampleShape: expected [D] for point data, got [${run.sampleShape.join(', ')}]`);
  }
  const dim = run.sampleShape[0]!;
  const parts: Float32Array[] = [];
  let done = 0;
  const { batches, nfe } = await sampleBatches({
    ...run,
    onBatch: (_batch, samples) => {
      parts.push(samples);
      done += samples.length / dim;
      onProgress?.(done);
    },
  });
  const points = new Float32Array(done * dim);
  let offset = 0;
  for (const p of parts) {
    points.set(p, offset);
    offset += p.length;
  }
  const shard = run.shard ?? { index: 0, total: 1 };
  const suffix = shard.total > 1 ? `-${shard.index}` : '';
  const csvPath = join(outDir, `points${suffix}.csv`);
  const csv = pointsCsv(points, dim);
  await writeFileAtomic(csvPath, async (h) => {
    await h.write(csv);
  });
  const result: WritePointSamplesResult = { batches, nfe, count: done, csvPath };
  if (dim !== 2 || done === 0) return result;
  result.scatterPath = join(outDir, `scatter${suffix}.png`);
  const png = encodePng(scatterPlot(points));
  await writeFileAtomic(result.scatterPath, async (h) => {
    await h.writeFile(png);
  });
  if (mixture !== undefined) {
    const truth = sampleToy({ n: done, seed: run.seed, mixture });
    result.fit = { samples: mixtureFit(mixture, points), truePoints: mixtureFit(mixture, truth.data) };
  }
  return result;
}
