// Runs the examples of guides/likelihood-and-fid.md: bits/dim of Gaussian data with its exact score against the
// analytic density, and FID with the strided-weights FID Inception fixture of @sbm/metrics (a torch.save file with
// the real network's keys and shapes) on small PNG folders.
import '@tensorflow/tfjs-layers'; // gradients for the divergence
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setupBackend } from '@sbm/backend';
import { frechetDistance, readFidStatistics, uniformDequantize } from '@sbm/metrics';
import { VPSDE } from '@sbm/sde';
import { type PixelFn, pngFile } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bitsPerDimOf, fid } from './likelihood-and-fid.js';

const weights = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '../../../../packages/metrics/test-fixtures/inception/fid_inception_strided.pth',
);
let root: string;
beforeAll(async () => {
  await setupBackend({ prefer: 'wasm', importModule: (n) => import(n) });
  root = await mkdtemp(join(tmpdir(), 'sbm-docs-fid-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

/** log N(x; m, v) of one value. */
const logNormal = (x: number, m: number, v: number) =>
  -0.5 * Math.log(2 * Math.PI * v) - (x - m) ** 2 / (2 * v);

describe('guides/likelihood-and-fid examples', () => {
  it('bits/dim of 8-bit Gaussian images with the exact score equals the analytic density', async () => {
    // Data N(0.5, 0.2²) per value; under the VP SDE p_t = N(α 0.5, α² 0.04 + σ²) and the score is exact.
    const sde = new VPSDE();
    const mu = 0.5;
    const s2 = 0.04;
    const v = (t: number) => sde.alpha(t) ** 2 * s2 + sde.sigma(t) ** 2;
    const score = (x: tf.Tensor, t: tf.Tensor1D) =>
      tf.tidy(() => {
        const ts = Array.from(t.dataSync());
        const shape = [ts.length, 1, 1, 1];
        const mean = tf.tensor(
          ts.map((ti) => sde.alpha(ti) * mu),
          shape,
        );
        const variance = tf.tensor(ts.map(v), shape);
        return tf.div(tf.neg(tf.sub(x, mean)), variance);
      });
    const images = tf.tidy(() =>
      tf.div(
        tf.round(tf.mul(tf.clipByValue(tf.randomNormal([4, 4, 4, 1], mu, 0.2, 'float32', 3), 0, 1), 255)),
        255,
      ),
    );
    const seed = 11;
    const r = await bitsPerDimOf(sde, score, images, seed);
    // The same dequantized values (same seed), the analytic density at tMin = 1e-5, and the prior's mismatch at T
    // (the ODE starts from N(0, I), the true p_T is N(α(1) 0.5, v(1))), computed at the returned latent.
    const x = uniformDequantize(images, seed, { dataRange: [0, 1] });
    const xs = x.dataSync();
    const zs = r.latent.dataSync();
    const D = 16;
    for (let b = 0; b < 4; b++) {
      let analytic = 0;
      for (let i = b * D; i < (b + 1) * D; i++) {
        analytic += logNormal(xs[i]!, sde.alpha(1e-5) * mu, v(1e-5));
        analytic += logNormal(zs[i]!, 0, 1) - logNormal(zs[i]!, sde.alpha(1) * mu, v(1));
      }
      expect(Math.abs(r.logLikelihood[b]! - analytic)).toBeLessThan(3e-3);
      // 256 levels in [0, 1]: bpd = −log p / (D ln 2) + 8
      expect(r.bitsPerDim[b]).toBeCloseTo(-r.logLikelihood[b]! / (D * Math.LN2) + 8, 10);
    }
    expect(r.nfe).toBeGreaterThan(10);
    tf.dispose([images, x, r.latent]);
  });

  it('FID of two folders, the same against a saved .npz of one of them; zero against itself', async () => {
    const colour =
      (k: number): PixelFn =>
      (px, py) => [(k * 70 + 5 * px) % 256, (9 * py + 3 * px * k) % 256, (40 * k + px * py) % 256];
    for (const [name, offset] of [
      ['a', 0],
      ['b', 5],
    ] as const) {
      await mkdir(join(root, name));
      for (let k = 0; k < 3; k++)
        await writeFile(join(root, name, `${k}.png`), pngFile(32, 32, colour(k + offset)));
    }
    const a = join(root, 'a');
    const b = join(root, 'b');
    const statsA = join(root, 'a.npz');
    const ab = await fid(weights, a, b, statsA); // folder against folder; keeps a's statistics
    expect(ab).toBeGreaterThan(1e-3);
    // b against the saved .npz of a: the same distance (symmetric, and the statistics survive the file)
    expect(Math.abs((await fid(weights, b, statsA)) - ab) / ab).toBeLessThan(1e-6);
    // a set against its own statistics is at distance 0
    const own = readFidStatistics(new Uint8Array(await readFile(statsA)));
    expect(own.dim).toBe(2048);
    expect(frechetDistance(own, own)).toBeLessThan(1e-6);
  });

  it('the Fréchet distance of diagonal Gaussians is ‖μa − μb‖² + Σ (√a_i − √b_i)²', () => {
    const dim = 3;
    const diagonal = (values: number[]) => {
      const sigma = new Float64Array(dim * dim);
      values.forEach((v, i) => {
        sigma[i * dim + i] = v;
      });
      return sigma;
    };
    const a = { mu: Float64Array.from([0, 1, 2]), sigma: diagonal([1, 4, 9]), dim };
    const b = { mu: Float64Array.from([1, 1, 0]), sigma: diagonal([4, 1, 1]), dim };
    // (1 + 0 + 4) + ((1 − 2)² + (2 − 1)² + (3 − 1)²) = 5 + 6 = 11
    expect(frechetDistance(a, b)).toBeCloseTo(11, 9);
  });
});
