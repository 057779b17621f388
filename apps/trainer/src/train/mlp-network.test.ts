import { SbmArgumentError, VPSDE } from '@sbm/sde';
import { expectNoLeaks, useCpuBackend } from '@sbm/test-utils';
import { registerUNetLayers } from '@sbm/unet';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { withSeededRandom } from '../run/seeded-random.js';
import { lossForConfig } from './loss-for-config.js';
import {
  createMlpNetwork,
  loadMlpNetwork,
  type MlpConfig,
  mlpNetwork,
  validateMlpConfig,
} from './mlp-network.js';
import { ScoreSdeAdam } from './optimizer.js';
import { trainStep } from './train-step.js';
import { trainableVariables } from './variables.js';

beforeAll(useCpuBackend);

const small: MlpConfig = { dim: 2, hidden: 16, layers: 3, timeEmbeddingDim: 8, numClasses: 0 };

/** Saves into memory and returns the artifacts (what `model.json` + `weights.bin` hold). */
async function saveToMemory(save: (h: tf.io.IOHandler) => Promise<unknown>): Promise<tf.io.ModelArtifacts> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return artifacts!;
}

/** A layer's weights as float64 arrays: [kernel [in, out] row-major, bias [out]]. */
function dense(model: tfl.LayersModel, name: string): { w: Float64Array; b: Float64Array; out: number } {
  const [w, b] = model.getLayer(name).getWeights();
  return { w: Float64Array.from(w!.dataSync()), b: Float64Array.from(b!.dataSync()), out: b!.shape[0]! };
}

function affine(layer: { w: Float64Array; b: Float64Array; out: number }, v: number[]): number[] {
  return Array.from({ length: layer.out }, (_, j) =>
    v.reduce((s, vi, i) => s + vi * layer.w[i * layer.out + j]!, layer.b[j]!),
  );
}

const swish = (u: number) => u / (1 + Math.exp(-u));

/**
 * The network's equation evaluated in float64 from its weights (see `MlpNetwork`): e(t) = [sin(t ω_i), cos(t ω_i)],
 * ω_i = exp(−i ln(10000)/(E/2 − 1)); τ = swish(W_τ e + b_τ); h_l = swish(W_l h_{l−1} + b_l + U_l τ + c_l);
 * out = W_o h_L + b_o.
 */
function reference(model: tfl.LayersModel, config: MlpConfig, x: number[], t: number): number[] {
  const half = config.timeEmbeddingDim / 2;
  const omega = Array.from({ length: half }, (_, i) => Math.exp((-i * Math.log(10000)) / (half - 1)));
  const e = [...omega.map((w) => Math.sin(t * w)), ...omega.map((w) => Math.cos(t * w))];
  const tau = affine(dense(model, 'time_dense'), e).map(swish);
  let h = x;
  for (let l = 1; l <= config.layers; l++) {
    const a = affine(dense(model, `hidden_${l}`), h);
    const b = affine(dense(model, `time_proj_${l}`), tau);
    h = a.map((v, j) => swish(v + b[j]!));
  }
  return affine(dense(model, 'output'), h);
}

