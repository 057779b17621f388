// tfjs-core registers no gradients in Node; tfjs-layers does (and the U-Net is a layers model).
import '@tensorflow/tfjs-layers';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setupBackend } from '@sbm/backend';
import { wrapModel } from '@sbm/samplers';
import { VPSDE } from '@sbm/sde';
import { importScoreSdeCheckpoint, referenceOverrides, unetPreset } from '@sbm/unet';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { bitsPerDim, likelihoodOde } from './likelihood.js';

beforeAll(() => setupBackend({ prefer: 'wasm', importModule: (n) => import(n) }));

const here = dirname(fileURLToPath(import.meta.url));
/** The shared score_sde checkpoints beside the repository (`<repo>/../shared/fixtures/score-sde`). */
const checkpointDir = resolve(here, '../../../../shared/fixtures/score-sde');

/** What scripts/likelihood-reference.py recorded from score_sde's likelihood.py. */
interface Reference {
  checkpoint: string;
  config: string;
  overrides: Record<string, unknown>;
  sde: { beta_min: number; beta_max: number; N: number };
  rtol: number;
  atol: number;
  eps: number;
  offset: number;
  x_shape: [number, number, number, number];
  /** NCHW. */
  x: number[];
  /** NCHW, ±1. */
  probe: number[];
  z: number[];
  bpd: number[];
  delta_logp: number[];
  prior_logp: number[];
  nfe: number;
  steps: number;
  /** Evaluations of its ODE right-hand side along its trajectory: state `y` and `dy/dt` (NCHW, then Δlogp). */
  evaluations: { t: number; y: number[]; dy: number[] }[];
}

function readReference(name: string): Reference {
  return JSON.parse(
    readFileSync(resolve(here, `../test-fixtures/likelihood/${name}.json`), 'utf8'),
  ) as Reference;
}

/** NCHW values → an NHWC tensor. */
function nhwc(values: number[], shape: [number, number, number, number]): tf.Tensor4D {
  return tf.tidy(() => tf.transpose(tf.tensor4d(values, shape), [0, 2, 3, 1]));
}

/**
 * σ(t) of the VP SDE as score_sde computes it in float32 (`sqrt(1 − exp(2 (−¼ t² (β1 − β0) − ½ t β0)))`, every
 * operation rounded to float32): near t = 1e-5 the subtraction `1 − exp(…)` keeps only ~17 float32 steps, so its σ
 * is 0.6% above the exact one (and its score 0.6% smaller) there. The test reproduces that rounding so that it
 * compares the likelihood machinery, not the σ (with the exact σ the right-hand sides at t = 1e-5 differ by 0.6%).
 * (Math.fround of the float64 exp matches torch's float32 exp to 2e-5 relative over t ∈ [1e-5, 1].)
 */
function float32Sigma(betaMin: number, betaMax: number): (t: number) => number {
  const f = Math.fround;
  return (t) => {
    const t32 = f(t);
    const logMean = f(f(f(-0.25 * f(t32 * t32)) * f(betaMax - betaMin)) - f(f(0.5 * t32) * f(betaMin)));
    return f(Math.sqrt(f(1 - f(Math.exp(f(2 * logMean))))));
  };
}

