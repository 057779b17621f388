// The matching rules of model-inputs.ts on declared input lists (the data a model's `inputs`/`inputNodes`
// hold; the same rules on real GraphModels and LayersModels are tested in model-graph/model-layers.test.ts).
import { SbmArgumentError } from '@sbm/sde';
import { describe, expect, it } from 'vitest';
import {
  channelsFirstPerm,
  channelsLastPerm,
  type DeclaredTensor,
  declaredTensors,
  findTensor,
  MODEL_INPUT_ALIASES,
  normalizeTensorName,
  planInputs,
  planOutput,
  shapeFits,
  signatureTensor,
  toChannelsFirst,
} from './model-inputs.js';

/** Declared inputs named `names` (shape [-1], float32), as declaredTensors reads them. */
const declare = (...names: string[]): DeclaredTensor[] =>
  declaredTensors(
    names.map((name) => ({ name, shape: [-1], dtype: 'float32' })),
    undefined,
  )!;

describe('names', () => {
  it('normalizes converter and Keras names', () => {
    expect(normalizeTensorName('serving_default_class_labels:0')).toBe('class_labels');
    expect(normalizeTensorName('Timestep')).toBe('timestep');
    expect(normalizeTensorName('noise-level')).toBe('noise_level');
    expect(normalizeTensorName('x_1')).toBe('x_1');
  });

  it('the aliases are normalized, frozen and belong to one role each', () => {
    const all = [...MODEL_INPUT_ALIASES.x, ...MODEL_INPUT_ALIASES.t, ...MODEL_INPUT_ALIASES.labels];
    expect(new Set(all).size).toBe(all.length);
    for (const a of all) expect(normalizeTensorName(a)).toBe(a);
    expect(Object.isFrozen(MODEL_INPUT_ALIASES)).toBe(true);
    expect(Object.isFrozen(MODEL_INPUT_ALIASES.t)).toBe(true);
  });

  it('reads declared tensors, with keys and signature shapes where the graph declares none', () => {
    const declared = declaredTensors(
      [
        { name: 'serving_default_sample', shape: [-1, 32, 32, 3], dtype: 'float32' },
        { name: 'Identity' }, // an output node: no shape or dtype attributes
        { name: 'x_1', shape: [null, 2], dtype: 'float32' }, // LayersModel: null for free sizes
      ],
      ['sample', 'output_0', 'x'],
      {
        output_0: {
          name: 'Identity:0',
          dtype: 'DT_INT64',
          tensorShape: { dim: [{ size: '-1' }, { size: '4' }] },
        },
      },
    );
    expect(declared).toEqual([
      {
        key: 'sample',
        names: ['sample', 'serving_default_sample'],
        shape: [-1, 32, 32, 3],
        dtype: 'float32',
      },
      { key: 'output_0', names: ['output_0', 'Identity'], shape: [-1, 4], dtype: 'int32' },
      { key: 'x', names: ['x', 'x_1'], shape: [-1, 2], dtype: 'float32' },
    ]);
    expect(declaredTensors(undefined, undefined)).toBeUndefined();
    expect(declaredTensors([], undefined)).toBeUndefined();
    expect(signatureTensor({ dtype: 'DT_FLOAT', tensorShape: { unknownRank: true } })).toEqual({
      dtype: 'float32',
    });
    expect(signatureTensor({ dtype: 'DT_BOOL', tensorShape: {} })).toEqual({ dtype: 'bool', shape: [] });
    expect(findTensor(declared!, 'serving_default_sample:0')).toBe(0);
    expect(findTensor(declared!, 'X')).toBe(2);
    expect(findTensor(declared!, 'labels')).toBe(-1);
  });
});

