// Builds list-append histories for tests: txns written as micro-op arrays, invoked and completed in
// the order the test states.
import type { Op, OpType } from '../history/types.js';

export type RawMicroOp = ['append', number | string, number | string] | ['r', number | string, (number | string)[] | null];

export class HistoryBuilder {
  readonly ops: Op[] = [];
  private readonly pending = new Map<number, RawMicroOp[]>();

  /** Invokes a txn on `process`; read results in `microOps` are dropped from the invocation. */
  invoke(process: number, microOps: RawMicroOp[]): this {
    this.pending.set(process, microOps);
    const value = microOps.map((op) => (op[0] === 'r' ? ['r', op[1], null] : [...op]));
    return this.push(process, 'invoke', value);
  }

  /** Completes the txn in flight on `process`; an `ok` records the micro-ops given at invocation, reads included. */
  complete(process: number, type: Exclude<OpType, 'invoke'>): this {
    const microOps = this.pending.get(process);
    if (microOps === undefined) throw new Error(`process ${process} has no txn in flight`);
    this.pending.delete(process);
    const value = type === 'ok' ? microOps : microOps.map((op) => (op[0] === 'r' ? ['r', op[1], null] : [...op]));
    return this.push(process, type, value);
  }

  /** Invokes and completes a txn with nothing in between. */
  txn(process: number, microOps: RawMicroOp[], type: Exclude<OpType, 'invoke'> = 'ok'): this {
    return this.invoke(process, microOps).complete(process, type);
  }

  private push(process: number, type: OpType, value: unknown): this {
    const index = this.ops.length;
    this.ops.push({ index, time: index * 1000, process, type, f: 'txn', value });
    return this;
  }
}