// score_sde's likelihood.py (imported unmodified by scripts/likelihood-reference.py) on the shared checkpoints
// (EMA weights), evaluated at 4×4 with attention at 2 (the level of the 16×16 networks' attention at 8): same
// weights, 1/16 of the dimensions, with a stored Rademacher probe, tMin = 1e-5, rtol = atol = 1e-2.
//
// These random-weight networks make the probability-flow ODE chaotic: in score_sde itself, scaling x by 1 ± 1e-6
// moved Δlogp of ddpm_small from −212 to −237 and −181 nats (rtol 1e-2; similar at rtol 1e-3 and 1e-4 and at
// tMin up to 5e-2), and ddpmpp_small by a few nats. A whole solve can therefore not be compared to better than that, so the comparison is split
// where it can be exact: (1) the right-hand side of the augmented ODE — drift and Hutchinson divergence, the
// only model-dependent part — at states score_sde's solver visited, from t = 1e-5 to T; (2) the RK45 driver,
// step for step against scipy (rk45.test.ts); (3) the closing arithmetic (prior log-density and bits/dim) on
// score_sde's own latent and Δlogp.
describe.each(['ddpmpp_small', 'ddpm_small'])('score_sde likelihood.py on %s', (name) => {
  let ref: Reference;
  beforeAll(() => {
    ref = readReference(name);
  });

  it('the augmented ODE right-hand side matches at the states its solver visited', async () => {
    const config = unetPreset(ref.config, referenceOverrides(ref.overrides));
    const pth = new Uint8Array(readFileSync(resolve(checkpointDir, `${name}.pth`)));
    const net = importScoreSdeCheckpoint(pth, config, { weights: 'ema' });
    const sde = new VPSDE({ betaMin: ref.sde.beta_min, betaMax: ref.sde.beta_max, N: ref.sde.N });
    // score_sde's continuous VP score, s = −model(x, 999 t) / σ(t), with its float32 σ.
    const marginals = {
      T: sde.T,
      alpha: (t: number) => sde.alpha(t),
      sigma: float32Sigma(sde.betaMin, sde.betaMax),
    };
    const model = wrapModel((x: tf.Tensor, t: tf.Tensor) => net.predict(x as tf.Tensor4D, t as tf.Tensor1D), {
      sde: marginals,
      prediction: 'eps',
      timeInput: 'index',
      numTrainSteps: 1000,
    });
    const [B, C, H, W] = ref.x_shape;
    const n = B * C * H * W;
    const probe = nhwc(ref.probe, ref.x_shape);
    const rhs = likelihoodOde({
      sde,
      scoreFn: model.toScoreFn(),
      shape: [B, H, W, C],
      estimator: { probe },
      tMin: ref.eps,
    });
    // NCHW flat index of NHWC flat index i.
    const nchwIndex = (i: number): number => {
      const c = i % C;
      const w = Math.floor(i / C) % W;
      const h = Math.floor(i / (C * W)) % H;
      const b = Math.floor(i / (C * W * H));
      return ((b * C + c) * H + h) * W + w;
    };
    for (const { t, y, dy } of ref.evaluations) {
      const state = new Float64Array(n + B);
      for (let i = 0; i < n; i++) state[i] = y[nchwIndex(i)]!;
      for (let b = 0; b < B; b++) state[n + b] = y[n + b]!;
      const ours = await rhs(t, state);
      let scale = 0;
      let error = 0;
      for (let i = 0; i < n; i++) {
        scale = Math.max(scale, Math.abs(dy[nchwIndex(i)]!));
        error = Math.max(error, Math.abs(ours[i]! - dy[nchwIndex(i)]!));
      }
      // Both evaluate the same float32 network (and its gradient): ~1e-5 of the drift's scale apart.
      expect(error / scale, `drift at t = ${t}`).toBeLessThan(1e-4);
      for (let b = 0; b < B; b++) {
        const d = dy[n + b]!;
        // The divergence term sums D = 48 products of a float32 gradient: 1e-4 of its size, plus 1e-3 near zero.
        expect(
          Math.abs(ours[n + b]! - d),
          `dΔlogp/dt[${b}] at t = ${t}: ${ours[n + b]} vs ${d}`,
        ).toBeLessThan(1e-4 * Math.abs(d) + 1e-3);
      }
    }
    probe.dispose();
    net.dispose();
  });

  it('prior log-density and bits/dim of its latent and Δlogp', () => {
    const [B, C, H, W] = ref.x_shape;
    const D = C * H * W;
    const sde = new VPSDE({ betaMin: ref.sde.beta_min, betaMax: ref.sde.beta_max, N: ref.sde.N });
    const z = nhwc(ref.z, ref.x_shape);
    const prior = sde.priorLogp(z);
    const priorValues = prior.dataSync();
    for (let b = 0; b < B; b++) expect(Math.abs(priorValues[b]! - ref.prior_logp[b]!)).toBeLessThan(1e-3);
    // score_sde: offset = 7 − inverse_scaler(−1) = 7 for centered data, i.e. data in [−1, 1].
    expect(ref.offset).toBe(7);
    const bpd = bitsPerDim(
      ref.prior_logp.map((p, b) => p + ref.delta_logp[b]!),
      D,
      { dataRange: [-1, 1] },
    );
    // score_sde's bpd is float32 (~16, ulp 1e-6).
    for (let b = 0; b < B; b++) expect(Math.abs(bpd[b]! - ref.bpd[b]!)).toBeLessThan(1e-5);
    tf.dispose([z, prior]);
  });
});
