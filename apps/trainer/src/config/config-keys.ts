import type { z } from 'zod';
import { trainerConfigSchema } from './schema.js';

/** What a key path of the trainer config leads to. */
export type KeyPathTarget =
  | { kind: 'object'; keys: string[]; discriminator?: string }
  | { kind: 'value' }
  | { kind: 'unknown'; at: number; validKeys: string[] };

interface SchemaDef {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  options?: z.ZodType[];
  discriminator?: string;
}

function defOf(schema: z.ZodType): SchemaDef {
  return (schema as unknown as { _zod: { def: SchemaDef } })._zod.def;
}

/** Strips defaults, optionals, nullables and pipes down to the schema that describes the value. */
function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (;;) {
    const def = defOf(current);
    if (def.innerType !== undefined) current = def.innerType;
    else if (def.type === 'pipe' && def.in !== undefined) current = def.in;
    else return current;
  }
}

function literalValues(schema: z.ZodType): unknown[] {
  const def = defOf(unwrap(schema)) as SchemaDef & { values?: unknown[]; entries?: Record<string, unknown> };
  return def.values ?? Object.values(def.entries ?? {});
}

/**
 * The object schema at `schema` for `value`: a discriminated union picks the option whose discriminator
 * matches `value[discriminator]` (the first option when it matches none, so that its keys can still be listed).
 */
function objectAt(
  schema: z.ZodType,
  value: unknown,
): { shape: Record<string, z.ZodType>; discriminator?: string } | undefined {
  const s = unwrap(schema);
  const def = defOf(s);
  if (def.type === 'object' && def.shape !== undefined) return { shape: def.shape };
  if (def.type === 'union' && def.discriminator !== undefined && def.options !== undefined) {
    const d = def.discriminator;
    const tag = (value as Record<string, unknown> | undefined)?.[d];
    const options = def.options.map((o) => unwrap(o));
    const match = options.find((o) => literalValues(defOf(o).shape![d]!).includes(tag)) ?? options[0];
    const shape = match === undefined ? undefined : defOf(match).shape;
    return shape === undefined ? undefined : { shape, discriminator: d };
  }
  return undefined;
}

/**
 * Follows the dotted key `path` (already split) through the trainer config schema, choosing the option of
 * each discriminated union (`data.dataset`, `model.kind`, `sampling.sampler`) by the value in `config`.
 * Returns the object's keys, `value` for a leaf, or where the path leaves the schema and the keys valid there.
 */
export function resolveKeyPath(path: readonly string[], config: unknown): KeyPathTarget {
  let schema: z.ZodType = trainerConfigSchema;
  let value: unknown = config;
  for (let i = 0; i < path.length; i++) {
    const object = objectAt(schema, value);
    if (object === undefined) return { kind: 'unknown', at: i, validKeys: [] };
    const key = path[i]!;
    const next = object.shape[key];
    if (next === undefined) return { kind: 'unknown', at: i, validKeys: Object.keys(object.shape) };
    schema = next;
    value = (value as Record<string, unknown> | undefined)?.[key];
  }
  const object = objectAt(schema, value);
  if (object === undefined) return { kind: 'value' };
  return object.discriminator === undefined
    ? { kind: 'object', keys: Object.keys(object.shape) }
    : { kind: 'object', keys: Object.keys(object.shape), discriminator: object.discriminator };
}

/** The keys valid in the section at `path` of `config` (e.g. `['optim']` → `lr`, `beta1`, …), or `[]`. */
export function validKeysAt(path: readonly (string | number)[], config: unknown): string[] {
  const target = resolveKeyPath(path.map(String), config);
  return target.kind === 'object' ? target.keys : [];
}

/** The discriminator key of the section at `path` (`model` → `kind`), if that section is a union. */
export function discriminatorAt(path: readonly string[], config: unknown): string | undefined {
  const target = resolveKeyPath(path, config);
  return target.kind === 'object' ? target.discriminator : undefined;
}
