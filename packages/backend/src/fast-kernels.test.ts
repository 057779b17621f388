import { SbmArgumentError } from '@sbm/sde';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  fastKernelNames,
  hasFastKernels,
  originalKernel,
  registerFastKernels,
  unregisterFastKernels,
} from './fast-kernels.js';

describe('registerFastKernels', () => {
  it('registers explicitly and idempotently, keeps the originals and restores them', () => {
    const stock = tf.getKernel('Conv2DBackpropFilter', 'cpu');
    expect(stock).toBeDefined();
    expect(hasFastKernels('cpu')).toBe(false);
    expect(registerFastKernels('cpu')).toEqual(fastKernelNames('cpu'));
    expect(registerFastKernels('cpu')).toEqual([]);
    expect(hasFastKernels('cpu')).toBe(true);
    expect(tf.getKernel('Conv2DBackpropFilter', 'cpu')).not.toBe(stock);
    expect(originalKernel('Conv2DBackpropFilter', 'cpu')).toBe(stock);
    unregisterFastKernels('cpu');
    unregisterFastKernels('cpu');
    expect(hasFastKernels('cpu')).toBe(false);
    expect(tf.getKernel('Conv2DBackpropFilter', 'cpu')).toBe(stock);
  });

  it('names the argument for other backends and for a backend package that is not loaded', () => {
    expect(() => registerFastKernels('webgl')).toThrow(SbmArgumentError);
    expect(() => registerFastKernels('webgl')).toThrow(/^backendName: expected 'cpu' or 'wasm'/);
    expect(() => fastKernelNames('tensorflow')).toThrow(/^backendName: /);
    // This file does not import @tensorflow/tfjs-backend-wasm.
    expect(() => registerFastKernels('wasm')).toThrow(
      /^backendName: the 'wasm' backend has no kernels registered/,
    );
  });
});
