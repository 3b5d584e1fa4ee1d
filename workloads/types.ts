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

/** The outcome of an invoked op, as recorded in the history. */
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
  /** Runs one op against the cluster. Operating failures come back as fail or info completions, so a throw is a bug. */
  invoke(client: KvClient, op: WorkloadOp): Promise<Completion>;
}

export interface CheckOptions {
  /** Time budget per checker. A checker that runs out of time returns `unknown`. */
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

/**
 * Maps a non-ok outcome of a read-only op. A read changes no state, so a read whose outcome is
 * unknown is recorded as `fail`: no checker has to consider it taking effect later, which keeps
 * the linearizability search small after timeouts.
 */
export function completionForFailedRead(outcome: Exclude<KvOutcome, { type: 'ok' }>): Completion {
  return { type: 'fail', error: outcome.type === 'info' ? `read outcome unknown (${outcome.reason}); a read has no effect` : outcome.reason };
}

/** Keeps only client ops, dropping nemesis events, for checkers that read client ops only. */
export function clientOps(ops: readonly Op[]): Op[] {
  return ops.filter((op) => op.process !== 'nemesis');
}

export function assertNever(value: never): never {
  throw new Error(`unexpected value ${JSON.stringify(value)}`);
}

/** Extracts the micro-op results of an ok txn outcome; undefined when the outcome carries none. */
export function txnResults(outcome: Extract<KvOutcome, { type: 'ok' }>): { f: string; key: string; value?: JsonValue }[] | undefined {
  if (outcome.result?.kind === 'txn') return outcome.result.ops;
  if (Array.isArray(outcome.value)) return outcome.value as { f: string; key: string; value?: JsonValue }[];
  return undefined;
}
