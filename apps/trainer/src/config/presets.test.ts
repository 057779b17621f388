import { countUNetParameters, type UNetConfig, validateUNetConfig } from '@sbm/unet';
import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { TRAINER_PRESET_NAMES, trainerPreset } from './presets.js';
import { type TrainerConfig, trainerConfigSchema } from './schema.js';
import { resolveUNetConfig } from './unet-config.js';
import { validateConfig } from './validate-config.js';

// Reference numbers, copied by hand from score_sde_pytorch (https://github.com/yang-song/score_sde_pytorch,
// the snapshot read with `git show HEAD:<file>`). Keys are score_sde's own config keys; `// Ln` is the line of
// the file named above each block. Values are written as in the Python files (tuples as arrays).
type Reference = Record<string, string | number | boolean | number[]>;

/** configs/default_cifar10_configs.py */
const DEFAULT_CIFAR10: Reference = {
  'training.batch_size': 128, // L9
  'training.n_iters': 1300001, // L10
  'training.snapshot_freq': 50000, // L11
  'training.log_freq': 50, // L12
  'training.eval_freq': 100, // L13
  'training.snapshot_freq_for_preemption': 10000, // L15
  'training.snapshot_sampling': true, // L17
  'training.likelihood_weighting': false, // L18
  'training.continuous': true, // L19
  'training.reduce_mean': false, // L20
  'sampling.n_steps_each': 1, // L24
  'sampling.noise_removal': true, // L25
  'sampling.probability_flow': false, // L26
  'sampling.snr': 0.16, // L27
  'eval.begin_ckpt': 9, // L31
  'eval.end_ckpt': 26, // L32
  'eval.batch_size': 1024, // L33
  'eval.enable_sampling': false, // L34
  'eval.num_samples': 50000, // L35
  'eval.enable_loss': true, // L36
  'eval.enable_bpd': false, // L37
  'eval.bpd_dataset': 'test', // L38
  'data.dataset': 'CIFAR10', // L42
  'data.image_size': 32, // L43
  'data.random_flip': true, // L44
  'data.centered': false, // L45
  'data.uniform_dequantization': false, // L46
  'data.num_channels': 3, // L47
  'model.sigma_min': 0.01, // L51
  'model.sigma_max': 50, // L52
  'model.num_scales': 1000, // L53
  'model.beta_min': 0.1, // L54
  'model.beta_max': 20, // L55
  'model.dropout': 0.1, // L56
  'model.embedding_type': 'fourier', // L57
  'optim.weight_decay': 0, // L61
  'optim.optimizer': 'Adam', // L62
  'optim.lr': 2e-4, // L63
  'optim.beta1': 0.9, // L64
  'optim.eps': 1e-8, // L65
  'optim.warmup': 5000, // L66
  'optim.grad_clip': 1, // L67
  seed: 42, // L69
};

/** losses.py: not config keys, but fixed in the code the configs run through. */
const REFERENCE_CODE: Reference = {
  'optim.beta2': 0.999, // L29: betas=(config.optim.beta1, 0.999)
  'training.eps': 1e-5, // L55: get_sde_loss_fn(..., eps=1e-5), the smallest training time
};

/** configs/vp/cifar10_ddpmpp_continuous.py (configs/subvp/cifar10_ddpmpp_continuous.py: same lines, L26 'subvpsde'). */
function ddpmppContinuous(sde: 'vpsde' | 'subvpsde'): Reference {
  return {
    ...DEFAULT_CIFAR10,
    ...REFERENCE_CODE,
    'training.sde': sde, // L26
    'training.continuous': true, // L27
    'training.reduce_mean': true, // L28
    'sampling.method': 'pc', // L32
    'sampling.predictor': 'euler_maruyama', // L33
    'sampling.corrector': 'none', // L34
    'data.centered': true, // L38
    'model.name': 'ncsnpp', // L42
    'model.scale_by_sigma': false, // L43
    'model.ema_rate': 0.9999, // L44
    'model.normalization': 'GroupNorm', // L45
    'model.nonlinearity': 'swish', // L46
    'model.nf': 128, // L47
    'model.ch_mult': [1, 2, 2, 2], // L48
    'model.num_res_blocks': 4, // L49
    'model.attn_resolutions': [16], // L50
    'model.resamp_with_conv': true, // L51
    'model.conditional': true, // L52
    'model.fir': false, // L53
    'model.fir_kernel': [1, 3, 3, 1], // L54
    'model.skip_rescale': true, // L55
    'model.resblock_type': 'biggan', // L56
    'model.progressive': 'none', // L57
    'model.progressive_input': 'none', // L58
    'model.progressive_combine': 'sum', // L59
    'model.attention_type': 'ddpm', // L60
    'model.init_scale': 0, // L61
    'model.embedding_type': 'positional', // L62
    'model.fourier_scale': 16, // L63
    'model.conv_size': 3, // L64
  };
}

