import { describe, expect, it } from 'vitest';
import { consumerTsconfig, useConsumerProject } from './pack-check.js';

// The packed @sbm/guidance (with @sbm/sde and @sbm/samplers), installed with npm next to only @tensorflow/tfjs.
describe('@sbm/guidance as a packed npm package', () => {
  const project = useConsumerProject(['packages/sde', 'packages/samplers', 'packages/guidance'], {
    '@tensorflow/tfjs': '4.22.0',
  });

  it('guides a class-conditional function model through ddimSample from plain ESM JavaScript', () => {
    project.write(
      'consumer.mjs',
      `import * as tf from '@tensorflow/tfjs';
import { classifierFreeGuidance } from '@sbm/guidance';
import { ddimSample, wrapModel } from '@sbm/samplers';
import { VPSDE } from '@sbm/sde';
await tf.setBackend('cpu');
const sde = new VPSDE();
// Data N(y, 1) for class y and N(0, 1) for the null class 2: at time t the exact score is −(x − α(t) y),
// so guidance at w gives −(x − α(t) w y), the score of N(w y, 1): the samples' mean is w·y.
let calls = 0;
const model = wrapModel((x, t, labels) => {
  calls++;
  const alpha = sde.alpha(t.dataSync()[0]);
  const y = tf.cast(labels, 'float32').mul(tf.cast(labels.less(2), 'float32'));
  return tf.neg(tf.sub(x, tf.reshape(y, [-1, 1]).mul(alpha)));
}, { sde, prediction: 'score' });
const guided = classifierFreeGuidance(model, { scale: 2, numClasses: 2 });
const labels = tf.tensor1d(Array.from({ length: 400 }, () => 1), 'int32');
const { samples, nfe } = await ddimSample({ sde, model: guided, labels, shape: [400, 1], steps: 40, seed: 3 });
const mean = samples.mean().dataSync()[0];
console.log(JSON.stringify({ mean, nfe, calls }));
`,
    );
    const result = JSON.parse(project.node('consumer.mjs').trim().split('\n').pop()!);
    expect(result.calls).toBe(result.nfe);
    // w = 2, y = 1: N(2, 1); 400 samples give a standard error of 0.05, DDIM's 40 steps a small bias.
    expect(Math.abs(result.mean - 2)).toBeLessThan(0.25);
  });

  it('type-checks from TypeScript', () => {
    project.write(
      'consumer.ts',
      `import { type ClassifierFreeGuidanceOptions, classifierFreeGuidance, inpaintPC } from '@sbm/guidance';
const options: ClassifierFreeGuidanceOptions = { scale: 3, numClasses: 10 };
export { classifierFreeGuidance, inpaintPC, options };
`,
    );
    project.write('tsconfig.json', consumerTsconfig(['consumer.ts']));
    const good = project.tsc();
    expect(good.output).toBe('');
    expect(good.ok).toBe(true);
  });
});
