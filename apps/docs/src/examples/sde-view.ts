// Examples of the guide "The SDE view" (guides/sde-view.md). Run by sde-view.test.ts.
import { expandToRank, type ScoreFn, type SDE, SubVPSDE, VESDE, VPSDE } from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';

// #region constructors
/**
 * The three SDEs of Song et al. (2021) with the CIFAR-10 constants of their
 * paper (also the defaults).
 */
export function paperSdes(): { vp: VPSDE; subvp: SubVPSDE; ve: VESDE } {
  const vp = new VPSDE({ betaMin: 0.1, betaMax: 20, N: 1000 }); // Eq. 11, the continuous DDPM
  const subvp = new SubVPSDE({ betaMin: 0.1, betaMax: 20, N: 1000 }); // Eq. 12
  const ve = new VESDE({ sigmaMin: 0.01, sigmaMax: 50, N: 1000 }); // Eq. 9, the continuous SMLD/NCSN
  return { vp, subvp, ve };
}
// #endregion constructors

// #region forward
/**
 * What every forward SDE gives for a batch `x0 [B, ...]` at one time `t`:
 * the drift `f(t) x` and diffusion `g(t)` of `dx = f(t) x dt + g(t) dw`,
 * the perturbation kernel's mean `α(t) x_0` and std `σ(t)`, and one draw
 * `x_t = α(t) x_0 + σ(t) z` of it.
 */
export function forwardQuantities(sde: SDE, x0: tf.Tensor, t: number, seed: number) {
  const { drift, diffusion } = sde.sde(x0, t); // drift [B, ...], diffusion [B]
  const { mean, std } = sde.marginalProb(x0, t); // mean [B, ...], std [B]
  const z = tf.randomNormal(x0.shape, 0, 1, 'float32', seed);
  const xt = sde.perturb(x0, t, z); // [B, ...]
  z.dispose();
  return { drift, diffusion, mean, std, xt };
}
// #endregion forward

// #region reverse-sde
/**
 * Samples by integrating the reverse-time SDE `dx = [f(x, t) − g(t)² ∇log
 * p_t(x)] dt + g(t) dw̄` from the prior at `T` down to `tMin` with
 * Euler–Maruyama (`dt < 0`). `score` gives `∇log p_t(x)`; returns
 * `[...shape]`.
 */
export function sampleReverseSde(
  sde: SDE,
  score: ScoreFn,
  shape: number[],
  steps: number,
  seed: number,
  tMin = 1e-3,
): tf.Tensor {
  const reverse = sde.reverse(score); // drift f − g² s, diffusion g
  const dt = (tMin - sde.T) / steps;
  let x = sde.priorSampling(shape, seed);
  for (let i = 0; i < steps; i++) {
    const t = sde.T + i * dt;
    const next = tf.tidy(() => {
      const { drift, diffusion } = reverse.sde(x, t);
      const z = tf.randomNormal(shape, 0, 1, 'float32', seed + 1 + i);
      const noise = tf.mul(expandToRank(diffusion, x.rank), tf.mul(z, Math.sqrt(-dt)));
      return tf.add(tf.add(x, tf.mul(drift, dt)), noise);
    });
    x.dispose();
    x = next;
  }
  return x;
}
// #endregion reverse-sde

// #region pf-ode
/**
 * Integrates the probability-flow ODE `dx/dt = f(x, t) − ½ g(t)² ∇log
 * p_t(x)` from the latent `xT` at `T` down to `tMin` with Euler steps.
 * Deterministic: the same latent gives the same sample. `xT [B, ...]` is
 * not disposed.
 */
export function solveProbabilityFlow(
  sde: SDE,
  score: ScoreFn,
  xT: tf.Tensor,
  steps: number,
  tMin = 1e-3,
): tf.Tensor {
  const ode = sde.reverse(score, { probabilityFlow: true }); // drift f − ½ g² s, diffusion 0
  const dt = (tMin - sde.T) / steps;
  let x = tf.clone(xT);
  for (let i = 0; i < steps; i++) {
    const t = sde.T + i * dt;
    const next = tf.tidy(() => tf.add(x, tf.mul(ode.sde(x, t).drift, dt)));
    x.dispose();
    x = next;
  }
  return x;
}
// #endregion pf-ode
