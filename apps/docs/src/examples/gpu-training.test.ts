// Runs the examples of guides/gpu-training.md on this machine (no tfjs-node-gpu installed): the best backend is
// wasm, and asking for the GPU fails with an error that names the missing package.
import { SbmBackendError } from '@sbm/backend';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it, vi } from 'vitest';
import { bestBackend, requireGpu } from './gpu-training.js';

describe('guides/gpu-training examples', () => {
  it('picks the best backend that loads and explains what it passed over', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const report = await bestBackend();
    expect(tf.getBackend()).toBe(report.backendName);
    expect(log).toHaveBeenCalledWith(report.message);
    const gpu = report.candidates.find((c) => c.choice === 'tensorflow-gpu');
    if (report.choice === 'tensorflow-gpu') {
      expect(gpu?.available).toBe(true);
    } else {
      // Without the GPU package the report says so, and training falls back to wasm (or cpu).
      expect(['wasm', 'cpu']).toContain(report.backendName);
      expect(gpu?.available).toBe(false);
      expect(report.message).toMatch(/tensorflow-gpu: @tensorflow\/tfjs-node-gpu is not installed/);
    }
    log.mockRestore();
  });

  it('requireGpu throws an SbmBackendError naming @tensorflow/tfjs-node-gpu when it cannot load', async () => {
    const installed = await import('@tensorflow/tfjs-node-gpu' as string).then(
      () => true,
      () => false,
    );
    if (installed) return; // a GPU box: nothing to refuse
    const error = await requireGpu().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SbmBackendError);
    expect((error as SbmBackendError).choice).toBe('tensorflow-gpu');
    expect((error as Error).message).toMatch(/@tensorflow\/tfjs-node-gpu is not installed/);
  });
});
