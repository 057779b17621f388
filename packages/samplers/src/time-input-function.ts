import { describeValue, type MarginalCoefficients, SbmArgumentError } from '@sbm/sde';
import type { TimeInputKind } from './model-adapter.js';

/**
 * What a network takes as its time input at diffusion time $t \in [0, T]$: `'continuous'` gives $t$ itself,
 * `'index'` the DDPM step $t (N - 1)/T$ (score_sde's continuous VP models take $999\,t$), `'sigma'` the noise level
 * $\sigma(t)$ (NCSN/VE models), or a function of $t$. Shared by `wrapModel` and by adapters of other networks that take
 * the same time input (e.g. @sbm/guidance's noise-conditional classifiers).
 *
 * @param timeInput - the kind, default `'continuous'`.
 * @param sde - marginals with `T`, `sigma(t)` and optionally `N`.
 * @param numTrainSteps - `N` for `'index'`, default `sde.N`, else 1000.
 * @throws SbmArgumentError naming `options.timeInput` or `options.numTrainSteps` when invalid.
 */
export function timeInputFunction(
  timeInput: TimeInputKind | undefined,
  sde: MarginalCoefficients & { readonly N?: number },
  numTrainSteps?: number,
): (t: number) => number {
  const kind = timeInput ?? 'continuous';
  if (kind === 'continuous') return (t) => t;
  if (kind === 'sigma') return (t) => sde.sigma(t);
  if (kind === 'index') {
    const N = numTrainSteps ?? sde.N ?? 1000;
    if (!Number.isInteger(N) || N < 2) {
      throw new SbmArgumentError(
        'options.numTrainSteps',
        `expected an integer >= 2, got ${describeValue(N)}`,
      );
    }
    return (t) => (t * (N - 1)) / sde.T;
  }
  if (typeof kind === 'function') return kind;
  throw new SbmArgumentError(
    'options.timeInput',
    `expected 'continuous', 'index', 'sigma' or a function of t, got ${describeValue(kind)}`,
  );
}
