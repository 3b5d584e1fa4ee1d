// The linearizability search for one key: Wing & Gong's backtracking search with Lowe's
// memoisation of (linearized set, model state) configurations, as refined in "Testing for
// Linearizability" (G. Lowe, 2017).
//
// Ops become call and return entries in one doubly linked list in history order. The search walks
// the list from the front. At a call entry it tries to linearize that op: it applies the op to the
// model and removes the op's call and return entries from the list. At a return entry it has met an
// op that had to take effect by now but could not, so it backtracks. Indeterminate ops have no return
// entry: they may take effect at any point after their call, or never. The search succeeds once
// every determinate op is linearized.
import assert from 'node:assert';
import { performance } from 'node:perf_hooks';
import { ILLEGAL, type Model, type ModelOp } from '../models/types.js';
import { ConfigurationCache, FailedConfigurations } from './cache.js';

/** One op prepared for the search. */
export interface SearchOp {
  op: ModelOp;
  callPosition: number;
  /** -1 for an indeterminate op, which may take effect at any time after its call, or never. */
  returnPosition: number;
}

export interface SearchLimits {
  /** Absolute deadline, in performance.now() milliseconds. */
  deadlineMs: number;
  /** Maximum bytes of the configuration cache. */
  memoryBytesMax: number;
}

/** States kept per op for the failure report. */
export const FAILURE_STATES_MAX = 8;
/** Loop iterations between two clock reads. */
const CLOCK_CHECK_ITERATIONS = 4096;

export type SearchOutcome =
  | { valid: true; configurations: number }
  | {
      valid: false;
      configurations: number;
      /** Index (into the search ops) of the op that could not be linearized. */
      failingOp: number;
      /** Search ops linearized before it, in linearization order, at the deepest point reached. */
      prefix: number[];
      /** Model states, described, in which the failing op had to take effect and could not. */
      statesBefore: string[];
    }
  | { valid: 'unknown'; configurations: number; reason: string };

/**
 * Searches for a linearization of `ops` (sorted by call position) starting from `initial`.
 * With `collectFailure` false the search skips the bookkeeping for the failure report.
 */
