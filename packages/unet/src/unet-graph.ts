import * as tfl from '@tensorflow/tfjs-layers';
import { AttnBlock } from './attention.js';
import { Combine, SkipAdd } from './combine.js';
import type { UNetConfig } from './config.js';
import { groupCount, type SbmLayer } from './layer-base.js';
import { Conv2d, Dense, GroupNorm } from './primitive-layers.js';
import { Downsample, Upsample } from './resample.js';
import { ResnetBlockBigGAN, ResnetBlockDDPM } from './resnet-block.js';
import { CenterInput, ScaleBySigma } from './scaling-layers.js';
import { ClassEmbedding, GaussianFourierProjection, PositionalEmbedding } from './time-embedding.js';

/** Connects a layer to its inputs: `layer.apply(inputs)` for a real model, or a no-op for counting. */
export type ApplyLayer<T> = (layer: tfl.layers.Layer, inputs: T[]) => T;

/** Inputs of {@link wireUNet}. */
export interface UNetInputs<T> {
  x: T;
  t: T;
  labels: T | null;
}

/**
 * Creates the layers of a score network in exactly the order of score_sde's `all_modules` (`models/ddpm.py`
 * `DDPM.__init__` / `models/ncsnpp.py` `NCSNpp.__init__`; each is named `all_modules.<i>` so that its weights are
 * `all_modules.<i>.<parameter>` as in a state dict) and connects them as the reference `forward` does.
 * Parameter-free helpers (input centering, pyramid resampling without conv, skip sums, σ scaling) get other names.
 *
 * @returns the output handle and every created layer, in creation order.
 */