/** configs/ve/cifar10_ncsnpp_continuous.py */
const VE_NCSNPP_CONTINUOUS: Reference = {
  ...DEFAULT_CIFAR10,
  ...REFERENCE_CODE,
  'training.sde': 'vesde', // L25
  'training.continuous': true, // L26
  'sampling.method': 'pc', // L30
  'sampling.predictor': 'reverse_diffusion', // L31
  'sampling.corrector': 'langevin', // L32
  'model.name': 'ncsnpp', // L36
  'model.scale_by_sigma': true, // L37
  'model.ema_rate': 0.999, // L38
  'model.normalization': 'GroupNorm', // L39
  'model.nonlinearity': 'swish', // L40
  'model.nf': 128, // L41
  'model.ch_mult': [1, 2, 2, 2], // L42
  'model.num_res_blocks': 4, // L43
  'model.attn_resolutions': [16], // L44
  'model.resamp_with_conv': true, // L45
  'model.conditional': true, // L46
  'model.fir': true, // L47
  'model.fir_kernel': [1, 3, 3, 1], // L48
  'model.skip_rescale': true, // L49
  'model.resblock_type': 'biggan', // L50
  'model.progressive': 'none', // L51
  'model.progressive_input': 'residual', // L52
  'model.progressive_combine': 'sum', // L53
  'model.attention_type': 'ddpm', // L54
  'model.init_scale': 0, // L55
  'model.fourier_scale': 16, // L56
  'model.conv_size': 3, // L57
};

/** configs/vp/ddpm/cifar10_continuous.py */
const DDPM_CONTINUOUS: Reference = (() => {
  const reference: Reference = {
    ...DEFAULT_CIFAR10,
    ...REFERENCE_CODE,
    'training.sde': 'vpsde', // L27
    'training.continuous': true, // L28
    'training.reduce_mean': true, // L29
    'sampling.method': 'pc', // L33
    'sampling.predictor': 'euler_maruyama', // L34
    'sampling.corrector': 'none', // L35
    'data.centered': true, // L39
    'model.name': 'ddpm', // L43
    'model.scale_by_sigma': false, // L44
    'model.ema_rate': 0.9999, // L45
    'model.normalization': 'GroupNorm', // L46
    'model.nonlinearity': 'swish', // L47
    'model.nf': 128, // L48
    'model.ch_mult': [1, 2, 2, 2], // L49
    'model.num_res_blocks': 2, // L50
    'model.attn_resolutions': [16], // L51
    'model.resamp_with_conv': true, // L52
    'model.conditional': true, // L53
  };
  // The inherited model.embedding_type = 'fourier' (default_cifar10_configs.py L57) is never read by
  // models/ddpm.py, whose network always uses sinusoidal (positional) embeddings; it is left out here.
  delete reference['model.embedding_type'];
  return reference;
})();

const REFERENCES: Record<string, Reference> = {
  'vp/cifar10_ddpmpp_continuous': ddpmppContinuous('vpsde'),
  'subvp/cifar10_ddpmpp_continuous': ddpmppContinuous('subvpsde'),
  've/cifar10_ncsnpp_continuous': VE_NCSNPP_CONTINUOUS,
  'vp/ddpm/cifar10_continuous': DDPM_CONTINUOUS,
};

/** score_sde names of the values the trainer writes differently. */
const SDE_NAMES = { vp: 'vpsde', subvp: 'subvpsde', ve: 'vesde' } as const;
const PREDICTOR_NAMES: Record<string, string> = {
  eulerMaruyama: 'euler_maruyama',
  reverseDiffusion: 'reverse_diffusion',
  ancestral: 'ancestral_sampling',
  none: 'none',
};
const CORRECTOR_NAMES: Record<string, string> = {
  langevin: 'langevin',
  annealedLangevin: 'ald',
  none: 'none',
};

/**
 * Reads the value of a score_sde key from the trainer config (`c`) and the resolved @sbm/unet config (`u`).
 * Network fields are read from the @sbm/unet config, which is what the trainer builds.
 */
