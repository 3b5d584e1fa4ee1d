// The history contract shared by the controller, the checkers and the reports.
// A history is a sequence of ops, one JSON object per line (JSONL).

/** `invoke` starts an op; `ok` it happened; `fail` it definitely did not; `info` unknown. */
export type OpType = 'invoke' | 'ok' | 'fail' | 'info';

/** Client process ids are integers; fault events use the process "nemesis". */
export type ProcessId = number | 'nemesis';

export interface Op {
  /** Position in the history, 0-based and strictly increasing. */
  index: number;
  /** Nanoseconds since the run started, from a monotonic clock. */
  time: number;
  process: ProcessId;
  type: OpType;
  /** The operation's function, for example `read`, `write`, `cas`, `txn`, `kill`. */
  f: string;
  /** The key for single-key workloads; absent for txns and most nemesis ops. */
  key?: string;
  /** Workload-specific; each workload module documents its encoding. */
  value?: unknown;
  /** Why an op failed or is indeterminate, for example `timeout` or `not-leader`. */
  error?: string;
}
