import { discreteMarginals, discreteSchedule, discreteTimesteps, linearBetas, VPSDE } from '@sbm/sde';
import { expectTensorsClose, useCpuBackend } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, it } from 'vitest';
import { ddimSample } from './ddim.js';
import { dpmSolverPlusPlusSample } from './dpm-solver-pp.js';
import { wrapModel } from './model-adapter.js';

beforeAll(useCpuBackend);

// Golden values from an independent float64 numpy implementation of the two full sampling loops
// (packages/samplers/reference/full-loop-golden.py, written from the papers and diffusers' scheduler
// conventions): same x_T, same fixed nonlinear noise predictor ε(x, t) = 0.5 tanh(x) + 1e-4 x t.
const xT = [1.2, -0.5, 0.3, 2.1, -1.7, 0.8, 0.05, -2.4];
const epsModel = (x: tf.Tensor, t: tf.Tensor) =>
  tf.tidy(() => tf.add(tf.mul(tf.tanh(x), 0.5), tf.mul(tf.mul(x, tf.reshape(t, [-1, 1])), 1e-4)));

describe('full sampling loops against numpy golden values', () => {
  it('DDIM (η = 0) on the DDPM linear schedule, 50 leading timesteps, final ᾱ = 1 (diffusers-style)', async () => {
    const marginals = discreteMarginals(discreteSchedule(linearBetas(1000)));
    const x = tf.tensor2d(xT, [4, 2]);
    const { samples } = await ddimSample({
      sde: marginals,
      model: wrapModel(epsModel, { sde: marginals, prediction: 'eps' }),
      xT: x,
      timesteps: discreteTimesteps(1000, 50, 'leading'),
    });
    const golden = [
      65.62896108051054, -13.831373779937996, 5.0732871498876815, 148.19538723949057, -110.78546811647342,
      33.14322639646547, 0.3252963278205947, -176.52774094745567,
    ];
    expectTensorsClose(samples, golden, { rtol: 1e-4, atol: 1e-4 });
    tf.dispose([x, samples]);
  });

  it('DPM-Solver++(2M) on the VP SDE, 10 log-SNR-uniform steps from T = 1 to 1e-3', async () => {
    const sde = new VPSDE();
    const x = tf.tensor2d(xT, [4, 2]);
    const { samples } = await dpmSolverPlusPlusSample({
      sde,
      model: wrapModel(epsModel, { sde, prediction: 'eps' }),
      xT: x,
      steps: 10,
      tMin: 1e-3,
    });
    const golden = [
      112.49446524186986, -25.81774015095868, 9.496596681679325, 244.38626240410906, -184.75735541620173,
      59.28499016927698, 0.3919061959165944, -289.5686074050364,
    ];
    expectTensorsClose(samples, golden, { rtol: 1e-4, atol: 1e-4 });
    tf.dispose([x, samples]);
  });
});
