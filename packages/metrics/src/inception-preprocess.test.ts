import { setupBackend } from '@sbm/backend';
import { SbmArgumentError } from '@sbm/sde';
import { expectNoLeaks } from '@sbm/test-utils';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  formulaBatch,
  type InceptionReference,
  loadInceptionReference,
  maxAbsDiff,
} from './inception-fixtures.test-support.js';
import { FID_INCEPTION_SIZE, imagesFromUint8, preprocessForInception } from './inception-preprocess.js';

let ref: InceptionReference;

beforeAll(() => {
  ref = loadInceptionReference();
});

/** The preprocessed `[1, 299, 299, 3]` image at rows and columns `sample`, row-major `[s, s, 3]`. */
function sampled(x: tf.Tensor4D, sample: number[]): Float32Array {
  const data = x.dataSync();
  const out = new Float32Array(sample.length * sample.length * 3);
  sample.forEach((r, i) => {
    sample.forEach((c, j) => {
      for (let k = 0; k < 3; k++)
        out[(i * sample.length + j) * 3 + k] = data[(r * FID_INCEPTION_SIZE + c) * 3 + k]!;
    });
  });
  return out;
}

describe.each(['wasm', 'cpu'] as const)('preprocessForInception on %s', (backend) => {
  beforeAll(() => setupBackend({ prefer: backend, importModule: (n) => import(n) }));

  // Reference: PyTorch F.interpolate(size=(299, 299), mode='bilinear', align_corners=False) then 2x − 1, in
  // float64 (scripts/inception-reference.py), at every 13th row and column and the last one. Inputs: 32×32 and
  // 28×28 grey (upsampled), 299×299 (unchanged), 384×512 (downsampled, non-square). Tolerance 2e-6 absolute
  // (float32 interpolation of values in [-1, 1]).
  it.each([0, 1, 2, 3])('matches PyTorch on input %i', (i) => {
    const spec = ref.meta.inputs[i]!;
    const images = formulaBatch([spec]);
    const x = preprocessForInception(images);
    expect(x.shape).toEqual([1, 299, 299, 3]);
    const n = ref.meta.sample.length * ref.meta.sample.length * 3;
    const expected = ref.preprocessed.subarray(i * n, (i + 1) * n);
    expect(maxAbsDiff(sampled(x, ref.meta.sample), expected)).toBeLessThan(2e-6);
    tf.dispose([images, x]);
  });

  it('leaks no tensors (grey input, resized)', async () => {
    const images = formulaBatch([ref.meta.inputs[3]!]);
    await expectNoLeaks(() => preprocessForInception(images));
    images.dispose();
  });
});

describe('preprocessForInception argument checks', () => {
  beforeAll(() => setupBackend({ prefer: 'cpu' }));

  it('rejects a wrong rank, channel count or dtype, naming the argument', () => {
    const rank3 = tf.zeros([8, 8, 3]);
    const rgba = tf.zeros([1, 8, 8, 4]);
    const ints = tf.zeros([1, 8, 8, 3], 'int32');
    expect(() => preprocessForInception(rank3 as tf.Tensor4D)).toThrow(SbmArgumentError);
    expect(() => preprocessForInception(rank3 as tf.Tensor4D)).toThrow(
      /^images: expected a tf\.Tensor4D \[B,H,W,C\] \(channels last\), got a tensor of shape \[8,8,3\]/,
    );
    expect(() => preprocessForInception(rgba as tf.Tensor4D, 'samples')).toThrow(
      /^samples: expected 1 \(grey\) or 3 \(RGB\) channels .* got shape \[1,8,8,4\]/,
    );
    expect(() => preprocessForInception(ints as tf.Tensor4D)).toThrow(
      /^images: .*got dtype int32 .*imagesFromUint8/,
    );
    expect(() => preprocessForInception([1, 2] as unknown as tf.Tensor4D)).toThrow(
      /^images: expected a tf\.Tensor4D/,
    );
    tf.dispose([rank3, rgba, ints]);
  });

  it('rejects NaN and values outside [0, 1], stating the range and how to rescale', () => {
    const nan = tf.tensor4d([0.5, Number.NaN, 0.2], [1, 1, 1, 3]);
    const bytes = tf.tensor4d([0, 128, 255], [1, 1, 1, 3]);
    const signed = tf.tensor4d([-1, 0, 0.5], [1, 1, 1, 3]);
    expect(() => preprocessForInception(nan)).toThrow(/^images: contains NaN/);
    expect(() => preprocessForInception(bytes)).toThrow(
      /^images: expected values in \[0, 1\], found values in \[0, 255\]; divide 8-bit pixels by 255/,
    );
    expect(() => preprocessForInception(signed)).toThrow(/found values in \[-1, 0\.5\].*\(x \+ 1\) \/ 2/);
    tf.dispose([nan, bytes, signed]);
  });
});

describe('imagesFromUint8', () => {
  beforeAll(() => setupBackend({ prefer: 'cpu' }));

  it('maps every 8-bit value p to the float32 nearest p / 255 (0 → 0, 255 → 1), keeping the layout', () => {
    const data = Uint8Array.from({ length: 256 * 3 }, (_, i) => (i * 7) % 256);
    const x = imagesFromUint8(data, [2, 8, 16, 3]);
    expect(x.shape).toEqual([2, 8, 16, 3]);
    expect(x.dtype).toBe('float32');
    const v = x.dataSync();
    for (let i = 0; i < data.length; i++) {
      // Nearest float32 to p/255: within half an ulp (2^-24 relative), and 255·v rounds back to p.
      expect(Math.abs(v[i]! - data[i]! / 255)).toBeLessThanOrEqual((data[i]! / 255) * 2 ** -24);
      expect(Math.round(v[i]! * 255)).toBe(data[i]);
    }
    expect(Math.min(...v)).toBe(0);
    expect(Math.max(...v)).toBe(1);
    x.dispose();
  });

  it('rejects mismatched lengths, bad shapes and non-byte data', () => {
    expect(() => imagesFromUint8(new Uint8Array(10), [1, 2, 2, 3])).toThrow(
      /^data: expected 12 pixels for shape \[1,2,2,3\], got 10/,
    );
    expect(() => imagesFromUint8(new Uint8Array(16), [1, 2, 2, 4])).toThrow(
      /^shape: expected 1 \(grey\) or 3/,
    );
    expect(() =>
      imagesFromUint8(new Uint8Array(4), [1, 2, 2] as unknown as [number, number, number, number]),
    ).toThrow(/^shape: expected four positive integers/);
    expect(() => imagesFromUint8(new Float32Array(12) as unknown as Uint8Array, [1, 2, 2, 3])).toThrow(
      /^data: expected a Uint8Array/,
    );
  });
});
