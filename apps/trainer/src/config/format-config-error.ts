import type { z } from 'zod';
import { validKeysAt } from './config-keys.js';
import { nearestKeys } from './nearest-keys.js';

/** Formats a key path as written in configs and `--set`: `model.chMult[1]`, `(root)` for the top level. */
export function formatKeyPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(root)' : out;
}

/** Shows a value in an error message: JSON for plain data (shortened), `missing` for undefined. */
export function describeConfigValue(value: unknown): string {
  if (value === undefined) return 'nothing (the key is missing)';
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function generalExpectation(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected === 'object' ? 'a section (mapping of keys)' : `a value of type ${issue.expected}`}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'too_small':
      return `expected ${issue.origin === 'array' ? 'a list with at least' : 'a value >='} ${String(issue.minimum)}`;
    case 'too_big':
      return `expected ${issue.origin === 'array' ? 'a list with at most' : 'a value <='} ${String(issue.maximum)}`;
    default:
      return issue.message;
  }
}

/**
 * Turns the issues of a failed trainer-config validation into one line per problem, each naming the key path
 * and what was expected: `optim.lr: expected a positive number, got -1`. Unknown keys are listed with the
 * nearest valid keys of their section (computed from `input`, the value that was validated):
 * `optim.lrr: unknown key; did you mean optim.lr? (valid keys of optim: optimizer, lr, …)`.
 */
export function formatConfigError(
  error: z.ZodError | readonly z.core.$ZodIssue[],
  input?: unknown,
): string[] {
  const issues = 'issues' in error ? error.issues : error;
  const lines: string[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      const section = issue.path;
      const valid = validKeysAt(section as (string | number)[], input);
      for (const key of issue.keys) {
        const path = formatKeyPath([...section, key]);
        const prefix = section.length === 0 ? '' : `${formatKeyPath(section)}.`;
        const near = nearestKeys(key, valid).map((k) => `${prefix}${k}`);
        const hint = near.length > 0 ? `did you mean ${near.join(' or ')}? ` : '';
        const where = section.length === 0 ? 'the top level' : formatKeyPath(section);
        lines.push(`${path}: unknown key; ${hint}(valid keys of ${where}: ${valid.join(', ')})`);
      }
      continue;
    }
    let path = issue.path;
    let text = issue.message.startsWith('expected ') ? issue.message : generalExpectation(issue);
    let got: unknown = issue.input;
    if (
      issue.code === 'invalid_union' &&
      'discriminator' in issue &&
      typeof issue.discriminator === 'string'
    ) {
      // A discriminated union whose tag matches no option: zod reports it at `<section>.<tag>`.
      const options = (issue as { options?: unknown[] }).options ?? [];
      text = `expected one of ${options.map((o) => JSON.stringify(o)).join(', ')}`;
      got = (issue.input as Record<string, unknown> | undefined)?.[issue.discriminator];
      if (path[path.length - 1] !== issue.discriminator) path = [...path, issue.discriminator];
    }
    lines.push(`${formatKeyPath(path)}: ${text}, got ${describeConfigValue(got)}`);
  }
  return lines;
}