function readReferenceKey(key: string, c: TrainerConfig, u: UNetConfig): unknown {
  const s = c.sampling;
  const pc = s.sampler === 'pc' ? s : undefined;
  const getters: Record<string, () => unknown> = {
    'training.batch_size': () => c.training.batchSize,
    'training.n_iters': () => c.training.nIters,
    'training.snapshot_freq': () => c.training.snapshotFreq,
    'training.log_freq': () => c.training.logFreq,
    'training.eval_freq': () => c.training.evalFreq,
    'training.snapshot_freq_for_preemption': () => c.training.snapshotFreqForPreemption,
    'training.snapshot_sampling': () => c.training.snapshotSampling,
    'training.likelihood_weighting': () => c.training.likelihoodWeighting,
    'training.continuous': () => c.training.continuous,
    'training.reduce_mean': () => c.training.reduceMean,
    'training.sde': () => SDE_NAMES[c.sde.kind],
    'training.eps': () => c.training.tMin,
    'sampling.method': () => s.sampler,
    'sampling.predictor': () => (pc === undefined ? undefined : PREDICTOR_NAMES[pc.predictor]),
    'sampling.corrector': () => (pc === undefined ? undefined : CORRECTOR_NAMES[pc.corrector]),
    'sampling.n_steps_each': () => pc?.correctorSteps,
    'sampling.noise_removal': () => pc?.denoise,
    'sampling.probability_flow': () => s.sampler === 'ode',
    'sampling.snr': () => pc?.snr,
    'eval.begin_ckpt': () => c.eval.beginCkpt,
    'eval.end_ckpt': () => c.eval.endCkpt,
    'eval.batch_size': () => c.eval.batchSize,
    'eval.enable_sampling': () => c.eval.enableSampling,
    'eval.num_samples': () => c.eval.numSamples,
    'eval.enable_loss': () => c.eval.enableLoss,
    'eval.enable_bpd': () => c.eval.enableBpd,
    'eval.bpd_dataset': () => c.eval.bpdDataset,
    'data.dataset': () => (c.data.dataset === 'cifar10' ? 'CIFAR10' : c.data.dataset),
    'data.image_size': () => u.imageSize,
    'data.random_flip': () => (c.data.dataset === 'toy' ? undefined : c.data.randomFlip),
    'data.centered': () => u.centered,
    'data.uniform_dequantization': () =>
      c.data.dataset === 'toy' ? undefined : c.data.uniformDequantization,
    'data.num_channels': () => u.numChannels,
    'model.sigma_min': () => c.sde.sigmaMin,
    'model.sigma_max': () => c.sde.sigmaMax,
    'model.num_scales': () => c.sde.numScales,
    'model.beta_min': () => c.sde.betaMin,
    'model.beta_max': () => c.sde.betaMax,
    'model.ema_rate': () => c.model.emaRate,
    'model.name': () => u.architecture,
    'model.scale_by_sigma': () => u.scaleBySigma,
    'model.nonlinearity': () => u.nonlinearity,
    'model.nf': () => u.nf,
    'model.ch_mult': () => u.chMult,
    'model.num_res_blocks': () => u.numResBlocks,
    'model.attn_resolutions': () => u.attnResolutions,
    'model.dropout': () => u.dropout,
    'model.resamp_with_conv': () => u.resampWithConv,
    'model.conditional': () => u.conditional,
    'model.fir': () => u.fir,
    'model.fir_kernel': () => u.firKernel,
    'model.skip_rescale': () => u.skipRescale,
    'model.resblock_type': () => u.resblockType,
    'model.progressive': () => u.progressive,
    'model.progressive_input': () => u.progressiveInput,
    'model.progressive_combine': () => u.progressiveCombine,
    'model.init_scale': () => u.initScale,
    'model.embedding_type': () => u.embeddingType,
    'model.fourier_scale': () => u.fourierScale,
    'optim.weight_decay': () => c.optim.weightDecay,
    'optim.optimizer': () => (c.optim.optimizer === 'adam' ? 'Adam' : c.optim.optimizer),
    'optim.lr': () => c.optim.lr,
    'optim.beta1': () => c.optim.beta1,
    'optim.beta2': () => c.optim.beta2,
    'optim.eps': () => c.optim.eps,
    'optim.warmup': () => c.optim.warmup,
    'optim.grad_clip': () => c.optim.gradClip,
    seed: () => c.seed,
  };
  const getter = getters[key];
  if (getter === undefined) throw new Error(`no trainer counterpart for reference key ${key}`);
  return getter();
}

/**
 * Reference keys whose only value @sbm/unet implements, so they have no trainer field: the table must hold
 * exactly that value (GroupNorm everywhere, DDPM-style attention, 3×3 convolutions).
 */
const FIXED_IN_UNET: Reference = {
  'model.normalization': 'GroupNorm',
  'model.attention_type': 'ddpm',
  'model.conv_size': 3,
};

const PARAMETERS: Record<string, number> = {
  // Parameter counts of the published score_sde_pytorch networks, as stated in packages/unet/README.md
  // (tested against PyTorch there).
  'vp/cifar10_ddpmpp_continuous': 61_804_419,
  'subvp/cifar10_ddpmpp_continuous': 61_804_419,
  've/cifar10_ncsnpp_continuous': 62_758_915,
  'vp/ddpm/cifar10_continuous': 35_218_947,
};

