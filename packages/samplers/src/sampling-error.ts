/**
 * Error thrown when sampling breaks down numerically: the state stopped being finite (NaN or ±Infinity)
 * after a step. The message names the sampler, the step and its time `t`.
 */
export class SbmSamplingError extends Error {
  /** Index of the step (0-based) after which the state was not finite. */
  readonly step: number;
  /** Time reached by that step. */
  readonly t: number;

  /**
   * Builds the error for `sampler` whose state became `what` (e.g. "the state contains NaN or Infinity") after
   * step `step` of `steps`, at time `t`.
   */
  constructor(sampler: string, step: number, steps: number, t: number, what: string) {
    super(
      `${sampler}: ${what} after step ${step} of ${steps} (t = ${t}); check the model and the time range`,
    );
    this.name = 'SbmSamplingError';
    this.step = step;
    this.t = t;
  }
}
