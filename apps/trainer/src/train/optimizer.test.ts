import { SbmArgumentError } from '@sbm/sde';
import { expectNoLeaks, expectTensorsClose, useCpuBackend } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core registers no gradients in Node; the tfjs-layers bundle registers them all (and the U-Net needs it anyway).
import '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { type AdamOptions, clipScale, ScoreSdeAdam, warmupLearningRate } from './optimizer.js';

beforeAll(useCpuBackend);

// The fixed problem: least squares L(w, b) = mean((X w + b − Y)²), X [4,3], Y [4,2], w [3,2], b [2].
const X = [
  [0.5, -1.0, 0.25],
  [1.5, 0.75, -0.5],
  [-0.25, 2.0, 1.0],
  [1.0, -0.5, 0.5],
];
const Y = [
  [1.0, -1.0],
  [0.5, 2.0],
  [-1.5, 0.25],
  [0.0, 1.0],
];
const W0 = [0.1, -0.2, 0.3, 0.05, -0.15, 0.25];
const B0 = [0.05, -0.1];

/*
 * PyTorch reference (Debian python3-torch 1.13.1, CPU, float32). torch.optim.Adam + clip_grad_norm_ + the linear
 * warm-up of score_sde_pytorch's losses.optimization_manager; printed values are the loss and the pre-clip gradient
 * norm at each step and w (row-major) ++ b after the step.
 *
 * import torch
 * X = torch.tensor([[0.5, -1.0, 0.25], [1.5, 0.75, -0.5], [-0.25, 2.0, 1.0], [1.0, -0.5, 0.5]])
 * Y = torch.tensor([[1.0, -1.0], [0.5, 2.0], [-1.5, 0.25], [0.0, 1.0]])
 * def run(lr, warmup, clip, wd, betas, steps):
 *   w = torch.nn.Parameter(torch.tensor([[0.1, -0.2], [0.3, 0.05], [-0.15, 0.25]]))
 *   b = torch.nn.Parameter(torch.tensor([0.05, -0.1]))
 *   opt = torch.optim.Adam([w, b], lr=lr, betas=betas, eps=1e-8, weight_decay=wd)
 *   out = []
 *   for step in range(steps):
 *     opt.zero_grad()
 *     loss = torch.mean((X @ w + b - Y) ** 2)
 *     loss.backward()
 *     if warmup > 0:
 *       for g in opt.param_groups:
 *         g['lr'] = lr * min(step / warmup, 1.0)
 *     norm = torch.nn.utils.clip_grad_norm_([w, b], max_norm=clip) if clip >= 0 else None
 *     opt.step()
 *     out.append((float(loss), None if norm is None else float(norm), w.detach().flatten().tolist() + b.detach().tolist()))
 *   return out
 * for name, args in [('A', (0.1, 3, 0.5, 0.0, (0.9, 0.999), 8)), ('B', (0.05, 0, -1, 0.1, (0.8, 0.99), 8))]:
 *   print(name)
 *   for loss, norm, params in run(*args):
 *     print(repr(loss), repr(norm), [float('%.9g' % p) for p in params])
 */
