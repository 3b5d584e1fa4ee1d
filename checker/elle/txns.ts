// Pairs the txn ops of a history into Txn records.
import type { Op } from '../history/types.js';
import { pairOps } from '../op-pairs.js';
import { ListAppendInputError, parseTxnValue } from './normalize.js';
import type { MicroOp, Txn, TxnOutcome } from './types.js';

/**
 * Builds one Txn per invocation of `f = 'txn'` by a client process. An invocation that never
 * completed counts as `info`. Ops of other functions and of the nemesis are ignored. Throws
 * ListAppendInputError when the history is malformed.
 */
export function collectTxns(ops: readonly Op[]): Txn[] {
  const positions = new Map<Op, number>();
  const txnOps: Op[] = [];
  ops.forEach((op, position) => {
    if (op.f !== 'txn' || op.process === 'nemesis') return;
    positions.set(op, position);
    txnOps.push(op);
  });

  const { pairs, problems } = pairOps(txnOps);
  if (problems.length > 0) {
    throw new ListAppendInputError(`malformed history: ${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`);
  }

  return pairs.map((pair, id): Txn => {
    const { invoke, completion } = pair;
    const outcome: TxnOutcome = completion === undefined ? 'info' : toOutcome(completion);
    const invokePosition = positions.get(invoke)!;
    const completePosition = outcome === 'info' ? Infinity : positions.get(completion!)!;

    // An ok txn's completion carries what its reads returned. For the others only the appends
    // matter, and the invocation is the authoritative list of what was attempted.
    const source = outcome === 'ok' ? completion! : completion !== undefined && Array.isArray(completion.value) ? completion : invoke;
    let microOps: MicroOp[] = parseTxnValue(source.value, source.index);
    if (outcome !== 'ok') microOps = microOps.map((op) => (op.f === 'r' ? { ...op, list: null } : op));

    return {
      id,
      index: (completion ?? invoke).index,
      invokeIndex: invoke.index,
      process: invoke.process,
      outcome,
      invokePosition,
      completePosition,
      ops: microOps,
      recordedValue: source.value,
    };
  });
}

function toOutcome(completion: Op): TxnOutcome {
  switch (completion.type) {
    case 'ok':
      return 'ok';
    case 'fail':
      return 'fail';
    case 'info':
      return 'info';
    case 'invoke':
      throw new ListAppendInputError(`op ${completion.index}: expected a completion, found an invoke`, completion.index);
    default:
      return assertNever(completion.type);
  }
}

export function assertNever(value: never): never {
  throw new Error(`unexpected value ${String(value)}`);
}
