import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { likelihood } from '@sbm/metrics';
import { wrapModel } from '@sbm/samplers';
import { VPSDE } from '@sbm/sde';
import { importScoreSdeCheckpoint, referenceOverrides, unetPreset } from '@sbm/unet';
import * as tf from '@tensorflow/tfjs-core';
// Gradients for the divergence (tfjs-core registers none in Node).
import '@tensorflow/tfjs-layers';
import { markdownTable } from './timing.js';

/**
 * Cost of `likelihood` (probability-flow ODE, RK45) against its tolerance: model evaluations and seconds per
 * example, on the backend already set up (wasm).
 * - Gaussian data `N(0, s² I)` of CIFAR-10's shape [32,32,3], whose score under the VP SDE is exact and linear,
 *   `−x / (α(t)² s² + σ(t)²)`: what the solver needs on a smooth field, with a model that costs nothing.
 * - score_sde's DDPM++ (continuous VP) at 16×16×3 from the shared reference checkpoint `ddpmpp_small` (EMA
 *   weights; random initialisation plus noise, so its output is not the zero of a fresh DDPM++ whose last layer
 *   starts at zero): the cost of a real network's forward and backward pass per evaluation. A rough random field
 *   needs more evaluations than a trained network's, so its NFE is an upper bound.
 */
export async function likelihoodBench(): Promise<string> {
  const sde = new VPSDE();
  const rows: (string | number)[][] = [];
  const measure = async (
    name: string,
    model: Parameters<typeof likelihood>[0]['model'],
    shape: number[],
    tol: number,
    divergence: 'hutchinson-rademacher' | 'exact',
  ) => {
    const x = tf.tidy(() => tf.clipByValue(tf.randomNormal(shape, 0, 0.5, 'float32', 4), -1, 1));
    const start = performance.now();
    const r = await likelihood({
      sde,
      model,
      x,
      rtol: tol,
      atol: tol,
      divergence,
      seed: 1,
      dataRange: [-1, 1],
    });
    const s = (performance.now() - start) / 1000;
    const b = shape[0]!;
    rows.push([
      name,
      `[${shape.join(',')}]`,
      divergence,
      tol,
      r.nfe,
      (s / b).toFixed(3),
      (s / r.nfe).toFixed(4),
      (r.bitsPerDim.reduce((a, v) => a + v, 0) / b).toFixed(3),
    ]);
    tf.dispose([x, r.latent]);
  };
  const s2 = 0.25;
  const gaussianScore = (x: tf.Tensor, t: tf.Tensor) =>
    tf.tidy(() => {
      const tt = t.dataSync()[0]!;
      const v = sde.alpha(tt) ** 2 * s2 + sde.sigma(tt) ** 2;
      return tf.mul(x, -1 / v);
    });
  for (const tol of [1e-3, 1e-4, 1e-5]) {
    await measure('Gaussian, exact score', gaussianScore, [16, 32, 32, 3], tol, 'hutchinson-rademacher');
  }
  const fixtures = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../shared/fixtures/score-sde');
  const reference = JSON.parse(readFileSync(resolve(fixtures, 'ddpmpp_small.json'), 'utf8')) as {
    config: string;
    overrides: Record<string, unknown>;
  };
  const net = importScoreSdeCheckpoint(
    new Uint8Array(readFileSync(resolve(fixtures, 'ddpmpp_small.pth'))),
    unetPreset(reference.config, referenceOverrides(reference.overrides)),
    { weights: 'ema' },
  );
  const model = wrapModel((x: tf.Tensor, t: tf.Tensor) => net.predict(x as tf.Tensor4D, t as tf.Tensor1D), {
    sde,
    prediction: 'eps',
    timeInput: 'index',
    numTrainSteps: 1000,
  });
  for (const tol of [1e-2, 1e-3]) {
    await measure('score_sde DDPM++ ddpmpp_small (EMA)', model, [1, 16, 16, 3], tol, 'hutchinson-rademacher');
  }
  net.dispose();
  return [
    '## Likelihood (bits/dim through the probability-flow ODE)',
    '',
    `VP SDE, tMin = 1e-5, RK45 with rtol = atol; data scaled to [−1, 1]; backend ${tf.getBackend()}. score_sde uses`,
    '1e-5. Seconds per example include the divergence (one backward pass per evaluation).',
    '',
    markdownTable(
      ['model', 'x', 'divergence', 'rtol = atol', 'NFE', 's per example', 's per evaluation', 'bits/dim'],
      rows,
    ),
    '',
  ].join('\n');
}
