// Counter checker: every read must lie between what was surely added and what may have been added.
//
// Encoding: f 'add' with value = a non-negative integer delta (on the invoke and the completion);
// f 'read' with value = the counter (null on the invoke). Ops with other f are ignored.
import type { Op } from './history/types.js';
import type { Anomaly, CheckResult } from './result.js';
import { pairOps } from './op-pairs.js';

/** Out-of-bounds reads kept as anomalies; the stats carry the full count. */
export const COUNTER_ANOMALIES_MAX = 20;

/**
 * Checks each ok read against bounds: at least the sum of adds acked before the read was invoked,
 * at most the sum of adds invoked (and not failed) before the read completed.
 */
export function checkCounter(ops: Op[]): CheckResult {
  const { pairs, problems } = pairOps(ops);
  if (problems.length > 0) {
    return unknownResult(`the history is malformed: ${problems[0]}`);
  }

  // Adds that failed never happened, so they never raise the upper bound.
  const deltaByInvokeIndex = new Map<number, number>();
  const failedInvokeIndexes = new Set<number>();
  const okAddCompletionIndexes = new Map<number, number>();
  const readInvokeIndexes = new Set<number>();
  let addCount = 0;

  for (const { invoke, completion } of pairs) {
    if (invoke.f === 'read') {
      readInvokeIndexes.add(invoke.index);
      continue;
    }
    if (invoke.f !== 'add') continue;

    const delta = invoke.value;
    if (typeof delta !== 'number' || !Number.isSafeInteger(delta) || delta < 0) {
      return unknownResult(
        `op ${invoke.index}: add value ${JSON.stringify(delta)} is not a non-negative integer; fix the workload's encoding`,
      );
    }
    addCount++;
    deltaByInvokeIndex.set(invoke.index, delta);
    if (completion?.type === 'fail') failedInvokeIndexes.add(invoke.index);
    if (completion?.type === 'ok') okAddCompletionIndexes.set(completion.index, delta);
  }

  return sweepReads(ops, { deltaByInvokeIndex, failedInvokeIndexes, okAddCompletionIndexes, readInvokeIndexes, addCount });
}

interface AddTable {
  deltaByInvokeIndex: Map<number, number>;
  failedInvokeIndexes: Set<number>;
  okAddCompletionIndexes: Map<number, number>;
  readInvokeIndexes: Set<number>;
  addCount: number;
}

/** Walks the history once, keeping running lower and upper sums, and checks each ok read. */
function sweepReads(ops: Op[], table: AddTable): CheckResult {
  let lowerSum = 0;
  let upperSum = 0;
  const lowerAtReadInvoke = new Map<string, { lower: number; invokeIndex: number }>();
  const anomalies: Anomaly[] = [];
  let readOkCount = 0;
  let outOfBoundsCount = 0;

  for (const op of ops) {
    if (op.type === 'invoke' && table.deltaByInvokeIndex.has(op.index) && !table.failedInvokeIndexes.has(op.index)) {
      upperSum += table.deltaByInvokeIndex.get(op.index)!;
    }
    const okDelta = table.okAddCompletionIndexes.get(op.index);
    if (okDelta !== undefined) lowerSum += okDelta;

    if (op.f !== 'read') continue;
    if (op.type === 'invoke') {
      if (table.readInvokeIndexes.has(op.index)) lowerAtReadInvoke.set(String(op.process), { lower: lowerSum, invokeIndex: op.index });
      continue;
    }

    const started = lowerAtReadInvoke.get(String(op.process));
    lowerAtReadInvoke.delete(String(op.process));
    if (op.type !== 'ok' || started === undefined) continue;

    const value = op.value;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      return unknownResult(`op ${op.index}: read value ${JSON.stringify(value)} is not a number; fix the workload's encoding`);
    }
    readOkCount++;
    if (value >= started.lower && value <= upperSum) continue;

    outOfBoundsCount++;
    if (anomalies.length < COUNTER_ANOMALIES_MAX) {
      anomalies.push(outOfBounds(value, started.lower, upperSum, started.invokeIndex, op.index));
    }
  }

  const stats = { addCount: table.addCount, addOkCount: table.okAddCompletionIndexes.size, readOkCount, outOfBoundsCount };
  if (outOfBoundsCount > 0) {
    return {
      checker: 'counter',
      valid: false,
      summary: `${outOfBoundsCount} of ${readOkCount} reads lie outside the possible counter values`,
      anomalies,
      stats,
    };
  }
  return { checker: 'counter', valid: true, summary: `all ${readOkCount} reads lie within the possible counter values`, anomalies: [], stats };
}

function outOfBounds(value: number, lower: number, upper: number, invokeIndex: number, completionIndex: number): Anomaly {
  const kind = value < lower ? 'read-too-low' : 'read-too-high';
  const explanation =
    value < lower
      ? `The read at op ${completionIndex} returned ${value}, but adds acknowledged before it began already sum to ${lower}, so it missed acknowledged increments.`
      : `The read at op ${completionIndex} returned ${value}, but all adds that could have happened before it completed sum to only ${upper}, so it counted increments that never happened.`;
  return { kind, explanation, opIndexes: [invokeIndex, completionIndex], details: { value, lower, upper } };
}

function unknownResult(reason: string): CheckResult {
  return { checker: 'counter', valid: 'unknown', summary: `cannot check: ${reason}`, anomalies: [], unknownReason: reason };
}
