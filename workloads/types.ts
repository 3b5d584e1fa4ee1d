// The contract between the bench runner and a workload module: how ops are generated, how each op
// maps to client calls, and how the recorded history is checked.
import type { Generator } from '../controller/generator.js';
import type { Op } from '../checker/history/types.js';
import type { CheckResult } from '../checker/result.js';
import type { CommandResult, JsonValue, MicroOp } from '../server/core/types.js';

/** The outcome of one client call: done, definitely not done, or unknown. */
export type KvOutcome =
  | { type: 'ok'; value?: JsonValue; result?: CommandResult }
  | { type: 'fail'; reason: string; value?: JsonValue }
  | { type: 'info'; reason: string };

/** The subset of the server's client library that workloads call; `TraftClient` satisfies it. */
export interface KvClient {
  get(key: string): Promise<KvOutcome>;
  put(key: string, value: JsonValue): Promise<KvOutcome>;
  cas(key: string, expected: JsonValue, value: JsonValue): Promise<KvOutcome>;
  append(key: string, value: JsonValue): Promise<KvOutcome>;
  incr(key: string, delta: number): Promise<KvOutcome>;
  txn(ops: MicroOp[]): Promise<KvOutcome>;
}

/** An op as a generator emits it; the runner adds index, time, process and type. */
export interface WorkloadOp {
  f: string;
  key?: string;
  value?: unknown;
}

/** How an invoked op ended, as recorded in the history. */
export interface Completion {
  type: 'ok' | 'fail' | 'info';
  value?: unknown;
  error?: string;
}

export interface WorkloadParams {
  /** Number of concurrent client processes. */
  concurrency: number;
}

/** One run's workload state: its generators and its mapping to client calls. */
export interface WorkloadInstance {
  /** Ops of the main phase, endless; the runner adds the rate and the time limit. */
  generator: Generator<WorkloadOp>;
  /** Ops of the final phase (after every fault is healed), built from what the main phase touched. */
  finalGenerator(): Generator<WorkloadOp>;
  /** Runs one op against the cluster; never throws for operating failures. */
  invoke(client: KvClient, op: WorkloadOp): Promise<Completion>;
}

export interface CheckOptions {
  /** Time budget per checker; a checker that runs out answers `unknown`. */
  timeLimitMs: number;
}

export interface Workload {
  name: string;
  /** One line for `traft workloads`. */
  description: string;
  create(params: WorkloadParams): WorkloadInstance;
  /** Checks a recorded history (nemesis ops included) and returns one result per checker. */
  check(ops: Op[], options: CheckOptions): Promise<CheckResult[]>;
}

/** Maps a non-ok client outcome to a completion: `fail` only when the op definitely did not happen. */
export function completionForFailure(outcome: Exclude<KvOutcome, { type: 'ok' }>): Completion {
  switch (outcome.type) {
    case 'fail':
      return { type: 'fail', error: outcome.reason };
    case 'info':
      return { type: 'info', error: outcome.reason };
    default:
      return assertNever(outcome);
  }
}

/** Keeps only client ops, dropping nemesis events, for checkers that read client ops only. */
export function clientOps(ops: readonly Op[]): Op[] {
  return ops.filter((op) => op.process !== 'nemesis');
}

export function assertNever(value: never): never {
  throw new Error(`unexpected value ${JSON.stringify(value)}`);
}

/** The micro-op results of an ok txn outcome, or undefined when the outcome carries none. */
export function txnResults(outcome: Extract<KvOutcome, { type: 'ok' }>): { f: string; key: string; value?: JsonValue }[] | undefined {
  if (outcome.result?.kind === 'txn') return outcome.result.ops;
  if (Array.isArray(outcome.value)) return outcome.value as { f: string; key: string; value?: JsonValue }[];
  return undefined;
}
