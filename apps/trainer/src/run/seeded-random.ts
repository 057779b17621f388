import { deriveSeed, Xoshiro128StarStar } from '../data/rng.js';

/**
 * Runs `fn` with `Math.random` replaced by a xoshiro128** stream seeded from `(seed, stream)`, and restores it.
 *
 * TensorFlow.js has no global seed: every `tf.randomUniform`/`randomNormal`/`truncatedNormal` without an explicit
 * seed (the layer initializers, `tf.dropout`) seeds its generator from `Math.random()`. Building the network and
 * running each training step inside this makes the initial weights a function of the run's seed and the dropout
 * masks of step k a function of `(seed, k)` — which is what makes a resumed run equal an uninterrupted one, and
 * two runs with one seed equal — while keeping tfjs' own initializer distributions. `fn` must be synchronous
 * (nothing else may call `Math.random` meanwhile).
 */
export function withSeededRandom<T>(seed: number, stream: number, fn: () => T): T {
  const rng = Xoshiro128StarStar.fromSeed(deriveSeed(seed, stream));
  const original = Math.random;
  Math.random = () => rng.nextFloat();
  try {
    const out = fn();
    if (out instanceof Promise) throw new Error('withSeededRandom: fn must be synchronous');
    return out;
  } finally {
    Math.random = original;
  }
}
