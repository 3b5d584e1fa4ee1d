// register: single-key read/write/cas over many keys, checked for linearizability per key.
//
// History encoding: f read|write|cas, `key` a string. A read's value is the value read or null for an
// absent key (null on invoke). A write's value is the value written. A cas value is [expected, new].
// A cas is recorded as `fail` only when the server executed it and the comparison failed.
import { checkLinearizable } from '../checker/linearizable/index.js';
import { fixed, fromFunction, type Generator } from '../controller/generator.js';
import { clientOps, completionForFailedRead, completionForFailure, type Completion, type KvClient, type Workload, type WorkloadOp, type WorkloadParams } from './types.js';

/** Ops per key before the key is retired: short per-key histories keep the linearizability search cheap. */
export const REGISTER_OPS_PER_KEY_MAX = 60;
/** Values are drawn from a small range so that cas comparisons succeed often enough to matter. */
const VALUE_RANGE = 5;

interface RegisterState {
  /** Active key numbers and how many ops each has had. */
  active: { key: number; ops: number }[];
  nextKey: number;
}

/** Active keys at once: about five concurrent clients share a key, so ops on one key overlap. */
export function activeKeyCount(concurrency: number): number {
  return Math.max(1, Math.ceil(concurrency / 5));
}

function keyName(key: number): string {
  return `r${key}`;
}

function nextRegisterOp(random: { int(bound: number): number }, state: RegisterState): [WorkloadOp, RegisterState] {
  const slot = random.int(state.active.length);
  const chosen = state.active[slot] as { key: number; ops: number };
  const key = keyName(chosen.key);

  const active = [...state.active];
  let nextKey = state.nextKey;
  if (chosen.ops + 1 >= REGISTER_OPS_PER_KEY_MAX) {
    active[slot] = { key: nextKey, ops: 0 };
    nextKey += 1;
  } else {
    active[slot] = { key: chosen.key, ops: chosen.ops + 1 };
  }

  const draw = random.int(10);
  let op: WorkloadOp;
  if (draw < 4) op = { f: 'read', key, value: null };
  else if (draw < 7) op = { f: 'write', key, value: random.int(VALUE_RANGE) };
  else op = { f: 'cas', key, value: [random.int(VALUE_RANGE), random.int(VALUE_RANGE)] };
  return [op, { active, nextKey }];
}

export function registerGenerator(params: WorkloadParams): Generator<WorkloadOp> {
  const count = activeKeyCount(params.concurrency);
  const initial: RegisterState = {
    active: Array.from({ length: count }, (_, key) => ({ key, ops: 0 })),
    nextKey: count,
  };
  return fromFunction(initial, (ctx, state) => nextRegisterOp(ctx.random, state));
}

async function invokeRegister(client: KvClient, op: WorkloadOp): Promise<Completion> {
  const key = op.key as string;
  switch (op.f) {
    case 'read': {
      const outcome = await client.get(key);
      if (outcome.type !== 'ok') return completionForFailedRead(outcome);
      return { type: 'ok', value: outcome.value ?? null };
    }
    case 'write': {
      const outcome = await client.put(key, op.value as number);
      if (outcome.type !== 'ok') return completionForFailure(outcome);
      return { type: 'ok', value: op.value };
    }
    case 'cas': {
      const [expected, next] = op.value as [number, number];
      const outcome = await client.cas(key, expected, next);
      if (outcome.type === 'fail' && outcome.reason === 'cas-mismatch') return { type: 'fail', value: op.value, error: 'cas-mismatch' };
      // The checker reads a failed cas as "the comparison failed". A cas that never reached the
      // state machine shows no such thing, so it is recorded as unknown instead.
      if (outcome.type === 'fail') return { type: 'info', value: op.value, error: outcome.reason };
      if (outcome.type !== 'ok') return { ...completionForFailure(outcome), value: op.value };
      if (outcome.result?.kind === 'cas' && !outcome.result.swapped) return { type: 'fail', value: op.value, error: 'cas-mismatch' };
      return { type: 'ok', value: op.value };
    }
    default:
      throw new Error(`register workload has no op ${op.f}`);
  }
}

export const registerWorkload: Workload = {
  name: 'register',
  description: 'read/write/cas on rotating keys; each key checked for linearizability as a cas-register',
  create(params) {
    return {
      generator: registerGenerator(params),
      // Linearizability needs no final reads: every read during the run is already checked.
      finalGenerator: () => fixed<WorkloadOp>([]),
      invoke: invokeRegister,
    };
  },
  async check(ops, options) {
    const result = await checkLinearizable(clientOps(ops), {
      model: 'cas-register',
      initial: null,
      casFail: 'informative',
      timeLimitMs: options.timeLimitMs,
    });
    return [result];
  },
};
