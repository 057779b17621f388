/**
 * The arithmetic of the samplers bench's quality-against-NFE table.
 */

/**
 * The most steps a sampler whose `steps` cost `perStep · steps + extra` model evaluations can take within
 * `budget` evaluations, or `null` when not even one step fits.
 */
export function stepsForBudget(budget: number, perStep: number, extra: number): number | null {
  if (!(Number.isInteger(budget) && budget > 0))
    throw new Error(`budget: expected a positive integer, got ${budget}`);
  if (!(Number.isInteger(perStep) && perStep > 0)) {
    throw new Error(`perStep: expected a positive integer, got ${perStep}`);
  }
  const steps = Math.floor((budget - extra) / perStep);
  return steps >= 1 ? steps : null;
}

/** A table cell: the mean energy distance, with the actual NFE in parentheses when it is below the budget. */
export function nfeCell(energy: number, nfe: number, budget: number): string {
  if (nfe > budget) throw new Error(`nfe: ${nfe} evaluations exceed the budget ${budget}`);
  return nfe === budget ? energy.toFixed(2) : `${energy.toFixed(2)} (${nfe})`;
}

/** The measured configuration with the lowest energy among those with at most `budget` evaluations. */
export function bestAtBudget<C extends { nfe: number; energy: number }>(
  cells: readonly C[],
  budget: number,
): C | undefined {
  let best: C | undefined;
  for (const c of cells) {
    if (c.nfe <= budget && Number.isFinite(c.energy) && (best === undefined || c.energy < best.energy))
      best = c;
  }
  return best;
}
