import { describe, expect, it } from 'vitest';
import { consumerTsconfig, useConsumerProject } from './pack-check.js';

// The packed @sbm/sde and @sbm/samplers, installed with npm next to only @tensorflow/tfjs, used as a user
// with an existing model would.
describe('@sbm/samplers as a packed npm package', () => {
  const project = useConsumerProject(['packages/sde', 'packages/samplers'], { '@tensorflow/tfjs': '4.22.0' });

  it('samples with a plain-JS model from ESM', () => {
    project.write(
      'consumer.mjs',
      `import * as tf from '@tensorflow/tfjs';
import { VPSDE } from '@sbm/sde';
import { wrapModel, ddimSample, dpmSolverPlusPlusSample, odeSample } from '@sbm/samplers';
await tf.setBackend('cpu');
const sde = new VPSDE();
// Data N(0, 4 I): the exact noise prediction is ε(x, t) = σ(t) x / (4 α(t)² + σ(t)²), here computed in tf from t.
const epsModel = (x, t) => tf.tidy(() => {
  const logA = tf.add(tf.mul(tf.square(t), -0.25 * 19.9), tf.mul(t, -0.05));
  const a2 = tf.exp(tf.mul(logA, 2));
  const s = tf.sqrt(tf.sub(1, a2));
  return tf.mul(x, tf.reshape(tf.div(s, tf.add(tf.mul(a2, 4), tf.sub(1, a2))), [-1, 1]));
});
const model = wrapModel(epsModel, { sde, prediction: 'eps' });
const before = tf.memory().numTensors;
const a = await dpmSolverPlusPlusSample({ sde, model, shape: [4000, 2], seed: 1 });
const b = await ddimSample({ sde, model, shape: [3, 2], seed: 1, steps: 20 });
const c = await odeSample({ sde, model, xT: tf.ones([1, 2]) });
const moments = tf.moments(a.samples);
const variance = moments.variance.dataSync()[0];
tf.dispose(moments);
const out = { nfe: a.nfe, variance, ddim: Array.from(b.samples.dataSync()), ode: Array.from(c.samples.dataSync()),
  backend: tf.getBackend() };
tf.dispose([a.samples, b.samples, c.samples]);
out.leaked = tf.memory().numTensors - before - 1; // the xT of odeSample above
console.log(JSON.stringify(out));
`,
    );
    const out = JSON.parse(project.node('consumer.mjs').trim().split('\n').pop()!);
    expect(out.backend).toBe('cpu');
    expect(out.nfe).toBe(25);
    // samples of N(0, 4 I): Monte-Carlo tolerance 4·√(2/8000)·4
    expect(Math.abs(out.variance - 4)).toBeLessThan(4 * Math.sqrt(2 / 8000) * 4);
    expect(out.ddim).toHaveLength(6);
    // the PF-ODE of Gaussian data scales x by the marginal std: from x_T = 1 it ends at std(tMin)/std(T),
    // std(t) = √(4 α(t)² + σ(t)²)
    const alpha = (t: number) => Math.exp(-0.25 * t * t * 19.9 - 0.05 * t);
    const scale = (t: number) => Math.sqrt(4 * alpha(t) ** 2 + 1 - alpha(t) ** 2);
    expect(out.ode[0]).toBeCloseTo(scale(1e-3) / scale(1), 3);
    expect(out.leaked).toBe(0);
  });

  it('type-checks from TypeScript (types resolve; misuse is a type error)', () => {
    project.write(
      'consumer.ts',
      `import * as tf from '@tensorflow/tfjs';
import { VESDE, type ScoreFn } from '@sbm/sde';
import { edmSample, pcSample, wrapModel, DDIMStepper, type SampleResult } from '@sbm/samplers';
const sde = new VESDE();
const score: ScoreFn = (x, t) => tf.div(tf.neg(x), tf.reshape(tf.square(t), [-1, 1]));
const adapter = wrapModel(score, { sde, prediction: 'score', timeInput: 'sigma' });
export async function run(): Promise<SampleResult[]> {
  const a = await pcSample({ sde, model: adapter, shape: [2, 2], predictor: 'reverseDiffusion', corrector: 'langevin' });
  const b = await edmSample({ sde, model: score, shape: [2, 2], steps: 18, sChurn: 10 });
  const stepper = new DDIMStepper({ sde, steps: 10, eta: 0 });
  const info = stepper.schedule()[0]!;
  const { prevSample } = stepper.step(a.samples, info, b.samples);
  prevSample.dispose();
  return [a, b];
}
`,
    );
    project.write('tsconfig.json', consumerTsconfig(['consumer.ts']));
    const good = project.tsc();
    expect(good.output).toBe('');
    expect(good.ok).toBe(true);

    project.write(
      'misuse.ts',
      `import { VPSDE } from '@sbm/sde';
import { pcSample } from '@sbm/samplers';
pcSample({ sde: new VPSDE(), model: (x: number) => x, predictor: 'rk4' });
`,
    );
    project.write('tsconfig.misuse.json', consumerTsconfig(['misuse.ts']));
    const bad = project.tsc('tsconfig.misuse.json');
    expect(bad.ok).toBe(false);
    expect(bad.output).toMatch(/misuse\.ts\(3,/);
  });
});
