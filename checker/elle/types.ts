// Types shared by the list-append (Elle-style) checker's modules.
import type { Anomaly, CheckResult } from '../result.js';

/** Consistency models the checker can test for, weakest first; each implies the ones before it. */
export const CONSISTENCY_MODELS = [
  'read-uncommitted',
  'read-committed',
  'snapshot-isolation',
  'serializable',
  'strong-session-serializable',
  'strict-serializable',
] as const;

export type ConsistencyModel = (typeof CONSISTENCY_MODELS)[number];

export type ListKey = number | string;
export type ListValue = number | string;

/** One micro-op of a list-append txn; `list` is null in invocations and for reads of a missing key. */
export type MicroOp =
  | { f: 'append'; key: ListKey; value: ListValue }
  | { f: 'r'; key: ListKey; list: ListValue[] | null };

/** Outcome of a txn: `ok` committed, `fail` definitely did not, `info` may or may not have. */
export type TxnOutcome = 'ok' | 'fail' | 'info';

/** One list-append transaction, paired from its invocation and completion. */
export interface Txn {
  /** Dense id, the position in `txns`. */
  id: number;
  /** History index of the completion op, or of the invocation when the txn never completed. */
  index: number;
  /** History index of the invocation op. */
  invokeIndex: number;
  process: number | string;
  outcome: TxnOutcome;
  /** Position of the invocation in the history array. */
  invokePosition: number;
  /** Position of the completion in the history array; Infinity when it never completed or is `info`. */
  completePosition: number;
  /** Position of the txn's last op in the history array: its completion of any type, or its invocation when it never completed. */
  lastPosition: number;
  /** For `ok` txns the completed micro-ops (with read results); otherwise the invoked ones. */
  ops: MicroOp[];
  /** The completion's value (or the invocation's), as recorded, for reports. */
  recordedValue: unknown;
}

export type EdgeType = 'ww' | 'wr' | 'rw' | 'process' | 'realtime';

/** A cycle drawn in a report: txns by history index, and each edge with the reason it exists. */
export interface CycleDetails {
  txns: { index: number; process: number | string; value: unknown }[];
  edges: { from: number; to: number; type: EdgeType; why: string }[];
}

export interface ElleAnomalyDetails {
  cycle?: CycleDetails;
  key?: ListKey;
  /** Models this anomaly rules out, weakest first. */
  notModels?: ConsistencyModel[];
  [field: string]: unknown;
}

export interface ElleAnomaly extends Anomaly {
  details?: ElleAnomalyDetails;
}

export interface ElleResult extends CheckResult {
  checker: 'elle';
  /** The model the history was checked against. */
  consistency: ConsistencyModel;
  /** Anomalies that rule out `consistency`; anomalies that only rule out stronger models are counted in `anomalyTypes`. */
  anomalies: ElleAnomaly[];
  /** Every anomaly kind found, whether or not it rules out `consistency`. */
  anomalyTypes: string[];
  /** How often each kind in `anomalyTypes` occurred (`anomalies` keeps only a few examples of each). */
  anomalyCounts: Record<string, number>;
  /** Every model ruled out by some anomaly found, weakest first. */
  notModels: ConsistencyModel[];
}

export interface CheckListAppendOptions {
  /** Model to check against; default `strict-serializable`. */
  consistency?: ConsistencyModel;
  /** Time budget for the cycle search in each strongly connected component, in ms; default 10000. */
  timeLimitMs?: number;
}
