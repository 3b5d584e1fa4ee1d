// Set checker: unique adds, then final reads of the whole set.
//
// Encoding: f 'add' with value = a unique integer; f 'read' with value = an array of integers,
// the whole set (null on the invoke). Final reads are the ok reads invoked after the last add
// completed. An element is "known" from the completion of its ok add, or, for an add whose outcome
// is unknown, from the completion of the first read that contained it.
import type { Op } from './history/types.js';
import type { Anomaly, CheckResult } from './result.js';
import { pairOps, type OpPair } from './op-pairs.js';

export interface SetOptions {
  /**
   * When true (the default), a read that began after an element was known and missed it is an
   * anomaly ("stale"). Set false for workloads that read from followers or leases on purpose.
   */
  linearizable?: boolean;
}

/** Anomalies kept per kind; the stats carry the full counts. */
export const SET_ANOMALIES_PER_KIND_MAX = 10;

type AddOutcome = 'ok' | 'fail' | 'info' | 'pending';

interface AddRecord {
  element: number;
  invokeIndex: number;
  completionIndex?: number;
  outcome: AddOutcome;
}

interface ReadRecord {
  invokeIndex: number;
  completionIndex: number;
  /** The elements as read, unsorted and possibly with repeats. */
  values: number[];
}

type SetAnomalyKind = 'lost' | 'unexpected' | 'duplicated' | 'stale';

/**
 * Per-element state in parallel arrays indexed by a slot number. Reads list the whole set, so the
 * checker touches every read element once, and array slots keep that pass cheap.
 */
class ElementTable {
  /** Slots of elements in [0, dense length), the usual case of adds numbered from 0; -1 when unused. */
  private readonly denseSlots: Int32Array;
  private readonly slotByElement = new Map<number, number>();
  readonly elements: number[] = [];
  readonly adds: (AddRecord | undefined)[] = [];
  /** History index from which the element is known to exist; Infinity while unknown. */
  readonly knownIndex: number[] = [];
  readonly everRead: boolean[] = [];
  /** Ordinal of the last read that contained the element; -1 before any. */
  readonly lastReadOrdinal: number[] = [];

  constructor(denseLength: number) {
    this.denseSlots = new Int32Array(denseLength).fill(-1);
  }

  slotOf(element: number): number {
    if (element >= 0 && element < this.denseSlots.length) {
      let slot = this.denseSlots[element];
      if (slot < 0) {
        slot = this.newSlot(element);
        this.denseSlots[element] = slot;
      }
      return slot;
    }
    let slot = this.slotByElement.get(element);
    if (slot === undefined) {
      slot = this.newSlot(element);
      this.slotByElement.set(element, slot);
    }
    return slot;
  }

  addFor(element: number): AddRecord | undefined {
    const slot = element >= 0 && element < this.denseSlots.length ? this.denseSlots[element] : (this.slotByElement.get(element) ?? -1);
    return slot < 0 ? undefined : this.adds[slot];
  }

  private newSlot(element: number): number {
    this.elements.push(element);
    this.adds.push(undefined);
    this.knownIndex.push(Infinity);
    this.everRead.push(false);
    this.lastReadOrdinal.push(-1);
    return this.elements.length - 1;
  }
}

/** Checks a set history for lost, unexpected, duplicated and (by default) stale elements. */
export function checkSet(ops: Op[], options: SetOptions = {}): CheckResult {
  const linearizable = options.linearizable ?? true;
  const parsed = parseHistory(ops);
  if (typeof parsed === 'string') return unknownResult(parsed);
  const { table, reads } = parsed;

  const anomalies = new AnomalyList();
  const firstMissedBy = scanReads(table, reads, anomalies);

  let lastAddCompletionIndex = -1;
  for (const add of table.adds) lastAddCompletionIndex = Math.max(lastAddCompletionIndex, add?.completionIndex ?? -1);
  const finalReads = reads.filter((read) => read.invokeIndex > lastAddCompletionIndex);
  const baseStats = outcomeStats(table, reads.length, finalReads.length);

  if (finalReads.length === 0) {
    const reason = 'no ok read began after the last add completed, so lost elements cannot be told apart from slow ones; make the workload end with final reads';
    if (anomalies.total() > 0) return invalidResult(anomalies, { ...baseStats, ...anomalies.stats() }, reason);
    return { ...unknownResult(reason), stats: baseStats };
  }

  const lastFinal = finalReads.reduce((latest, read) => (read.completionIndex > latest.completionIndex ? read : latest));
  const inLastFinal = new Set(lastFinal.values);
  for (let slot = 0; slot < table.elements.length; slot++) {
    const knownIndex = table.knownIndex[slot];
    if (knownIndex === Infinity) continue;
    const element = table.elements[slot];
    if (!inLastFinal.has(element)) {
      anomalies.push(lostAnomaly(element, knownIndex, table.adds[slot], lastFinal));
      continue;
    }
    const missedBy = firstMissedBy.get(slot);
    if (missedBy !== undefined) anomalies.push(staleAnomaly(element, knownIndex, table.adds[slot], missedBy, linearizable));
  }

  const stats = { ...baseStats, ...anomalies.stats() };
  const invalidCount = stats.lostCount + stats.unexpectedCount + stats.duplicatedCount + (linearizable ? stats.staleCount : 0);
  if (invalidCount > 0) return invalidResult(anomalies, stats, undefined, linearizable);

  const staleNote = !linearizable && stats.staleCount > 0 ? `; ${stats.staleCount} stale (allowed)` : '';
  return {
    checker: 'set',
    valid: true,
    summary: `all ${stats.addOkCount} acknowledged adds are in the final read; none lost or unexpected${staleNote}`,
    anomalies: [],
    stats,
  };
}

