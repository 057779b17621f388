/**
 * A module for the docs build's own test: it breaks typedoc's validation twice.
 *
 * @module validation-fixture
 */

/** Links to a symbol that does not exist: {@link noSuchSymbol}. */
export const documented = 1;

export function undocumentedFixtureFunction(): number {
  return documented;
}
