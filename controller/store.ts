// The run store: store/<workload>/<YYYYMMDDTHHMMSS>-<seed>/ per run, store/latest pointing at the
// newest run, and run.json / results.json read and written with validation.
import { mkdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { RunMeta, RunResults } from '../reports/types.js';
import { UsageError } from './errors.js';

/** `20261204T204251` in UTC. */
export function runStamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '');
}

/** Creates a fresh run folder; a second run in the same second with the same seed gets a suffix. */
export async function createRunDir(storeDir: string, workload: string, seed: number, startedAt: Date): Promise<string> {
  const base = path.join(storeDir, workload, `${runStamp(startedAt)}-${seed}`);
  for (let attempt = 1; attempt <= 100; attempt += 1) {
    const candidate = attempt === 1 ? base : `${base}-${attempt}`;
    try {
      await mkdir(path.dirname(candidate), { recursive: true });
      await mkdir(candidate);
      return candidate;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      throw new UsageError(`cannot create the run folder ${candidate} (${code ?? String(error)}): check --store and its permissions`);
    }
  }
  throw new UsageError(`cannot create a run folder under ${path.dirname(base)}: 100 folders for this second and seed already exist`);
}

/** Points store/latest at `runDir` (a relative symlink, replaced atomically). */
export async function updateLatest(storeDir: string, runDir: string): Promise<void> {
  const link = path.join(storeDir, 'latest');
  const temporary = `${link}.${process.pid}.tmp`;
  await rm(temporary, { force: true });
  await symlink(path.relative(storeDir, runDir), temporary);
  await rename(temporary, link);
}

/** Writes a JSON file through a temporary name, so a reader never sees half a file. */
export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  const temporary = `${file}.tmp`;
  await writeFile(temporary, `${JSON.stringify(value, null, 2)}\n`);
  await rename(temporary, file);
}

const runMetaSchema = z.object({
  workload: z.string(),
  seed: z.number().int(),
  options: z.record(z.string(), z.unknown()),
  command: z.string(),
  startedAt: z.string(),
  endedAt: z.string().optional(),
  versions: z.record(z.string(), z.string()),
  nodes: z.array(z.object({ id: z.number().int(), listen: z.string(), dataDir: z.string(), logPath: z.string() })),
  valid: z.union([z.boolean(), z.literal('unknown')]).optional(),
  runDir: z.string().optional(),
});

/** Reads and validates run.json of a run folder; any problem is a UsageError naming the file. */
export async function readRunMeta(runDir: string): Promise<RunMeta> {
  const file = path.join(runDir, 'run.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new UsageError(`cannot read ${file} (${code}): pass a run folder such as store/latest`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`invalid JSON in ${file}: the run folder is damaged; rerun with the command in its report`);
  }
  const result = runMetaSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new UsageError(`invalid ${file}: field "${issue?.path.join('.') ?? ''}" ${issue?.message ?? 'is invalid'}`);
  }
  return result.data as RunMeta;
}

export async function writeRunMeta(runDir: string, meta: RunMeta): Promise<void> {
  await writeJsonAtomic(path.join(runDir, 'run.json'), meta);
}

export async function writeRunResults(runDir: string, results: RunResults): Promise<void> {
  await writeJsonAtomic(path.join(runDir, 'results.json'), results);
}

/** The store folder of a run folder laid out as <store>/<workload>/<run>/. */
export function storeDirOf(runDir: string): string {
  return path.dirname(path.dirname(path.resolve(runDir)));
}