/** Collects adds by element and ok reads in invocation order; returns a one-line reason when the encoding is wrong. */
function parseHistory(ops: Op[]): { table: ElementTable; reads: ReadRecord[] } | string {
  const { pairs, problems } = pairOps(ops);
  if (problems.length > 0) return `the history is malformed: ${problems[0]}`;

  const table = new ElementTable(denseLengthFor(pairs));
  const reads: ReadRecord[] = [];

  for (const { invoke, completion } of pairs) {
    if (invoke.f === 'add') {
      const element = invoke.value;
      if (typeof element !== 'number' || !Number.isSafeInteger(element)) {
        return `op ${invoke.index}: add value ${JSON.stringify(element)} is not an integer; fix the workload's encoding`;
      }
      const earlier = table.addFor(element);
      if (earlier !== undefined) {
        return `ops ${earlier.invokeIndex} and ${invoke.index} both add ${element}, but set adds must be unique; fix the workload's generator`;
      }
      const outcome: AddOutcome = completion === undefined ? 'pending' : (completion.type as AddOutcome);
      table.adds[table.slotOf(element)] = { element, invokeIndex: invoke.index, completionIndex: completion?.index, outcome };
      continue;
    }

    if (invoke.f !== 'read' || completion?.type !== 'ok') continue;
    const values = completion.value;
    if (!isIntegerArray(values)) {
      return `op ${completion.index}: read value ${JSON.stringify(values).slice(0, 80)} is not an array of integers; fix the workload's encoding`;
    }
    reads.push({ invokeIndex: invoke.index, completionIndex: completion.index, values });
  }
  return { table, reads };
}

/** Elements above this use the map in ElementTable, so a huge element cannot allocate a huge array. */
const DENSE_ELEMENTS_MAX = 1 << 24;

/** Returns one more than the largest non-negative add value, capped at DENSE_ELEMENTS_MAX. */
function denseLengthFor(pairs: readonly OpPair[]): number {
  let maxElement = -1;
  for (const { invoke } of pairs) {
    if (invoke.f === 'add' && typeof invoke.value === 'number' && Number.isSafeInteger(invoke.value)) maxElement = Math.max(maxElement, invoke.value);
  }
  return Math.min(maxElement + 1, DENSE_ELEMENTS_MAX);
}

function isIntegerArray(value: unknown): value is number[] {
  if (!Array.isArray(value)) return false;
  for (const item of value) {
    if (!Number.isSafeInteger(item)) return false;
  }
  return true;
}

/**
 * Walks the reads in invocation order, once over their elements. It records duplicated and
 * unexpected elements as anomalies, sets when each element became known, and returns, per known
 * element slot, the first read that began after the element was known and missed it.
 *
 * When read r is reached, every element known before r's invocation is already known: an ok add
 * is known from the start, and a read completing before r began was invoked before r.
 */
