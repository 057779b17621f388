// Examples of the guide "Likelihood and FID" (guides/likelihood-and-fid.md). Run by likelihood-and-fid.test.ts:
// the likelihood with exact Gaussian scores, FID with a small Inception weights file of the test fixtures (the
// real pt_inception-2015-12-05-6726825d.pth is ≈ 95 MB and not in the repository).
import { readFile, writeFile } from 'node:fs/promises';
import {
  type FidStatistics,
  frechetDistance,
  type LikelihoodResult,
  likelihood,
  loadFidInception,
  readFidStatistics,
  uniformDequantize,
  writeFidStatistics,
} from '@sbm/metrics';
import { measureImages, openImageSource } from '@sbm/metrics/node';
import type { ModelAdapter, ModelLike } from '@sbm/samplers';
import type { SDE } from '@sbm/sde';
import type * as tf from '@tensorflow/tfjs-core';

// #region bits-per-dim
/**
 * Bits/dim of 8-bit images `[B, H, W, C]` with values `k/255` in [0, 1], as
 * score_sde reports it: uniform dequantization, then the exact
 * log-likelihood along the probability-flow ODE (RK45, rtol = atol = 1e-5,
 * Hutchinson's divergence with one Rademacher probe per image). The model
 * must be synchronous and differentiable; register gradients first (`import
 * '@tensorflow/tfjs-layers'`).
 */
export async function bitsPerDimOf(
  sde: SDE,
  model: ModelAdapter | ModelLike,
  images: tf.Tensor,
  seed: number,
): Promise<LikelihoodResult> {
  const x = uniformDequantize(images, seed, { dataRange: [0, 1] }); // k/255 → (k + u)/256
  try {
    return await likelihood({ sde, model, x, dataRange: [0, 1], seed });
  } finally {
    x.dispose();
  }
}
// #endregion bits-per-dim

// #region fid
/**
 * FID of a folder of generated PNG/JPEG images against reference
 * statistics: a pytorch-fid/TTUR `.npz` file (e.g.
 * `fid_stats_cifar10_train.npz`) or another image folder. `weights` is
 * pytorch-fid's Inception file. `saveStatsTo` keeps the samples' statistics
 * as an `.npz` that numpy and pytorch-fid read.
 */
export async function fid(
  weights: string,
  samples: string,
  reference: string,
  saveStatsTo?: string,
): Promise<number> {
  const inception = loadFidInception(new Uint8Array(await readFile(weights)));
  try {
    const measured = await measureImages(inception, await openImageSource(samples), { batchSize: 16 });
    if (saveStatsTo !== undefined) await writeFile(saveStatsTo, writeFidStatistics(measured.statistics));
    const referenceStats: FidStatistics = reference.endsWith('.npz')
      ? readFidStatistics(new Uint8Array(await readFile(reference)))
      : (await measureImages(inception, await openImageSource(reference))).statistics;
    return frechetDistance(measured.statistics, referenceStats);
  } finally {
    inception.dispose();
  }
}
// #endregion fid
