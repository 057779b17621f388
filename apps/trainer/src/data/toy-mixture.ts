import type { TrainerConfig } from '../config/schema.js';
import type { GaussianMixture2D } from './toy.js';

/** The `data` section of a toy config (`data.dataset: 'toy'`). */
export type ToyDataConfig = Extract<TrainerConfig['data'], { dataset: 'toy' }>;

/**
 * The Gaussian mixture a toy config describes: K = `data.components` equally weighted isotropic components of
 * std `data.std`, with means
 *
 * - `ring`: r·(cos 2πk/K, sin 2πk/K), k = 0 … K−1, r = `data.radius`;
 * - `grid`: the √K × √K points (x_i, y_j) with x_i = y_i = −r + 2r·i/(√K − 1) (the square [−r, r]²; one
 *   component at the origin if K = 1).
 *
 * @throws Error naming `data.components` for a `grid` whose K is not a perfect square.
 */
export function toyMixtureOfConfig(data: ToyDataConfig): GaussianMixture2D {
  const K = data.components;
  const r = data.radius;
  let means: [number, number][];
  if (data.mixture === 'ring') {
    means = Array.from({ length: K }, (_, k) => {
      const a = (2 * Math.PI * k) / K;
      return [r * Math.cos(a), r * Math.sin(a)];
    });
  } else {
    const side = Math.round(Math.sqrt(K));
    if (side * side !== K) {
      throw new Error(`data.components: expected a perfect square for data.mixture 'grid', got ${K}`);
    }
    const at = (i: number) => (side === 1 ? 0 : -r + (2 * r * i) / (side - 1));
    means = [];
    for (let j = 0; j < side; j++) for (let i = 0; i < side; i++) means.push([at(i), at(j)]);
  }
  return {
    weights: Array.from({ length: K }, () => 1 / K),
    means,
    stds: Array.from({ length: K }, () => data.std),
  };
}
