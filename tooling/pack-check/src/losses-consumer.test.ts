import { describe, expect, it } from 'vitest';
import { consumerTsconfig, useConsumerProject } from './pack-check.js';

// The packed @sbm/losses (with the packed @sbm/sde it depends on), installed with npm next to only
// @tensorflow/tfjs, which brings the gradients, and used for training as a user would.
describe('@sbm/losses as a packed npm package', () => {
  const project = useConsumerProject(['packages/sde', 'packages/losses'], { '@tensorflow/tfjs': '4.22.0' });

  it('trains inside optimizer.minimize from plain ESM JavaScript', () => {
    project.write(
      'consumer.mjs',
      `import * as tf from '@tensorflow/tfjs';
import { smldLoss, implicitScoreMatchingLoss } from '@sbm/losses';
await tf.setBackend('cpu');
const W = tf.variable(tf.zeros([2, 2]));
const model = { parameterization: 'score', predict: (x) => tf.matMul(x, W) };
const loss = smldLoss({ sigmas: [0.5] });
const optimizer = tf.train.adam(0.05);
for (let step = 0; step < 300; step++) {
  const x = tf.randomNormal([256, 2], 0, 1, 'float32', step);
  optimizer.minimize(() => loss(model, x, step), true)?.dispose();
  x.dispose();
}
const ism = implicitScoreMatchingLoss({ reduction: 'sum' })(model, tf.randomNormal([2000, 2], 0, 1, 'float32', 1));
console.log(JSON.stringify({ W: W.arraySync(), ism: ism.dataSync()[0], backend: tf.getBackend() }));
`,
    );
    const out = JSON.parse(project.node('consumer.mjs').trim().split('\n').pop()!);
    // Data N(0, I) perturbed with σ = 0.5 is N(0, 1.25 I), whose score is −x/1.25: W* = −0.8 I.
    expect(out.backend).toBe('cpu');
    expect(out.W[0][0]).toBeCloseTo(-0.8, 1);
    expect(out.W[1][1]).toBeCloseTo(-0.8, 1);
    expect(Math.abs(out.W[0][1])).toBeLessThan(0.05);
    // ISM at s = W x on N(0, I): tr W + ½ E‖W x‖² ≈ −1.6 + 0.64.
    expect(out.ism).toBeCloseTo(-0.96, 1);
  });

  it('type-checks from TypeScript (types resolve; misuse is a type error)', () => {
    project.write(
      'consumer.ts',
      `import * as tf from '@tensorflow/tfjs';
import { VPSDE } from '@sbm/sde';
import { type DiffusionModel, type LossFn, denoisingScoreMatchingLoss, edmDenoiser, edmLoss } from '@sbm/losses';
const model: DiffusionModel = { parameterization: 'v', predict: (x, t) => tf.mul(x, tf.reshape(t, [-1, 1])) };
const loss: LossFn = denoisingScoreMatchingLoss({ sde: new VPSDE(), weighting: 'likelihood', importanceSampling: true });
const value: tf.Scalar = loss(model, { x: tf.ones([2, 2]), labels: tf.tensor1d([0, 1], 'int32') }, 3);
const edm: tf.Scalar = edmLoss()(edmDenoiser((x) => x), tf.ones([2, 2]));
export { value, edm };
`,
    );
    project.write('tsconfig.json', consumerTsconfig(['consumer.ts']));
    const good = project.tsc();
    expect(good.output).toBe('');
    expect(good.ok).toBe(true);

    project.write(
      'misuse.ts',
      `import { VPSDE } from '@sbm/sde';
import { denoisingScoreMatchingLoss } from '@sbm/losses';
denoisingScoreMatchingLoss({ sde: new VPSDE(), weighting: 'uniform' });
denoisingScoreMatchingLoss({ weighting: 'sigma2' });
`,
    );
    project.write('tsconfig.misuse.json', consumerTsconfig(['misuse.ts']));
    const bad = project.tsc('tsconfig.misuse.json');
    expect(bad.ok).toBe(false);
    expect(bad.output).toMatch(/misuse\.ts\(3,.*TS2322/);
    expect(bad.output).toMatch(/misuse\.ts\(4,/);
  });
});
