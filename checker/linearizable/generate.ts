// Random register histories that are linearizable by construction: each op takes effect on a
// sequential cas-register at one instant between its invocation and its completion (or, for an
// op recorded as `info`, at any later instant or never). Used by property tests and benchmarks.
import type { Op } from '../history/types.js';

export interface GenerateOptions {
  /** Number of client ops (invocations) to produce. */
  ops: number;
  keys: number;
  /** Concurrent client processes; a process that records `info` is replaced by a new id. */
  processes: number;
  /** Probability that a completion is recorded as `info` instead of its real outcome. */
  infoProbability: number;
  /** Written values are drawn from 0..valuesMax-1; small ranges make the search harder. */
  valuesMax: number;
  seed: number;
}

/** Creates a small seeded PRNG (mulberry32), so a failing history can be regenerated from its seed. */
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

interface Pending {
  process: number;
  invoke: Op;
  /** The result once the op took effect; undefined before. */
  result?: { type: 'ok' | 'fail'; value: unknown };
}

/** Generates a linearizable cas-register history with the register encoding (read/write/cas). */
export function generateRegisterHistory(options: GenerateOptions): Op[] {
  const random = seededRandom(options.seed);
  const pick = (count: number): number => Math.floor(random() * count);
  const registers = new Map<string, unknown>();
  const history: Op[] = [];
  const pending: Pending[] = [];
  // Ops recorded as info that have not taken effect yet; they may still do so later, or never.
  const orphans: Pending[] = [];
  const idle: number[] = Array.from({ length: options.processes }, (_, i) => i);
  let nextProcess = options.processes;
  let invoked = 0;
  let timeNs = 0;

  const record = (op: Omit<Op, 'index' | 'time'>): Op => {
    timeNs += 1 + pick(1000);
    const full = { index: history.length, time: timeNs, ...op } as Op;
    history.push(full);
    return full;
  };

  const takeEffect = (entry: Pending): { type: 'ok' | 'fail'; value: unknown } => {
    const key = entry.invoke.key!;
    const current = registers.get(key) ?? null;
    switch (entry.invoke.f) {
      case 'read':
        return { type: 'ok', value: current };
      case 'write':
        registers.set(key, entry.invoke.value);
        return { type: 'ok', value: entry.invoke.value };
      default: {
        const [expected, next] = entry.invoke.value as [unknown, unknown];
        if (current !== expected) return { type: 'fail', value: entry.invoke.value };
        registers.set(key, next);
        return { type: 'ok', value: entry.invoke.value };
      }
    }
  };

  while (invoked < options.ops || pending.length > 0) {
    const choice = random();
    if (idle.length > 0 && invoked < options.ops && (choice < 0.4 || pending.length === 0)) {
      const process = idle.splice(pick(idle.length), 1)[0]!;
      const key = `k${pick(options.keys)}`;
      const kind = random();
      let op: Omit<Op, 'index' | 'time'>;
      if (kind < 0.5) op = { process, type: 'invoke', f: 'read', key, value: null };
      else if (kind < 0.8) op = { process, type: 'invoke', f: 'write', key, value: pick(options.valuesMax) };
      else op = { process, type: 'invoke', f: 'cas', key, value: [pick(options.valuesMax), pick(options.valuesMax)] };
      pending.push({ process, invoke: record(op) });
      invoked += 1;
      continue;
    }
    if (orphans.length > 0 && choice < 0.45) {
      const orphan = orphans.splice(pick(orphans.length), 1)[0]!;
      if (random() < 0.5) takeEffect(orphan);
      continue;
    }
    if (pending.length === 0) continue;
    const slot = pick(pending.length);
    const entry = pending[slot]!;
    if (entry.result === undefined && random() < 0.7) {
      entry.result = takeEffect(entry);
      continue;
    }
    if (random() < options.infoProbability) {
      pending.splice(slot, 1);
      record({ process: entry.process, type: 'info', f: entry.invoke.f, key: entry.invoke.key!, value: entry.invoke.value, error: 'timeout' });
      if (entry.result === undefined) orphans.push(entry);
      idle.push(nextProcess);
      nextProcess += 1;
      continue;
    }
    if (entry.result === undefined) continue;
    pending.splice(slot, 1);
    record({ process: entry.process, type: entry.result.type, f: entry.invoke.f, key: entry.invoke.key!, value: entry.result.value });
    idle.push(entry.process);
  }
  return history;
}
