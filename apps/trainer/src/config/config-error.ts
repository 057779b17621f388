/**
 * A configuration that cannot be used: unknown keys, values of the wrong kind, a preset or file that does not
 * exist. `problems` holds one line per problem, each starting with the key path (`optim.lr: expected a positive
 * number, got -1`); `message` lists them all, after `source` (the preset, file or `--set` they come from).
 */
export class ConfigError extends Error {
  /** One line per problem, each starting with the dotted key path. */
  readonly problems: readonly string[];

  constructor(problems: readonly string[], source?: string) {
    const head = source === undefined ? 'invalid trainer config' : `invalid trainer config (${source})`;
    super(`${head}:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
