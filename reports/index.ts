// File I/O of the reports: report.html for one run folder, index.html for the whole store.
import { createReadStream } from 'node:fs';
import { readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { z } from 'zod';
import { HistoryFormatError } from '../checker/history/errors.js';
import { readJsonlHistory } from '../checker/history/jsonl.js';
import type { Op } from '../checker/history/types.js';
import type { CheckResult } from '../checker/result.js';
import { buildReportData } from './data.js';
import { renderReportHtml } from './html.js';
import { renderStoreIndexHtml, type StoreEntry } from './index-html.js';
import { describeIssue, runMetaSchema, runResultsSchema } from './schema.js';
import type { RunMeta } from './types.js';

/** A run folder or store that cannot be read; the message names the file and what to do. */
export class ReportInputError extends Error {
  override readonly name = 'ReportInputError';

  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

/**
 * Reads run.json, history.jsonl and results.json from `runDir` and writes report.html there.
 * A missing results.json (an interrupted run) or a history cut off by a crash still gives a
 * report, which lists the gap as a problem. A missing or invalid run.json throws ReportInputError.
 */
export async function writeRunReport(runDir: string): Promise<void> {
  const meta = await readJsonFile(join(runDir, 'run.json'), runMetaSchema, 'pass a run folder written by `traft run`');
  const problems: string[] = [];

  let results: CheckResult[] = [];
  const resultsPath = join(runDir, 'results.json');
  if (await isFile(resultsPath)) {
    results = (await readJsonFile(resultsPath, runResultsSchema, 're-check the run with `traft analyze`')).results;
  } else {
    problems.push('results.json is missing, so the run was not checked; run `traft analyze` on the run folder to check it');
  }

  const ops = await readHistoryPrefix(join(runDir, 'history.jsonl'), problems);
  const data = buildReportData({ ...meta, runDir: meta.runDir ?? runDir }, ops, results);
  data.problems.unshift(...problems);
  await writeFileAtomically(join(runDir, 'report.html'), renderReportHtml(data));
}

/**
 * Lists every run folder `storeDir/<workload>/<run>/` newest first and writes storeDir/index.html.
 * Folders with unreadable files are listed with the problem instead of being skipped.
 */
export async function writeStoreIndex(storeDir: string): Promise<void> {
  const entries: StoreEntry[] = [];
  for (const workload of await listDirectories(storeDir)) {
    for (const runName of await listDirectories(join(storeDir, workload))) {
      entries.push(await readStoreEntry(join(storeDir, workload, runName), workload, runName));
    }
  }
  entries.sort(newestFirst);
  await writeFileAtomically(join(storeDir, 'index.html'), renderStoreIndexHtml(entries));
}

/** Orders by start time, newest first; runs without a readable start time go last, by folder name. */
function newestFirst(a: StoreEntry, b: StoreEntry): number {
  if (a.startedAt !== undefined && b.startedAt !== undefined) return b.startedAt.localeCompare(a.startedAt);
  if (a.startedAt !== undefined) return -1;
  if (b.startedAt !== undefined) return 1;
  return b.runName.localeCompare(a.runName);
}

async function readStoreEntry(runDir: string, workload: string, runName: string): Promise<StoreEntry> {
  const entry: StoreEntry = { workload, runName, opCount: 0, hasReport: await isFile(join(runDir, 'report.html')) };
  try {
    const meta: RunMeta = await readJsonFile(join(runDir, 'run.json'), runMetaSchema, 'the run folder may be incomplete');
    entry.seed = meta.seed;
    entry.startedAt = meta.startedAt;
    entry.valid = meta.valid;
    const resultsPath = join(runDir, 'results.json');
    if (await isFile(resultsPath)) entry.valid = (await readJsonFile(resultsPath, runResultsSchema, 're-check the run')).valid;
    entry.opCount = await countLines(join(runDir, 'history.jsonl'));
  } catch (error) {
    if (!(error instanceof ReportInputError)) throw error;
    entry.problem = error.message;
  }
  return entry;
}

/** Reads ops until the end of the file or the first bad line, which becomes a problem. */
async function readHistoryPrefix(path: string, problems: string[]): Promise<Op[]> {
  const ops: Op[] = [];
  if (!(await isFile(path))) {
    problems.push(`${path} is missing, so the report shows no ops`);
    return ops;
  }
  try {
    for await (const op of readJsonlHistory(path)) ops.push(op);
  } catch (error) {
    if (!(error instanceof HistoryFormatError)) throw error;
    // A controller killed mid-write can leave a torn last line; the ops before it are still a valid prefix.
    problems.push(`${error.message}; the report shows the ${ops.length} ops before it`);
  }
  return ops;
}

async function readJsonFile<T>(path: string, schema: z.ZodType<T>, fix: string): Promise<T> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new ReportInputError(path, `cannot read the file (${code}); ${fix}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ReportInputError(path, `invalid JSON; ${fix}`);
  }
  const result = schema.safeParse(parsed);
  if (!result.success) throw new ReportInputError(path, `invalid content, ${describeIssue(result.error)}; ${fix}`);
  return result.data;
}

async function listDirectories(path: string): Promise<string[]> {
  try {
    const entries = await readdir(path, { withFileTypes: true });
    // Symlinks such as store/latest are skipped, so every run is listed once.
    return entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new ReportInputError(path, `cannot list the folder (${code}); pass the run store folder (default ./store)`);
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Counts non-empty lines without parsing them; a missing file counts as 0. */
async function countLines(path: string): Promise<number> {
  if (!(await isFile(path))) return 0;
  let lines = 0;
  let lastByte = 0x0a;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    for (let i = 0; i < chunk.length; i++) {
      if (chunk[i] === 0x0a && lastByte !== 0x0a) lines++;
      lastByte = chunk[i];
    }
  }
  return lastByte === 0x0a ? lines : lines + 1;
}

/** Writes through a temporary file and a rename, so a reader never sees half a page. */
async function writeFileAtomically(path: string, text: string): Promise<void> {
  const temporaryPath = `${path}.${process.pid}.tmp`;
  await writeFile(temporaryPath, text, 'utf8');
  await rename(temporaryPath, path);
}
