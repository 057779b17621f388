import { ddpmLoss, denoisingScoreMatchingLoss, smldLoss } from '@sbm/losses';
import { discreteSchedule, SbmArgumentError, SubVPSDE, VESDE, VPSDE } from '@sbm/sde';
import { expectNoLeaks, expectTensorsClose, useCpuBackend } from '@sbm/test-utils';
import { unetPreset } from '@sbm/unet';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  checkUNetForLoss,
  lossForConfig,
  type NetworkFn,
  type TrainingLossConfig,
} from './loss-for-config.js';

beforeAll(useCpuBackend);

const SHAPE = [6, 2, 2, 3];
const D = 12;
const x0Values = Array.from({ length: 6 * D }, (_, i) => Math.sin(1.7 * i + 0.3) * 0.9);

/** A fixed network depending on x and on its conditioning input c: out = 0.3 x − 0.2 + 0.01·log(1 + c). */
const netOut = (x: number, c: number) => 0.3 * x - 0.2 + 0.01 * Math.log1p(c);

interface Call {
  xt: Float32Array;
  c: Float32Array;
}

/** The network as tf ops, recording its inputs. */
function recordingNetwork(calls: Call[]): NetworkFn {
  return (x, c) => {
    calls.push({ xt: Float32Array.from(x.dataSync()), c: Float32Array.from(c.dataSync()) });
    return tf.add(tf.sub(tf.mul(x, 0.3), 0.2), tf.reshape(tf.mul(tf.log1p(c), 0.01), [-1, 1, 1, 1]));
  };
}

/** score_sde's per-example reduction: mean, or 0.5·sum for reduce_mean = False. */
const reduce = (values: number[], reduceMean: boolean) =>
  reduceMean ? values.reduce((a, b) => a + b, 0) / values.length : 0.5 * values.reduce((a, b) => a + b, 0);

/**
 * The loss as score_sde_pytorch's losses.py writes it (float64), from the recorded network inputs: the noise z is
 * recovered from x_t and the known x_0 as z = (x_t − mean)/std, and the network output is recomputed in float64.
 */
function referenceLoss(config: TrainingLossConfig, call: Call): { loss: number; times: number[] } {
  const N = config.sde.numScales ?? 1000;
  const perExample: number[] = [];
  const times: number[] = [];
  for (let b = 0; b < 6; b++) {
    const c = call.c[b]!;
    const terms: number[] = [];
    if (config.continuous) {
      let t: number;
      let mean: number;
      let std: number;
      let g2: number;
      if (config.sde.kind === 've') {
        const { sigmaMin = 0.01, sigmaMax = 50 } = config.sde;
        std = c; // labels = sde.marginal_prob(zeros, t)[1] = σ(t)
        t = Math.log(std / sigmaMin) / Math.log(sigmaMax / sigmaMin);
        mean = 1;
        g2 = std * std * 2 * Math.log(sigmaMax / sigmaMin);
      } else {
        const { betaMin = 0.1, betaMax = 20 } = config.sde;
        t = c / 999; // labels = t * 999
        const logMean = -0.25 * t * t * (betaMax - betaMin) - 0.5 * t * betaMin;
        mean = Math.exp(logMean);
        std = config.sde.kind === 'vp' ? Math.sqrt(1 - Math.exp(2 * logMean)) : 1 - Math.exp(2 * logMean);
        g2 =
          (betaMin + t * (betaMax - betaMin)) *
          (config.sde.kind === 'vp' ? 1 : 1 - Math.exp(-2 * betaMin * t - (betaMax - betaMin) * t * t));
      }
      times.push(t);
      for (let i = 0; i < D; i++) {
        const xt = call.xt[b * D + i]!;
        const z = (xt - mean * x0Values[b * D + i]!) / std;
        const out = netOut(xt, c);
        const score = config.sde.kind === 've' ? out : -out / std; // get_score_fn
        terms.push(config.likelihoodWeighting ? (score + z / std) ** 2 * g2 : (score * std + z) ** 2);
      }
    } else if (config.sde.kind === 'vp') {
      // get_ddpm_loss_fn: sqrt_alphas_cumprod of betas = linspace(beta_min/N, beta_max/N, N).
      const { betaMin = 0.1, betaMax = 20 } = config.sde;
      expect(Number.isInteger(c) && c >= 0 && c < N).toBe(true);
      let alphaBar = 1;
      for (let k = 0; k <= c; k++) alphaBar *= 1 - (betaMin / N + ((betaMax - betaMin) / N) * (k / (N - 1)));
      times.push(c);
      for (let i = 0; i < D; i++) {
        const xt = call.xt[b * D + i]!;
        const noise = (xt - Math.sqrt(alphaBar) * x0Values[b * D + i]!) / Math.sqrt(1 - alphaBar);
        terms.push((netOut(xt, c) - noise) ** 2);
      }
    } else {
      // get_smld_loss_fn: sigmas = flip(exp(linspace(log σ_min, log σ_max, N))).
      const { sigmaMin = 0.01, sigmaMax = 50 } = config.sde as { sigmaMin?: number; sigmaMax?: number };
      expect(Number.isInteger(c) && c >= 0 && c < N).toBe(true);
      const sigma = Math.exp(Math.log(sigmaMax) + ((Math.log(sigmaMin) - Math.log(sigmaMax)) * c) / (N - 1));
      times.push(c);
      for (let i = 0; i < D; i++) {
        const xt = call.xt[b * D + i]!;
        const noise = xt - x0Values[b * D + i]!;
        const target = -noise / (sigma * sigma);
        terms.push((netOut(xt, c) - target) ** 2 * sigma * sigma);
      }
    }
    perExample.push(reduce(terms, config.reduceMean));
  }
  return { loss: perExample.reduce((a, b) => a + b, 0) / 6, times };
}

