// Pairs each invocation with its completion and splits a history by key, the unit the
// linearizability search works on (keys are independent objects, so each is checked alone).
import { DEFAULT_KEY } from '../history/jepsen-log.js';
import type { Op, ProcessId } from '../history/types.js';

/** One client op: its invocation, its completion (absent when it never completed) and positions. */
export interface OpPair {
  invoke: Op;
  completion?: Op;
  /** Position of the invocation in the whole history. */
  callPosition: number;
  /** Position of the completion in the whole history; -1 when there is none. */
  returnPosition: number;
}

/** Groups client ops by key, in invocation order. Nemesis ops are skipped. */
export function pairOpsByKey(ops: readonly Op[]): Map<string, OpPair[]> {
  const byKey = new Map<string, OpPair[]>();
  const pending = new Map<ProcessId, OpPair>();
  for (let position = 0; position < ops.length; position += 1) {
    const op = ops[position]!;
    if (op.process === 'nemesis') continue;
    if (op.type === 'invoke') {
      const pair: OpPair = { invoke: op, callPosition: position, returnPosition: -1 };
      pending.set(op.process, pair);
      const key = op.key ?? DEFAULT_KEY;
      let pairs = byKey.get(key);
      if (pairs === undefined) {
        pairs = [];
        byKey.set(key, pairs);
      }
      pairs.push(pair);
      continue;
    }
    const pair = pending.get(op.process);
    // validateWellFormed rejects completions without an invocation; skip them if unvalidated.
    if (pair === undefined) continue;
    pair.completion = op;
    pair.returnPosition = position;
    pending.delete(op.process);
  }
  return byKey;
}
