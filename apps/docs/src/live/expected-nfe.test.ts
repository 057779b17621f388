import { VPSDE } from '@sbm/sde';
import { expectNoLeaks, useCpuBackend } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectedNfe, SAMPLER_IDS, SAMPLER_INFO } from './expected-nfe.js';
import { LIVE_MIXTURE, mixtureScore } from './mixture.js';
import { runSampler } from './run-sampler.js';

beforeAll(useCpuBackend);

const sde = new VPSDE();
const exact = mixtureScore(LIVE_MIXTURE, sde);

/** The exact score, counting its calls: an NFE count independent of the samplers' own. */
function countingScore() {
  const counter = { calls: 0 };
  const model = (x: tf.Tensor, t: tf.Tensor) => {
    counter.calls++;
    return exact(x, t);
  };
  return { counter, model };
}

describe('expectedNfe', () => {
  for (const id of SAMPLER_IDS) {
    const stepCounts = id === 'ode-rk45' ? [20] : [1, 2, 5, 20];
    it(`${id}: the documented rule (${SAMPLER_INFO[id].rule}) is what the sampler reports and what it calls`, async () => {
      for (const steps of stepCounts) {
        const { counter, model } = countingScore();
        const seen: number[] = [];
        const result = await runSampler(id, {
          sde,
          model,
          steps,
          shape: [32, 2],
          seed: 5,
          onStep: (_x, _t, index) => {
            seen.push(index);
          },
        });
        const values = result.samples.dataSync();
        result.samples.dispose();
        expect(values.every(Number.isFinite)).toBe(true);
        expect(result.nfe).toBe(counter.calls);
        expect(result.nfe).toBe(expectedNfe(id, steps, result.adaptive));
        if (id === 'ode-rk45') {
          // One callback per accepted step.
          expect(seen.length).toBe(result.adaptive!.accepted);
          expect(result.adaptive!.accepted).toBeGreaterThan(0);
        } else {
          expect(seen).toEqual(Array.from({ length: steps }, (_, i) => i));
        }
      }
    });
  }

  it('rejects what it cannot count, naming the argument', () => {
    expect(() => expectedNfe('ode-rk45', 20)).toThrow(/^adaptive:/);
    expect(() => expectedNfe('ddim', 0)).toThrow(/^steps:/);
    expect(() => expectedNfe('nope' as never, 3)).toThrow(/^sampler:/);
  });
});

describe('runSampler', () => {
  it('shows EDM in data space: the last state it shows is the sample', async () => {
    let last: Float32Array | undefined;
    let lastT = Number.NaN;
    const result = await runSampler('edm-heun', {
      sde,
      model: exact,
      steps: 6,
      shape: [16, 2],
      seed: 2,
      onStep: async (x, t) => {
        last = (await x.data()) as Float32Array;
        lastT = t;
      },
    });
    expect(lastT).toBe(0);
    expect(Array.from(last!)).toEqual(Array.from(result.samples.dataSync()));
    result.samples.dispose();
  });

  it('leaks no tensors', async () => {
    for (const id of ['pc-langevin', 'edm-heun', 'dpm-solver-pp-2m'] as const) {
      await expectNoLeaks(async () => {
        const { samples } = await runSampler(id, {
          sde,
          model: exact,
          steps: 4,
          shape: [8, 2],
          seed: 1,
          onStep: async (x) => {
            await x.data();
          },
        });
        return samples;
      });
    }
  });

  it('stops between steps when aborted', async () => {
    const controller = new AbortController();
    const before = tf.memory().numTensors;
    await expect(
      runSampler('ddim', {
        sde,
        model: exact,
        steps: 10,
        shape: [8, 2],
        seed: 1,
        signal: controller.signal,
        onStep: (_x, _t, index) => {
          if (index === 2) controller.abort(new Error('stopped'));
        },
      }),
    ).rejects.toThrow('stopped');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('names an unknown sampler', async () => {
    await expect(
      runSampler('nope' as never, { sde, model: exact, steps: 3, shape: [2, 2], seed: 0 }),
    ).rejects.toThrow(/^id:/);
  });
});