describe('score_sde CIFAR-10 presets', () => {
  for (const [name, reference] of Object.entries(REFERENCES)) {
    describe(name, () => {
      const config = validateConfig(trainerPreset(name), name);
      const unet = resolveUNetConfig(config);

      it('equals the score_sde config field by field', () => {
        const keys = Object.keys(reference).filter((k) => !(k in FIXED_IN_UNET));
        const actual = Object.fromEntries(keys.map((k) => [k, readReferenceKey(k, config, unet)]));
        const expected = Object.fromEntries(keys.map((k) => [k, reference[k]]));
        expect(actual).toStrictEqual(expected);
      });

      it('uses only reference values @sbm/unet implements for the keys it does not expose', () => {
        for (const [key, value] of Object.entries(FIXED_IN_UNET)) {
          if (key in reference) expect(reference[key], key).toEqual(value);
        }
      });

      it('names the @sbm/unet preset of the same reference config', () => {
        expect(config.model).toMatchObject({ kind: 'unet', preset: name });
      });

      it('builds a valid @sbm/unet config with the reference parameter count (counted, not built)', () => {
        expect(() => validateUNetConfig(unet)).not.toThrow();
        expect(countUNetParameters(unet)).toBe(PARAMETERS[name]);
      });
    });
  }

  it('has a reference table for every CIFAR-10 preset', () => {
    const cifar = TRAINER_PRESET_NAMES.filter((n) => n.includes('cifar10'));
    expect(cifar.sort()).toEqual(Object.keys(REFERENCES).sort());
  });

  it('fails the comparison when a value differs (the check is not vacuous)', () => {
    const raw = trainerPreset('vp/cifar10_ddpmpp_continuous');
    const changed = validateConfig({ ...raw, optim: { ...raw.optim, warmup: 4999 } });
    const unet = resolveUNetConfig(changed);
    expect(readReferenceKey('optim.warmup', changed, unet)).not.toBe(DEFAULT_CIFAR10['optim.warmup']);
  });
});

describe('small CPU presets', () => {
  it('mnist/small: VP SDE, ε-matching, Adam 2e-3, batch 64, EMA 0.999, UniPC, a U-Net of about 1.3 M parameters', () => {
    const config = validateConfig(trainerPreset('mnist/small'));
    expect(config.data).toMatchObject({ dataset: 'mnist', resolution: 28, channels: 1, randomFlip: false });
    expect(config.sde.kind).toBe('vp');
    expect(config.model).toMatchObject({ kind: 'unet', emaRate: 0.999, prediction: 'eps' });
    expect(config.training).toMatchObject({ batchSize: 64, loss: 'dsm', likelihoodWeighting: false });
    expect(config.optim).toMatchObject({ optimizer: 'adam', lr: 2e-3 });
    expect(config.sampling.sampler).toBe('unipc');
    const unet = resolveUNetConfig(config);
    expect(unet).toMatchObject({
      imageSize: 28,
      numChannels: 1,
      nf: 32,
      chMult: [1, 2, 2],
      attnResolutions: [7],
    });
    expect(countUNetParameters(unet)).toBe(1_259_393);
  });

  it('toy/mixture: 2-D mixture data with an MLP score model, which is not a U-Net', () => {
    const config = validateConfig(trainerPreset('toy/mixture'));
    expect(config.data.dataset).toBe('toy');
    expect(config.model).toMatchObject({ kind: 'mlp', hidden: 64, layers: 3 });
    expect(() => resolveUNetConfig(config)).toThrow(/model\.kind: expected 'unet'/);
  });
});

describe('every preset', () => {
  it.each(TRAINER_PRESET_NAMES.map((n) => [n]))('%s parses with the strict schema', (name) => {
    const result = trainerConfigSchema.safeParse(trainerPreset(name));
    expect(result.success, JSON.stringify(result.error?.issues)).toBe(true);
  });

  it('returns a fresh copy each time', () => {
    const a = trainerPreset('mnist/small');
    (a.optim as { lr: number }).lr = 1;
    expect(trainerPreset('mnist/small').optim?.lr).toBe(2e-3);
  });

  it('rejects an unknown preset, naming the nearest', () => {
    expect(() => trainerPreset('vp/cifar10_ddpmpp_continous')).toThrow(ConfigError);
    expect(() => trainerPreset('vp/cifar10_ddpmpp_continous')).toThrow(
      /preset: unknown preset 'vp\/cifar10_ddpmpp_continous'; did you mean vp\/cifar10_ddpmpp_continuous/,
    );
  });
});
