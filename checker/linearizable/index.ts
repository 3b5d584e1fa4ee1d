// Linearizability checking of a whole history. Keys are independent objects, so the history is
// linearizable exactly when every key's sub-history is. The keys are checked one by one, or on
// worker threads when there are enough of them, and then the first failures are explained and shrunk.
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { Op } from '../history/types.js';
import type { CasFailMode, ModelName } from '../models/types.js';
import { mergeValidity, type Anomaly, type CheckResult } from '../result.js';
import { checkKey, shrinkFailure, UnsupportedOpError, type KeyCheckConfig, type KeyFailure, type KeyReport } from './check-key.js';
import { encodeKeys } from './codec.js';
import { pairOpsByKey, type OpPair } from './pairs.js';
import type { WorkerJob, WorkerReply } from './worker.js';

export { UnsupportedOpError, type KeyFailure, type KeyReport } from './check-key.js';
export { MODEL_NAMES, type CasFailMode, type ModelName } from '../models/types.js';

export interface LinearizableOptions {
  model: ModelName;
  /** Initial value of every key; nil (null) by default. */
  initial?: unknown;
  /** Reading of a `fail` cas; `informative` by default. */
  casFail?: CasFailMode;
  /** Search time limit per key; the key is "unknown" past it. */
  timeLimitMs?: number;
  /** Memory limit of one key's search cache; the key is "unknown" past it. */
  memoryLimitBytes?: number;
  /** Worker threads for the per-key search; 0 or 1 checks in this thread. */
  workers?: number;
  /** Failing keys explained in full and shrunk; the rest are only counted. */
  failuresMax?: number;
  /** Time spent shrinking each explained failure; 0 skips shrinking. */
  shrinkTimeMsMax?: number;
}

export interface LinearizabilityResult extends CheckResult {
  checker: 'linearizable';
  /** Client ops (invocations) checked and keys they touch. */
  ops: number;
  keys: number;
  /** The first failing keys, with the op that cannot be linearized and a shrunk history. */
  failures: KeyFailure[];
  failedKeys: number;
  /** Keys whose search hit a limit, with the reason. */
  unknownKeys: Array<{ key: string; reason: string }>;
  /** Time spent searching, without parsing or shrinking. */
  checkMs: number;
}

const TIME_LIMIT_MS_DEFAULT = 60_000;
const MEMORY_LIMIT_BYTES_DEFAULT = 512 * 1024 * 1024;
const FAILURES_MAX_DEFAULT = 10;
const SHRINK_TIME_MS_MAX_DEFAULT = 1_000;
/** Below these sizes, starting worker threads costs more than it saves. */
const PARALLEL_KEYS_MIN = 16;
const PARALLEL_OPS_MIN = 20_000;
/** Unknown keys listed in a result; the rest are counted in the summary. */
const UNKNOWN_KEYS_LISTED_MAX = 20;

/** Checks that `ops` are linearizable with respect to the model, key by key. */
export async function checkLinearizable(ops: Op[], options: LinearizableOptions): Promise<LinearizabilityResult> {
  const config: KeyCheckConfig = {
    model: options.model,
    initial: options.initial ?? null,
    casFail: options.casFail ?? 'informative',
    timeLimitMs: options.timeLimitMs ?? TIME_LIMIT_MS_DEFAULT,
    memoryBytesMax: options.memoryLimitBytes ?? MEMORY_LIMIT_BYTES_DEFAULT,
  };
  const byKey = pairOpsByKey(ops);
  const keys = [...byKey.entries()];
  const opCount = keys.reduce((sum, [, pairs]) => sum + pairs.length, 0);

  const startMs = performance.now();
  const workers = options.workers ?? defaultWorkerCount();
  const parallel = workers > 1 && keys.length >= PARALLEL_KEYS_MIN && opCount >= PARALLEL_OPS_MIN;
  const reports = parallel ? await checkKeysOnWorkers(keys, config, workers) : keys.map(([key, pairs]) => checkKey(key, pairs, config));
  const checkMs = performance.now() - startMs;

  const failures: KeyFailure[] = [];
  const unknownKeys: Array<{ key: string; reason: string }> = [];
  let failedKeys = 0;
  let unknownCount = 0;
  let configurations = 0;
  for (const report of reports) {
    configurations += report.configurations;
    if (report.valid === false) {
      failedKeys += 1;
      if (failures.length < (options.failuresMax ?? FAILURES_MAX_DEFAULT)) {
        const shrinkTimeMs = options.shrinkTimeMsMax ?? SHRINK_TIME_MS_MAX_DEFAULT;
        if (shrinkTimeMs > 0) shrinkFailure(byKey.get(report.key)!, report.failure, config, shrinkTimeMs);
        failures.push(report.failure);
      }
    } else if (report.valid === 'unknown') {
      unknownCount += 1;
      if (unknownKeys.length < UNKNOWN_KEYS_LISTED_MAX) unknownKeys.push({ key: report.key, reason: report.reason });
    }
  }

  const valid = mergeValidity(reports.map((report) => report.valid));
  const result: LinearizabilityResult = {
    checker: 'linearizable',
    valid,
    summary: summarize(valid, opCount, keys.length, failedKeys, unknownCount, config.model),
    anomalies: failures.map(toAnomaly),
    ops: opCount,
    keys: keys.length,
    failures,
    failedKeys,
    unknownKeys,
    checkMs,
    stats: { ops: opCount, keys: keys.length, failedKeys, unknownKeys: unknownCount, configurations, checkMs: Math.round(checkMs), parallel: parallel ? 1 : 0 },
  };
  if (valid === 'unknown') {
    const first = unknownKeys[0]!.reason;
    result.unknownReason = unknownCount === 1 ? first : `${unknownCount} keys could not be decided; first: ${first}`;
  }
  return result;
}

