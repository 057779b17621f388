/**
 * Error thrown for an invalid argument. The message always starts with the
 * argument's name and says what was expected and what was received.
 *
 * @example
 * ```ts
 * try { sde.sde(x, 2) } catch (e) { if (e instanceof SbmArgumentError) console.log(e.argument) } // 't'
 * ```
 */
export class SbmArgumentError extends Error {
  /** Name of the offending argument, e.g. `'t'` or `'options.betaMin'`. */
  readonly argument: string;

  /** Creates the error; its message is `argument`, a colon and `message`, e.g. `t: expected times in [0, 1], got 2`. */
  constructor(argument: string, message: string) {
    super(`${argument}: ${message}`);
    this.name = 'SbmArgumentError';
    this.argument = argument;
  }
}

/** Describes a value for an error message (numbers keep full precision, arrays show their length). */
export function describeValue(value: unknown): string {
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'object' && 'shape' in value) {
    return `a tensor of shape [${(value as { shape: number[] }).shape.join(',')}]`;
  }
  return typeof value;
}

/** Throws unless `value` is a finite number. */
export function assertFinite(name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new SbmArgumentError(name, `expected a finite number, got ${describeValue(value)}`);
  }
}

/** Throws unless `value` is a finite number > 0. */
export function assertPositive(name: string, value: unknown): asserts value is number {
  assertFinite(name, value);
  if (value <= 0) throw new SbmArgumentError(name, `expected a number > 0, got ${value}`);
}

/** Throws unless `value` is a finite number >= 0. */
export function assertNonNegative(name: string, value: unknown): asserts value is number {
  assertFinite(name, value);
  if (value < 0) throw new SbmArgumentError(name, `expected a number >= 0, got ${value}`);
}

/** Throws unless `value` is an integer >= `min` (default 1). */
export function assertInteger(name: string, value: unknown, min = 1): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new SbmArgumentError(name, `expected an integer >= ${min}, got ${describeValue(value)}`);
  }
}
