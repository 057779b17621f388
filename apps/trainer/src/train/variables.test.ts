import { SbmArgumentError } from '@sbm/sde';
import { expectNoLeaks, expectTensorsClose, useCpuBackend } from '@sbm/test-utils';
import { createUNet, unetPreset } from '@sbm/unet';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkNamedArrays, readVariables, trainableVariables, writeVariables } from './variables.js';

beforeAll(useCpuBackend);

const PRESET = () => unetPreset('tiny/ddpmpp', { nf: 8, imageSize: 4, attnResolutions: [2] });

describe('trainableVariables / readVariables / writeVariables', () => {
  it('keys a network and its rebuilt copy by the same names (tfjs renames the variables themselves)', () => {
    const a = createUNet(PRESET());
    const b = createUNet(PRESET());
    const va = trainableVariables(a);
    const vb = trainableVariables(b);
    expect(Object.keys(vb)).toEqual(Object.keys(va));
    expect(Object.keys(va).length).toBe(a.model.trainableWeights.length);
    // The tf.Variable names differ (uniquified), the keys do not.
    const first = Object.keys(va)[0]!;
    expect(va[first]!.name).not.toBe(vb[first]!.name);
    // Same object accepted as a LayersModel.
    expect(Object.keys(trainableVariables(a.model))).toEqual(Object.keys(va));
    // Round trip: b gets a's weights exactly.
    writeVariables(vb, readVariables(va));
    for (const name of Object.keys(va))
      expectTensorsClose(vb[name]!, va[name]!, { rtol: 0, atol: 0, message: name });
    a.dispose();
    b.dispose();
  });

  it('rejects what is not a layers model and mismatched arrays, naming the argument', () => {
    expect(() => trainableVariables({} as never)).toThrow(SbmArgumentError);
    const v = { w: tf.variable(tf.zeros([2, 2])) };
    const argument = (f: () => void) => {
      try {
        f();
      } catch (e) {
        return (e as SbmArgumentError).argument;
      }
      return 'no error';
    };
    expect(argument(() => writeVariables(v, { w: new Float32Array(3) }))).toBe("values['w']");
    expect(argument(() => writeVariables(v, {}))).toBe("values['w']");
    expect(
      argument(() => checkNamedArrays('state.m', { w: new Float32Array(4), x: new Float32Array(1) }, v)),
    ).toBe("state.m['x']");
    tf.dispose(Object.values(v));
  });

  it('leaks no tensors', async () => {
    const net = createUNet(PRESET());
    const vars = trainableVariables(net);
    await expectNoLeaks(() => writeVariables(trainableVariables(net), readVariables(vars)));
    net.dispose();
  });
});
