// `traft check FILE...`: checks recorded histories and exits with the verdict
// (0 valid, 1 invalid, 2 unknown, 64 bad flags or unreadable/malformed input).
import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Command, Option } from 'commander';
import { checkListAppend, CONSISTENCY_MODELS, ListAppendInputError, type ConsistencyModel } from '../elle/index.js';
import { HistoryFormatError } from '../history/errors.js';
import { HISTORY_FORMATS, loadHistoryWithLines, type HistoryFormat } from '../history/load.js';
import type { Op } from '../history/types.js';
import { checkLinearizable, UnsupportedOpError, type KeyFailure } from '../linearizable/index.js';
import { MODEL_NAMES, type CasFailMode, type ModelName } from '../models/types.js';
import { EXIT_USAGE, exitCodeFor, mergeValidity, type CheckResult, type Validity } from '../result.js';

/** Options as commander passes them: every value is the raw flag text. */
export interface CheckCliOptions {
  model?: string;
  format?: string;
  initial?: string;
  casFail?: string;
  timeLimit?: string;
  consistency?: string;
  json?: boolean;
}

type CheckModelName = ModelName | 'list-append';

const CHECK_MODELS: readonly CheckModelName[] = [...MODEL_NAMES, 'list-append'];
const CAS_FAIL_MODES: readonly CasFailMode[] = ['informative', 'not-happened'];
/** Extensions of history files picked up when FILE is a folder. */
const HISTORY_EXTENSIONS = new Set(['.jsonl', '.json', '.edn', '.log', '.txt']);
/** Failures printed per file in text output; `--json` carries the full list. */
const FAILURES_PRINTED_MAX = 3;

interface ValidatedOptions {
  model: CheckModelName;
  format?: HistoryFormat;
  initial: unknown;
  casFail?: CasFailMode;
  timeLimitMs?: number;
  consistency?: ConsistencyModel;
  json: boolean;
}

/** One line of a `--json` report. */
interface FileReport {
  file: string;
  valid: Validity;
  checkMs: number;
  ops: number;
  keys: number;
  failures: Array<KeyFailure | { kind: string; explanation: string; opIndexes?: number[]; details?: unknown }>;
  summary: string;
  /** The model checked; printed only for checkers whose summary adds to the failures (list-append). */
  model: CheckModelName;
  unknownReason?: string;
}

/** A flag value that is invalid; the message names the value and the fix. */
class UsageError extends Error {}

/** Registers `traft check` on a commander program. */
export function addCheckCommand(program: Command): void {
  program
    .command('check')
    .description('check recorded histories for linearizability (or list-append consistency)')
    .argument('<file...>', 'history files, or folders of them (.jsonl, .edn, .log, .txt)')
    .addOption(new Option('--model <name>', 'model the history is checked against').choices([...CHECK_MODELS]).default('cas-register'))
    .addOption(new Option('--format <format>', 'history format; guessed from the extension or content when absent').choices([...HISTORY_FORMATS]))
    .option('--initial <json>', 'initial value of every key, as JSON (null means nil/absent)', 'null')
    .addOption(
      new Option('--cas-fail <mode>', 'a failed cas either ran and saw another value, or never happened; default informative, not-happened for EDN').choices([
        ...CAS_FAIL_MODES,
      ]),
    )
    .option('--time-limit <seconds>', 'search time limit per key (per component for list-append), in seconds')
    .option('--consistency <name>', `consistency model for --model list-append (${CONSISTENCY_MODELS.join(', ')})`)
    .option('--json', 'print one JSON object with a result per file')
    .action(async (files: string[], options: CheckCliOptions) => {
      process.exitCode = await runCheck(files, options);
    });
}

/** Runs the check and returns the exit code; prints results to stdout and errors to stderr. */
export async function runCheck(files: string[], rawOptions: CheckCliOptions): Promise<number> {
  let options: ValidatedOptions;
  let paths: string[];
  try {
    options = validateOptions(rawOptions);
    paths = await expandFiles(files);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`traft check: ${error.message}\n`);
      return EXIT_USAGE;
    }
    throw error;
  }

  const reports: FileReport[] = [];
  const errors: Array<{ file: string; error: string }> = [];
  for (const path of paths) {
    try {
      const report = await checkFile(path, options);
      reports.push(report);
      if (!options.json) printReport(report);
    } catch (error) {
      const message = inputErrorMessage(path, error);
      if (message === undefined) throw error;
      errors.push({ file: path, error: message });
      process.stderr.write(`traft check: ${message}\n`);
    }
  }

  if (options.json) {
    const checkMsTotal = round(reports.reduce((sum, report) => sum + report.checkMs, 0));
    const files: unknown[] = [...reports, ...errors];
    process.stdout.write(`${JSON.stringify({ files, checkMsTotal })}\n`);
  } else if (reports.length > 1) {
    const counts = countVerdicts(reports);
    process.stdout.write(`${reports.length} files: ${counts.valid} valid, ${counts.invalid} invalid, ${counts.unknown} unknown\n`);
  }
  if (errors.length > 0) return EXIT_USAGE;
  return exitCodeFor(mergeValidity(reports.map((report) => report.valid)));
}

