import { describe, expect, it } from 'vitest';
import { consumerTsconfig, useConsumerProject } from './pack-check.js';

// The packed @sbm/sde, installed with npm next to only @tensorflow/tfjs, used as a user would.
describe('@sbm/sde as a packed npm package', () => {
  const project = useConsumerProject(['packages/sde'], { '@tensorflow/tfjs': '4.22.0' });

  it('works from plain ESM JavaScript', () => {
    project.write(
      'consumer.mjs',
      `import * as tf from '@tensorflow/tfjs';
import { VPSDE, VESDE, karrasSigmas } from '@sbm/sde';
await tf.setBackend('cpu');
const sde = new VPSDE();
const x0 = tf.tensor2d([[1, 2]]);
const { mean, std } = sde.marginalProb(x0, 0.5);
const ve = new VESDE();
const logp = ve.priorLogp(tf.zeros([1, 3]));
console.log(JSON.stringify({ mean: Array.from(mean.dataSync()), std: Array.from(std.dataSync()),
  logp: logp.dataSync()[0], karras: karrasSigmas(3, 0.002, 80), backend: tf.getBackend() }));
`,
    );
    const out = JSON.parse(project.node('consumer.mjs').trim().split('\n').pop()!);
    // Closed forms: α(0.5) = exp(−¼·0.25·19.9 − ½·0.5·0.1), σ = √(1 − α²); VE prior log N(0; 0, 50²) in 3-D.
    const alpha = Math.exp(-0.25 * 0.25 * 19.9 - 0.25 * 0.1);
    expect(out.backend).toBe('cpu');
    expect(out.mean[0]).toBeCloseTo(alpha, 6);
    expect(out.mean[1]).toBeCloseTo(2 * alpha, 6);
    expect(out.std[0]).toBeCloseTo(Math.sqrt(1 - alpha * alpha), 6);
    expect(out.logp).toBeCloseTo(-1.5 * Math.log(2 * Math.PI * 2500), 4);
    expect(out.karras).toHaveLength(4);
  });

  it('type-checks from TypeScript (types resolve; misuse is a type error)', () => {
    project.write(
      'consumer.ts',
      `import * as tf from '@tensorflow/tfjs';
import { type ScoreFn, type SDE, SubVPSDE, convertPrediction } from '@sbm/sde';
const sde: SDE = new SubVPSDE({ betaMin: 0.1, betaMax: 20, N: 1000 });
const score: ScoreFn = (x, t) => tf.neg(tf.mul(x, tf.reshape(t, [-1, 1])));
const x = tf.ones([2, 2]);
const drift: tf.Tensor = sde.reverse(score, { probabilityFlow: true }).sde(x, 0.5).drift;
const eps: tf.Tensor = convertPrediction({ sde, x, t: [0.1, 0.2], value: drift, from: 'score', to: 'eps' });
export { eps };
`,
    );
    project.write('tsconfig.json', consumerTsconfig(['consumer.ts']));
    const good = project.tsc();
    expect(good.output).toBe('');
    expect(good.ok).toBe(true);

    project.write(
      'misuse.ts',
      `import { VPSDE, convertPrediction } from '@sbm/sde';
new VPSDE({ betaMin: 'small' });
convertPrediction({ from: 'noise' });
`,
    );
    project.write('tsconfig.misuse.json', consumerTsconfig(['misuse.ts']));
    const bad = project.tsc('tsconfig.misuse.json');
    expect(bad.ok).toBe(false);
    expect(bad.output).toMatch(/misuse\.ts\(2,.*TS2322/);
    expect(bad.output).toMatch(/misuse\.ts\(3,/);
  });
});