/**
 * Worker threads only on machines with more than two cores: on two shared cores, encoding the
 * keys for the threads cost more than the parallel search saved (measured with bench/checker.ts).
 */
function defaultWorkerCount(): number {
  const cores = availableParallelism();
  return cores > 2 ? Math.min(cores - 1, 4) : 1;
}

function summarize(valid: boolean | 'unknown', ops: number, keys: number, failedKeys: number, unknownKeys: number, model: ModelName): string {
  const scope = `${ops} ops on ${keys} ${keys === 1 ? 'key' : 'keys'} (${model} model)`;
  if (valid === true) return `linearizable: ${scope}`;
  if (valid === false) return `not linearizable: ${failedKeys} of ${keys} keys have no linearization; ${scope}`;
  return `unknown: ${unknownKeys} of ${keys} keys hit a search limit; ${scope}`;
}

function toAnomaly(failure: KeyFailure): Anomaly {
  const opIndexes = [failure.op.index];
  if (failure.completion !== undefined) opIndexes.push(failure.completion.index);
  return { kind: 'nonlinearizable', explanation: failure.explanation, opIndexes, details: failure };
}

/** Splits keys over `workerCount` threads, balancing op counts (largest key first). */
async function checkKeysOnWorkers(keys: Array<[string, OpPair[]]>, config: KeyCheckConfig, workerCount: number): Promise<KeyReport[]> {
  const batches: Array<Array<[string, OpPair[]]>> = Array.from({ length: workerCount }, () => []);
  const loads = new Array<number>(workerCount).fill(0);
  const bySize = [...keys].sort((a, b) => b[1].length - a[1].length);
  for (const entry of bySize) {
    const lightest = loads.indexOf(Math.min(...loads));
    batches[lightest]!.push(entry);
    loads[lightest]! += entry[1].length;
  }
  const replies = await Promise.all(batches.filter((batch) => batch.length > 0).map((batch) => runWorker({ config, keys: encodeKeys(batch) })));

  const reportsByKey = new Map<string, KeyReport>();
  for (const reply of replies) {
    if (!reply.ok) {
      if (reply.unsupported !== undefined) throw new UnsupportedOpError(reply.unsupported.opIndex, reply.unsupported.reason);
      throw new Error(`linearizability worker failed: ${reply.message}`);
    }
    for (const report of reply.reports) reportsByKey.set(report.key, report);
  }
  // Reports come back in history key order, so the first failures listed do not depend on threads.
  return keys.map(([key]) => reportsByKey.get(key)!);
}

function runWorker(job: WorkerJob): Promise<WorkerReply> {
  const source = import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js';
  const worker = new Worker(new URL(source, import.meta.url));
  return new Promise<WorkerReply>((resolve, reject) => {
    worker.once('message', (reply: WorkerReply) => {
      resolve(reply);
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`linearizability worker exited with code ${code}`));
    });
    worker.postMessage(job, [job.keys.numbers.buffer as ArrayBuffer, job.keys.codes.buffer as ArrayBuffer, job.keys.pairCounts.buffer as ArrayBuffer]);
  });
}