function validateOptions(raw: CheckCliOptions): ValidatedOptions {
  const model = (raw.model ?? 'cas-register') as CheckModelName;
  if (!CHECK_MODELS.includes(model)) throw new UsageError(`unknown --model ${JSON.stringify(raw.model)}; use one of ${CHECK_MODELS.join(', ')}`);

  const options: ValidatedOptions = { model, initial: null, json: raw.json === true };
  if (raw.format !== undefined) {
    if (!HISTORY_FORMATS.includes(raw.format as HistoryFormat)) {
      throw new UsageError(`unknown --format ${JSON.stringify(raw.format)}; use one of ${HISTORY_FORMATS.join(', ')}`);
    }
    options.format = raw.format as HistoryFormat;
  }
  if (raw.initial !== undefined) {
    try {
      options.initial = raw.initial === 'nil' ? null : JSON.parse(raw.initial);
    } catch {
      throw new UsageError(`invalid --initial ${JSON.stringify(raw.initial)}; give a JSON value such as 0, "a" or null`);
    }
  }
  if (raw.casFail !== undefined) {
    if (!CAS_FAIL_MODES.includes(raw.casFail as CasFailMode)) {
      throw new UsageError(`unknown --cas-fail ${JSON.stringify(raw.casFail)}; use informative or not-happened`);
    }
    options.casFail = raw.casFail as CasFailMode;
  }
  if (raw.timeLimit !== undefined) {
    const seconds = Number(raw.timeLimit);
    if (raw.timeLimit.trim() === '' || !Number.isFinite(seconds) || seconds <= 0) {
      throw new UsageError(`invalid --time-limit ${JSON.stringify(raw.timeLimit)}; give a positive number of seconds`);
    }
    options.timeLimitMs = seconds * 1000;
  }
  if (raw.consistency !== undefined) {
    if (model !== 'list-append') throw new UsageError(`--consistency applies only to --model list-append, not ${model}; add --model list-append or drop --consistency`);
    if (!(CONSISTENCY_MODELS as readonly string[]).includes(raw.consistency)) {
      throw new UsageError(`unknown --consistency ${JSON.stringify(raw.consistency)}; use one of ${CONSISTENCY_MODELS.join(', ')}`);
    }
    options.consistency = raw.consistency as ConsistencyModel;
  }
  return options;
}

/** Replaces each folder by the history files inside it (recursively, sorted by path). */
async function expandFiles(files: readonly string[]): Promise<string[]> {
  if (files.length === 0) throw new UsageError('no history file given; pass one or more files or folders');
  const paths: string[] = [];
  for (const file of files) {
    let info;
    try {
      info = await stat(file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      throw new UsageError(`cannot read ${file} (${code}); check the path`);
    }
    if (!info.isDirectory()) {
      paths.push(file);
      continue;
    }
    const found = await historyFilesIn(file);
    if (found.length === 0) throw new UsageError(`folder ${file} contains no history files (${[...HISTORY_EXTENSIONS].join(', ')})`);
    paths.push(...found);
  }
  return paths;
}

async function historyFilesIn(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true });
  const found: string[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) found.push(...(await historyFilesIn(path)));
    else if (entry.isFile() && HISTORY_EXTENSIONS.has(extname(entry.name).toLowerCase())) found.push(path);
  }
  return found;
}

