// zod schemas for the JSON text carried inside protobuf messages (values, commands, results),
// and a parser that turns any invalid input into one WireError naming the field.
import { z } from 'zod';
import type { ClusterConfig, Command, CommandResult, JsonValue, MicroOp, MicroOpResult } from '../core/types.js';

/** Invalid data received from the network: a peer, a client or a junk sender. */
export class WireError extends Error {
  override readonly name = 'WireError';
}

export const jsonValueSchema: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(jsonValueSchema), z.record(z.string(), jsonValueSchema)]),
);

const positionSchema = z.number().int().min(0).max(63);

export const clusterConfigSchema: z.ZodType<ClusterConfig> = z.object({
  members: z.array(
    z.object({ id: z.number().int().min(0).max(0xffffffff), addr: z.string(), position: positionSchema }),
  ),
  families: z.array(
    z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('threshold'), positions: z.array(positionSchema), threshold: z.number().int().min(0) }),
      z.object({
        kind: z.literal('weighted'),
        weights: z.array(z.object({ position: positionSchema, weight: z.number().int().min(0) })),
        threshold: z.number().int().min(0),
      }),
      z.object({ kind: z.literal('explicit'), quorums: z.array(z.array(positionSchema)) }),
    ]),
  ),
});

const microOpSchema: z.ZodType<MicroOp> = z.discriminatedUnion('f', [
  z.object({ f: z.literal('append'), key: z.string(), value: jsonValueSchema }),
  z.object({ f: z.literal('r'), key: z.string() }),
]);

export const commandSchema: z.ZodType<Command> = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('noop') }),
  z.object({ kind: z.literal('put'), key: z.string(), value: jsonValueSchema }),
  z.object({ kind: z.literal('delete'), key: z.string() }),
  z.object({ kind: z.literal('cas'), key: z.string(), expected: jsonValueSchema, value: jsonValueSchema }),
  z.object({ kind: z.literal('append'), key: z.string(), value: jsonValueSchema }),
  z.object({ kind: z.literal('incr'), key: z.string(), delta: z.number().finite() }),
  z.object({ kind: z.literal('txn'), ops: z.array(microOpSchema) }),
  z.object({ kind: z.literal('config'), config: clusterConfigSchema }),
]);

const microOpResultSchema: z.ZodType<MicroOpResult> = z.discriminatedUnion('f', [
  z.object({ f: z.literal('append'), key: z.string(), value: jsonValueSchema }),
  z.object({ f: z.literal('r'), key: z.string(), value: jsonValueSchema }),
]);

export const commandResultSchema: z.ZodType<CommandResult> = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('done') }),
  z.object({ kind: z.literal('cas'), swapped: z.boolean(), current: jsonValueSchema }),
  z.object({ kind: z.literal('value'), value: jsonValueSchema }),
  z.object({ kind: z.literal('txn'), ops: z.array(microOpResultSchema) }),
  z.object({ kind: z.literal('error'), message: z.string() }),
]);

/** Parses JSON text `text` from field `field` against `schema`, throwing a WireError when invalid. */
export function parseJsonField<T>(schema: z.ZodType<T>, text: string, field: string): T {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new WireError(`${field} is not valid JSON text: ${abbreviate(text)}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    throw new WireError(`${field} is invalid${where}: ${issue?.message ?? 'unknown reason'}`);
  }
  return parsed.data;
}

/** Quotes `text` for an error message, cut to its first 80 characters. */
export function abbreviate(text: string): string {
  const shownCharsMax = 80;
  return text.length > shownCharsMax ? `${JSON.stringify(text.slice(0, shownCharsMax))}...` : JSON.stringify(text);
}
