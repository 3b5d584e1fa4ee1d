// register: single-key read/write/cas over many keys, checked for linearizability per key.
//
// History encoding: f read|write|cas, `key` a string. A read's value is the value read or null for an
// absent key (null on invoke). A write's value is the value written. A cas value is [expected, new].
// A cas is recorded as `fail` only when the server executed it and the comparison failed (error
// `cas-mismatch`); the check drops any other failed cas, which the model would misread.
import type { Op } from '../checker/history/types.js';
import { checkLinearizable } from '../checker/linearizable/index.js';
import { fixed, fromFunction, type Generator } from '../controller/generator.js';
import { clientOps, completionForFailedRead, completionForFailure, type Completion, type KvClient, type Workload, type WorkloadOp, type WorkloadParams } from './types.js';

/**
 * Ops per key before the key is retired: short per-key histories keep the linearizability search
 * cheap, while a key that lives a few seconds spans a fault and its heal, so a write lost or
 * applied twice by the fault is still read back on the same key.
 */
export const REGISTER_OPS_PER_KEY_MAX = 100;
/** A cas expects one of the last this many values written to its key, so it succeeds often enough to matter. */
const CAS_RECENT_VALUES_MAX = 3;

/**
 * A register key in use. Every write and cas on a key writes a value no other op on that key
 * writes (the key's op count), so a read names exactly one write: a write applied twice, lost, or
 * read from a deposed leader cannot hide behind another write of the same value.
 */
interface ActiveKey {
  key: number;
  ops: number;
  /** The last few values written or cas'ed in, newest last. The array is never mutated. */
  recent: readonly number[];
}

interface RegisterState {
  active: SlotVersion<ActiveKey>;
  /** The number of active keys, which is the length of `active`. */
  slotCount: number;
  nextKey: number;
}

/**
 * One version of a fixed-length array, updated without copying (a persistent array with rerooting).
 * The newest version owns the elements. Every older version stores the one slot in which it
 * differs from the next newer version, so `set` costs one object instead of a copy of the whole
 * array. Reading an older version first moves the elements back to it ("rerooting"), which costs
 * one step per version in between. Every version therefore keeps its value for good, so a
 * generator that refers to one stays a pure value, and the runner, which only steps the newest
 * version, pays O(1) per op.
 *
 * An old version reaches every newer version that shares its elements, so a caller that keeps the
 * first generator (the workload instance does) would keep one version per op alive. After as many
 * sets as the array has slots, `set` therefore starts a new array, which bounds what an old version
 * keeps alive to one array and that many versions, at an amortized cost of one copied slot per set.
 */
export class SlotVersion<T> {
  private elements: T[] | undefined;
  /** Set when `elements` is undefined: this version equals `newer` except that slot `index` contains `value`. */
  private index = -1;
  private value: T | undefined;
  private newer: SlotVersion<T> | undefined;
  /** Set when `elements` is defined: the number of sets made on `elements`, which bounds the versions sharing it. */
  private setCount = 0;

  constructor(elements: T[]) {
    this.elements = elements;
  }

  get(index: number): T {
    return this.reroot()[index] as T;
  }

  /** Returns a new version equal to this one except that slot `index` contains `value`. */
  set(index: number, value: T): SlotVersion<T> {
    const elements = this.reroot();
    if (this.setCount >= elements.length) {
      const copy = elements.slice();
      copy[index] = value;
      return new SlotVersion(copy);
    }
    const next = new SlotVersion(elements);
    next.setCount = this.setCount + 1;
    this.elements = undefined;
    this.index = index;
    this.value = elements[index];
    this.newer = next;
    elements[index] = value;
    return next;
  }

  /** Moves the elements to this version, turning each version on the way into a one-slot difference. */
  private reroot(): T[] {
    if (this.elements !== undefined) return this.elements;
    const path: SlotVersion<T>[] = [];
    let owner: SlotVersion<T> = this;
    while (owner.elements === undefined) {
      path.push(owner);
      owner = owner.newer as SlotVersion<T>;
    }
    const elements = owner.elements;
    const setCount = owner.setCount;
    for (let i = path.length - 1; i >= 0; i -= 1) {
      const version = path[i] as SlotVersion<T>;
      const holder = version.newer as SlotVersion<T>;
      holder.elements = undefined;
      holder.index = version.index;
      holder.value = elements[version.index];
      holder.newer = version;
      elements[version.index] = version.value as T;
      version.elements = elements;
      version.setCount = setCount;
      version.index = -1;
      version.value = undefined;
      version.newer = undefined;
    }
    return elements;
  }
}

/** Active keys at once: about five concurrent clients share a key, so ops on one key overlap. */
export function activeKeyCount(concurrency: number): number {
  return Math.max(1, Math.ceil(concurrency / 5));
}

function keyName(key: number): string {
  return `r${key}`;
}

