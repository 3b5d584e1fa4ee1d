// Well-formedness of a history: the rules every checker relies on, reported with the line.
import { HistoryFormatError } from './errors.js';
import type { Op, ProcessId } from './types.js';

const OP_TYPES = new Set(['invoke', 'ok', 'fail', 'info']);

/** The origin of ops, so errors can name the file and line instead of the op position. */
export interface HistorySource {
  file: string;
  /** 1-based line of each op, parallel to the ops array. */
  lines?: readonly number[];
}

/**
 * Throws HistoryFormatError at the first op that breaks a rule. Each op has a known type, a larger
 * index than the op before, and no earlier time. A client process does not invoke again before its
 * previous op completed, and every completion matches an invocation with the same `f` and `key`.
 * Nemesis ops are exempt from the pairing rules.
 */
export function validateWellFormed(ops: readonly Op[], source: HistorySource = { file: '<history>' }): void {
  const pending = new Map<ProcessId, number>();
  for (let position = 0; position < ops.length; position += 1) {
    const op = ops[position]!;
    const fail = (problem: string): never => {
      throw new HistoryFormatError(source.file, lineOf(source, position), problem);
    };

    if (!OP_TYPES.has(op.type)) fail(`unknown op type ${JSON.stringify(op.type)}; expected invoke, ok, fail or info`);
    if (position > 0) {
      const previous = ops[position - 1]!;
      if (op.index <= previous.index) fail(`index ${op.index} does not increase (previous op has index ${previous.index})`);
      if (op.time < previous.time) fail(`time goes backwards from ${previous.time} to ${op.time} ns`);
    }
    if (op.process === 'nemesis') continue;

    const invokedAt = pending.get(op.process);
    if (op.type === 'invoke') {
      if (invokedAt !== undefined) {
        fail(`process ${op.process} invokes ${op.f} before its ${ops[invokedAt]!.f} from ${placeOf(source, invokedAt)} completed`);
      }
      pending.set(op.process, position);
      continue;
    }
    if (invokedAt === undefined) fail(`${op.type} ${op.f} of process ${op.process} has no matching invoke`);
    const invoke = ops[invokedAt!]!;
    if (invoke.f !== op.f) fail(`process ${op.process} completes ${op.f} but invoked ${invoke.f} at ${placeOf(source, invokedAt!)}`);
    if (invoke.key !== op.key) {
      fail(`process ${op.process} completes key ${JSON.stringify(op.key)} but invoked key ${JSON.stringify(invoke.key)} at ${placeOf(source, invokedAt!)}`);
    }
    pending.delete(op.process);
  }
}

function lineOf(source: HistorySource, position: number): number {
  return source.lines?.[position] ?? 0;
}

function placeOf(source: HistorySource, position: number): string {
  const line = lineOf(source, position);
  return line > 0 ? `line ${line}` : `op ${position}`;
}