export function searchLinearization<State>(
  ops: readonly SearchOp[],
  model: Model<State>,
  initial: State,
  limits: SearchLimits,
  collectFailure = true,
): SearchOutcome {
  const n = ops.length;
  const head = 2 * n;
  const indeterminateHead = 2 * n + 1;
  const next = new Int32Array(2 * n + 2);
  const prev = new Int32Array(2 * n + 2);
  buildEntryLists(ops, next, prev, head, indeterminateHead);

  const modelOps = ops.map((entry) => entry.op);
  const callPositions = Float64Array.from(ops, (entry) => entry.callPosition);
  const returnPositions = Float64Array.from(ops, (entry) => entry.returnPosition);
  const determinate = new Uint8Array(n);
  let remaining = 0;
  for (let i = 0; i < n; i += 1) {
    if (ops[i]!.returnPosition >= 0) {
      determinate[i] = 1;
      remaining += 1;
    }
  }

  // Indeterminate ops with equal model ops are interchangeable once invoked, because none has a
  // return entry: the search only ever linearizes the earliest unlinearized op of each such class.
  const classOf = new Int32Array(n).fill(-1);
  const rankInClass = new Int32Array(n);
  const classSizes: number[] = [];
  const classIds = new Map<string, number>();
  for (let i = 0; i < n; i += 1) {
    if (determinate[i] === 1) continue;
    const op = modelOps[i]!;
    const key = JSON.stringify([op.kind, op.a, op.b]);
    let id = classIds.get(key);
    if (id === undefined) {
      id = classSizes.length;
      classIds.set(key, id);
      classSizes.push(0);
    }
    classOf[i] = id;
    rankInClass[i] = classSizes[id]!;
    classSizes[id]! += 1;
  }
  const linearizedInClass = new Int32Array(classSizes.length);

  const words = Math.max(1, Math.ceil(n / 32));
  const linearized = new Uint32Array(words);
  const zobrist = zobristTable(n);
  let setHash = 0;
  const cache = new ConfigurationCache(words);
  const determinateMask = new Uint32Array(words);
  for (let i = 0; i < n; i += 1) {
    if (determinate[i] === 1) determinateMask[i >>> 5]! |= 1 << (i & 31);
  }
  const failed = new FailedConfigurations(words, determinateMask);
  let determinateHash = 0;

  const stateIds = new Map<string | number, number>();
  const states: State[] = [];
  const internState = (state: State): number => {
    const key = model.stateKey(state);
    let id = stateIds.get(key);
    if (id === undefined) {
      id = states.length;
      stateIds.set(key, id);
      states.push(state);
    }
    return id;
  };

  const opStack = new Int32Array(n);
  const stateStack = new Int32Array(n);
  const boundStack = new Float64Array(n);
  let depth = 0;
  let stateId = internState(initial);
  cache.add(linearized, setHash, stateId);

  let bestDepth = -1;
  let bestOp = -1;
  let bestPrefix: number[] = [];
  const failureStates = new Map<number, number[]>();

  // The cursor walks the determinate list up to its first return entry, then the indeterminate
  // list up to `bound`, the position of that return entry. Trying determinate ops first finds
  // the linearization of a valid history sooner, because most timed-out ops never took effect.
  let iterations = 0;
  let entry = next[head]!;
  let inIndeterminate = false;
  let bound = 0;
  for (;;) {
    if (remaining === 0) return { valid: true, configurations: cache.count };

    iterations += 1;
    if ((iterations & (CLOCK_CHECK_ITERATIONS - 1)) === 0) {
      if (performance.now() > limits.deadlineMs) {
        return { valid: 'unknown', configurations: cache.count, reason: `time limit reached after exploring ${cache.count} configurations` };
      }
      if (cache.bytes + failed.bytes > limits.memoryBytesMax) {
        return {
          valid: 'unknown',
          configurations: cache.count,
          reason: `memory limit of ${formatBytes(limits.memoryBytesMax)} reached after exploring ${cache.count} configurations`,
        };
      }
    }

    if (!inIndeterminate && entry >= n) {
      // A return entry: its op had to take effect by now. Only indeterminate ops invoked before
      // this point are still worth trying.
      const op = entry - n;
      if (collectFailure && model.step(states[stateId]!, modelOps[op]!) === ILLEGAL) {
        let seen = failureStates.get(op);
        if (seen === undefined) {
          seen = [];
          failureStates.set(op, seen);
        }
        if (seen.length < FAILURE_STATES_MAX && !seen.includes(stateId)) seen.push(stateId);
        if (depth > bestDepth) {
          bestDepth = depth;
          bestOp = op;
          bestPrefix = Array.from(opStack.subarray(0, depth));
        }
      }
      bound = returnPositions[op]!;
      inIndeterminate = true;
      entry = next[indeterminateHead]!;
      continue;
    }
    assert(inIndeterminate || entry >= 0, 'a determinate op is left, so its return entry lies ahead');

    if (inIndeterminate && entry >= 0 && callPositions[entry]! < bound && rankInClass[entry] !== linearizedInClass[classOf[entry]!]) {
      entry = next[entry]!;
      continue;
    }
    if (entry >= 0 && (!inIndeterminate || callPositions[entry]! < bound)) {
      // A call entry: try to linearize this op now.
      const op = entry;
      const after = model.step(states[stateId]!, modelOps[op]!);
      if (after !== ILLEGAL) {
        const afterId = internState(after);
        linearized[op >>> 5]! ^= 1 << (op & 31);
        setHash ^= zobrist[op]!;
        if (determinate[op] === 1) determinateHash ^= zobrist[op]!;
        if (!failed.dominates(linearized, determinateHash, afterId) && cache.add(linearized, setHash, afterId)) {
          opStack[depth] = op;
          stateStack[depth] = stateId;
          boundStack[depth] = bound;
          depth += 1;
          stateId = afterId;
          lift(op, n, determinate, next, prev);
          remaining -= determinate[op]!;
          if (determinate[op] === 0) linearizedInClass[classOf[op]!]! += 1;
          entry = next[head]!;
          inIndeterminate = false;
          continue;
        }
        linearized[op >>> 5]! ^= 1 << (op & 31);
        setHash ^= zobrist[op]!;
        if (determinate[op] === 1) determinateHash ^= zobrist[op]!;
      }
      entry = next[entry]!;
      continue;
    }

    // Every candidate of this configuration was tried: backtrack.
    if (depth === 0) break;
    failed.add(linearized, determinateHash, stateId);
    depth -= 1;
    const op = opStack[depth]!;
    stateId = stateStack[depth]!;
    bound = boundStack[depth]!;
    unlift(op, n, determinate, next, prev);
    remaining += determinate[op]!;
    if (determinate[op] === 0) linearizedInClass[classOf[op]!]! -= 1;
    linearized[op >>> 5]! ^= 1 << (op & 31);
    setHash ^= zobrist[op]!;
    if (determinate[op] === 1) determinateHash ^= zobrist[op]!;
    entry = next[op]!;
    inIndeterminate = determinate[op] === 0;
  }

  const failingOp = bestOp >= 0 ? bestOp : firstDeterminate(determinate);
  const failing = failureStates.get(failingOp) ?? [];
  return {
    valid: false,
    configurations: cache.count,
    failingOp,
    prefix: bestPrefix,
    statesBefore: failing.map((id) => model.describeState(states[id]!)),
  };
}

