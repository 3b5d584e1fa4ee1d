// Register and cas-register models. Values are interned to small integers when an op is prepared,
// so a state is one integer and a step is a few integer comparisons.
import type { Op } from '../history/types.js';
import { ILLEGAL, describeValue, type CasFailMode, type Model, type ModelOp, type Preparation } from './types.js';

const READ = 0;
const WRITE = 1;
const CAS = 2;
/** A cas that ran and found a value other than its expected one. */
const CAS_FAILED = 3;

/** Maps JSON values to dense integers; nil is always 0. Numbers and strings skip JSON encoding. */
export class ValueTable {
  private readonly numberIds = new Map<number, number>();
  private readonly stringIds = new Map<string, number>();
  private readonly jsonIds = new Map<string, number>();
  readonly values: unknown[] = [null];

  id(value: unknown): number {
    if (value === null || value === undefined) return 0;
    if (typeof value === 'number') return this.lookup(this.numberIds, value, value);
    if (typeof value === 'string') return this.lookup(this.stringIds, value, value);
    return this.lookup(this.jsonIds, JSON.stringify(value), value);
  }

  private lookup<K>(ids: Map<K, number>, key: K, value: unknown): number {
    let id = ids.get(key);
    if (id === undefined) {
      id = this.values.length;
      ids.set(key, id);
      this.values.push(value);
    }
    return id;
  }
}

function prepareRegisterOp(
  table: ValueTable,
  allowCas: boolean,
  invoke: Op,
  completion: Op | undefined,
  casFail: CasFailMode,
): Preparation {
  const outcome = completion === undefined ? 'info' : completion.type;
  switch (invoke.f) {
    case 'read':
      // A read that failed or has no known result constrains nothing.
      if (outcome !== 'ok') return { use: 'drop' };
      return { use: 'op', op: { kind: READ, a: table.id(completion!.value), b: 0 } };
    case 'write':
      if (outcome === 'fail') return { use: 'drop' };
      return { use: 'op', op: { kind: WRITE, a: table.id(invoke.value), b: 0 } };
    case 'cas': {
      if (!allowCas) return { use: 'unsupported', reason: 'the register model has no cas; use --model cas-register' };
      const pair = invoke.value;
      if (!Array.isArray(pair) || pair.length !== 2) {
        return { use: 'unsupported', reason: `cas value ${JSON.stringify(pair)} is not [expected, new]` };
      }
      if (outcome === 'fail') {
        if (casFail === 'not-happened') return { use: 'drop' };
        return { use: 'op', op: { kind: CAS_FAILED, a: table.id(pair[0]), b: 0 } };
      }
      return { use: 'op', op: { kind: CAS, a: table.id(pair[0]), b: table.id(pair[1]) } };
    }
    default:
      return { use: 'unsupported', reason: `f ${JSON.stringify(invoke.f)} is not read, write or cas` };
  }
}

function stepRegister(state: number, op: ModelOp): number | typeof ILLEGAL {
  switch (op.kind) {
    case READ:
      return state === op.a ? state : ILLEGAL;
    case WRITE:
      return op.a as number;
    case CAS:
      return state === op.a ? (op.b as number) : ILLEGAL;
    case CAS_FAILED:
      return state !== op.a ? state : ILLEGAL;
    default:
      throw new Error(`register model: unknown op kind ${op.kind}`);
  }
}

/** Creates a register model; each instance has its own value table, so use one per key. */
export function createRegisterModel(allowCas: boolean): Model<number> {
  const table = new ValueTable();
  return {
    name: allowCas ? 'cas-register' : 'register',
    init: (initial) => table.id(initial ?? null),
    prepare: (invoke, completion, casFail) => prepareRegisterOp(table, allowCas, invoke, completion, casFail),
    step: stepRegister,
    stateKey: (state) => state,
    describeState: (state) => describeValue(table.values[state]),
  };
}