// score_sde's CIFAR-10 configurations (training.* fields), plus likelihood weighting and reduce_mean variants.
const CASES: [string, TrainingLossConfig][] = [
  [
    'vp continuous (DDPM++ cont.)',
    { sde: { kind: 'vp' }, continuous: true, reduceMean: true, likelihoodWeighting: false },
  ],
  [
    'subvp continuous',
    { sde: { kind: 'subvp' }, continuous: true, reduceMean: true, likelihoodWeighting: false },
  ],
  [
    've continuous (NCSN++ cont.)',
    { sde: { kind: 've' }, continuous: true, reduceMean: false, likelihoodWeighting: false },
  ],
  [
    'vp continuous, likelihood weighting',
    { sde: { kind: 'vp' }, continuous: true, reduceMean: false, likelihoodWeighting: true },
  ],
  [
    'subvp continuous, likelihood weighting',
    { sde: { kind: 'subvp', betaMax: 15 }, continuous: true, reduceMean: true, likelihoodWeighting: true },
  ],
  [
    've continuous, likelihood weighting',
    { sde: { kind: 've', sigmaMax: 20 }, continuous: true, reduceMean: true, likelihoodWeighting: true },
  ],
  [
    'vp/ddpm discrete (DDPM ε loss)',
    { sde: { kind: 'vp' }, continuous: false, reduceMean: true, likelihoodWeighting: false },
  ],
  [
    've discrete (SMLD)',
    {
      sde: { kind: 've', sigmaMin: 0.01, sigmaMax: 1, numScales: 10 },
      continuous: false,
      reduceMean: false,
      likelihoodWeighting: false,
    },
  ],
];

