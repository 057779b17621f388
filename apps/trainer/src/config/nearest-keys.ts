/** Levenshtein distance between two strings, case-insensitive (keys differ mostly by case and typos). */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  let previous = Array.from({ length: t.length + 1 }, (_, j) => j);
  for (let i = 1; i <= s.length; i++) {
    const current = [i];
    for (let j = 1; j <= t.length; j++) {
      const substitution = previous[j - 1]! + (s[i - 1] === t[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[t.length]!;
}

/**
 * The candidates nearest to `key`, best first: those within an edit distance of max(2, ⌈length/3⌉), plus any
 * candidate that contains `key` or is contained in it when both have at least 3 characters (`freq` finds
 * `logFreq`). Ties keep the order of `candidates`; at most `limit` are returned.
 */
export function nearestKeys(key: string, candidates: readonly string[], limit = 3): string[] {
  const threshold = Math.max(2, Math.ceil(key.length / 3));
  const lower = key.toLowerCase();
  return candidates
    .map((candidate, index) => ({ candidate, index, distance: editDistance(key, candidate) }))
    .filter(({ candidate, distance }) => {
      const c = candidate.toLowerCase();
      return (
        distance <= threshold ||
        (lower.length >= 3 && c.length >= 3 && (c.includes(lower) || lower.includes(c)))
      );
    })
    .sort((a, b) => a.distance - b.distance || a.index - b.index)
    .slice(0, limit)
    .map(({ candidate }) => candidate);
}