function scanReads(table: ElementTable, reads: ReadRecord[], anomalies: AnomalyList): Map<number, ReadRecord> {
  const pendingKnown = new MinHeap();
  for (let slot = 0; slot < table.adds.length; slot++) {
    const add = table.adds[slot];
    if (add?.outcome !== 'ok' || add.completionIndex === undefined) continue;
    table.knownIndex[slot] = add.completionIndex;
    pendingKnown.push(add.completionIndex, slot);
  }

  const knownBeforeRead: boolean[] = [];
  const knownSlots: number[] = [];
  const unexpectedReported = new Set<number>();
  const firstMissedBy = new Map<number, ReadRecord>();

  reads.forEach((read, ordinal) => {
    // Elements known before this read began, in the order they became known.
    while (pendingKnown.size() > 0 && pendingKnown.peekKey() < read.invokeIndex) {
      const slot = pendingKnown.pop();
      if (knownBeforeRead[slot] === true) continue;
      knownBeforeRead[slot] = true;
      knownSlots.push(slot);
    }

    let knownSeenCount = 0;
    let repeated: number[] | undefined;
    for (const element of read.values) {
      const slot = table.slotOf(element);
      if (table.lastReadOrdinal[slot] === ordinal) {
        (repeated ??= []).push(element);
        continue;
      }
      table.lastReadOrdinal[slot] = ordinal;
      table.everRead[slot] = true;
      if (knownBeforeRead[slot] === true) knownSeenCount++;

      const reason = unexpectedReason(table.adds[slot], read);
      if (reason !== undefined) {
        if (!unexpectedReported.has(slot)) anomalies.push(unexpectedAnomaly(element, reason, table.adds[slot], read));
        unexpectedReported.add(slot);
        continue;
      }
      if (read.completionIndex < table.knownIndex[slot]) {
        table.knownIndex[slot] = read.completionIndex;
        pendingKnown.push(read.completionIndex, slot);
      }
    }

    if (repeated !== undefined) anomalies.push(duplicatedAnomaly(repeated, read));
    // Only a read that misses some known element pays for a scan of all of them.
    if (knownSeenCount === knownSlots.length) return;
    for (const slot of knownSlots) {
      if (table.lastReadOrdinal[slot] !== ordinal && !firstMissedBy.has(slot)) firstMissedBy.set(slot, read);
    }
  });
  return firstMissedBy;
}

/** Returns why no add could have put an element into a read, or undefined when one could. */
function unexpectedReason(add: AddRecord | undefined, read: ReadRecord): string | undefined {
  if (add === undefined) return 'no op ever added it';
  if (add.outcome === 'fail') return `its add (op ${add.invokeIndex}) failed, so it never happened`;
  if (add.invokeIndex > read.completionIndex) return `its add (op ${add.invokeIndex}) was invoked only after this read completed`;
  return undefined;
}

function unexpectedAnomaly(element: number, reason: string, add: AddRecord | undefined, read: ReadRecord): Anomaly {
  return {
    kind: 'unexpected',
    explanation: `The read at op ${read.completionIndex} returned element ${element}, but ${reason}.`,
    opIndexes: add === undefined ? [read.invokeIndex, read.completionIndex] : [read.invokeIndex, read.completionIndex, add.invokeIndex],
    details: { element, addOutcome: add?.outcome ?? 'never-added' },
  };
}

function lostAnomaly(element: number, knownIndex: number, add: AddRecord | undefined, lastFinal: ReadRecord): Anomaly {
  const knownBy = add?.outcome === 'ok' ? `its add was acknowledged at op ${knownIndex}` : `a read at op ${knownIndex} already contained it`;
  return {
    kind: 'lost',
    explanation: `Element ${element} is missing from the final read (op ${lastFinal.completionIndex}), but ${knownBy}.`,
    opIndexes: [add?.invokeIndex, knownIndex, lastFinal.completionIndex].filter((index): index is number => index !== undefined),
    details: { element, addOutcome: add?.outcome, knownFromIndex: knownIndex, finalReadIndex: lastFinal.completionIndex },
  };
}

function staleAnomaly(element: number, knownIndex: number, add: AddRecord | undefined, missedBy: ReadRecord, linearizable: boolean): Anomaly {
  const note = linearizable ? '' : ' Stale reads are allowed for this workload.';
  return {
    kind: 'stale',
    explanation: `The read invoked at op ${missedBy.invokeIndex} began after element ${element} was known to exist (op ${knownIndex}) but did not contain it; the element is back in the final read.${note}`,
    opIndexes: [add?.invokeIndex, knownIndex, missedBy.invokeIndex, missedBy.completionIndex].filter((index): index is number => index !== undefined),
    details: { element, addOutcome: add?.outcome, knownFromIndex: knownIndex, staleReadIndex: missedBy.completionIndex },
  };
}

