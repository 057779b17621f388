// Runs the examples of guides/scores.md against closed forms for Gaussian data.
import '@tensorflow/tfjs-layers'; // registers the gradients the training example needs
import { VESDE, VPSDE } from '@sbm/sde';
import { expectNoLeaks, expectTensorsClose, useCpuBackend } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { denoise, dsmLoss, gaussianScore, learnDataVariance } from './scores.js';

beforeAll(useCpuBackend);

const vp = new VPSDE();
const dataStd = 2;

/**
 * The σ²-weighted DSM loss (mean over elements) of the model that assumes data variance `w`, for data N(0, s² I)
 * under the VP SDE, in closed form: with `u = α² w + σ²`, `σ s_w(x_t) + ε = (α² w ε − σ α s z) / u`, whose
 * variance is `(α⁴ w² + σ² α² s²) / u²`; averaged over `t ~ U(tMin, 1)` by the midpoint rule.
 */
function closedFormLoss(w: number, s2: number, tMin = 1e-5, n = 20_000): number {
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const t = tMin + ((1 - tMin) * (i + 0.5)) / n;
    const a2 = vp.alpha(t) ** 2;
    const sg2 = vp.sigma(t) ** 2;
    const u = a2 * w + sg2;
    sum += (a2 * a2 * w * w + sg2 * a2 * s2) / (u * u);
  }
  return sum / n;
}

describe('guides/scores examples', () => {
  it('gaussianScore is the score of the perturbed Gaussian (VP and VE)', () => {
    const x = tf.tensor2d([0.5, -1, 2, 3], [2, 2]);
    const t = tf.tensor1d([0.1, 0.7]);
    for (const sde of [vp, new VESDE()]) {
      const s = gaussianScore(sde, dataStd)(x, t);
      const expected = [0.5, -1, 2, 3].map((v, i) => {
        const ti = i < 2 ? 0.1 : 0.7;
        return -v / (sde.alpha(ti) ** 2 * dataStd ** 2 + sde.sigma(ti) ** 2);
      });
      expectTensorsClose(s, expected, { rtol: 1e-6 });
      s.dispose();
    }
    tf.dispose([x, t]);
  });

  it('the DSM loss of the exact score is the closed-form minimum, below that of a wrong score', () => {
    // 8 independent batches of 4096 two-dimensional points; tolerance 4 standard errors of their mean.
    const exact = gaussianScore(vp, dataStd);
    const wrong = gaussianScore(vp, 1); // assumes unit variance
    const exactValues: number[] = [];
    for (let seed = 0; seed < 8; seed++) {
      const x0 = tf.randomNormal([4096, 2], 0, dataStd, 'float32', 100 + seed);
      const e = dsmLoss(vp, exact, x0, seed);
      const w = dsmLoss(vp, wrong, x0, seed);
      expect(e).toBeLessThan(w); // on the same times and noise
      exactValues.push(e);
      x0.dispose();
    }
    const mean = exactValues.reduce((a, b) => a + b, 0) / exactValues.length;
    const variance = exactValues.reduce((a, b) => a + (b - mean) ** 2, 0) / (exactValues.length - 1);
    const standardError = Math.sqrt(variance / exactValues.length);
    const minimum = closedFormLoss(dataStd ** 2, dataStd ** 2); // ≈ 0.396
    expect(Math.abs(mean - minimum)).toBeLessThan(4 * standardError + 1e-3);
    expect(closedFormLoss(1, dataStd ** 2) - minimum).toBeGreaterThan(0.1); // the wrong score's excess, ≈ 0.127
  });

  it("Tweedie's denoised estimate is the Gaussian posterior mean, and the noise estimate is −σ s", () => {
    const xt = tf.tensor2d([1.5, -0.25, 0.75, 3], [2, 2]);
    const t = 0.4;
    const { x0, eps } = denoise(vp, gaussianScore(vp, dataStd), xt, t);
    const a = vp.alpha(t);
    const s = vp.sigma(t);
    const v = a * a * dataStd ** 2 + s * s;
    // E[x_0 | x_t] = Cov(x_0, x_t) / Var(x_t) · x_t = α s_data² / v · x_t
    expectTensorsClose(
      x0,
      [1.5, -0.25, 0.75, 3].map((x) => ((a * dataStd ** 2) / v) * x),
      { rtol: 1e-5 },
    );
    expectTensorsClose(
      eps,
      [1.5, -0.25, 0.75, 3].map((x) => (s * x) / v),
      { rtol: 1e-5 },
    );
    tf.dispose([x0, eps]);
  });

  it('denoising alone learns the data variance (4) from noisy data', () => {
    const data = tf.randomNormal([1024, 2], 0, dataStd, 'float32', 7);
    const sampleVariance = tf.moments(data).variance.dataSync()[0]!;
    const learned = learnDataVariance(vp, data, 300);
    // The minimizer on this finite sample is near its sample variance; 10 % allows for Adam's noise.
    expect(Math.abs(learned - sampleVariance) / sampleVariance).toBeLessThan(0.1);
    data.dispose();
  });

  it('leaks no tensors', async () => {
    const x0 = tf.randomNormal([16, 2], 0, dataStd, 'float32', 1);
    await expectNoLeaks(() => dsmLoss(vp, gaussianScore(vp, dataStd), x0, 3));
    await expectNoLeaks(() => denoise(vp, gaussianScore(vp, dataStd), x0, 0.5));
    await expectNoLeaks(() => learnDataVariance(vp, x0, 2));
    x0.dispose();
  });
});