interface TorchRow {
  loss: number;
  norm: number | null;
  params: number[];
}
const row = (loss: number, norm: number | null, params: number[]): TorchRow => ({ loss, norm, params });
const TORCH_A: TorchRow[] = [
  row(
    1.7159960269927979,
    2.016918659210205,
    [0.100000001, -0.200000003, 0.300000012, 0.0500000007, -0.150000006, 0.25, 0.0500000007, -0.100000001],
  ),
  row(
    1.7159960269927979,
    2.016918659210205,
    [
      0.133333325, -0.166666672, 0.266666681, 0.0833333284, -0.183333337, 0.216666669, 0.0166666768,
      -0.0666666776,
    ],
  ),
  row(
    1.5632096529006958,
    1.8991633653640747,
    [
      0.20003441, -0.0999712795, 0.199990734, 0.149899736, -0.249916732, 0.149862349, -0.049503576,
      -5.7451427e-5,
    ],
  ),
  row(
    1.2879970073699951,
    1.6669822931289673,
    [
      0.300228119, 0.000195011497, 0.0999398232, 0.249154776, -0.349309683, 0.0492910743, -0.14464505,
      0.0995335579,
    ],
  ),
  row(
    0.950790286064148,
    1.3314294815063477,
    [
      0.40066421, 0.100609288, -0.00016784668, 0.346323967, -0.447086215, -0.0513951108, -0.220141679,
      0.198063463,
    ],
  ),
  row(
    0.7016414403915405,
    1.0226283073425293,
    [
      0.501101911, 0.201365471, -0.100298725, 0.437440038, -0.540646672, -0.151620805, -0.25037688,
      0.293653637,
    ],
  ),
  row(
    0.5318623781204224,
    0.7595265507698059,
    [
      0.598582804, 0.302465349, -0.200272337, 0.511180401, -0.623938501, -0.250825047, -0.237800822,
      0.380509585,
    ],
  ),
  row(
    0.4315639138221741,
    0.5750783681869507,
    [
      0.674148262, 0.403461128, -0.299187899, 0.548737764, -0.684570551, -0.349348575, -0.200889841,
      0.443117917,
    ],
  ),
];
const TORCH_B: TorchRow[] = [
  row(
    1.7159960269927979,
    null,
    [0.150000006, -0.150000006, 0.25, 0.100000009, -0.200000003, 0.200000003, 3.7252903e-9, -0.0500000007],
  ),
  row(
    1.4906054735183716,
    null,
    [
      0.199713454, -0.100235477, 0.200279728, 0.149395242, -0.249406084, 0.149995044, -0.0482773073,
      -0.000462699682,
    ],
  ),
  row(
    1.2893248796463013,
    null,
    [
      0.248893976, -0.0508864, 0.151056722, 0.197630644, -0.297677964, 0.0999861807, -0.0926458016,
      0.0482119992,
    ],
  ),
  row(
    1.1124063730239868,
    null,
    [
      0.297211468, -0.0021488741, 0.102567635, 0.244019762, -0.344159961, 0.0499822758, -0.130026743,
      0.0955469012,
    ],
  ),
  row(
    0.9593635201454163,
    null,
    [
      0.344182074, 0.0457668304, 0.0550603904, 0.287747741, -0.388103098, 4.93973494e-6, -0.157243654,
      0.140985742,
    ],
  ),
  row(
    0.8289108276367188,
    null,
    [
      0.389067978, 0.092639327, 0.00878312066, 0.327904493, -0.428719968, -0.049905479, -0.172623783,
      0.183900341,
    ],
  ),
  row(
    0.7192200422286987,
    null,
    [
      0.430784196, 0.138240486, -0.0360265933, 0.363561213, -0.465258956, -0.0996827036, -0.176840961,
      0.223611265,
    ],
  ),
  row(
    0.628267228603363,
    null,
    [
      0.467878014, 0.182341307, -0.0791491717, 0.393891662, -0.497074246, -0.149226472, -0.172203168,
      0.259425789,
    ],
  ),
];
const CONFIG_A: AdamOptions = { lr: 0.1, warmup: 3, gradClip: 0.5 };
const CONFIG_B: AdamOptions = { lr: 0.05, weightDecay: 0.1, beta1: 0.8, beta2: 0.99 };

/** Runs `steps` updates of ScoreSdeAdam on the problem with tf gradients; returns per-step loss, norm, parameters. */
function runTf(options: AdamOptions, steps: number) {
  const vars = { w: tf.variable(tf.tensor2d(W0, [3, 2])), b: tf.variable(tf.tensor1d(B0)) };
  const x = tf.tensor2d(X);
  const y = tf.tensor2d(Y);
  const opt = new ScoreSdeAdam(options);
  const rows: { loss: number; norm: number; lr: number; params: number[] }[] = [];
  for (let s = 0; s < steps; s++) {
    const { value, grads } = tf.variableGrads(
      () => tf.mean(tf.square(tf.sub(tf.add(tf.matMul(x, vars.w), vars.b), y))) as tf.Scalar,
      [vars.w, vars.b],
    );
    const loss = value.dataSync()[0]!;
    const update = opt.apply(vars, { w: grads[vars.w.name]!, b: grads[vars.b.name]! });
    rows.push({
      loss,
      norm: update.gradNorm,
      lr: update.lr,
      params: [...vars.w.dataSync(), ...vars.b.dataSync()],
    });
    tf.dispose([value, ...Object.values(grads)]);
  }
  const state = opt.getState();
  opt.dispose();
  tf.dispose([vars.w, vars.b, x, y]);
  return { rows, state };
}

/**
 * Independent float64 reference: analytic gradients of the least-squares loss (∂L/∂w = (2/8) Xᵀ R, ∂L/∂b = (2/8) Σ_rows R,
 * R = X w + b − Y) and Adam as in Kingma & Ba (2015, Alg. 1) with explicit bias-corrected moments
 * m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ), θ ← θ − lr m̂/(√v̂ + ε); clipping g·min(1, c/(‖g‖ + 1e-6)); L2 term wd·θ.
 */
