import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setupBackend } from '@sbm/backend';
import { SbmArgumentError } from '@sbm/sde';
import { expectNoLeaks } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FID_INCEPTION_CLASSES, FID_INCEPTION_FEATURES } from './inception-blocks.js';
import {
  fixtureBytes,
  formulaBatch,
  type InceptionReference,
  loadFixtureInception,
  loadInceptionReference,
  maxAbs,
  maxAbsDiff,
  rms,
  row,
  std,
} from './inception-fixtures.test-support.js';
import { type FidInception, loadFidInception } from './inception-v3.js';

// Reference: scripts/inception-reference.py — pytorch-fid's fid_inception_v3() built from torchvision 0.14's
// Inception3 with the FID blocks, non-trivial strided weights saved in torch's legacy format, float64 forward.
let ref: InceptionReference;
let model: FidInception;

beforeAll(async () => {
  await setupBackend({ prefer: 'wasm', importModule: (n) => import(n) });
  ref = loadInceptionReference();
  model = loadFixtureInception();
});

afterAll(() => model?.dispose());

// Tolerance: max |tfjs − torch| over an output ≤ 1e-4 × max |torch| (tfjs runs in float32, the reference in
// float64; PyTorch's own float32 forward is 0.7–4e-5 off by the same measure, reference.json torchFloat32RelErr).
const REL_TOL = 1e-4;

function expectClose(actual: Float32Array, expected: Float32Array): void {
  expect(maxAbsDiff(actual, expected)).toBeLessThan(REL_TOL * maxAbs(expected));
}
const MAIN_INPUTS = [0, 1, 2, 3];

describe('loadFidInception + FidInception.apply against pytorch-fid (torch 1.13)', () => {
  it("has numParams equal to the element count of pytorch-fid's state dict (without num_batches_tracked)", () => {
    expect(ref.meta.paramCount).toBe(23_885_392);
    expect(model.numParams).toBe(ref.meta.paramCount);
  });

  const seen: Float32Array[] = [];
  it.each(MAIN_INPUTS)('input %i: pool3 [1,2048] and logits [1,1008] within 1e-4 × max |reference|', (i) => {
    const spec = ref.meta.inputs[i]!;
    const images = formulaBatch([spec]);
    const { pool3, logits } = model.apply(images);
    expect(pool3.shape).toEqual([1, FID_INCEPTION_FEATURES]);
    expect(logits.shape).toEqual([1, FID_INCEPTION_CLASSES]);
    const p = pool3.dataSync() as Float32Array;
    const l = logits.dataSync() as Float32Array;
    const pRef = row(ref.pool3, i, FID_INCEPTION_FEATURES);
    const lRef = row(ref.logits, i, FID_INCEPTION_CLASSES);
    expectClose(p, pRef);
    expectClose(l, lRef);
    // Non-trivial activations: the features vary across the 2048 channels.
    expect(std(p)).toBeGreaterThan(0.1);
    seen.push(p.slice());
    tf.dispose([images, pool3, logits]);
  });

  it('gives clearly different features for the different inputs', () => {
    expect(seen).toHaveLength(MAIN_INPUTS.length);
    for (let a = 0; a < seen.length; a++) {
      for (let b = a + 1; b < seen.length; b++) {
        const diff = seen[a]!.map((v, k) => v - seen[b]![k]!);
        expect(rms(diff)).toBeGreaterThan(0.1 * rms(seen[a]!));
      }
    }
  });

  it('leaks no tensors in apply and applyPreprocessed', async () => {
    // The reference tests above ran the forward pass already, so no warm-up call is needed.
    const images = formulaBatch([ref.meta.inputs[0]!]);
    await expectNoLeaks(() => model.apply(images), { warmup: 0, repeats: 1 });
    const small = tf.zeros([2, 75, 80, 3]) as tf.Tensor4D;
    await expectNoLeaks(() => model.applyPreprocessed(small));
    tf.dispose([images, small]);
  });
});

describe('loadFidInception rejects other files', () => {
  it('names missing keys, wrong shapes and unexpected keys (the fixture re-saved with changes)', () => {
    const bytes = fixtureBytes('fid_inception_bad_keys.pth');
    const call = () => loadFidInception(bytes, { name: 'bad.pth' });
    expect(call).toThrow(SbmArgumentError);
    expect(call).toThrow(
      /^bytes: bad\.pth is not the FID Inception weights \(pt_inception-2015-12-05\): missing key Mixed_6e\.branch7x7_1\.conv\.weight; /,
    );
    expect(call).toThrow(/fc\.weight has shape \[1000,2048\], expected \[1008,2048\]/);
    expect(call).toThrow(/fc\.bias has shape \[1000\], expected \[1008\]/);
    expect(call).toThrow(/unexpected key AuxLogits\.fc\.weight/);
  });

  it("rejects a score_sde checkpoint (the shared ddpm_small.pth) as not the FID Inception's state dict", () => {
    // The shared score_sde checkpoints beside the repository: <repo>/../shared/fixtures/score-sde.
    const path = fileURLToPath(
      new URL('../../../../shared/fixtures/score-sde/ddpm_small.pth', import.meta.url),
    );
    const bytes = new Uint8Array(readFileSync(path));
    expect(() => loadFidInception(bytes)).toThrow(
      /^bytes: the state dict is not the FID Inception weights \(pt_inception-2015-12-05\): missing keys Conv2d_1a_3x3\.conv\.weight, .* and 466 more; unexpected keys .*model.*ema/,
    );
  });

  it('rejects bytes that are not a torch checkpoint, and non-bytes', () => {
    expect(() => loadFidInception(new Uint8Array([1, 2, 3, 4]))).toThrow(/^bytes: /);
    expect(() => loadFidInception('model.pth' as unknown as Uint8Array)).toThrow(
      /^bytes: expected the bytes of a \.pth file \(Uint8Array\), got string/,
    );
  });
});

describe('FidInception argument checks and disposal', () => {
  it('applyPreprocessed rejects inputs that are not [B,H,W,3] with H, W >= 75', () => {
    const grey = tf.zeros([1, 80, 80, 1]) as tf.Tensor4D;
    const small = tf.zeros([1, 74, 80, 3]) as tf.Tensor4D;
    expect(() => model.applyPreprocessed(grey)).toThrow(/^x: expected a float32 tf\.Tensor4D \[B,H,W,3\]/);
    expect(() => model.applyPreprocessed(small)).toThrow(/^x: expected H, W >= 75, got shape \[1,74,80,3\]/);
    tf.dispose([grey, small]);
  });

  it('dispose frees every weight tensor (94 folded convs × 2 + fc × 2) and later calls throw', () => {
    // Runs last: disposes the shared model (afterAll's second dispose is a no-op).
    const before = tf.memory().numTensors;
    model.dispose();
    expect(before - tf.memory().numTensors).toBe(94 * 2 + 2);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before - 94 * 2 - 2);
    const images = tf.zeros([1, 32, 32, 3]) as tf.Tensor4D;
    expect(() => model.apply(images)).toThrow(/^FidInception: the model has been disposed/);
    images.dispose();
  });
});