describe('createMlpNetwork', () => {
  it('computes its equation: x [B, 2], t [B] → [B, 2], the time embedding fed to every hidden layer', () => {
    const net = createMlpNetwork(small);
    const xs = [
      [0.3, -1.2],
      [2, 0.5],
      [-0.7, 0.1],
    ];
    const ts = [0, 123.4, 998.999];
    const out = tf.tidy(() => net.predict(tf.tensor2d(xs), tf.tensor1d(ts)).arraySync());
    expect(out).toHaveLength(3);
    for (const [i, row] of out.entries()) {
      const want = reference(net.model, small, xs[i]!, ts[i]!);
      for (let d = 0; d < 2; d++) expect(row[d]!).toBeCloseTo(want[d]!, 4);
    }
    // The output depends on t through every layer: changing t alone changes it.
    const [a, b] = tf.tidy(() => [
      net.predict(tf.tensor2d([[1, 1]]), tf.tensor1d([10])).arraySync()[0]!,
      net.predict(tf.tensor2d([[1, 1]]), tf.tensor1d([500])).arraySync()[0]!,
    ]);
    expect(a).not.toEqual(b);
    net.dispose();
  });

  it('has the closed-form parameter count E·H + H + Σ_l (in_l·H + H + H·H + H) + H·D + D', () => {
    for (const c of [small, { dim: 2, hidden: 128, layers: 3, timeEmbeddingDim: 32, numClasses: 0 }]) {
      const { dim: D, hidden: H, layers: L, timeEmbeddingDim: E } = c;
      let want = E * H + H + H * D + D;
      for (let l = 1; l <= L; l++) want += (l === 1 ? D : H) * H + H + H * H + H;
      const net = createMlpNetwork(c);
      expect(net.countParams()).toBe(want);
      net.dispose();
    }
  });

  it('draws its initial weights from Math.random: one seed, one network; stable weight names', () => {
    const read = (seed: number) => {
      const net = withSeededRandom(seed, 0, () => createMlpNetwork(small));
      const names = net.model.weights.map((w) => w.originalName);
      const values = net.model.weights.map((w) => Array.from(w.read().dataSync()));
      net.dispose();
      return { names, values };
    };
    const a = read(7);
    const b = read(7);
    const c = read(8);
    expect(b.values).toEqual(a.values);
    expect(c.values).not.toEqual(a.values);
    // The same names in a second network of the same process (tfjs only suffixes the variables' `name`).
    expect(b.names).toEqual(a.names);
    expect(a.names).toContain('hidden_1/kernel');
    expect(a.names).toContain('time_proj_3/bias');
    expect(Object.keys(trainableVariables(withSeededRandom(7, 0, () => createMlpNetwork(small))))).toEqual(
      a.names,
    );
  });

  it('saves and loads with tf.loadLayersModel (registerUNetLayers) and loadMlpNetwork', async () => {
    const net = createMlpNetwork(small);
    const artifacts = await saveToMemory((h) => net.save(h));
    const x = tf.tensor2d([
      [0.1, 0.2],
      [-1, 3],
    ]);
    const t = tf.tensor1d([5, 700]);
    const want = net.predict(x, t);
    registerUNetLayers();
    const plain = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
    const got = plain.apply([x, t]) as tf.Tensor;
    expect(Array.from(got.dataSync())).toEqual(Array.from(want.dataSync()));
    const loaded = await loadMlpNetwork(tf.io.fromMemory(artifacts));
    expect(loaded.config).toEqual(small);
    const again = loaded.predict(x, t);
    expect(Array.from(again.dataSync())).toEqual(Array.from(want.dataSync()));
    tf.dispose([x, t, want, got, again]);
    plain.dispose();
    loaded.dispose();
    // A model saved without the MLP config is refused, naming the argument.
    const bare = await saveToMemory((h) => net.model.save(h));
    delete bare.userDefinedMetadata;
    await expect(loadMlpNetwork(tf.io.fromMemory(bare))).rejects.toThrow(/^handler: .*sbmMlpConfig/);
    net.dispose();
  });

  it('takes class labels with a null class when numClasses > 0', () => {
    const net = createMlpNetwork({ ...small, numClasses: 3 });
    expect(net.model.inputNames).toEqual(['x', 't', 'labels']);
    const [a, b] = tf.tidy(() => {
      const x = tf.tensor2d([
        [1, 1],
        [1, 1],
      ]);
      const t = tf.tensor1d([50, 50]);
      const y = net.predict(x, t, { labels: tf.tensor1d([0, 3], 'int32') }).arraySync();
      return [y[0]!, y[1]!];
    });
    expect(a).not.toEqual(b);
    expect(() =>
      tf.tidy(() => net.predict(tf.zeros([1, 2]), tf.zeros([1]), { labels: tf.tensor1d([4], 'int32') })),
    ).toThrow(/^options\.labels: expected values in \{0, …, 3\}, got 4/);
    net.dispose();
  });

  it('names the argument of a bad input or config', () => {
    const net = createMlpNetwork(small);
    const run = (x: tf.Tensor, t: tf.Tensor, labels?: tf.Tensor) =>
      tf.tidy(() =>
        net.predict(x as tf.Tensor2D, t as tf.Tensor1D, labels ? { labels: labels as tf.Tensor1D } : {}),
      );
    expect(() => run(tf.zeros([3, 3]), tf.zeros([3]))).toThrow(
      /^x: expected a tensor of shape \[B, 2\], got shape \[3,3\]/,
    );
    expect(() => run(tf.zeros([3, 2]), tf.zeros([2]))).toThrow(/^t: expected a tensor of shape \[3\]/);
    expect(() => run(tf.zeros([1, 2]), tf.zeros([1]), tf.zeros([1], 'int32'))).toThrow(
      /^options\.labels: this model is not class-conditional/,
    );
    net.dispose();
    const bad = (c: Partial<MlpConfig>) => () => validateMlpConfig({ ...small, ...c });
    expect(bad({ hidden: 0 })).toThrow(SbmArgumentError);
    expect(bad({ hidden: 0 })).toThrow(/^config\.hidden: expected a positive integer, got 0/);
    expect(bad({ layers: 1.5 })).toThrow(/^config\.layers: expected a positive integer/);
    expect(bad({ timeEmbeddingDim: 2 })).toThrow(
      /^config\.timeEmbeddingDim: expected an even integer >= 4, got 2/,
    );
    expect(bad({ numClasses: -1 })).toThrow(/^config\.numClasses: expected an integer >= 0/);
  });

  it('trains with trainStep: every weight gets a gradient and the ε-loss falls', () => {
    const net = withSeededRandom(1, 0, () => createMlpNetwork(small));
    const variables = trainableVariables(net);
    const loss = lossForConfig({
      sde: { kind: 'vp' },
      continuous: true,
      reduceMean: true,
      likelihoodWeighting: false,
    });
    expect(loss.sde).toBeInstanceOf(VPSDE);
    const optimizer = new ScoreSdeAdam({ lr: 1e-2, warmup: 0, gradClip: 1 });
    const model = loss.wrap(mlpNetwork(net));
    const context = { variables, model, loss: loss.loss, optimizer, runSeed: 3 };
    // Four points of a ring, repeated: the loss at one fixed draw of (t, ε) before and after 80 steps.
    const x = tf.tidy(() =>
      tf.tile(
        tf.tensor2d([
          [2, 0],
          [0, 2],
          [-2, 0],
          [0, -2],
        ]),
        [64, 1],
      ),
    );
    const evaluate = () => tf.tidy(() => loss.loss(model, x, 12345).dataSync()[0]!);
    const before = evaluate();
    // trainStep throws if a variable receives no gradient.
    for (let i = 0; i < 80; i++) trainStep(context, x);
    expect(evaluate()).toBeLessThan(0.8 * before);
    x.dispose();
    optimizer.dispose();
    net.dispose();
  });

  it('leaves no tensors behind: create/dispose, predict, save, load, the NetworkFn', async () => {
    await expectNoLeaks(() => createMlpNetwork(small).dispose());
    await expectNoLeaks(() => createMlpNetwork({ ...small, numClasses: 2 }).dispose());
    const net = createMlpNetwork(small);
    const x = tf.tensor2d([[0.5, -0.5]]);
    const t = tf.tensor1d([100]);
    await expectNoLeaks(() => net.predict(x, t));
    const fn = mlpNetwork(net);
    await expectNoLeaks(() => fn(x, t));
    const artifacts = await saveToMemory((h) => net.save(h));
    await expectNoLeaks(() => saveToMemory((h) => net.save(h)));
    await expectNoLeaks(async () => (await loadMlpNetwork(tf.io.fromMemory(artifacts))).dispose());
    tf.dispose([x, t]);
    net.dispose();
  });
});
