import { describeValue, type MarginalCoefficients, SbmArgumentError } from '@sbm/sde';
import type { TimeDtype, TimeInputKind, TimeShape } from './model-adapter.js';

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

/** A network's time input format: its shape for a batch and its dtype. */
export interface TimeFormat {
  /** `[B]`, `[B, 1]` or `[]`: see {@link TimeShape}. */
  readonly shape: TimeShape;
  /** float32, or int32 for integer timesteps. */
  readonly dtype: TimeDtype;
}

/**
 * The time input's shape and dtype from the options (`timeShape`, `timeDtype`) and what the network declares for its
 * time input (rank and dtype, when it declares them): the shape defaults to the declared rank (0 scalar, 2 column,
 * else vector), the dtype to the declared dtype, else float32. Shared by `wrapModel` and by adapters of other
 * networks with the same time input (e.g. @sbm/guidance's noise-conditional classifiers).
 *
 * @param options - the requested `timeShape` and `timeDtype` (either may be absent).
 * @param declared - the network's declared time input, if known.
 * @param label - names the time input in errors, e.g. `the time input 't' of model`.
 * @throws SbmArgumentError naming `options.timeShape` or `options.timeDtype` for an unknown value, or a dtype other
 * than the declared one.
 */
export function resolveTimeFormat(
  options: { readonly timeShape?: TimeShape; readonly timeDtype?: TimeDtype },
  declared: { readonly rank?: number; readonly dtype?: string } | undefined,
  label: string,
): TimeFormat {
  const rank = declared?.rank;
  const shape = options.timeShape ?? (rank === 0 ? 'scalar' : rank === 2 ? 'column' : 'vector');
  if (shape !== 'vector' && shape !== 'column' && shape !== 'scalar') {
    throw new SbmArgumentError(
      'options.timeShape',
      `expected 'vector', 'column' or 'scalar', got ${describeValue(shape)}`,
    );
  }
  const declaredDtype = declared?.dtype;
  const dtype = options.timeDtype ?? declaredDtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'int32') {
    throw new SbmArgumentError(
      'options.timeDtype',
      `expected 'float32' or 'int32', got ${describeValue(dtype)}`,
    );
  }
  if (declaredDtype !== undefined && dtype !== declaredDtype) {
    throw new SbmArgumentError('options.timeDtype', `${label} is declared ${declaredDtype}, got '${dtype}'`);
  }
  return { shape, dtype };
}

/** The time tensor's shape for a batch of `batch`: `[B]`, `[B, 1]` or `[]` (see {@link TimeShape}). */
export function timeInputShape(shape: TimeShape, batch: number): number[] {
  return shape === 'scalar' ? [] : shape === 'column' ? [batch, 1] : [batch];
}