describe('lossForConfig', () => {
  it.each(CASES)(
    '%s equals score_sde losses.py written out in float64 (network input and output mapping)',
    (_n, config) => {
      const built = lossForConfig(config);
      const x0 = tf.tensor(x0Values, SHAPE);
      for (const seed of [1, 2, 3]) {
        const calls: Call[] = [];
        const value = built.loss(built.wrap(recordingNetwork(calls)), x0, seed);
        expect(calls.length).toBe(1);
        const ref = referenceLoss(config, calls[0]!);
        // z is recovered from float32 x_t, hence the tolerance (a wrong mapping is an O(1) error).
        expectTensorsClose(value, ref.loss, { rtol: 2e-3, atol: 0, message: `seed ${seed}` });
        if (config.continuous) {
          for (const t of ref.times) expect(t >= 1e-5 * (1 - 1e-4) && t <= 1 + 1e-6, `t = ${t}`).toBe(true);
        }
        value.dispose();
      }
      x0.dispose();
    },
  );

  it('builds the @sbm/losses loss directly: the same value as calling @sbm/losses with the same model and seed', () => {
    const x0 = tf.tensor(x0Values, SHAPE);
    const net = recordingNetwork([]);
    const vpNet = {
      parameterization: 'eps' as const,
      predict: (x: tf.Tensor, t: tf.Tensor1D) => net(x, tf.mul(t, 999) as tf.Tensor1D),
    };
    const check = (config: TrainingLossConfig, expected: tf.Scalar) => {
      const built = lossForConfig(config);
      const value = built.loss(built.wrap(net), x0, 7);
      expectTensorsClose(value, expected, { rtol: 1e-6, atol: 0 });
      tf.dispose([value, expected]);
    };
    check(
      { sde: { kind: 'vp' }, continuous: true, reduceMean: true, likelihoodWeighting: false },
      denoisingScoreMatchingLoss({ sde: new VPSDE() })(vpNet, x0, 7),
    );
    check(
      { sde: { kind: 'subvp' }, continuous: true, reduceMean: false, likelihoodWeighting: true },
      tf.mul(
        denoisingScoreMatchingLoss({ sde: new SubVPSDE(), weighting: 'likelihood', reduction: 'sum' })(
          vpNet,
          x0,
          7,
        ),
        0.5,
      ) as tf.Scalar,
    );
    const ve = new VESDE();
    check(
      { sde: { kind: 've' }, continuous: true, reduceMean: true, likelihoodWeighting: false },
      denoisingScoreMatchingLoss({ sde: ve })(
        {
          parameterization: 'score',
          predict: (x, t) => net(x, tf.tensor1d(Array.from(t.dataSync(), (s) => ve.sigma(s)))),
        },
        x0,
        7,
      ),
    );
    check(
      { sde: { kind: 'vp' }, continuous: false, reduceMean: true, likelihoodWeighting: false },
      ddpmLoss({ schedule: discreteSchedule(new VPSDE().discreteBetas) })(
        { parameterization: 'eps', predict: net },
        x0,
        7,
      ),
    );
    check(
      { sde: { kind: 've', numScales: 10 }, continuous: false, reduceMean: true, likelihoodWeighting: false },
      smldLoss({ sigmas: new VESDE({ N: 10 }).discreteSigmas.slice().reverse() })(
        { parameterization: 'score', predict: net },
        x0,
        7,
      ),
    );
    x0.dispose();
  });

  it('reports the kind, parameterization and conditioning of each config', () => {
    const kinds = CASES.map(([, c]) => {
      const l = lossForConfig(c);
      return `${l.kind}/${l.parameterization}`;
    });
    expect(kinds).toEqual([
      'dsm/eps',
      'dsm/eps',
      'dsm/score',
      'dsm/eps',
      'dsm/eps',
      'dsm/score',
      'ddpm/eps',
      'smld/score',
    ]);
    const ve = lossForConfig(CASES[2]![1]);
    const c = ve.conditioning(tf.tensor1d([0, 0.5, 1]));
    expectTensorsClose(c, [0.01, Math.sqrt(0.01 * 50), 50], { rtol: 1e-5 });
    c.dispose();
  });

  it('rejects configs score_sde rejects, with SbmArgumentError naming the field', () => {
    const arg = (config: unknown) => {
      try {
        lossForConfig(config as TrainingLossConfig);
      } catch (e) {
        expect(e).toBeInstanceOf(SbmArgumentError);
        return (e as SbmArgumentError).argument;
      }
      return 'no error';
    };
    const base = { continuous: true, reduceMean: true, likelihoodWeighting: false };
    expect(arg({ ...base, sde: { kind: 'subvp' }, continuous: false })).toBe('config.continuous');
    expect(arg({ ...base, sde: { kind: 'vp' }, continuous: false, likelihoodWeighting: true })).toBe(
      'config.likelihoodWeighting',
    );
    expect(arg({ ...base, sde: { kind: 'edm' } })).toBe('config.sde.kind');
    expect(arg({ ...base, sde: { kind: 'vp', betaMax: -1 } })).toBe('config.sde.betaMax');
    expect(arg({ ...base, sde: { kind: 've', numScales: 1.5 } })).toBe('config.sde.numScales');
    expect(arg({ ...base, sde: { kind: 'vp' }, reduceMean: 'yes' })).toBe('config.reduceMean');
    expect(arg({ ...base, sde: { kind: 'vp' }, tMin: 2 })).toBe('config.tMin');
  });

  it('checkUNetForLoss accepts the reference pairings and names the mismatched field', () => {
    const vp = lossForConfig(CASES[0]![1]);
    const veC = lossForConfig(CASES[2]![1]);
    const smld = lossForConfig({
      sde: { kind: 've', numScales: 1000 },
      continuous: false,
      reduceMean: false,
      likelihoodWeighting: false,
    });
    checkUNetForLoss(vp, unetPreset('vp/cifar10_ddpmpp_continuous'));
    checkUNetForLoss(vp, unetPreset('vp/ddpm/cifar10_continuous'));
    checkUNetForLoss(veC, unetPreset('ve/cifar10_ncsnpp_continuous'));
    checkUNetForLoss(smld, unetPreset('small/ncsnpp', { embeddingType: 'positional' }));
    const field = (f: () => void) => {
      try {
        f();
      } catch (e) {
        return (e as SbmArgumentError).argument;
      }
      return 'no error';
    };
    expect(field(() => checkUNetForLoss(vp, unetPreset('ve/cifar10_ncsnpp_continuous')))).toBe(
      'unetConfig.scaleBySigma',
    );
    expect(field(() => checkUNetForLoss(veC, unetPreset('vp/cifar10_ncsnpp_continuous')))).toBe(
      'unetConfig.scaleBySigma',
    );
    expect(field(() => checkUNetForLoss(smld, unetPreset('small/ncsnpp')))).toBe('unetConfig.embeddingType');
    expect(
      field(() =>
        checkUNetForLoss(smld, unetPreset('small/ncsnpp', { embeddingType: 'positional', sigmaMax: 10 })),
      ),
    ).toBe('unetConfig.numScales');
  });

  it('trains the configured prediction and time input: networks equivalent to an ε-network give its loss', () => {
    const vp = {
      sde: { kind: 'vp' as const },
      continuous: true,
      reduceMean: true,
      likelihoodWeighting: false,
    };
    const x0 = tf.tensor(x0Values, SHAPE);
    const eps = recordingNetwork([]);
    // VP marginal α(t) = exp(−¼t²(β_max − β_min) − ½tβ_min), σ = √(1 − α²) (Song et al. 2021, Eq. 33), t = c/999
    const alphaSigma = (t: tf.Tensor1D) => {
      const a = tf.exp(tf.sub(tf.mul(tf.square(t), -0.25 * (20 - 0.1)), tf.mul(t, 0.5 * 0.1)));
      return [tf.reshape(a, [-1, 1, 1, 1]), tf.reshape(tf.sqrt(tf.sub(1, tf.square(a))), [-1, 1, 1, 1])];
    };
    // x̂₀ = (x − σ ε̂)/α and v̂ = α ε̂ − σ x̂₀ (Salimans & Ho 2022) from the same ε-network
    const x0Net: NetworkFn = (x, c) => {
      const [a, sg] = alphaSigma(tf.div(c, 999) as tf.Tensor1D);
      return tf.div(tf.sub(x, tf.mul(sg!, eps(x, c))), a!);
    };
    const vNet: NetworkFn = (x, c) => {
      const [a, sg] = alphaSigma(tf.div(c, 999) as tf.Tensor1D);
      const e = eps(x, c);
      return tf.sub(tf.mul(a!, e), tf.mul(sg!, tf.div(tf.sub(x, tf.mul(sg!, e)), a!)));
    };
    const lossOf = (config: TrainingLossConfig, net: NetworkFn) => {
      const built = lossForConfig(config);
      return tf.tidy(() => built.loss(built.wrap(net), x0, 5).dataSync()[0]!);
    };
    const base = lossOf(vp, eps);
    expect(lossOf({ ...vp, prediction: 'x0' }, x0Net)).toBeCloseTo(base, 4);
    expect(lossOf({ ...vp, prediction: 'v' }, vNet)).toBeCloseTo(base, 4);
    // read as ε, the same x̂₀-network is a different (much worse) model: the setting is what makes them equal
    expect(Math.abs(lossOf(vp, x0Net) - base)).toBeGreaterThan(0.1 * base);
    // time input t instead of 999·t
    const continuous = lossForConfig({ ...vp, timeInput: 'continuous' });
    expect(continuous.conditioningDescription).toBe('t');
    const c = continuous.conditioning(tf.tensor1d([0.25]));
    expectTensorsClose(c, [0.25]);
    c.dispose();
    expect(
      lossOf({ ...vp, timeInput: 'continuous' }, (x, t) => eps(x, tf.mul(t, 999) as tf.Tensor1D)),
    ).toBeCloseTo(base, 5);
    x0.dispose();
    const argument = (config: TrainingLossConfig) => {
      try {
        lossForConfig(config);
      } catch (e) {
        return (e as SbmArgumentError).argument;
      }
      return 'no error';
    };
    expect(argument({ ...vp, prediction: 'score' })).toBe('config.prediction');
    expect(argument({ ...vp, sde: { kind: 've' }, prediction: 'eps' })).toBe('config.prediction');
    expect(argument({ ...vp, timeInput: 'sigma' })).toBe('config.timeInput');
    expect(argument({ ...vp, continuous: false, timeInput: 'continuous' })).toBe('config.timeInput');
  });

  it('leaks no tensors (loss, wrap, conditioning) for every config', async () => {
    const x0 = tf.tensor(x0Values, SHAPE);
    const net: NetworkFn = (x, c) => tf.add(tf.mul(x, 0.3), tf.reshape(tf.mul(c, 1e-3), [-1, 1, 1, 1]));
    const t = tf.tensor1d([0.5]);
    for (const [, config] of CASES) {
      const built = lossForConfig(config);
      await expectNoLeaks(() => [built.loss(built.wrap(net), x0, 3), built.conditioning(t)]);
    }
    tf.dispose([x0, t]);
  });
});

