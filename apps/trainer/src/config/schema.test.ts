import { backendChoices } from '@sbm/backend';
import { UNET_PRESET_NAMES } from '@sbm/unet';
import { describe, expect, it } from 'vitest';
import { formatConfigError } from './format-config-error.js';
import { trainerPreset } from './presets.js';
import { BACKENDS, type TrainerConfigInput, trainerConfigSchema } from './schema.js';

const minimal: TrainerConfigInput = {
  data: { dataset: 'cifar10' },
  model: { kind: 'unet', preset: 'vp/cifar10_ddpmpp_continuous' },
  sde: { kind: 'vp' },
  sampling: { sampler: 'pc' },
};

function problems(raw: unknown): string[] {
  const result = trainerConfigSchema.safeParse(raw, { reportInput: true });
  return result.success ? [] : formatConfigError(result.error, raw);
}

describe('trainerConfigSchema', () => {
  it('fills in the score_sde defaults (default_cifar10_configs.py) for omitted keys', () => {
    const config = trainerConfigSchema.parse(minimal);
    expect(config.training).toMatchObject({
      batchSize: 128,
      nIters: 1_300_001,
      reduceMean: false,
      continuous: true,
    });
    expect(config.optim).toEqual({
      optimizer: 'adam',
      lr: 2e-4,
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      warmup: 5000,
      gradClip: 1,
      weightDecay: 0,
    });
    expect(config.sde).toEqual({
      kind: 'vp',
      betaMin: 0.1,
      betaMax: 20,
      sigmaMin: 0.01,
      sigmaMax: 50,
      numScales: 1000,
    });
    expect(config.sampling).toMatchObject({ sampler: 'pc', snr: 0.16, correctorSteps: 1, denoise: true });
    expect(config.eval).toMatchObject({ beginCkpt: 9, endCkpt: 26, batchSize: 1024, numSamples: 50_000 });
    expect(config.data).toMatchObject({ resolution: 32, channels: 3, randomFlip: true, centered: false });
    expect(config.model).toMatchObject({ emaRate: 0.9999 });
    expect(config.seed).toBe(42);
    expect(config.backend).toBe('auto');
  });

  it('rejects unknown keys at every level, naming them and the nearest valid key', () => {
    expect(problems({ ...minimal, seeed: 1 })[0]).toMatch(/^seeed: unknown key; did you mean seed\?/);
    expect(problems({ ...minimal, sde: { kind: 'vp', betamax: 10 } })[0]).toMatch(
      /^sde\.betamax: unknown key; did you mean sde\.betaMax /,
    );
    expect(problems({ ...minimal, sampling: { sampler: 'ddim', predictor: 'none' } })[0]).toMatch(
      /^sampling\.predictor: unknown key; .*\(valid keys of sampling: sampler, numSamples/,
    );
  });

  it('names the key path, what was expected and what it got', () => {
    expect(problems({ ...minimal, optim: { lr: -1 } })).toEqual([
      'optim.lr: expected a positive number, got -1',
    ]);
    expect(problems({ ...minimal, training: { batchSize: 1.5 } })).toEqual([
      'training.batchSize: expected a positive integer, got 1.5',
    ]);
    expect(problems({ ...minimal, model: { ...minimal.model, chMult: [1, 0] } })).toEqual([
      'model.chMult[1]: expected a positive integer, got 0',
    ]);
    expect(problems({ ...minimal, sde: { kind: 'vpp' } })).toEqual([
      "sde.kind: expected one of 'vp', 'subvp', 've', got \"vpp\"",
    ]);
    expect(problems({ ...minimal, model: { kind: 'cnn' } })).toEqual([
      'model.kind: expected one of "unet", "mlp", got "cnn"',
    ]);
    expect(problems({ ...minimal, data: undefined })).toEqual([
      'data: expected a section (mapping of keys), got nothing (the key is missing)',
    ]);
    expect(problems({ ...minimal, optim: { beta1: 1 } })).toEqual([
      'optim.beta1: expected a number in [0, 1), got 1',
    ]);
  });

  it('checks rules across sections', () => {
    const sde = (kind: string) => ({ ...minimal, sde: { kind } });
    expect(problems({ ...sde('ve'), training: { loss: 'ddpm', continuous: false } })).toEqual([
      "training.loss: expected 'dsm' with sde.kind 've' ('ddpm' needs 'vp'), got \"ddpm\"",
    ]);
    expect(problems({ ...sde('vp'), training: { loss: 'ddpm' } })).toEqual([
      "training.continuous: expected false with training.loss 'ddpm' (a discrete-time loss), got true",
    ]);
    expect(
      problems({ ...sde('vp'), training: { loss: 'ddpm', continuous: false, likelihoodWeighting: true } }),
    ).toEqual([
      "training.likelihoodWeighting: expected false with training.loss 'ddpm' (only 'dsm' has weightings), got true",
    ]);
    // the network's output and time input must be ones the loss trains (they go into the exported sidecar)
    expect(problems({ ...sde('vp'), model: { ...minimal.model, prediction: 'score' } })).toEqual([
      "model.prediction: expected 'eps', 'x0', 'v' with sde.kind 'vp', got \"score\"",
    ]);
    expect(problems({ ...sde('ve'), model: { ...minimal.model, prediction: 'eps' } })).toEqual([
      "model.prediction: expected 'score' with sde.kind 've', got \"eps\"",
    ]);
    expect(problems({ ...sde('vp'), model: { ...minimal.model, timeInput: 'sigma' } })).toEqual([
      "model.timeInput: expected 'index' or 'continuous' with sde.kind 'vp' and training.continuous true, got \"sigma\"",
    ]);
    expect(
      problems({
        ...sde('vp'),
        model: { ...minimal.model, timeInput: 'continuous' },
        training: { loss: 'ddpm', continuous: false },
      }),
    ).toEqual([
      "model.timeInput: expected 'index' with sde.kind 'vp' and training.continuous false, got \"continuous\"",
    ]);
    expect(problems({ ...minimal, sde: { kind: 'vp', betaMin: 30 } })).toEqual([
      'sde.betaMax: expected a number greater than sde.betaMin (30), got 20',
    ]);
    expect(problems({ ...minimal, data: { dataset: 'folder' } })).toEqual([
      "data.path: expected a path (string) for data.dataset 'folder', got nothing (the key is missing)",
    ]);
    expect(problems({ ...minimal, data: { dataset: 'toy' } })).toEqual([
      "model.kind: expected 'mlp' for data.dataset 'toy', got \"unet\"",
    ]);
    expect(problems({ ...minimal, training: { labelDropout: 0.1 } })).toEqual([
      'training.labelDropout: expected 0 for unconditional data (data.numClasses is 0), got 0.1',
    ]);
    expect(problems({ ...sde('ve'), training: { loss: 'smld', continuous: false } })).toEqual([]);
  });

  it('accepts every @sbm/unet preset name and every @sbm/backend choice', () => {
    for (const preset of UNET_PRESET_NAMES) {
      expect(problems({ ...minimal, model: { kind: 'unet', preset } })).toEqual([]);
    }
    expect(BACKENDS).toEqual(['auto', ...backendChoices]);
  });

  it('accepts the options of each sampler and no others', () => {
    const ok = [
      { sampler: 'ode', method: 'heun', steps: 30 },
      { sampler: 'ddpm', variance: 'large' },
      { sampler: 'edm', sChurn: 40, rho: 7 },
      { sampler: 'dpmSolver', order: 3, spacing: 'logSNR' },
      { sampler: 'dpmSolverPlusPlus', algorithm: 'sde-dpmsolver++' },
      { sampler: 'unipc', variant: 'bh1', predictX0: false },
    ];
    for (const sampling of ok) expect(problems({ ...minimal, sampling })).toEqual([]);
    expect(problems({ ...minimal, sampling: { sampler: 'unipc', order: 4 } })).toEqual([
      'sampling.order: expected 1, 2 or 3, got 4',
    ]);
  });

  it('keeps presets valid after a JSON round trip', () => {
    const raw = JSON.parse(JSON.stringify(trainerPreset('ve/cifar10_ncsnpp_continuous')));
    expect(trainerConfigSchema.safeParse(raw).success).toBe(true);
  });
});
