// Set, counter and FIFO queue models, one object per key.
import type { Op } from '../history/types.js';
import { ILLEGAL, type Model, type ModelOp, type Preparation } from './types.js';

const SET_ADD = 0;
const SET_READ = 1;

/** A set state: the JSON text of each element, sorted, so equal sets compare equal. */
type SetState = readonly string[];

function prepareSetOp(invoke: Op, completion: Op | undefined): Preparation {
  const outcome = completion === undefined ? 'info' : completion.type;
  switch (invoke.f) {
    case 'add':
      if (outcome === 'fail') return { use: 'drop' };
      return { use: 'op', op: { kind: SET_ADD, a: JSON.stringify(invoke.value ?? null), b: null } };
    case 'read': {
      if (outcome !== 'ok') return { use: 'drop' };
      const elements = completion!.value;
      if (!Array.isArray(elements)) return { use: 'unsupported', reason: `set read value ${JSON.stringify(elements)} is not an array` };
      const sorted = [...new Set(elements.map((element) => JSON.stringify(element ?? null)))].sort();
      return { use: 'op', op: { kind: SET_READ, a: sorted.join('\u0000'), b: null } };
    }
    default:
      return { use: 'unsupported', reason: `f ${JSON.stringify(invoke.f)} is not add or read` };
  }
}

function stepSet(state: SetState, op: ModelOp): SetState | typeof ILLEGAL {
  switch (op.kind) {
    case SET_ADD: {
      const element = op.a as string;
      if (state.includes(element)) return state;
      return [...state, element].sort();
    }
    case SET_READ:
      return state.join('\u0000') === op.a ? state : ILLEGAL;
    default:
      throw new Error(`set model: unknown op kind ${op.kind}`);
  }
}

export function createSetModel(): Model<SetState> {
  return {
    name: 'set',
    init: (initial) => {
      const elements = Array.isArray(initial) ? initial : [];
      return [...new Set(elements.map((element) => JSON.stringify(element ?? null)))].sort();
    },
    prepare: prepareSetOp,
    step: stepSet,
    stateKey: (state) => state.join('\u0000'),
    describeState: (state) => `[${state.join(', ')}]`,
  };
}

const COUNTER_ADD = 0;
const COUNTER_READ = 1;

function prepareCounterOp(invoke: Op, completion: Op | undefined): Preparation {
  const outcome = completion === undefined ? 'info' : completion.type;
  switch (invoke.f) {
    case 'add':
    case 'incr': {
      if (outcome === 'fail') return { use: 'drop' };
      const delta = invoke.value ?? 1;
      if (typeof delta !== 'number') return { use: 'unsupported', reason: `counter add value ${JSON.stringify(delta)} is not a number` };
      return { use: 'op', op: { kind: COUNTER_ADD, a: delta, b: null } };
    }
    case 'read': {
      if (outcome !== 'ok') return { use: 'drop' };
      const value = completion!.value;
      if (typeof value !== 'number') return { use: 'unsupported', reason: `counter read value ${JSON.stringify(value)} is not a number` };
      return { use: 'op', op: { kind: COUNTER_READ, a: value, b: null } };
    }
    default:
      return { use: 'unsupported', reason: `f ${JSON.stringify(invoke.f)} is not add, incr or read` };
  }
}

function stepCounter(state: number, op: ModelOp): number | typeof ILLEGAL {
  switch (op.kind) {
    case COUNTER_ADD:
      return state + (op.a as number);
    case COUNTER_READ:
      return state === op.a ? state : ILLEGAL;
    default:
      throw new Error(`counter model: unknown op kind ${op.kind}`);
  }
}

export function createCounterModel(): Model<number> {
  return {
    name: 'counter',
    init: (initial) => (typeof initial === 'number' ? initial : 0),
    prepare: prepareCounterOp,
    step: stepCounter,
    stateKey: (state) => state,
    describeState: (state) => String(state),
  };
}

const ENQUEUE = 0;
const DEQUEUE = 1;
/** A dequeue with an unknown result: it removed the head, if there was one. */
const DEQUEUE_UNKNOWN = 2;

/** A queue state: the JSON text of each element, head first. */
type QueueState = readonly string[];

function prepareQueueOp(invoke: Op, completion: Op | undefined): Preparation {
  const outcome = completion === undefined ? 'info' : completion.type;
  switch (invoke.f) {
    case 'enqueue':
      if (outcome === 'fail') return { use: 'drop' };
      return { use: 'op', op: { kind: ENQUEUE, a: JSON.stringify(invoke.value ?? null), b: null } };
    case 'dequeue':
      if (outcome === 'fail') return { use: 'drop' };
      if (outcome === 'info') return { use: 'op', op: { kind: DEQUEUE_UNKNOWN, a: null, b: null } };
      // An ok dequeue with value nil found the queue empty.
      return { use: 'op', op: { kind: DEQUEUE, a: completion!.value === null || completion!.value === undefined ? null : JSON.stringify(completion!.value), b: null } };
    default:
      return { use: 'unsupported', reason: `f ${JSON.stringify(invoke.f)} is not enqueue or dequeue` };
  }
}

function stepQueue(state: QueueState, op: ModelOp): QueueState | typeof ILLEGAL {
  switch (op.kind) {
    case ENQUEUE:
      return [...state, op.a as string];
    case DEQUEUE:
      if (op.a === null) return state.length === 0 ? state : ILLEGAL;
      return state[0] === op.a ? state.slice(1) : ILLEGAL;
    case DEQUEUE_UNKNOWN:
      return state.length === 0 ? state : state.slice(1);
    default:
      throw new Error(`queue model: unknown op kind ${op.kind}`);
  }
}

export function createQueueModel(): Model<QueueState> {
  return {
    name: 'queue',
    init: (initial) => (Array.isArray(initial) ? initial.map((element) => JSON.stringify(element ?? null)) : []),
    prepare: prepareQueueOp,
    step: stepQueue,
    stateKey: (state) => state.join('\u0000'),
    describeState: (state) => `[${state.join(', ')}]`,
  };
}