/**
 * Links the call and return entries of determinate ops (call ids 0..n-1, return ids n..2n-1) in
 * history order after `head`, and the call entries of indeterminate ops after `indeterminateHead`.
 */
function buildEntryLists(ops: readonly SearchOp[], next: Int32Array, prev: Int32Array, head: number, indeterminateHead: number): void {
  const n = ops.length;
  const events: number[] = [];
  const indeterminate: number[] = [];
  for (let i = 0; i < n; i += 1) {
    if (ops[i]!.returnPosition >= 0) {
      events.push(i, n + i);
    } else {
      indeterminate.push(i);
    }
  }
  const positionOf = (node: number): number => (node < n ? ops[node]!.callPosition : ops[node - n]!.returnPosition);
  events.sort((a, b) => positionOf(a) - positionOf(b));
  indeterminate.sort((a, b) => positionOf(a) - positionOf(b));
  linkInOrder(events, head, next, prev);
  linkInOrder(indeterminate, indeterminateHead, next, prev);
}

function linkInOrder(nodes: readonly number[], head: number, next: Int32Array, prev: Int32Array): void {
  let last = head;
  prev[head] = -1;
  for (const node of nodes) {
    next[last] = node;
    prev[node] = last;
    last = node;
  }
  next[last] = -1;
}

/** Removes an op's call entry and, if it has one, its return entry from the list. */
function lift(op: number, n: number, determinate: Uint8Array, next: Int32Array, prev: Int32Array): void {
  unlink(op, next, prev);
  if (determinate[op] === 1) unlink(n + op, next, prev);
}

/** Undoes lift(op); lifts are undone in reverse order, so the saved neighbours are still valid. */
function unlift(op: number, n: number, determinate: Uint8Array, next: Int32Array, prev: Int32Array): void {
  if (determinate[op] === 1) relink(n + op, next, prev);
  relink(op, next, prev);
}

function unlink(node: number, next: Int32Array, prev: Int32Array): void {
  const before = prev[node]!;
  const after = next[node]!;
  next[before] = after;
  if (after >= 0) prev[after] = before;
}

function relink(node: number, next: Int32Array, prev: Int32Array): void {
  const before = prev[node]!;
  const after = next[node]!;
  next[before] = node;
  if (after >= 0) prev[after] = node;
}

function firstDeterminate(determinate: Uint8Array): number {
  const index = determinate.indexOf(1);
  return index;
}

/** Random 32-bit values per op, from a fixed-seed xorshift, so runs are reproducible. */
function zobristTable(n: number): Int32Array {
  const table = new Int32Array(n);
  let x = 0x2545f491;
  for (let i = 0; i < n; i += 1) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    table[i] = x;
  }
  return table;
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1 << 30) return `${(bytes / (1 << 30)).toFixed(1)} GiB`;
  if (bytes >= 1 << 20) return `${Math.round(bytes / (1 << 20))} MiB`;
  return `${Math.round(bytes / 1024)} KiB`;
}