describe('planInputs', () => {
  it('recognizes x, t and labels by name in any order', () => {
    expect(planInputs(declare('timestep', 'sample', 'class_labels'), undefined, 'm')).toEqual({
      x: 1,
      t: 0,
      labels: 2,
      named: true,
    });
    expect(planInputs(declare('y', 'noise_level', 'x_t'), undefined, 'm')).toEqual({
      x: 2,
      t: 1,
      labels: 0,
      named: true,
    });
    expect(planInputs(declare('x', 't'), undefined, 'm')).toMatchObject({ x: 0, t: 1, labels: -1 });
  });

  it('falls back to the order [x, t, labels] when names say nothing, consistent with any name match', () => {
    expect(planInputs(undefined, undefined, 'm')).toEqual({ x: 0, t: 1, labels: 2, named: false });
    expect(planInputs(declare('input1', 'input2'), undefined, 'm')).toMatchObject({ x: 0, t: 1, labels: -1 });
    expect(planInputs(declare('input_1', 'input_2', 'input_3'), undefined, 'm')).toMatchObject({
      x: 0,
      t: 1,
      labels: 2,
    });
    expect(planInputs(declare('sample', 'emb'), undefined, 'm')).toMatchObject({ x: 0, t: 1 });
    expect(planInputs(declare('a', 'b', 'class_labels'), undefined, 'm')).toMatchObject({
      x: 0,
      t: 1,
      labels: 2,
    });
    // labels by name at position 0 contradicts the order
    expect(() => planInputs(declare('class_labels', 'a', 'b'), undefined, 'm')).toThrow(
      "options.inputNames: cannot tell which inputs of m take x and t; its inputs are 'class_labels' [-1] float32, " +
        "'a' [-1] float32, 'b' [-1] float32; name them, e.g. inputNames: { x: 'class_labels', t: 'a' }",
    );
    expect(() => planInputs(declare('a', 'b', 'c', 'd'), undefined, 'm')).toThrow(
      /^options\.inputNames: cannot tell/,
    );
    // two candidates for x: ambiguous, and t's name is not at position 1
    expect(() => planInputs(declare('x', 'sample', 't'), undefined, 'm')).toThrow(
      /^options\.inputNames: cannot tell/,
    );
  });

  it('takes explicit names first (key, node name or a normalized spelling) and checks them', () => {
    const inputs = declaredTensors(
      [{ name: 'serving_default_a' }, { name: 'serving_default_b' }, { name: 'serving_default_c' }],
      ['a', 'b', 'c'],
    );
    expect(planInputs(inputs, { x: 'b', t: 'serving_default_c', labels: 'A' }, 'm')).toEqual({
      x: 1,
      t: 2,
      labels: 0,
      named: true,
    });
    expect(planInputs(declare('x', 'sample', 't'), { x: 'sample', labels: 'x' }, 'm')).toMatchObject({
      x: 1,
      t: 2,
      labels: 0,
    });
    expect(() => planInputs(declare('x', 'sample', 't'), { x: 'sample' }, 'm')).toThrow(
      "options.inputNames: m has inputs that are not x, t or labels: 'x' [-1] float32",
    );
    expect(() => planInputs(inputs, { x: 'd' }, 'm')).toThrow(
      /^options\.inputNames\.x: 'd' is not an input of m/,
    );
    expect(() => planInputs(inputs, { x: 'a', t: 'a' }, 'm')).toThrow(
      /^options\.inputNames\.t: 'a' is already/,
    );
    expect(() => planInputs(inputs, { sample: 'a' } as never, 'm')).toThrow(
      /^options\.inputNames: expected the keys/,
    );
    expect(() => planInputs(inputs, { x: 3 } as never, 'm')).toThrow(
      /^options\.inputNames\.x: expected an input/,
    );
    expect(() => planInputs(inputs, 'x' as never, 'm')).toThrow(SbmArgumentError);
    expect(() => planInputs(undefined, { x: 'x' }, 'fn')).toThrow(
      /^options\.inputNames: fn declares no named/,
    );
  });
});

describe('planOutput', () => {
  const outputs = declare('variance', 'eps');
  it('chooses by name or index, and needs a choice among several', () => {
    expect(planOutput(outputs, 'eps', 'm')).toBe(1);
    expect(planOutput(outputs, 0, 'm')).toBe(0);
    expect(planOutput(declare('out'), undefined, 'm')).toBe(0);
    expect(planOutput(undefined, undefined, 'm')).toBeUndefined();
    expect(planOutput(undefined, 'sample', 'm')).toBeUndefined(); // chosen from what the model returns
    expect(planOutput(undefined, 1, 'm')).toBe(1);
    expect(() => planOutput(outputs, undefined, 'm')).toThrow(
      "options.output: m has 2 outputs: 'variance' [-1] float32, 'eps' [-1] float32; choose one by name or index",
    );
    expect(() => planOutput(outputs, 'mean', 'm')).toThrow(/^options\.output: 'mean' is not an output of m/);
    expect(() => planOutput(outputs, 2, 'm')).toThrow(/^options\.output: index 2 is not an output of m/);
    expect(() => planOutput(outputs, 0.5, 'm')).toThrow(/^options\.output: expected an integer index/);
  });
});

describe('shapes and layouts', () => {
  it('fixed sizes must match, free ones (-1) take any size', () => {
    expect(shapeFits([-1, 3, 32, 32], [4, 3, 32, 32])).toBe(true);
    expect(shapeFits([-1, 3, 32, 32], [4, 3, 16, 16])).toBe(false);
    expect(shapeFits([-1, 2], [4, 2, 1])).toBe(false);
    expect(shapeFits([], [])).toBe(true);
  });

  it('the channels-first permutation moves the last axis to 1 and the channels-last one undoes it', () => {
    const shape = [2, 5, 7, 3];
    for (const rank of [2, 3, 4, 5]) {
      const first = channelsFirstPerm(rank);
      const last = channelsLastPerm(rank);
      expect(first.map((_, i) => first[last[i]!])).toEqual(Array.from({ length: rank }, (_, i) => i));
    }
    expect(channelsFirstPerm(4)).toEqual([0, 3, 1, 2]);
    expect(channelsLastPerm(4)).toEqual([0, 2, 3, 1]);
    expect(toChannelsFirst(shape)).toEqual(channelsFirstPerm(4).map((a) => shape[a]));
    expect(toChannelsFirst([4, 2])).toEqual([4, 2]);
  });
});
