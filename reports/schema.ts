// zod schemas for the run files a report reads: run.json and results.json.
import { z } from 'zod';
import type { RunMeta, RunResults } from './types.js';

const validitySchema = z.union([z.literal(true), z.literal(false), z.literal('unknown')]);

export const runMetaSchema = z.object({
  workload: z.string().min(1),
  seed: z.number(),
  options: z.record(z.string(), z.unknown()),
  command: z.string(),
  startedAt: z.string(),
  endedAt: z.string().optional(),
  versions: z.record(z.string(), z.string()),
  nodes: z.array(
    z.object({
      id: z.number().int(),
      listen: z.string(),
      dataDir: z.string(),
      logPath: z.string(),
    }),
  ),
  valid: validitySchema.optional(),
  runDir: z.string().optional(),
});

// Loose objects keep fields a checker adds beyond CheckResult, such as Elle's ruled-out models.
const anomalySchema = z.looseObject({
  kind: z.string(),
  explanation: z.string(),
  opIndexes: z.array(z.number().int()).optional(),
  details: z.unknown().optional(),
});

const checkResultSchema = z.looseObject({
  checker: z.string(),
  valid: validitySchema,
  summary: z.string(),
  anomalies: z.array(anomalySchema),
  unknownReason: z.string().optional(),
  // JSON turns NaN and Infinity into null, so non-numbers are dropped rather than failing the report.
  stats: z
    .record(z.string(), z.unknown())
    .transform((stats) => Object.fromEntries(Object.entries(stats).filter((entry): entry is [string, number] => typeof entry[1] === 'number')))
    .optional(),
});

export const runResultsSchema = z.object({
  valid: validitySchema,
  results: z.array(checkResultSchema),
});

// Compile-time checks that the schemas produce the shared types.
const metaMatches: (meta: z.infer<typeof runMetaSchema>) => RunMeta = (meta) => meta;
const resultsMatch: (results: z.infer<typeof runResultsSchema>) => RunResults = (results) => results;
void metaMatches;
void resultsMatch;

/** Turns the first zod issue into a short phrase such as `"seed": expected number`. */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'invalid content';
  const path = issue.path.length > 0 ? `"${issue.path.join('.')}": ` : '';
  return `${path}${issue.message}`;
}
