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

/** Turns the first zod issue into a short phrase such as `"type": invalid option`. */
export function describeSchemaError(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'invalid op';
  const path = issue.path.length > 0 ? `"${issue.path.join('.')}": ` : '';
  return `${path}${issue.message}`;
}