function runFloat64(options: AdamOptions, steps: number) {
  const { lr, warmup = 0, gradClip = -1, weightDecay = 0, beta1 = 0.9, beta2 = 0.999, eps = 1e-8 } = options;
  const theta = [...W0, ...B0];
  const m = new Array<number>(8).fill(0);
  const v = new Array<number>(8).fill(0);
  const rows: { loss: number; norm: number; params: number[] }[] = [];
  for (let s = 0; s < steps; s++) {
    const grad = new Array<number>(8).fill(0);
    let loss = 0;
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 2; j++) {
        let r = theta[6 + j]! - Y[i]![j]!;
        for (let k = 0; k < 3; k++) r += X[i]![k]! * theta[2 * k + j]!;
        loss += (r * r) / 8;
        for (let k = 0; k < 3; k++) grad[2 * k + j]! += (2 / 8) * X[i]![k]! * r;
        grad[6 + j]! += (2 / 8) * r;
      }
    }
    const norm = Math.hypot(...grad);
    const c = gradClip >= 0 && gradClip / (norm + 1e-6) < 1 ? gradClip / (norm + 1e-6) : 1;
    const rate = warmup > 0 ? (lr * Math.min(s, warmup)) / warmup : lr;
    const t = s + 1;
    for (let p = 0; p < 8; p++) {
      const g = grad[p]! * c + weightDecay * theta[p]!;
      m[p] = beta1 * m[p]! + (1 - beta1) * g;
      v[p] = beta2 * v[p]! + (1 - beta2) * g * g;
      const mHat = m[p]! / (1 - beta1 ** t);
      const vHat = v[p]! / (1 - beta2 ** t);
      theta[p] = theta[p]! - (rate * mHat) / (Math.sqrt(vHat) + eps);
    }
    rows.push({ loss, norm, params: [...theta] });
  }
  return rows;
}

describe('warm-up and clipping conventions (score_sde_pytorch optimization_manager)', () => {
  it('lr at 0-based step s is lr·min(s/warmup, 1): the first update has lr 0; warmup 0 is constant', () => {
    expect(warmupLearningRate(2e-4, 5000, 0)).toBe(0);
    expect(warmupLearningRate(2e-4, 5000, 2500)).toBeCloseTo(1e-4, 15);
    expect(warmupLearningRate(2e-4, 5000, 5000)).toBe(2e-4);
    expect(warmupLearningRate(2e-4, 5000, 9000)).toBe(2e-4);
    expect(warmupLearningRate(2e-4, 0, 0)).toBe(2e-4);
  });

  it('clip scale is min(1, c/(‖g‖ + 1e-6)) and 1 when clipping is disabled (c < 0)', () => {
    expect(clipScale(4, 1)).toBeCloseTo(1 / (4 + 1e-6), 15);
    expect(clipScale(0.5, 1)).toBe(1);
    expect(clipScale(100, -1)).toBe(1);
  });
});

