// Verdicts shared by every checker.

/** `unknown` means the checker could not decide, for example because a time limit ran out. */
export type Validity = true | false | 'unknown';

/** One anomaly, kept small: reports show only the first few of each kind. */
export interface Anomaly {
  /** A stable kind name, for example `nonlinearizable`, `lost`, `G-single`. */
  kind: string;
  /** A plain-words explanation a user can act on. */
  explanation: string;
  /** Indexes of the history ops involved, so reports can link to them. */
  opIndexes?: number[];
  /** Kind-specific data (model states, cycles, keys) for the report. */
  details?: unknown;
}

export interface CheckResult {
  /** Which checker produced this, for example `linearizable`, `set`, `elle`. */
  checker: string;
  valid: Validity;
  /** One line for the report banner and the CLI. */
  summary: string;
  anomalies: Anomaly[];
  /** Set when `valid` is `unknown`: why the checker could not decide. */
  unknownReason?: string;
  /** Checker-specific figures (counts, timings) for the report. */
  stats?: Record<string, number>;
}

/** Merges verdicts with the priority false > unknown > true. */
export function mergeValidity(verdicts: Validity[]): Validity {
  if (verdicts.includes(false)) return false;
  if (verdicts.includes('unknown')) return 'unknown';
  return true;
}

/** Exit code of `traft run` and `traft check` for a verdict: 0 valid, 1 invalid, 2 unknown. */
export function exitCodeFor(valid: Validity): 0 | 1 | 2 {
  if (valid === true) return 0;
  if (valid === false) return 1;
  return 2;
}

/** Exit code for bad arguments or unreadable input. */
export const EXIT_USAGE = 64;
