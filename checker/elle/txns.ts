// Pairs the txn ops of a history into Txn records.
import type { Op } from '../history/types.js';
import { ListAppendInputError, parseTxnValue, txnValueOf } from './normalize.js';
import type { MicroOp, Txn, TxnOutcome } from './types.js';

/**
 * Builds one Txn per invocation of `f = 'txn'` by a client process. An invocation that never
 * completed counts as `info`. Ops of other functions and of the nemesis are ignored. Throws
 * ListAppendInputError when the history is malformed.
 */
export function collectTxns(ops: readonly Op[]): Txn[] {
  // Positions of each txn's invocation and completion (-1 while none), indexed by txn id. A process
  // has at most one op in flight, so its next completion ends its open invocation.
  const invokeAt: number[] = [];
  const completeAt: number[] = [];
  const inFlight = new Map<number | string, number>();
  let otherClientOp: Op | undefined;

  for (let position = 0; position < ops.length; position++) {
    const op = ops[position]!;
    if (op.process === 'nemesis') continue;
    if (op.f !== 'txn') {
      otherClientOp ??= op;
      continue;
    }
    const open = inFlight.get(op.process);
    if (op.type === 'invoke') {
      if (open !== undefined) {
        throw new ListAppendInputError(
          `invalid history: op ${op.index}: process ${op.process} invokes a txn while op ${ops[invokeAt[open]!]!.index} is still in flight; ` +
            'a process must complete each op before its next invoke',
          op.index,
        );
      }
      inFlight.set(op.process, invokeAt.length);
      invokeAt.push(position);
      completeAt.push(-1);
      continue;
    }
    if (open === undefined) {
      throw new ListAppendInputError(
        `invalid history: op ${op.index}: ${op.type} txn on process ${op.process} has no matching invoke; check that the history is complete and in order`,
        op.index,
      );
    }
    completeAt[open] = position;
    inFlight.delete(op.process);
  }

  if (invokeAt.length === 0 && otherClientOp !== undefined) {
    throw new ListAppendInputError(
      `op ${otherClientOp.index}: found f=${JSON.stringify(otherClientOp.f)} but no txn ops; this is not a list-append history, so pick the --model that matches it`,
      otherClientOp.index,
    );
  }

  return invokeAt.map((invokePosition, id): Txn => {
    const invoke = ops[invokePosition]!;
    const completion = completeAt[id]! >= 0 ? ops[completeAt[id]!]! : undefined;
    const outcome: TxnOutcome = completion === undefined ? 'info' : toOutcome(completion);
    const completePosition = outcome === 'info' ? Infinity : completeAt[id]!;

    // An ok txn's completion carries what its reads returned. For the others only the appends
    // matter, and the invocation is the authoritative list of what was attempted.
    let source = invoke;
    if (outcome === 'ok' || (completion !== undefined && Array.isArray(completion.value))) source = completion!;
    const value = txnValueOf(source);
    let microOps: MicroOp[] = parseTxnValue(value, source.index);
    if (outcome !== 'ok') microOps = microOps.map((op) => (op.f === 'r' ? { ...op, list: null } : op));

    return {
      id,
      index: (completion ?? invoke).index,
      invokeIndex: invoke.index,
      process: invoke.process,
      outcome,
      invokePosition,
      completePosition,
      lastPosition: completeAt[id]! >= 0 ? completeAt[id]! : invokePosition,
      ops: microOps,
      recordedValue: value,
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
