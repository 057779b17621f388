// Examples of the guide "Guidance, inpainting and colorization" (guides/guidance.md). Run by guidance.test.ts with
// exact class-conditional Gaussian-mixture scores.
import { type ClassifierLike, classifierFreeGuidance, classifierGuidance, inpaintPC } from '@sbm/guidance';
import { ddimSample, dpmSolverPlusPlusSample, type ModelAdapter, type SampleResult } from '@sbm/samplers';
import type { SDE } from '@sbm/sde';
import type * as tf from '@tensorflow/tfjs-core';

// #region classifier-free
/**
 * Classifier-free guidance: `model` is a class-conditional network trained
 * with label dropout (its null class is `numClasses`), wrapped with
 * `wrapModel`. `scale` 0 is unconditional, 1 conditional, above 1 guided.
 * `labels [B]` int32, one class per sample.
 */
export async function guidedSamples(
  sde: SDE,
  model: ModelAdapter,
  labels: tf.Tensor1D,
  shape: number[],
  scale: number,
  seed: number,
): Promise<SampleResult> {
  // one network call on [x; x] with labels [y; null class] per evaluation
  const guided = classifierFreeGuidance(model, { scale, numClasses: 2 });
  return dpmSolverPlusPlusSample({ sde, model: guided, labels, shape, steps: 20, seed });
}
// #endregion classifier-free

// #region classifier
/**
 * Classifier guidance: an unconditional `model` plus a noise-aware
 * classifier `(x, t) => logits [B, K]` (a function, LayersModel or
 * GraphModel); the gradient of its log-softmax is added to the score. Needs
 * registered gradients (`import '@tensorflow/tfjs-layers'` or
 * `@tensorflow/tfjs`).
 */
export async function classifierGuidedSamples(
  sde: SDE,
  model: ModelAdapter,
  classifier: ClassifierLike,
  labels: tf.Tensor1D,
  shape: number[],
  seed: number,
): Promise<SampleResult> {
  // scale 1: the score of p(x | y) exactly, for an exact classifier
  const guided = classifierGuidance(model, classifier, { scale: 1, numClasses: 2 });
  return ddimSample({ sde, model: guided, labels, shape, steps: 50, seed });
}
// #endregion classifier

// #region inpaint
/**
 * Inpainting with score_sde's predictor–corrector replacement: where `mask`
 * is 1 the result is `known`, elsewhere it is sampled given it. `known [B,
 * ...]`, `mask` broadcastable to it.
 */
export async function inpaint(
  sde: SDE,
  model: ModelAdapter,
  known: tf.Tensor,
  mask: tf.Tensor,
  seed: number,
): Promise<SampleResult> {
  return inpaintPC({ sde, model, known, mask, steps: 1000, snr: 0.16, seed });
}
// #endregion inpaint
