import { type SDE, SubVPSDE, timeSteps, VESDE, VPSDE } from '@sbm/sde';
import {
  createRng,
  energyDistance,
  GaussianMixture,
  type LinearSdeSpec,
  type Rng,
  sampleMean,
} from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';

/** The demo's data: three isotropic Gaussian components in 2-D, with exact scores at every t. */
export const demoMixture = GaussianMixture.isotropic(
  [0.2, 0.5, 0.3],
  [
    [-2, -1.5],
    [1.5, -1],
    [0, 2],
  ],
  [0.35, 0.5, 0.3],
);

/** Options of {@link runSdeDemo}. */
export interface SdeDemoOptions {
  /** Samples per sampler (default 2000). */
  samples?: number;
  /** Reverse-diffusion steps = the SDEs' discretization N (default 1000). */
  steps?: number;
  /** Euler steps for the probability-flow ODE (default 500). */
  odeSteps?: number;
  seed?: number;
}

/** One sampler's outcome. */
export interface SdeDemoResult {
  sde: string;
  sampler: 'reverse diffusion' | 'probability-flow ODE (Euler)';
  /** Interleaved 2-D samples. */
  samples: Float32Array;
  /** Energy distance to an independent sample of the true mixture (0 for a perfect sampler). */
  energy: number;
  mean: number[];
  seconds: number;
}

function noise(rng: Rng, n: number, scale = 1): tf.Tensor2D {
  const z = rng.normals(2 * n);
  return tf.tensor2d(
    Float32Array.from(z, (v) => v * scale),
    [n, 2],
  );
}

/** Reverse-diffusion predictor (Song et al. 2021, Eq. 47) with the exact score: x ← x − f_rev + G z. */
function reverseDiffusion(sde: SDE, spec: LinearSdeSpec, n: number, rng: Rng): Float32Array {
  const reverse = sde.reverse(demoMixture.scoreFn(spec));
  const tMin = spec.kind === 've' ? 1e-5 : 1e-3;
  let x: tf.Tensor = noise(rng, n, sde.priorStd);
  for (const t of timeSteps(sde.N - 1, { tMin })) {
    const next = tf.tidy(() => {
      const { f, G } = reverse.discretize(x, t);
      return tf.add(tf.sub(x, f), tf.mul(tf.reshape(G, [n, 1]), noise(rng, n)));
    });
    x.dispose();
    x = next;
  }
  const out = x.dataSync() as Float32Array;
  x.dispose();
  return out;
}

/** Euler steps of the probability-flow ODE (Song et al. 2021, Eq. 13) with the exact score. */
function probabilityFlow(sde: SDE, spec: LinearSdeSpec, n: number, steps: number, rng: Rng): Float32Array {
  const ode = sde.reverse(demoMixture.scoreFn(spec), { probabilityFlow: true });
  const grid = timeSteps(steps, { tMin: spec.kind === 've' ? 1e-5 : 1e-3 });
  let x: tf.Tensor = noise(rng, n, sde.priorStd);
  for (let i = 0; i < steps; i++) {
    const dt = grid[i + 1]! - grid[i]!;
    const next = tf.tidy(() => tf.add(x, tf.mul(ode.sde(x, grid[i]!).drift, dt)));
    x.dispose();
    x = next;
  }
  const out = x.dataSync() as Float32Array;
  x.dispose();
  return out;
}

/**
 * Samples the demo mixture by reversing the VP, sub-VP and VE SDEs from their priors with the exact
 * score, by the reverse-diffusion predictor and by the probability-flow ODE, and scores each result by
 * its energy distance to a fresh sample of the mixture. Also returns that reference sample.
 */
export function runSdeDemo(options: SdeDemoOptions = {}): { truth: Float32Array; results: SdeDemoResult[] } {
  const n = options.samples ?? 2000;
  const odeSteps = options.odeSteps ?? 500;
  const rng = createRng(options.seed ?? 0);
  const truth = Float32Array.from(demoMixture.sample(n, rng).x);
  const N = options.steps ?? 1000;
  const sdes: [string, SDE, LinearSdeSpec][] = [
    ['VP', new VPSDE({ N }), { kind: 'vp', betaMin: 0.1, betaMax: 20 }],
    ['sub-VP', new SubVPSDE({ N }), { kind: 'subvp', betaMin: 0.1, betaMax: 20 }],
    ['VE', new VESDE({ N }), { kind: 've', sigmaMin: 0.01, sigmaMax: 50 }],
  ];
  const results: SdeDemoResult[] = [];
  for (const [name, sde, spec] of sdes) {
    for (const sampler of ['reverse diffusion', 'probability-flow ODE (Euler)'] as const) {
      const start = performance.now();
      const samples =
        sampler === 'reverse diffusion'
          ? reverseDiffusion(sde, spec, n, rng)
          : probabilityFlow(sde, spec, n, odeSteps, rng);
      results.push({
        sde: name,
        sampler,
        samples,
        energy: energyDistance(samples, truth, n, n, 2),
        mean: sampleMean(samples, n, 2),
        seconds: (performance.now() - start) / 1000,
      });
    }
  }
  return { truth, results };
}
