import { FeatureStatistics, frechetDistance } from '@sbm/metrics';
/**
 * Quality metrics of generated digits measured with a trained {@link DigitClassifier}: confident share,
 * class histogram and Fréchet distance in the classifier's feature space, with a real-vs-real floor.
 */

import type { DigitImages } from './dataset-images.js';
import {
  classifyDigits,
  DIGIT_CLASSES,
  DIGIT_FEATURE_DIM,
  type DigitClassifier,
} from './digit-classifier.js';

/** Confidence threshold of {@link DigitSampleMetrics.confidentShare}. */
export const CONFIDENT_THRESHOLD = 0.9;

/** Options of {@link digitSampleMetrics}. */
export interface DigitSampleMetricsOptions {
  /** A trained classifier for the samples' resolution. */
  classifier: DigitClassifier;
  /** Generated digits `[N, R, R, 1]` in [0, 1], N ≥ 2. */
  samples: Float32Array;
  /** Held-out real digits (e.g. `datasetToDigitImages(loadMnist(...).test)`), at least 4. */
  real: DigitImages;
}

/** Output of {@link digitSampleMetrics}. */
export interface DigitSampleMetrics {
  /** Number of generated digits N. */
  sampleCount: number;
  /** Number of real digits. */
  realCount: number;
  /** Share of samples whose max class probability is ≥ {@link CONFIDENT_THRESHOLD}. */
  confidentShare: number;
  /** The same share for the real digits (the reference). */
  realConfidentShare: number;
  /** Samples per predicted class 0–9. */
  histogram: number[];
  /** Real digits per predicted class 0–9. */
  realHistogram: number[];
  /** Fréchet distance between the features of the samples and of all real digits. */
  frechet: number;
  /** Fréchet distance between the features of two disjoint halves (even / odd indices) of the real digits. */
  frechetFloor: number;
  /** Classifier accuracy on the real digits, when they carry labels. */
  heldOutAccuracy?: number;
}

function share(confidence: Float32Array): number {
  let k = 0;
  for (const c of confidence) if (c >= CONFIDENT_THRESHOLD) k++;
  return k / confidence.length;
}

function histogramOf(predicted: Uint8Array): number[] {
  const h = new Array<number>(DIGIT_CLASSES).fill(0);
  for (const p of predicted) h[p]!++;
  return h;
}

/**
 * Classifies `samples` and `real` and compares them.
 *
 * The floor is the distance between two halves of the real digits (sizes ⌈n/2⌉ and ⌊n/2⌋), i.e. what
 * finite-sample noise alone gives. The Fréchet estimate is biased upward by roughly `tr(Σ)·(1/N₁ + 1/N₂)`
 * terms, so `frechet` (N vs n digits) and `frechetFloor` (n/2 vs n/2) are comparable when N ≈ n/2, and a
 * `frechet` near or below the floor means the samples are indistinguishable from real digits at this size.
 *
 * @throws Error naming `samples`, `real` or `classifier` when sizes or resolutions disagree.
 */
export function digitSampleMetrics(options: DigitSampleMetricsOptions): DigitSampleMetrics {
  const { classifier, samples, real } = options;
  const r = classifier.resolution;
  const per = r * r;
  if (real.resolution !== r) {
    throw new Error(`digitSampleMetrics: real has resolution ${real.resolution} but classifier expects ${r}`);
  }
  if (real.count < 4 || real.pixels.length !== real.count * per) {
    throw new Error(
      `digitSampleMetrics: real must hold count ≥ 4 images of ${r}×${r} (got count ${real.count}, ${real.pixels.length} values)`,
    );
  }
  if (samples.length % per !== 0 || samples.length / per < 2) {
    throw new Error(
      `digitSampleMetrics: samples must hold N·${r}·${r} values with N ≥ 2, got ${samples.length}`,
    );
  }
  const gen = classifyDigits(classifier, samples);
  const ref = classifyDigits(classifier, real.pixels);
  const d = DIGIT_FEATURE_DIM;
  const n = real.count;
  const nGen = samples.length / per;
  const halves = [new Float32Array(Math.ceil(n / 2) * d), new Float32Array(Math.floor(n / 2) * d)] as const;
  for (let i = 0; i < n; i++) {
    halves[i % 2]!.set(ref.features.subarray(i * d, (i + 1) * d), Math.floor(i / 2) * d);
  }
  // Mean and covariance (divisor n − 1) in float64, as FID's statistics.
  const featureStatistics = (features: Float32Array, count: number) =>
    new FeatureStatistics(d).add(features, count).toFidStatistics();
  const realStats = featureStatistics(ref.features, n);
  const frechet = frechetDistance(featureStatistics(gen.features, nGen), realStats);
  const frechetFloor = frechetDistance(
    featureStatistics(halves[0], Math.ceil(n / 2)),
    featureStatistics(halves[1], Math.floor(n / 2)),
  );
  const out: DigitSampleMetrics = {
    sampleCount: nGen,
    realCount: n,
    confidentShare: share(gen.confidence),
    realConfidentShare: share(ref.confidence),
    histogram: histogramOf(gen.predicted),
    realHistogram: histogramOf(ref.predicted),
    frechet,
    frechetFloor,
  };
  if (real.labels !== null) {
    if (real.labels.length !== n)
      throw new Error(`digitSampleMetrics: real.labels must have ${n} entries, got ${real.labels.length}`);
    let ok = 0;
    for (let i = 0; i < n; i++) if (ref.predicted[i] === real.labels[i]) ok++;
    out.heldOutAccuracy = ok / n;
  }
  return out;
}

/** A short markdown report of {@link DigitSampleMetrics} (a summary table and the two histograms). */
export function formatDigitMetrics(m: DigitSampleMetrics): string {
  const pct = (v: number) => `${(100 * v).toFixed(1)} %`;
  const lines = [
    '| metric | generated | real (held-out) |',
    '| --- | --- | --- |',
    `| digits | ${m.sampleCount} | ${m.realCount} |`,
    `| confident (max p ≥ ${CONFIDENT_THRESHOLD}) | ${pct(m.confidentShare)} | ${pct(m.realConfidentShare)} |`,
    `| Fréchet distance (classifier features) | ${m.frechet.toFixed(3)} | ${m.frechetFloor.toFixed(3)} (floor: half vs half) |`,
  ];
  if (m.heldOutAccuracy !== undefined) lines.push(`| classifier accuracy | | ${pct(m.heldOutAccuracy)} |`);
  lines.push(
    '',
    `| class | ${[...Array(DIGIT_CLASSES).keys()].join(' | ')} |`,
    `| --- |${' --- |'.repeat(DIGIT_CLASSES)}`,
  );
  lines.push(`| generated | ${m.histogram.join(' | ')} |`, `| real | ${m.realHistogram.join(' | ')} |`);
  return `${lines.join('\n')}\n`;
}