export function wireUNet<T extends object | string>(
  config: UNetConfig,
  inputs: UNetInputs<T>,
  apply: ApplyLayer<T>,
): { output: T; layers: tfl.layers.Layer[] } {
  const c = config;
  const layers: tfl.layers.Layer[] = [];
  let moduleIndex = 0;
  const helperCounts = new Map<string, number>();
  const moduleName = () => `all_modules.${moduleIndex++}`;
  const helperName = (base: string) => {
    const n = helperCounts.get(base) ?? 0;
    helperCounts.set(base, n + 1);
    return `${base}_${n}`;
  };
  const call = (layer: tfl.layers.Layer, args: T[]): T => {
    layers.push(layer);
    return apply(layer, args);
  };

  const ddpm = c.architecture === 'ddpm';
  const style = ddpm ? 'ddpm' : 'ncsnpp';
  const nl = c.nonlinearity;
  const nf = c.nf;
  const channels = c.numChannels;
  const tembDim = 4 * nf;
  const levels = c.chMult.length;
  const resolutions = Array.from({ length: levels }, (_, i) => c.imageSize / 2 ** i);
  const hasAttn = (level: number) => c.attnResolutions.includes(resolutions[level]!);

  // Time / noise-level embedding.
  let temb: T | null = null;
  if (c.conditional) {
    let emb: T;
    let embDim: number;
    if (c.embeddingType === 'fourier') {
      emb = call(
        new GaussianFourierProjection({ name: moduleName(), embeddingSize: nf, scale: c.fourierScale }),
        [inputs.t],
      );
      embDim = 2 * nf;
    } else {
      emb = call(new PositionalEmbedding({ name: 'positional_embedding', dim: nf }), [inputs.t]);
      embDim = nf;
    }
    const dense0 = call(new Dense({ name: moduleName(), inDim: embDim, outDim: tembDim }), [emb]);
    temb = call(new Dense({ name: moduleName(), inDim: tembDim, outDim: tembDim, inputActivation: nl }), [
      dense0,
    ]);
  }
  if (c.numClasses > 0 && inputs.labels !== null && temb !== null) {
    temb = call(new ClassEmbedding({ name: 'class_embedding', numClasses: c.numClasses, dim: tembDim }), [
      temb,
      inputs.labels,
    ]);
  }
  const withTemb = (h: T): T[] => (temb === null ? [h] : [h, temb]);

  const resnetBlock = (inCh: number, outCh: number, resample: { up?: boolean; down?: boolean } = {}) => {
    const common = {
      name: moduleName(),
      inCh,
      outCh,
      tembDim,
      numGroups: [groupCount(inCh, style), groupCount(outCh, style)] as [number, number],
      dropout: c.dropout,
      skipRescale: ddpm ? false : c.skipRescale,
      initScale: ddpm ? 0 : c.initScale,
      nonlinearity: nl,
    };
    return ddpm || c.resblockType === 'ddpm'
      ? new ResnetBlockDDPM(common)
      : new ResnetBlockBigGAN({ ...common, ...resample, fir: c.fir, firKernel: c.firKernel });
  };
  const attnBlock = (ch: number) =>
    new AttnBlock({
      name: moduleName(),
      channels: ch,
      numGroups: groupCount(ch, style),
      skipRescale: ddpm ? false : c.skipRescale,
      initScale: ddpm ? 0 : c.initScale,
    });
  const normAct = (ch: number) =>
    new GroupNorm({ name: moduleName(), channels: ch, numGroups: groupCount(ch, style), activation: nl });
  const conv3x3 = (inCh: number, outCh: number, initScale: number) =>
    new Conv2d({ name: moduleName(), inCh, outCh, kernelSize: 3, initScale });
  const resample = (
    Kind: typeof Upsample | typeof Downsample,
    inCh: number,
    outCh: number,
    withConv: boolean,
    name?: string,
  ) => new Kind({ name: name ?? moduleName(), inCh, outCh, withConv, fir: c.fir, firKernel: c.firKernel });

  let x = inputs.x;
  if (!c.centered) x = call(new CenterInput({ name: 'center_input' }), [x]);

  // Downsampling path.
  let inputPyramid: T | null = c.progressiveInput !== 'none' ? x : null;
  let inputPyramidCh = channels;
  const hs: T[] = [call(conv3x3(channels, nf, 1), [x])];
  const hsCh: number[] = [nf];
  let inCh = nf;
  for (let level = 0; level < levels; level++) {
    for (let b = 0; b < c.numResBlocks; b++) {
      const outCh = nf * c.chMult[level]!;
      let h = call(resnetBlock(inCh, outCh), withTemb(hs[hs.length - 1]!));
      inCh = outCh;
      if (hasAttn(level)) h = call(attnBlock(inCh), [h]);
      hs.push(h);
      hsCh.push(inCh);
    }
    if (level !== levels - 1) {
      const last = hs[hs.length - 1]!;
      let h =
        ddpm || c.resblockType === 'ddpm'
          ? call(resample(Downsample, inCh, inCh, c.resampWithConv), [last])
          : call(resnetBlock(inCh, inCh, { down: true }), withTemb(last));
      if (c.progressiveInput === 'input_skip') {
        const pyramidDown = resample(
          Downsample,
          inputPyramidCh,
          inputPyramidCh,
          false,
          helperName('pyramid_downsample'),
        );
        inputPyramid = call(pyramidDown, [inputPyramid!]);
        h = call(
          new Combine({ name: moduleName(), dim1: inputPyramidCh, dim2: inCh, method: c.progressiveCombine }),
          [inputPyramid, h],
        );
        if (c.progressiveCombine === 'cat') inCh *= 2;
      } else if (c.progressiveInput === 'residual') {
        const projected = call(resample(Downsample, inputPyramidCh, inCh, true), [inputPyramid!]);
        inputPyramid = call(new SkipAdd({ name: helperName('skip_add'), skipRescale: c.skipRescale }), [
          projected,
          h,
        ]);
        inputPyramidCh = inCh;
        h = inputPyramid;
      }
      hs.push(h);
      hsCh.push(inCh);
    }
  }

  // Middle.
  let h = hs[hs.length - 1]!;
  inCh = hsCh[hsCh.length - 1]!;
  h = call(resnetBlock(inCh, inCh), withTemb(h));
  h = call(attnBlock(inCh), [h]);
  h = call(resnetBlock(inCh, inCh), withTemb(h));

  // Upsampling path.
  let pyramid: T | null = null;
  let pyramidCh = 0;
  for (let level = levels - 1; level >= 0; level--) {
    for (let b = 0; b < c.numResBlocks + 1; b++) {
      const outCh = nf * c.chMult[level]!;
      const skipCh = hsCh.pop()!;
      const joined = call(tfl.layers.concatenate({ name: helperName('concat'), axis: -1 }), [h, hs.pop()!]);
      h = call(resnetBlock(inCh + skipCh, outCh), withTemb(joined));
      inCh = outCh;
    }
    if (hasAttn(level)) h = call(attnBlock(inCh), [h]);
    if (c.progressive !== 'none') {
      if (level === levels - 1) {
        const normed = call(normAct(inCh), [h]);
        if (c.progressive === 'output_skip') {
          pyramid = call(conv3x3(inCh, channels, c.initScale), [normed]);
          pyramidCh = channels;
        } else {
          pyramid = call(conv3x3(inCh, inCh, 1), [normed]);
          pyramidCh = inCh;
        }
      } else if (c.progressive === 'output_skip') {
        const up = resample(Upsample, pyramidCh, pyramidCh, false, helperName('pyramid_upsample'));
        const upsampled = call(up, [pyramid!]);
        const normed = call(normAct(inCh), [h]);
        const pyramidH = call(conv3x3(inCh, channels, c.initScale), [normed]);
        pyramid = call(new SkipAdd({ name: helperName('skip_add'), skipRescale: false }), [
          upsampled,
          pyramidH,
        ]);
      } else {
        const upsampled = call(resample(Upsample, pyramidCh, inCh, true), [pyramid!]);
        pyramid = call(new SkipAdd({ name: helperName('skip_add'), skipRescale: c.skipRescale }), [
          upsampled,
          h,
        ]);
        pyramidCh = inCh;
        h = pyramid;
      }
    }
    if (level !== 0) {
      h =
        ddpm || c.resblockType === 'ddpm'
          ? call(resample(Upsample, inCh, inCh, c.resampWithConv), [h])
          : call(resnetBlock(inCh, inCh, { up: true }), withTemb(h));
    }
  }

  if (c.progressive === 'output_skip') {
    h = pyramid!;
  } else {
    const normed = call(normAct(inCh), [h]);
    h = call(conv3x3(inCh, channels, ddpm ? 0 : c.initScale), [normed]);
  }
  if (c.scaleBySigma) {
    const mode = c.embeddingType === 'fourier' ? 'continuous' : 'table';
    h = call(
      new ScaleBySigma({
        name: 'scale_by_sigma',
        mode,
        sigmaMin: c.sigmaMin,
        sigmaMax: c.sigmaMax,
        numScales: c.numScales,
      }),
      [h, inputs.t],
    );
  }
  return { output: h, layers };
}

/** The sbm layers of a wired network (every layer that owns PyTorch-named weights). */
export function sbmLayers(layers: readonly tfl.layers.Layer[]): SbmLayer[] {
  return layers.filter((l): l is SbmLayer => 'weightSpecs' in l);
}