async function checkFile(path: string, options: ValidatedOptions): Promise<FileReport> {
  const history = await loadHistoryWithLines(path, options.format);
  if (history.ops.length === 0) throw new HistoryFormatError(path, 0, emptyHistoryProblem(history.format));
  const startMs = performance.now();
  let result: CheckResult;
  let ops: number;
  let keys: number;
  let failures: FileReport['failures'];
  if (options.model === 'list-append') {
    const listOptions: { consistency?: ConsistencyModel; timeLimitMs?: number } = {};
    if (options.consistency !== undefined) listOptions.consistency = options.consistency;
    if (options.timeLimitMs !== undefined) listOptions.timeLimitMs = options.timeLimitMs;
    result = await checkListAppend(history.ops, listOptions);
    ops = countInvocations(history.ops);
    // Txn ops carry their keys inside the micro-ops, so the checker's own count is the one to report.
    keys = result.stats?.['keyCount'] ?? 0;
    failures = result.anomalies.map((anomaly) => ({ kind: anomaly.kind, explanation: anomaly.explanation, opIndexes: anomaly.opIndexes, details: anomaly.details }));
  } else {
    const linearizable = await checkLinearizable(history.ops, {
      model: options.model,
      initial: options.initial,
      // Knossos, which reads EDN histories, treats every failed op as never having happened.
      casFail: options.casFail ?? (history.format === 'edn' ? 'not-happened' : 'informative'),
      ...(options.timeLimitMs !== undefined ? { timeLimitMs: options.timeLimitMs } : {}),
    });
    result = linearizable;
    ops = linearizable.ops;
    keys = linearizable.keys;
    failures = linearizable.failures;
  }
  const checkMs = round(performance.now() - startMs);
  const report: FileReport = { file: path, valid: result.valid, checkMs, ops, keys, failures, summary: result.summary, model: options.model };
  if (result.unknownReason !== undefined) report.unknownReason = result.unknownReason;
  return report;
}

/**
 * Describes a file with no ops. A valid verdict on nothing would hide the usual causes: a run that
 * recorded nothing, a truncated copy, or a log in another format whose lines were all skipped.
 */
function emptyHistoryProblem(format: HistoryFormat): string {
  switch (format) {
    case 'jepsen-log':
      return 'contains no Jepsen op lines such as "INFO  jepsen.util - 3 :invoke :read nil"; pass a Jepsen log, or set --format to the format of the file';
    case 'jsonl':
    case 'edn':
      return `contains no ops (read as ${format}); pass a history with at least one op`;
    default: {
      const unknownFormat: never = format;
      return `contains no ops (unknown format ${String(unknownFormat)})`;
    }
  }
}

/** Formats bad input as a one-line message; returns undefined when the error is a bug to rethrow. */
function inputErrorMessage(path: string, error: unknown): string | undefined {
  if (error instanceof HistoryFormatError) return error.message;
  if (error instanceof UnsupportedOpError) return `${path}: ${error.message}; choose the --model that matches the history`;
  if (error instanceof ListAppendInputError) return `${path}: ${error.message}`;
  return undefined;
}

function printReport(report: FileReport): void {
  let verdict = 'UNKNOWN';
  if (report.valid === true) verdict = 'valid';
  if (report.valid === false) verdict = 'INVALID';
  process.stdout.write(`${report.file}: ${verdict}, ${report.ops} ops, ${report.keys} keys, checked in ${report.checkMs} ms\n`);
  if (report.model === 'list-append') {
    // The summary names every anomaly kind with its count, including kinds that only rule out stronger models.
    process.stdout.write(`  ${report.summary}\n`);
  } else if (report.valid === 'unknown' && report.unknownReason !== undefined) {
    process.stdout.write(`  unknown: ${report.unknownReason}\n`);
  }
  for (const failure of report.failures.slice(0, FAILURES_PRINTED_MAX)) {
    // Cycle explanations start with their kind already; the other list-append anomalies get it as a prefix.
    const kind = 'kind' in failure && !failure.explanation.startsWith(failure.kind) ? `${failure.kind}: ` : '';
    process.stdout.write(`  - ${kind}${failure.explanation}\n`);
    if ('minimalHistory' in failure && failure.minimalHistory !== undefined) {
      const qualifier = failure.minimalHistoryComplete === true ? 'minimal' : 'shrunk';
      process.stdout.write(`    ${qualifier} failing history: ${failure.minimalHistory.length} ops (${failure.minimalHistory.map((op) => op.index).join(' ')})\n`);
    }
  }
  if (report.failures.length > FAILURES_PRINTED_MAX) process.stdout.write(`  ... and ${report.failures.length - FAILURES_PRINTED_MAX} more\n`);
}

function countVerdicts(reports: readonly FileReport[]): { valid: number; invalid: number; unknown: number } {
  return {
    valid: reports.filter((report) => report.valid === true).length,
    invalid: reports.filter((report) => report.valid === false).length,
    unknown: reports.filter((report) => report.valid === 'unknown').length,
  };
}

function countInvocations(ops: readonly Op[]): number {
  return ops.filter((op) => op.type === 'invoke' && op.process !== 'nemesis').length;
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
