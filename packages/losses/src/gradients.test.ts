import { discreteSchedule, geometricSigmas, linearBetas, SubVPSDE, VESDE, VPSDE } from '@sbm/sde';
import { createRng, useCpuBackend } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LossFn } from './batch.js';
import { denoisingScoreMatchingLoss } from './denoising-score-matching.js';
import { ddpmLoss, smldLoss } from './discrete-losses.js';
import { edmDenoiser, edmLoss } from './edm.js';
import { implicitScoreMatchingLoss } from './implicit-score-matching.js';
import type { DiffusionModel } from './model.js';
import { slicedScoreMatchingLoss } from './sliced-score-matching.js';
import { tinyMlp } from './test-helpers.js'; // also registers tfjs-core's gradients

beforeAll(useCpuBackend);

describe('gradient registration', () => {
  it("tfjs-core's gradients are registered into the engine the losses use", () => {
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.square(x), tf.sin(x))))(tf.tensor1d([0.3, -1.2]));
    const expected = [0.3, -1.2].map((v) => 2 * v * Math.sin(v) + v * v * Math.cos(v));
    const got = g.dataSync();
    for (const [i, e] of expected.entries()) expect(got[i]).toBeCloseTo(e, 5);
    g.dispose();
  });
});

describe('loss gradients agree with central differences on a tiny MLP', () => {
  const D = 2;
  // t enters through (t, log t) features; the level index of DDPM/SMLD is scaled to O(1).
  const mlp = tinyMlp(
    D,
    6,
    (t) => tf.tidy(() => tf.stack([tf.div(t, 100), tf.log1p(t)], 1)) as tf.Tensor2D,
    2,
    3,
  );
  const x = tf.tensor2d(Float32Array.from(createRng(1).normals(16 * D)), [16, D]);
  const labels = tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0], 'int32');
  afterAll(() => tf.dispose([x, labels, ...mlp.variables]));

  const as = (parameterization: DiffusionModel['parameterization']): DiffusionModel => ({
    predict: mlp.predict,
    parameterization,
  });

  const cases: [string, LossFn, DiffusionModel][] = [
    ['DSM σ², VP, ε', denoisingScoreMatchingLoss({ sde: new VPSDE(), tMin: 1e-3 }), as('eps')],
    [
      'DSM likelihood + IS, sub-VP, x0',
      denoisingScoreMatchingLoss({
        sde: new SubVPSDE(),
        weighting: 'likelihood',
        importanceSampling: true,
        tMin: 1e-2,
      }),
      as('x0'),
    ],
    [
      'DSM likelihood, VE, score, sum',
      denoisingScoreMatchingLoss({
        sde: new VESDE({ sigmaMax: 5 }),
        weighting: 'likelihood',
        reduction: 'sum',
      }),
      as('score'),
    ],
    ['DDPM, v', ddpmLoss({ schedule: discreteSchedule(linearBetas(100, 1e-3, 0.1)) }), as('v')],
    ['SMLD, score', smldLoss({ sigmas: geometricSigmas(5, 0.1, 2) }), as('score')],
    ['EDM, edmDenoiser', edmLoss({ sigmaData: 1 }), edmDenoiser(mlp.predict, { sigmaData: 1 })],
    ['SSM, Gaussian', slicedScoreMatchingLoss({ variant: 'ssm', numProjections: 2, t: 0.5 }), as('score')],
    ['SSM-VR, Rademacher', slicedScoreMatchingLoss({ projection: 'rademacher', t: 0.5 }), as('score')],
    ['exact ISM, ε via VP', implicitScoreMatchingLoss({ sde: new VPSDE(), t: 0.5 }), as('eps')],
  ];

  it.each(cases)('%s', (_name, loss, model) => {
    const seed = 17;
    const batch = { x, labels };
    const { value, grads } = tf.variableGrads(() => loss(model, batch, seed));
    const base = mlp.variables.map((v) => tf.clone(v));
    const rng = createRng(99);
    const h = 1e-2;
    for (let direction = 0; direction < 3; direction++) {
      // A random unit direction u in parameter space; compare ⟨∇L, u⟩ with (L(θ + h u) − L(θ − h u)) / 2h.
      const us = mlp.variables.map((v) =>
        tf.tensor(Float32Array.from(rng.normals(v.size)), v.shape, 'float32'),
      );
      const norm = Math.sqrt(us.reduce((acc, u) => acc + tf.sum(tf.square(u)).dataSync()[0]!, 0));
      let analytic = 0;
      mlp.variables.forEach((v, i) => {
        analytic += tf.tidy(() => tf.sum(tf.mul(grads[v.name]!, us[i]!)).dataSync()[0]! / norm);
      });
      const at = (step: number) => {
        for (const [i, v] of mlp.variables.entries()) {
          const moved = tf.tidy(() => tf.add(base[i]!, tf.mul(step / norm, us[i]!)));
          v.assign(moved);
          moved.dispose();
        }
        return tf.tidy(() => loss(model, batch, seed).dataSync()[0]!);
      };
      const numeric = (at(h) - at(-h)) / (2 * h);
      for (const [i, v] of mlp.variables.entries()) v.assign(base[i]!);
      // float32: the loss is accurate to ~1e-6 relative, so the difference quotient to ~1e-4; truncation O(h²).
      expect(
        Math.abs(numeric - analytic),
        `direction ${direction}: numeric ${numeric}, analytic ${analytic}`,
      ).toBeLessThan(2e-3 + 1e-2 * Math.abs(analytic));
      tf.dispose(us);
    }
    expect(Object.keys(grads).length).toBe(mlp.variables.length);
    tf.dispose([value, ...Object.values(grads), ...base]);
  });
});
