import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { consumerTsconfig, repoRoot, useConsumerProject } from './pack-check.js';

// The shared score-sde fixtures live beside the repository (<repoRoot>/../shared).
const fixtureDir = resolve(repoRoot, '..', 'shared', 'fixtures', 'score-sde');

// The packed @sbm/unet (with @sbm/sde and @sbm/pth), installed with npm next to only @tensorflow/tfjs, used as a user would:
// ESM import of both entry points, the sbm-unet-convert bin, save/load through the file-system handler.
describe('@sbm/unet as a packed npm package', () => {
  beforeAll(() => {
    if (!existsSync(join(fixtureDir, 'ddpm_small.pth'))) {
      throw new Error(`score-sde fixtures not found in ${fixtureDir}`);
    }
  });
  const project = useConsumerProject(['packages/sde', 'packages/pth', 'packages/unet'], {
    '@tensorflow/tfjs': '4.22.0',
  });

  it('converts a checkpoint with the bin and runs the result from plain ESM JavaScript', () => {
    const fixture = JSON.parse(readFileSync(join(fixtureDir, 'ddpm_small.json'), 'utf8')) as {
      overrides: Record<string, unknown>;
      x: number[];
      x_shape: number[];
      time_cond: number[];
      out_ema: number[];
    };
    const bin = join(project.dir, 'node_modules', '.bin', 'sbm-unet-convert');
    const converted = project.run(bin, [
      join(fixtureDir, 'ddpm_small.pth'),
      'converted',
      '--preset',
      'vp/ddpm/cifar10_continuous',
      '--overrides',
      JSON.stringify(fixture.overrides),
    ]);
    expect(converted).toMatch(/685731 parameters, ema weights/);
    project.write('fixture.json', JSON.stringify(fixture));
    project.write(
      'consumer.mjs',
      `import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { createUNet, loadUNet, unetPreset } from '@sbm/unet';
import { fileSystemIO } from '@sbm/unet/node';
await tf.setBackend('cpu');
const f = JSON.parse(readFileSync('fixture.json', 'utf8'));
const net = await loadUNet(fileSystemIO('converted'));
const x = tf.transpose(tf.tensor4d(f.x, f.x_shape), [0, 2, 3, 1]);
const out = tf.transpose(net.predict(x, tf.tensor1d(f.time_cond)), [0, 3, 1, 2]).dataSync();
let diff = 0, ref = 0;
out.forEach((v, i) => { diff = Math.max(diff, Math.abs(v - f.out_ema[i])); ref = Math.max(ref, Math.abs(f.out_ema[i])); });
const tiny = createUNet(unetPreset('tiny/ncsnpp'));
await tiny.save(fileSystemIO('tiny'));
const again = await loadUNet(fileSystemIO('tiny'));
const z = tf.randomNormal([1, 8, 8, 3]);
const same = Array.from(tiny.predict(z, tf.tensor1d([0.5])).dataSync()).join() ===
  Array.from(again.predict(z, tf.tensor1d([0.5])).dataSync()).join();
console.log(JSON.stringify({ relErr: diff / ref, same, backend: tf.getBackend() }));
`,
    );
    const result = JSON.parse(project.node('consumer.mjs').trim().split('\n').pop()!);
    expect(result.backend).toBe('cpu');
    expect(result.relErr).toBeLessThan(1e-4);
    expect(result.same).toBe(true);
  });

  it('type-checks from TypeScript', () => {
    project.write(
      'consumer.ts',
      `import * as tf from '@tensorflow/tfjs';
import { type UNetConfig, countUNetParameters, createUNet, unetPreset } from '@sbm/unet';
import { fileSystemIO } from '@sbm/unet/node';
const config: UNetConfig = unetPreset('tiny/ddpmpp', { numClasses: 10 });
const n: number = countUNetParameters(config);
const y: tf.Tensor4D = createUNet(config).predict(tf.zeros([1, 8, 8, 3]), tf.ones([1]), {
  labels: tf.tensor1d([10], 'int32'),
});
const io: tf.io.IOHandler = fileSystemIO('out');
export { io, n, y };
`,
    );
    project.write('tsconfig.json', consumerTsconfig(['consumer.ts']));
    const good = project.tsc();
    expect(good.output).toBe('');
    expect(good.ok).toBe(true);
  });
});
