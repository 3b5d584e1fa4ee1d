// Generates list-append histories from a serial model with random concurrency, for property tests
// and benchmarks. Each txn runs atomically at one point inside its [invoke, complete] window, so the
// generated history is strict-serializable by construction.
import assert from 'node:assert';
import type { Op } from '../history/types.js';

export interface GenerateOptions {
  txnCount: number;
  /** Keys open for appends at any time; a key retires after `appendsPerKeyMax` appends and a fresh one replaces it. */
  activeKeyCount: number;
  appendsPerKeyMax: number;
  /** How far (in txn slots) an invocation may start before, and complete after, its execution point; below 0.5 the history is serial. */
  windowSlots: number;
  /** Share of txns that fail (and are not applied) and that end `info` (applied or not, at random). */
  failRate: number;
  infoRate: number;
  microOpsMax: number;
  /** Share of reads that return a random shorter prefix of the list, planting stale-read anomalies. */
  staleReadRate: number;
  /** Appends the final reads of every key, one read-only txn per four keys, after everything else. */
  finalReads: boolean;
}

export const DEFAULT_GENERATE_OPTIONS: GenerateOptions = {
  txnCount: 1000,
  activeKeyCount: 8,
  appendsPerKeyMax: 32,
  windowSlots: 3,
  failRate: 0.02,
  infoRate: 0.02,
  microOpsMax: 4,
  staleReadRate: 0,
  finalReads: true,
};

/** Returns a small seeded PRNG (mulberry32), so a seed replays the same history. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type GeneratedMicroOp = ['append', number, number] | ['r', number, number[] | null];

interface PlannedTxn {
  microOps: GeneratedMicroOp[];
  outcome: 'ok' | 'fail' | 'info';
  /** Whether an `info` txn also completes with an info op (otherwise it never completes). */
  infoCompletes: boolean;
  invokeTime: number;
  completeTime: number;
}

export function generateListAppendHistory(seed: number, overrides: Partial<GenerateOptions> = {}): Op[] {
  const options = { ...DEFAULT_GENERATE_OPTIONS, ...overrides };
  assert(options.activeKeyCount >= 1, 'activeKeyCount must be at least 1');
  assert(options.microOpsMax >= 1, 'microOpsMax must be at least 1');
  assert(options.appendsPerKeyMax >= 1, 'appendsPerKeyMax must be at least 1');
  const random = seededRandom(seed);
  const integer = (below: number): number => Math.floor(random() * below);

  const lists = new Map<number, number[]>();
  const appendCounts = new Map<number, number>();
  const active: number[] = [];
  let nextKey = 0;
  for (let i = 0; i < options.activeKeyCount; i++) active.push(nextKey++);

  const planned: PlannedTxn[] = [];
  for (let slot = 0; slot < options.txnCount; slot++) {
    const roll = random();
    let outcome: PlannedTxn['outcome'] = 'ok';
    if (roll < options.failRate) outcome = 'fail';
    else if (roll < options.failRate + options.infoRate) outcome = 'info';
    const applied = outcome === 'ok' || (outcome === 'info' && random() < 0.5);
    const microOps: GeneratedMicroOp[] = [];
    const count = 1 + integer(options.microOpsMax);
    for (let m = 0; m < count; m++) {
      const position = integer(active.length);
      const key = active[position]!;
      if (random() < 0.5) {
        const list = lists.get(key) ?? [];
        const length = random() < options.staleReadRate ? integer(list.length) : list.length;
        microOps.push(['r', key, outcome === 'ok' ? list.slice(0, length) : null]);
        continue;
      }
      const appended = (appendCounts.get(key) ?? 0) + 1;
      appendCounts.set(key, appended);
      microOps.push(['append', key, appended]);
      if (applied) {
        let list = lists.get(key);
        if (list === undefined) lists.set(key, (list = []));
        list.push(appended);
      }
      if (appended >= options.appendsPerKeyMax) active[position] = nextKey++;
    }
    planned.push({
      microOps,
      outcome,
      infoCompletes: random() < 0.5,
      invokeTime: slot - random() * options.windowSlots,
      completeTime: slot + random() * options.windowSlots,
    });
  }

  if (options.finalReads) {
    const keys = [...lists.keys()].sort((a, b) => a - b);
    for (let i = 0; i < keys.length; i += 4) {
      const slot = options.txnCount + options.windowSlots + 1 + i;
      planned.push({
        microOps: keys.slice(i, i + 4).map((key): GeneratedMicroOp => ['r', key, [...lists.get(key)!]]),
        outcome: 'ok',
        infoCompletes: false,
        invokeTime: slot - 0.25,
        completeTime: slot + 0.25,
      });
    }
  }
  return toHistory(planned);
}

/** Lays the planned txns out as invoke and completion ops in time order, giving each a free process. */
function toHistory(planned: readonly PlannedTxn[]): Op[] {
  const events: { time: number; txn: number; invoke: boolean }[] = [];
  planned.forEach((txn, i) => {
    events.push({ time: txn.invokeTime, txn: i, invoke: true });
    if (txn.outcome !== 'info' || txn.infoCompletes) events.push({ time: txn.completeTime, txn: i, invoke: false });
  });
  // At equal times a txn's own invocation goes first; across txns completions go first.
  events.sort((a, b) => a.time - b.time || (a.txn === b.txn ? Number(b.invoke) - Number(a.invoke) : Number(a.invoke) - Number(b.invoke)));

  const free: number[] = [];
  let nextProcess = 0;
  const processOf = new Int32Array(planned.length);
  const start = events.length > 0 ? events[0]!.time : 0;
  const ops: Op[] = [];
  for (const event of events) {
    const txn = planned[event.txn]!;
    const base = { index: ops.length, time: Math.round((event.time - start) * 1_000_000), f: 'txn' };
    if (event.invoke) {
      const process = free.pop() ?? nextProcess++;
      processOf[event.txn] = process;
      const value = txn.microOps.map((op) => (op[0] === 'r' ? ['r', op[1], null] : op));
      ops.push({ ...base, process, type: 'invoke', value });
      continue;
    }
    const process = processOf[event.txn]!;
    const type = txn.outcome;
    const value = type === 'ok' ? txn.microOps : txn.microOps.map((op) => (op[0] === 'r' ? ['r', op[1], null] : op));
    ops.push({ ...base, process, type, value });
    // Like a Jepsen client, a process whose op ended `info` is retired and never reused.
    if (type !== 'info') free.push(process);
  }
  return ops;
}