function nextRegisterOp(random: { int(bound: number): number; pick<T>(items: readonly T[]): T }, state: RegisterState): [WorkloadOp, RegisterState] {
  const slot = random.int(state.slotCount);
  const chosen = state.active.get(slot);
  const key = keyName(chosen.key);
  const fresh = chosen.ops + 1;

  const draw = random.int(10);
  let op: WorkloadOp;
  let recent = chosen.recent;
  if (draw < 4) {
    op = { f: 'read', key, value: null };
  } else if (draw < 7) {
    op = { f: 'write', key, value: fresh };
    recent = withRecent(recent, fresh);
  } else {
    const expected = recent.length === 0 ? null : random.pick(recent);
    op = { f: 'cas', key, value: [expected, fresh] };
    recent = withRecent(recent, fresh);
  }

  let nextKey = state.nextKey;
  let replacement: ActiveKey;
  if (chosen.ops + 1 >= REGISTER_OPS_PER_KEY_MAX) {
    replacement = { key: nextKey, ops: 0, recent: [] };
    nextKey += 1;
  } else {
    replacement = { key: chosen.key, ops: fresh, recent };
  }
  return [op, { active: state.active.set(slot, replacement), slotCount: state.slotCount, nextKey }];
}

/** Returns the last CAS_RECENT_VALUES_MAX values of `recent` with `value` appended, as a new array. */
function withRecent(recent: readonly number[], value: number): number[] {
  const keptCount = Math.min(recent.length, CAS_RECENT_VALUES_MAX - 1);
  const next = recent.slice(recent.length - keptCount);
  next.push(value);
  return next;
}

export function registerGenerator(params: WorkloadParams): Generator<WorkloadOp> {
  const count = activeKeyCount(params.concurrency);
  const initial: RegisterState = {
    active: new SlotVersion(Array.from({ length: count }, (_, key) => ({ key, ops: 0, recent: [] }))),
    slotCount: count,
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
      const [expected, next] = op.value as [number | null, number];
      const outcome = await client.cas(key, expected, next);
      if (outcome.type === 'fail' && outcome.reason === CAS_MISMATCH) return { type: 'fail', value: op.value, error: CAS_MISMATCH };
      // NOTE: a cas refused without running (reason `not executed` or `not sent`) is still recorded as info,
      // because `traft check` reads every failed cas as a failed comparison. Once the cas-register
      // model drops a failed cas whose error is not cas-mismatch, record it as fail instead.
      if (outcome.type === 'fail') return { type: 'info', value: op.value, error: outcome.reason };
      if (outcome.type !== 'ok') return { ...completionForFailure(outcome), value: op.value };
      if (outcome.result?.kind === 'cas' && !outcome.result.swapped) return { type: 'fail', value: op.value, error: CAS_MISMATCH };
      return { type: 'ok', value: op.value };
    }
    default:
      throw new Error(`register workload has no op ${op.f}`);
  }
}

/** The error of a cas that ran and found another value; every other failed cas never ran. */
const CAS_MISMATCH = 'cas-mismatch';

/**
 * Drops each cas that failed without running (its invoke and its completion). The cas-register
 * model reads a failed cas as "the comparison failed", which such a cas does not show, and an op
 * that did not happen constrains nothing.
 */
export function withoutUnexecutedCas(ops: readonly Op[]): Op[] {
  const openInvoke = new Map<Op['process'], number>();
  const dropped = new Set<number>();
  ops.forEach((op, position) => {
    if (op.type === 'invoke') {
      openInvoke.set(op.process, position);
      return;
    }
    const invokePosition = openInvoke.get(op.process);
    openInvoke.delete(op.process);
    if (op.f !== 'cas' || op.type !== 'fail' || op.error === CAS_MISMATCH || invokePosition === undefined) return;
    dropped.add(invokePosition);
    dropped.add(position);
  });
  return ops.filter((_, position) => !dropped.has(position));
}

export const registerWorkload: Workload = {
  name: 'register',
  description: 'read/write/cas on rotating keys; each key checked for linearizability as a cas-register',
  create(params) {
    const touchedKeys = new Set<string>();
    return {
      generator: registerGenerator(params),
      // One read of every key after the heal: a write acknowledged before a crash and lost with
      // it shows up here even when its key was retired before anyone read it again.
      finalGenerator: () => fixed<WorkloadOp>([...touchedKeys].sort().map((key) => ({ f: 'read', key, value: null }))),
      invoke(client: KvClient, op: WorkloadOp) {
        touchedKeys.add(op.key as string);
        return invokeRegister(client, op);
      },
    };
  },
  async check(ops, options) {
    const result = await checkLinearizable(withoutUnexecutedCas(clientOps(ops)), {
      model: 'cas-register',
      initial: null,
      casFail: 'informative',
      timeLimitMs: options.timeLimitMs,
    });
    return [result];
  },
};