describe('lossForConfig with label dropout (classifier-free guidance training)', () => {
  const base = {
    sde: { kind: 'vp' as const, betaMin: 0.1, betaMax: 20, N: 1000 },
    reduceMean: true,
    likelihoodWeighting: false,
  };
  // A network that records the labels it is given (its output is x, so the loss is finite).
  const seen = (continuous: boolean, prob: number) => {
    const labels: number[] = [];
    const { loss, wrap } = lossForConfig({ ...base, continuous, labelDropout: { prob, nullLabel: 10 } });
    const model = wrap((x, _c, y) => {
      labels.push(...y!.dataSync());
      return tf.clone(x);
    });
    const B = 2000;
    const x = tf.zeros([B, 2]);
    const y = tf.tensor1d(
      Int32Array.from({ length: B }, (_, i) => i % 10),
      'int32',
    );
    tf.dispose(loss(model, { x, labels: y }, 5));
    tf.dispose([x, y]);
    return labels;
  };

  it.each([true, false])(
    'replaces a share prob of the labels by the null class (continuous %s)',
    (continuous) => {
      const labels = seen(continuous, 0.3);
      const nulls = labels.filter((l) => l === 10).length / labels.length;
      // Binomial: sd √(0.3·0.7/2000) = 0.010; 4 sd.
      expect(Math.abs(nulls - 0.3)).toBeLessThan(0.041);
      // The kept labels are the given ones.
      expect(labels.every((l, i) => l === 10 || l === i % 10)).toBe(true);
      expect(seen(continuous, 0).includes(10)).toBe(false);
    },
  );
});
