import { createHash } from 'node:crypto';

/**
 * JSON with object keys sorted at every level, so that equal configurations give equal text whatever the key
 * order they were built in. Like `JSON.stringify` otherwise (`undefined` members dropped, non-finite numbers
 * become `null`).
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(v).sort()) sorted[key] = (v as Record<string, unknown>)[key];
    return sorted;
  });
}

/** `sha256:<hex>` of the {@link canonicalJson} of a configuration: equal for equal configs, key order aside. */
export function configHash(config: unknown): string {
  return `sha256:${createHash('sha256').update(canonicalJson(config), 'utf8').digest('hex')}`;
}
