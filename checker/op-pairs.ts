// Pairs each invocation in a history with the completion that ends it.
import type { Op } from './history/types.js';

/** One operation: its invocation and, unless it was still running when the history ended, its completion. */
export interface OpPair {
  invoke: Op;
  /** An `ok`, `fail` or `info` op from the same process; absent when the op never completed. */
  completion?: Op;
}

export interface Pairing {
  /** Every invocation, in history order. */
  pairs: OpPair[];
  /** Malformed spots (a completion without an invocation, two invocations in flight on one process). */
  problems: string[];
}

/**
 * Pairs invocations with completions per process. A process has at most one op in flight, so the
 * next non-invoke op of the same process completes it. Malformed spots are listed, not thrown, so
 * a checker can return `unknown` and a report can still draw what is well formed.
 */
export function pairOps(ops: readonly Op[]): Pairing {
  const pairs: OpPair[] = [];
  const problems: string[] = [];
  const inFlight = new Map<string, OpPair>();

  for (const op of ops) {
    const processKey = String(op.process);
    const open = inFlight.get(processKey);

    if (op.type === 'invoke') {
      if (open !== undefined) {
        problems.push(
          `op ${op.index}: process ${processKey} invokes ${op.f} while op ${open.invoke.index} is still in flight`,
        );
      }
      const pair: OpPair = { invoke: op };
      pairs.push(pair);
      inFlight.set(processKey, pair);
      continue;
    }

    if (open === undefined) {
      problems.push(`op ${op.index}: ${op.type} ${op.f} on process ${processKey} has no matching invoke`);
      continue;
    }
    if (open.invoke.f !== op.f) {
      problems.push(`op ${op.index}: completes ${op.f} but process ${processKey} invoked ${open.invoke.f} (op ${open.invoke.index})`);
    }
    open.completion = op;
    inFlight.delete(processKey);
  }

  return { pairs, problems };
}
