// Examples of the guide "Import a pretrained score_sde checkpoint" (guides/import-checkpoint.md).
// Run by import-checkpoint.test.ts on a small checkpoint written by score_sde_pytorch; `importFromDisk` reads a
// published checkpoint from disk and is only compiled.
import { readFile } from 'node:fs/promises';
import { type ModelAdapter, pcSample, type SampleResult, wrapModel } from '@sbm/samplers';
import { VESDE } from '@sbm/sde';
import { importScoreSdeCheckpoint, loadUNet, referenceOverrides, type UNet, unetPreset } from '@sbm/unet';
import { convertScoreSdeCheckpoint, fileSystemIO } from '@sbm/unet/node';

// #region import
/**
 * Builds the NCSN++ (continuous, VE) network of score_sde's
 * `configs/ve/cifar10_ncsnpp_continuous.py` and loads a checkpoint's EMA
 * weights into it. `overrides` are score_sde config keys the checkpoint was
 * trained with, if it differs from the published config (`{
 * 'data.image_size': 8, 'model.nf': 8 }`).
 */
export function importCheckpoint(bytes: Uint8Array, overrides: Record<string, unknown> = {}): UNet {
  const config = unetPreset('ve/cifar10_ncsnpp_continuous', referenceOverrides(overrides));
  return importScoreSdeCheckpoint(bytes, config, { weights: 'ema' });
}
// #endregion import

// #region from-disk
/**
 * A published checkpoint (`checkpoint_<n>.pth`) from disk; compiled, not
 * run by the tests (the file is not in the repository).
 */
export async function importFromDisk(path: string): Promise<UNet> {
  const bytes = new Uint8Array(await readFile(path));
  return importCheckpoint(bytes);
}
// #endregion from-disk

// #region convert
/**
 * Converts once to a tfjs model folder (`model.json` + `weights.bin`), then
 * loads that in any later program — what `sbm-unet-convert` does from the
 * command line.
 */
export async function convertThenLoad(
  checkpoint: string,
  out: string,
  overrides: Record<string, unknown> = {},
): Promise<{ net: UNet; parameters: number }> {
  const config = unetPreset('ve/cifar10_ncsnpp_continuous', referenceOverrides(overrides));
  const parameters = await convertScoreSdeCheckpoint({ checkpoint, out, config, weights: 'ema' });
  const net = await loadUNet(fileSystemIO(out)); // in any later program
  return { net, parameters };
}
// #endregion convert

// #region sample
/**
 * The checkpoint's SDE and model for the samplers: score_sde's VE models
 * are given σ(t) as their time input and predict the score.
 */
export function veModel(net: UNet): { sde: VESDE; model: ModelAdapter } {
  // the config's model.sigma_min, model.sigma_max and model.num_scales
  const sde = new VESDE({ sigmaMin: 0.01, sigmaMax: 50, N: 1000 });
  const model = wrapModel(net.model, { sde, prediction: 'score', timeInput: 'sigma' });
  return { sde, model };
}

/**
 * score_sde's sampler for this checkpoint: reverse diffusion + Langevin
 * corrector, snr 0.16 (1000 steps in score_sde). Images `[B, H, W, 3]` in
 * [0, 1].
 */
export async function sampleCheckpoint(
  net: UNet,
  shape: number[],
  steps: number,
  seed: number,
): Promise<SampleResult> {
  const { sde, model } = veModel(net);
  return pcSample({ sde, model, shape, steps, snr: 0.16, seed });
}
// #endregion sample
