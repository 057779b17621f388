import '@tensorflow/tfjs'; // registers the gradients (tfjs-core alone registers none in Node)
import {
  ddpmLoss,
  denoisingScoreMatchingLoss,
  edmDenoiser,
  edmLoss,
  implicitScoreMatchingLoss,
  type LossFn,
  type ModelFn,
  slicedScoreMatchingLoss,
} from '@sbm/losses';
import { VPSDE } from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';
import { markdownTable, time } from './timing.js';

/** A dense tanh MLP `[x, t] → D` with two hidden layers of `hidden` units. */
function mlp(dim: number, hidden: number): { predict: ModelFn; variables: tf.Variable[] } {
  const w = (rows: number, cols: number, seed: number) =>
    tf.variable(tf.mul(tf.randomNormal([rows, cols], 0, 1, 'float32', seed), 1 / Math.sqrt(rows)));
  const variables = [w(dim + 1, hidden, 1), w(hidden, hidden, 2), w(hidden, dim, 3)];
  const [w1, w2, w3] = variables as [tf.Variable, tf.Variable, tf.Variable];
  const predict: ModelFn = (x, t) =>
    tf.tidy(() => {
      const input = tf.concat([x as tf.Tensor2D, tf.reshape(t, [-1, 1]) as tf.Tensor2D], 1);
      return tf.matMul(tf.tanh(tf.matMul(tf.tanh(tf.matMul(input, w1)), w2)), w3);
    });
  return { predict, variables };
}

/**
 * Cost of one loss evaluation and of one loss + gradient evaluation (`tf.variableGrads`, what
 * `optimizer.minimize` does) for each objective, on a dense MLP and a batch of 256: the denoising
 * losses call the model once; sliced SM calls it on 4·M·B + B rows, exact ISM on 4·D·B + B rows.
 */
export async function lossesBench(): Promise<string> {
  const B = 256;
  const rows: (string | number)[][] = [];
  for (const dim of [2, 16]) {
    const net = mlp(dim, 64);
    const eps = { predict: net.predict, parameterization: 'eps' } as const;
    const score = { predict: net.predict, parameterization: 'score' } as const;
    const x = tf.randomNormal([B, dim], 0, 1, 'float32', 7);
    const cases: [string, LossFn, Parameters<LossFn>[0]][] = [
      ['DSM (VP, σ²), ε-model', denoisingScoreMatchingLoss({ sde: new VPSDE() }), eps],
      [
        'DSM (VP, likelihood + IS), ε-model',
        denoisingScoreMatchingLoss({ sde: new VPSDE(), weighting: 'likelihood', importanceSampling: true }),
        eps,
      ],
      ['DDPM ε', ddpmLoss(), eps],
      ['EDM (edmDenoiser)', edmLoss(), edmDenoiser(net.predict)],
      ['SSM-VR, M = 1', slicedScoreMatchingLoss(), score],
      ['SSM, M = 4', slicedScoreMatchingLoss({ variant: 'ssm', numProjections: 4 }), score],
      ['exact ISM', implicitScoreMatchingLoss(), score],
    ];
    for (const [name, loss, model] of cases) {
      const value = await time(() => tf.dispose(loss(model, x, 1)), 10, 2);
      const grads = await time(
        () => {
          const { value: v, grads: g } = tf.variableGrads(() => loss(model, x, 1), net.variables);
          tf.dispose([v, ...Object.values(g)]);
        },
        10,
        2,
      );
      rows.push([`D = ${dim}`, name, value.medianMs.toFixed(2), grads.medianMs.toFixed(2)]);
    }
    tf.dispose([x, ...net.variables]);
  }
  return [
    `Dense tanh MLP (64-64 hidden) on x [${B}, D]; backend ${tf.getBackend()}; median of 10 runs after 2 warm-ups.`,
    '',
    markdownTable(['data', 'loss', 'value ms', 'value + gradients ms'], rows),
  ].join('\n');
}
