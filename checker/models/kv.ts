// Key-value model for one key (the checker splits a kv history by key). An absent key and the
// empty string are the same state, because stores such as Porcupine's kv test return "" for a
// missing key.
import type { Op } from '../history/types.js';
import { ILLEGAL, describeValue, type CasFailMode, type Model, type ModelOp, type Preparation } from './types.js';

const GET = 0;
const PUT = 1;
const APPEND = 2;
const DELETE = 3;
const CAS = 4;
const CAS_FAILED = 5;

/** Canonical form of a kv value: nil and "" coincide. */
function valueKey(value: unknown): string {
  if (value === null || value === undefined || value === '') return '';
  if (typeof value === 'string') return `s${value}`;
  return `j${JSON.stringify(value)}`;
}

function appendValue(state: unknown, value: unknown): unknown {
  if (Array.isArray(state)) return [...state, value];
  if (state === null || state === undefined) return typeof value === 'string' ? value : String(value);
  return `${String(state)}${String(value)}`;
}

function prepareKvOp(invoke: Op, completion: Op | undefined, casFail: CasFailMode): Preparation {
  const outcome = completion === undefined ? 'info' : completion.type;
  if (invoke.f === 'get' || invoke.f === 'read') {
    if (outcome !== 'ok') return { use: 'drop' };
    return { use: 'op', op: { kind: GET, a: valueKey(completion!.value), b: null } };
  }
  if (outcome === 'fail' && invoke.f !== 'cas') return { use: 'drop' };
  switch (invoke.f) {
    case 'put':
    case 'write':
      return { use: 'op', op: { kind: PUT, a: invoke.value ?? null, b: null } };
    case 'append':
      return { use: 'op', op: { kind: APPEND, a: invoke.value ?? null, b: null } };
    case 'delete':
      return { use: 'op', op: { kind: DELETE, a: null, b: null } };
    case 'cas': {
      const pair = invoke.value;
      if (!Array.isArray(pair) || pair.length !== 2) {
        return { use: 'unsupported', reason: `cas value ${JSON.stringify(pair)} is not [expected, new]` };
      }
      if (outcome === 'fail') {
        if (casFail === 'not-happened') return { use: 'drop' };
        return { use: 'op', op: { kind: CAS_FAILED, a: valueKey(pair[0]), b: null } };
      }
      return { use: 'op', op: { kind: CAS, a: valueKey(pair[0]), b: pair[1] ?? null } };
    }
    default:
      return { use: 'unsupported', reason: `f ${JSON.stringify(invoke.f)} is not get, put, append, delete or cas` };
  }
}

function stepKv(state: unknown, op: ModelOp): unknown {
  switch (op.kind) {
    case GET:
      return valueKey(state) === op.a ? state : ILLEGAL;
    case PUT:
      return op.a;
    case APPEND:
      return appendValue(state, op.a);
    case DELETE:
      return null;
    case CAS:
      return valueKey(state) === op.a ? op.b : ILLEGAL;
    case CAS_FAILED:
      return valueKey(state) !== op.a ? state : ILLEGAL;
    default:
      throw new Error(`kv model: unknown op kind ${op.kind}`);
  }
}

export function createKvModel(): Model<unknown> {
  return {
    name: 'kv',
    init: (initial) => initial ?? null,
    prepare: prepareKvOp,
    step: stepKv,
    stateKey: valueKey,
    describeState: describeValue,
  };
}
