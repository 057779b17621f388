import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import parse from '@changesets/parse';
import { describe, expect, it } from 'vitest';

// Every changeset must parse with changesets' own parser and name only workspace packages
// (a formatter once rewrote the front matter into a Markdown heading, which broke them).
const dir = join(import.meta.dirname, '..', '.changeset');
const files = readdirSync(dir).filter((f) => f.endsWith('.md') && f !== 'README.md');
const published = new Set(
  readdirSync(join(import.meta.dirname, '..', 'packages')).map(
    (p) =>
      JSON.parse(readFileSync(join(import.meta.dirname, '..', 'packages', p, 'package.json'), 'utf8')).name,
  ),
);

describe('changesets', () => {
  it.each(files)('%s parses and names published packages', (file) => {
    const { releases, summary } = parse(readFileSync(join(dir, file), 'utf8'));
    expect(releases.length).toBeGreaterThan(0);
    expect(summary.length).toBeGreaterThan(20);
    for (const r of releases) expect(published.has(r.name), r.name).toBe(true);
  });
});
