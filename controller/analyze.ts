// Checking a stored run: read its history, run the workload's checkers, write results.json,
// render report.html and refresh the store index. `traft run` and `traft analyze` share this path.
import path from 'node:path';
import { HistoryFormatError } from '../checker/history/errors.js';
import { readJsonlHistory } from '../checker/history/jsonl.js';
import type { Op } from '../checker/history/types.js';
import { mergeValidity, type CheckResult, type Validity } from '../checker/result.js';
import { writeRunReport, writeStoreIndex } from '../reports/index.js';
import { findWorkload } from '../workloads/index.js';
import { UsageError } from './errors.js';
import { readRunMeta, storeDirOf, writeRunMeta, writeRunResults } from './store.js';

export interface AnalyzeOutcome {
  valid: Validity;
  results: CheckResult[];
  opCount: number;
  checkMs: number;
}

/** Reads a run folder's history.jsonl; a damaged line is a UsageError naming the file and line. */
export async function readRunHistory(runDir: string): Promise<Op[]> {
  const file = path.join(runDir, 'history.jsonl');
  const ops: Op[] = [];
  try {
    for await (const op of readJsonlHistory(file)) ops.push(op);
  } catch (error) {
    if (error instanceof HistoryFormatError) throw new UsageError(error.message);
    throw error;
  }
  return ops;
}

/** Runs every checker of the run's workload, then writes results.json, run.json's verdict and the reports. */
export async function analyzeRun(runDir: string, options: { checkTimeLimitMs: number }): Promise<AnalyzeOutcome> {
  const meta = await readRunMeta(runDir);
  const workload = findWorkload(meta.workload);
  if (workload === undefined) {
    throw new UsageError(`run.json in ${runDir} names an unknown workload ${JSON.stringify(meta.workload)}: this traft version cannot check it`);
  }
  const ops = await readRunHistory(runDir);

  const startedMs = performance.now();
  const results = await workload.check(ops, { timeLimitMs: options.checkTimeLimitMs });
  const checkMs = performance.now() - startedMs;
  const valid = mergeValidity(results.map((result) => result.valid));

  await writeRunResults(runDir, { valid, results });
  await writeRunMeta(runDir, { ...meta, valid });
  await renderReports(runDir);
  return { valid, results, opCount: ops.length, checkMs };
}

/** Writes report.html of the run and index.html of its store. */
export async function renderReports(runDir: string): Promise<void> {
  await writeRunReport(runDir);
  await writeStoreIndex(storeDirOf(runDir));
}
