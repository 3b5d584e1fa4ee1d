// The zod schema of one history op: the edge validation for every history read from disk.
import { z } from 'zod';
import type { Op } from './types.js';

export const opTypeSchema = z.enum(['invoke', 'ok', 'fail', 'info']);

export const processIdSchema = z.union([z.number().int().nonnegative(), z.literal('nemesis')]);

export const opSchema = z.object({
  index: z.number().int().nonnegative(),
  time: z.number().nonnegative(),
  process: processIdSchema,
  type: opTypeSchema,
  f: z.string().min(1),
  key: z.string().optional(),
  value: z.unknown().optional(),
  error: z.string().optional(),
});

// A compile-time check that the schema and the shared `Op` type agree in both directions.
type SchemaOp = z.infer<typeof opSchema>;
const schemaMatchesOp: (op: SchemaOp) => Op = (op) => op;
const opMatchesSchema: (op: Op) => SchemaOp = (op) => op;
void schemaMatchesOp;
void opMatchesSchema;

/**
 * Turns the first zod issue into a short phrase that names the field and its value, such as
 * `"type" is "done": Invalid option: expected one of ...`. `input` is the object that failed.
 */
export function describeSchemaError(error: z.ZodError, input?: unknown): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'invalid op';
  if (issue.path.length === 0) return issue.message;
  const field = `"${issue.path.map(String).join('.')}"`;
  const actual = valueAt(input, issue.path);
  if (actual === undefined) return `${field} is missing: ${issue.message}`;
  return `${field} is ${previewValue(actual)}: ${issue.message}`;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current = input;
  for (const step of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<PropertyKey, unknown>)[step];
  }
  return current;
}

/** JSON text of a value, cut to a length that fits on one error line. */
function previewValue(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

const OP_FIELDS = new Set(['index', 'time', 'process', 'type', 'f', 'key', 'value', 'error']);
const OP_TYPES = new Set(['invoke', 'ok', 'fail', 'info']);

/**
 * Checks the same rules as opSchema without copying the object, for the common case of a valid op
 * with no extra fields. Callers fall back to opSchema for anything this rejects, so zod still
 * produces every error message and strips unknown fields.
 */
export function isPlainValidOp(value: unknown): value is Op {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const fields = value as Record<string, unknown>;
  for (const name in fields) {
    if (!OP_FIELDS.has(name)) return false;
  }
  const { index, time, process, type, f, key, error } = fields;
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0) return false;
  if (typeof time !== 'number' || !Number.isFinite(time) || time < 0) return false;
  if (process !== 'nemesis' && (typeof process !== 'number' || !Number.isInteger(process) || process < 0)) return false;
  if (typeof type !== 'string' || !OP_TYPES.has(type)) return false;
  if (typeof f !== 'string' || f.length === 0) return false;
  if (key !== undefined && typeof key !== 'string') return false;
  return error === undefined || typeof error === 'string';
}