describe('ScoreSdeAdam', () => {
  for (const [name, options, torchRows] of [
    ['A: warm-up 3, clip 0.5', CONFIG_A, TORCH_A],
    ['B: L2 weight decay 0.1, betas (0.8, 0.99), no clip', CONFIG_B, TORCH_B],
  ] as const) {
    it(`${name}: matches torch.optim.Adam + clip_grad_norm_ (1.13) and a float64 Adam over 8 steps`, () => {
      const { rows } = runTf(options, 8);
      const ref64 = runFloat64(options, 8);
      for (const [s, r] of rows.entries()) {
        const torch = torchRows[s]!;
        expectTensorsClose(r.params, torch.params, { rtol: 1e-6, atol: 1e-6, message: `torch, step ${s}` });
        expectTensorsClose(r.loss, torch.loss, { rtol: 1e-6, atol: 0, message: `torch loss, step ${s}` });
        if (torch.norm !== null) {
          expectTensorsClose(r.norm, torch.norm, { rtol: 1e-6, atol: 0, message: `torch norm, step ${s}` });
        }
        expectTensorsClose(r.params, ref64[s]!.params, {
          rtol: 1e-6,
          atol: 1e-6,
          message: `float64, step ${s}`,
        });
        expectTensorsClose(r.norm, ref64[s]!.norm, {
          rtol: 1e-6,
          atol: 0,
          message: `float64 norm, step ${s}`,
        });
        expect(r.lr).toBeCloseTo(warmupLearningRate(options.lr, options.warmup ?? 0, s), 12);
      }
      if (options.warmup === 3) {
        // The reference's first update has lr 0: weights unchanged.
        expectTensorsClose(rows[0]!.params, [...W0, ...B0].map(Math.fround), { rtol: 0, atol: 0 });
      }
    });
  }

  it('getState/setState resume exactly: 3 steps, serialize, a fresh optimizer, 5 more = 8 uninterrupted', () => {
    const full = runTf(CONFIG_A, 8);
    // First 3 steps, then restore into a new optimizer and fresh variables holding the weights after step 3.
    const x = tf.tensor2d(X);
    const y = tf.tensor2d(Y);
    const vars = { w: tf.variable(tf.tensor2d(W0, [3, 2])), b: tf.variable(tf.tensor1d(B0)) };
    const step = (opt: ScoreSdeAdam) => {
      const { value, grads } = tf.variableGrads(
        () => tf.mean(tf.square(tf.sub(tf.add(tf.matMul(x, vars.w), vars.b), y))) as tf.Scalar,
        [vars.w, vars.b],
      );
      opt.apply(vars, { w: grads[vars.w.name]!, b: grads[vars.b.name]! });
      tf.dispose([value, ...Object.values(grads)]);
    };
    const first = new ScoreSdeAdam(CONFIG_A);
    for (let s = 0; s < 3; s++) step(first);
    const state = JSON.parse(
      JSON.stringify(first.getState(), (_k, val) => (val instanceof Float32Array ? { f32: [...val] } : val)),
      (_k, val) =>
        val !== null && typeof val === 'object' && 'f32' in val ? Float32Array.from(val.f32) : val,
    );
    first.dispose();
    expect(state.step).toBe(3);
    const second = new ScoreSdeAdam(CONFIG_A);
    second.setState(state, vars);
    expect(second.currentLearningRate()).toBeCloseTo(0.1, 12);
    for (let s = 3; s < 8; s++) step(second);
    expectTensorsClose([...vars.w.dataSync(), ...vars.b.dataSync()], full.rows[7]!.params, {
      rtol: 0,
      atol: 0,
    });
    const end = second.getState();
    for (const k of ['w', 'b']) {
      expectTensorsClose(end.m[k]!, full.state.m[k]!, { rtol: 0, atol: 0 });
      expectTensorsClose(end.v[k]!, full.state.v[k]!, { rtol: 0, atol: 0 });
    }
    second.dispose();
    tf.dispose([x, y, vars.w, vars.b]);
  });

  it('rejects bad options, gradients and states with SbmArgumentError naming the argument', () => {
    const err = (f: () => unknown, arg: string) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(SbmArgumentError);
        expect((e as SbmArgumentError).argument).toBe(arg);
        return;
      }
      throw new Error(`expected an error naming ${arg}`);
    };
    err(() => new ScoreSdeAdam({ lr: -1 }), 'options.lr');
    err(() => new ScoreSdeAdam({ lr: 1, beta1: 1 }), 'options.beta1');
    err(() => new ScoreSdeAdam({ lr: 1, warmup: 1.5 }), 'options.warmup');
    err(() => new ScoreSdeAdam({ lr: 1, eps: 0 }), 'options.eps');
    const w = tf.variable(tf.zeros([2]));
    const g = tf.zeros([3]);
    const opt = new ScoreSdeAdam({ lr: 1 });
    err(() => opt.apply({ w }, { w: g }), "grads['w']");
    err(() => opt.apply({ w }, {}), "grads['w']");
    err(() => opt.setState({ step: 1, m: { w: new Float32Array(2) }, v: {} }, { w }), "state.v['w']");
    err(
      () => opt.setState({ step: 1, m: { w: new Float32Array(3) }, v: { w: new Float32Array(2) } }, { w }),
      "state.m['w']",
    );
    err(() => opt.setState({ step: -1, m: {}, v: {} }, { w }), 'state.step');
    opt.dispose();
    tf.dispose([w, g]);
  });

  it('leaks no tensors (apply, getState, setState)', async () => {
    const w = tf.variable(tf.ones([3, 2]));
    const g = tf.fill([3, 2], 0.5);
    const opt = new ScoreSdeAdam({ lr: 0.1, warmup: 2, gradClip: 0.1, weightDecay: 0.01 });
    await expectNoLeaks(() => {
      opt.apply({ w }, { w: g });
      opt.setState(opt.getState(), { w });
    });
    opt.dispose();
    tf.dispose([w, g]);
  });
});
