import { SubVPSDE, VESDE, VPSDE } from '@sbm/sde';
import * as tf from '@tensorflow/tfjs-core';
import { markdownTable, time } from './timing.js';

/**
 * Cost of the @sbm/sde tensor methods on an image-sized batch against the bare tf arithmetic they
 * wrap (the difference is input checking and the float64 per-example coefficients).
 */
export async function sdeBench(): Promise<string> {
  const shape = [64, 32, 32, 3];
  const x = tf.randomNormal(shape, 0, 1, 'float32', 1);
  const t = tf.randomUniform([64], 0.01, 1, 'float32', 2) as tf.Tensor1D;
  const score = (xx: tf.Tensor) => tf.neg(xx);
  const rows: (string | number)[][] = [];
  const add = async (name: string, fn: () => tf.TensorContainer) => {
    const r = await time(() => tf.dispose(fn()));
    rows.push([name, r.medianMs.toFixed(2), r.minMs.toFixed(2), r.maxMs.toFixed(2)]);
  };
  const baseline = () => tf.tidy(() => tf.mul(tf.reshape(tf.mul(t, -5), [64, 1, 1, 1]), x));
  await add('bare tf: per-example scale of x', baseline);
  for (const [name, sde] of [
    ['VP', new VPSDE()],
    ['sub-VP', new SubVPSDE()],
    ['VE', new VESDE()],
  ] as const) {
    await add(`${name} sde(x, t)`, () => sde.sde(x, t));
    await add(`${name} marginalProb(x, t)`, () => sde.marginalProb(x, t));
    await add(`${name} perturb(x, t, z)`, () => sde.perturb(x, t, x));
    await add(`${name} reverse(score).discretize(x, t)`, () => sde.reverse(score).discretize(x, t));
  }
  tf.dispose([x, t]);
  return [
    `Batch x [${shape.join(',')}], t [64]; backend ${tf.getBackend()}; median of 20 runs after 3 warm-ups.`,
    '',
    markdownTable(['operation', 'median ms', 'min ms', 'max ms'], rows),
  ].join('\n');
}
