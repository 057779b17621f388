import { describe, expect, it } from 'vitest';
import { consumerTsconfig, useConsumerProject } from './pack-check.js';

// The packed @sbm/metrics (with @sbm/sde, @sbm/pth, @sbm/samplers, @sbm/backend), installed with npm next to only
// @tensorflow/tfjs, used as a user would: the library from plain ESM JavaScript and the sbm-metrics bin.
describe('@sbm/metrics as a packed npm package', () => {
  const project = useConsumerProject(
    ['packages/sde', 'packages/pth', 'packages/samplers', 'packages/backend', 'packages/metrics'],
    { '@tensorflow/tfjs': '4.22.0' },
  );

  it('computes a likelihood and FID statistics from ESM, and the bin reads the .npz files it wrote', () => {
    project.write(
      'consumer.mjs',
      `import * as tf from '@tensorflow/tfjs';
import { writeFileSync } from 'node:fs';
import { FeatureStatistics, frechetDistance, likelihood, writeFidStatistics } from '@sbm/metrics';
import { openImageSource } from '@sbm/metrics/node';
import { VPSDE } from '@sbm/sde';
await tf.setBackend('cpu');
// Data N(0, I) under the VP SDE stays N(0, I) at every t (α² + σ² = 1): the score is −x and log p(x) = log N(x; 0, I).
const sde = new VPSDE();
const x = tf.tensor2d([[0.3, -1.2], [2.0, 0.5]]);
const r = await likelihood({ sde, model: (v) => tf.neg(v), x, divergence: 'exact' });
const exact = x.arraySync().map((row) => row.reduce((s, v) => s - 0.5 * v * v - 0.5 * Math.log(2 * Math.PI), 0));
r.latent.dispose();
const stats = (shift) => {
  const s = new FeatureStatistics(3);
  const rows = tf.tidy(() => tf.add(tf.randomNormal([50, 3], 0, 1, 'float32', 7), shift).dataSync());
  return s.add(rows, 50).toFidStatistics();
};
const [a, b] = [stats(0), stats(1)];
writeFileSync('a.npz', writeFidStatistics(a));
writeFileSync('b.npz', writeFidStatistics(b));
console.log(JSON.stringify({
  logLikelihood: Array.from(r.logLikelihood), exact, nfe: r.nfe, fid: frechetDistance(a, b),
  openImageSource: typeof openImageSource,
}));
`,
    );
    const result = JSON.parse(project.node('consumer.mjs').trim().split('\n').pop()!);
    for (let i = 0; i < 2; i++)
      expect(Math.abs(result.logLikelihood[i] - result.exact[i])).toBeLessThan(1e-3);
    expect(result.nfe).toBeGreaterThan(0);
    expect(result.openImageSource).toBe('function');
    const out = project.run(`${project.dir}/node_modules/.bin/sbm-metrics`, [
      'fid',
      'a.npz',
      'b.npz',
      '--jsonl',
    ]);
    const event = JSON.parse(out.trim().split('\n').pop()!);
    expect(event.event).toBe('fid');
    expect(Math.abs(event.fid - result.fid)).toBeLessThan(1e-9 * result.fid);
    expect(project.run(`${project.dir}/node_modules/.bin/sbm-metrics`, ['--help'])).toContain(
      'Usage: sbm-metrics',
    );
  });

  it('type-checks from TypeScript', () => {
    project.write(
      'consumer.ts',
      `import { type FidStatistics, frechetDistance, type LikelihoodResult, loadFidInception } from '@sbm/metrics';
import { type ImageSource, openImageSource } from '@sbm/metrics/node';
const s: FidStatistics = { mu: new Float64Array(2), sigma: new Float64Array(4), dim: 2 };
const d: number = frechetDistance(s, s);
const load: typeof loadFidInception = loadFidInception;
const open: (path: string) => Promise<ImageSource> = openImageSource;
let r: LikelihoodResult | undefined;
export { d, load, open, r };
`,
    );
    project.write('tsconfig.json', consumerTsconfig(['consumer.ts']));
    const good = project.tsc();
    expect(good.output).toBe('');
    expect(good.ok).toBe(true);
  });
});
