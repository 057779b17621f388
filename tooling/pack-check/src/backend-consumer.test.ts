import { describe, expect, it } from 'vitest';
import { consumerTsconfig, useConsumerProject } from './pack-check.js';

// The packed @sbm/backend (with @sbm/sde), installed with npm next to @tensorflow/tfjs and
// @tensorflow/tfjs-backend-wasm, used as a user would from plain ESM: threaded wasm in Node.
describe('@sbm/backend as a packed npm package', () => {
  const project = useConsumerProject(['packages/sde', 'packages/backend'], {
    '@tensorflow/tfjs': '4.22.0',
    '@tensorflow/tfjs-backend-wasm': '4.22.0',
  });

  it('starts the threaded wasm build, computes a correct convolution gradient and lets the process exit', () => {
    project.write(
      'consumer.mjs',
      `import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { setupBackend } from '@sbm/backend';
const report = await setupBackend({ prefer: 'wasm', threads: 2 });
// d/dw of sum(conv2d(x, w)) for a 3×3 'same' convolution of x = 1 on an 8×8 image: the number of
// output pixels each filter tap sees, (8 − |kh − 1|)·(8 − |kw − 1|), per example.
const x = tf.ones([4, 8, 8, 2]);
const w = tf.randomNormal([3, 3, 2, 3]);
const dw = tf.grad((w) => tf.sum(tf.conv2d(x, w, 1, 'same')))(w);
let err = 0;
const v = dw.arraySync();
for (let kh = 0; kh < 3; kh++) for (let kw = 0; kw < 3; kw++) for (let ci = 0; ci < 2; ci++) for (let co = 0; co < 3; co++)
  err = Math.max(err, Math.abs(v[kh][kw][ci][co] - 4 * (8 - Math.abs(kh - 1)) * (8 - Math.abs(kw - 1))));
console.log(JSON.stringify({ backend: tf.getBackend(), threads: report.threads, err }));
// No process.exit: the process must end by itself (the pthread workers must not keep it alive).
`,
    );
    const started = Date.now();
    const out = JSON.parse(project.node('consumer.mjs').trim().split('\n').pop()!);
    expect(out).toEqual({ backend: 'wasm', threads: 2, err: 0 });
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it('type-checks from TypeScript', () => {
    project.write(
      'consumer.ts',
      `import { type BackendReport, setupBackend } from '@sbm/backend';
const report: BackendReport = await setupBackend({ prefer: 'auto', threads: 2 });
const threads: number | undefined = report.threads;
// @ts-expect-error threads is a number
await setupBackend({ threads: 'two' });
export { threads };
`,
    );
    project.write('tsconfig.json', consumerTsconfig(['consumer.ts']));
    const { ok, output } = project.tsc();
    expect(output).toBe('');
    expect(ok).toBe(true);
  });
});