function duplicatedAnomaly(repeated: number[], read: ReadRecord): Anomaly {
  const distinct = [...new Set(repeated)];
  return {
    kind: 'duplicated',
    explanation: `The read at op ${read.completionIndex} lists element(s) ${distinct.slice(0, 5).join(', ')} more than once, but a set holds each element once.`,
    opIndexes: [read.invokeIndex, read.completionIndex],
    details: { repeated: distinct.slice(0, 100) },
  };
}

function outcomeStats(table: ElementTable, readOkCount: number, finalReadCount: number): Record<string, number> & { addOkCount: number } {
  const counts: Record<AddOutcome, number> = { ok: 0, fail: 0, info: 0, pending: 0 };
  let recoveredCount = 0;
  let neverReadCount = 0;

  for (let slot = 0; slot < table.adds.length; slot++) {
    const add = table.adds[slot];
    if (add === undefined) continue;
    counts[add.outcome]++;
    if (add.outcome === 'fail') continue;
    if (!table.everRead[slot]) neverReadCount++;
    else if (add.outcome !== 'ok') recoveredCount++;
  }
  return {
    addCount: counts.ok + counts.fail + counts.info + counts.pending,
    addOkCount: counts.ok,
    addFailCount: counts.fail,
    addIndeterminateCount: counts.info + counts.pending,
    readOkCount,
    finalReadCount,
    // Adds with an unknown outcome that some read showed happened.
    recoveredCount,
    // Adds not known to have failed whose element no ok read ever contained.
    neverReadCount,
  };
}

/** A binary min-heap of (key, slot) pairs, ordered by key. */
class MinHeap {
  private readonly keys: number[] = [];
  private readonly slots: number[] = [];

  size(): number {
    return this.keys.length;
  }

  peekKey(): number {
    return this.keys[0];
  }

  push(key: number, slot: number): void {
    let i = this.keys.length;
    this.keys.push(key);
    this.slots.push(slot);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.keys[parent] <= key) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** Removes the pair with the smallest key and returns its slot. */
  pop(): number {
    const top = this.slots[0];
    const lastKey = this.keys.pop()!;
    const lastSlot = this.slots.pop()!;
    if (this.keys.length === 0) return top;
    this.keys[0] = lastKey;
    this.slots[0] = lastSlot;

    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < this.keys.length && this.keys[left] < this.keys[smallest]) smallest = left;
      if (right < this.keys.length && this.keys[right] < this.keys[smallest]) smallest = right;
      if (smallest === i) return top;
      this.swap(i, smallest);
      i = smallest;
    }
  }

  private swap(a: number, b: number): void {
    [this.keys[a], this.keys[b]] = [this.keys[b], this.keys[a]];
    [this.slots[a], this.slots[b]] = [this.slots[b], this.slots[a]];
  }
}

/** Keeps the first few anomalies of each kind and counts them all. */
class AnomalyList {
  private readonly kept: Anomaly[] = [];
  private readonly counts: Record<SetAnomalyKind, number> = { lost: 0, unexpected: 0, duplicated: 0, stale: 0 };

  push(anomaly: Anomaly): void {
    const kind = anomaly.kind as SetAnomalyKind;
    this.counts[kind]++;
    if (this.counts[kind] <= SET_ANOMALIES_PER_KIND_MAX) this.kept.push(anomaly);
  }

  total(): number {
    return this.counts.lost + this.counts.unexpected + this.counts.duplicated + this.counts.stale;
  }

  list(): Anomaly[] {
    return this.kept;
  }

  stats(): { lostCount: number; unexpectedCount: number; duplicatedCount: number; staleCount: number } {
    return {
      lostCount: this.counts.lost,
      unexpectedCount: this.counts.unexpected,
      duplicatedCount: this.counts.duplicated,
      staleCount: this.counts.stale,
    };
  }
}

function invalidResult(anomalies: AnomalyList, stats: Record<string, number>, note?: string, linearizable = true): CheckResult {
  const { lostCount, unexpectedCount, duplicatedCount, staleCount } = anomalies.stats();
  const parts = [`${lostCount} lost`, `${unexpectedCount} unexpected`, `${duplicatedCount} duplicated`, `${staleCount} stale${linearizable ? '' : ' (allowed)'}`];
  const keptAnomalies = linearizable ? anomalies.list() : anomalies.list().filter((anomaly) => anomaly.kind !== 'stale');
  return {
    checker: 'set',
    valid: false,
    summary: `${parts.join(', ')}${note === undefined ? '' : ` (${note})`}`,
    anomalies: keptAnomalies,
    stats,
  };
}

function unknownResult(reason: string): CheckResult {
  return { checker: 'set', valid: 'unknown', summary: `cannot check: ${reason}`, anomalies: [], unknownReason: reason };
}
