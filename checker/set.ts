// Set checker: unique adds, then final reads of the whole set.
//
// Encoding: f 'add' with value = a unique integer; f 'read' with value = an array of integers,
// the whole set (null on the invoke). Final reads are the ok reads invoked after the last add
// completed. An element is "known" from the completion of its ok add, or, for an add whose outcome
// is unknown, from the completion of the first read that contained it.
import type { Op } from './history/types.js';
import type { Anomaly, CheckResult } from './result.js';
import { pairOps } from './op-pairs.js';

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
  elements: Set<number>;
}

type SetAnomalyKind = 'lost' | 'unexpected' | 'duplicated' | 'stale';

/** Checks a set history for lost, unexpected, duplicated and (by default) stale elements. */
export function checkSet(ops: Op[], options: SetOptions = {}): CheckResult {
  const linearizable = options.linearizable ?? true;
  const parsed = parseHistory(ops);
  if (typeof parsed === 'string') return unknownResult(parsed);
  const { adds, reads, duplicated } = parsed;

  const anomalies = new AnomalyList();
  for (const anomaly of duplicated) anomalies.push(anomaly);
  for (const anomaly of findUnexpected(adds, reads)) anomalies.push(anomaly);

  let lastAddCompletionIndex = -1;
  for (const add of adds.values()) lastAddCompletionIndex = Math.max(lastAddCompletionIndex, add.completionIndex ?? -1);
  const finalReads = reads.filter((read) => read.invokeIndex > lastAddCompletionIndex);
  const baseStats = outcomeStats(adds, reads, finalReads.length);

  if (finalReads.length === 0) {
    const reason = 'no ok read began after the last add completed, so lost elements cannot be told apart from slow ones; make the workload end with final reads';
    if (anomalies.total() > 0) return invalidResult(anomalies, { ...baseStats, ...anomalies.stats() }, reason);
    return { ...unknownResult(reason), stats: baseStats };
  }

  const lastFinal = finalReads.reduce((latest, read) => (read.completionIndex > latest.completionIndex ? read : latest));
  const knownIndexes = knownIndexByElement(adds, reads);
  const firstMissedBy = findFirstMisses(knownIndexes, reads);

  for (const [element, knownIndex] of knownIndexes) {
    const add = adds.get(element);
    if (!lastFinal.elements.has(element)) {
      anomalies.push(lostAnomaly(element, knownIndex, add, lastFinal));
      continue;
    }
    const missedBy = firstMissedBy.get(element);
    if (missedBy !== undefined) anomalies.push(staleAnomaly(element, knownIndex, add, missedBy, linearizable));
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

/** Collects adds by element and ok reads; returns a one-line reason when the encoding is wrong. */
function parseHistory(ops: Op[]): { adds: Map<number, AddRecord>; reads: ReadRecord[]; duplicated: Anomaly[] } | string {
  const { pairs, problems } = pairOps(ops);
  if (problems.length > 0) return `the history is malformed: ${problems[0]}`;

  const adds = new Map<number, AddRecord>();
  const reads: ReadRecord[] = [];
  const duplicated: Anomaly[] = [];

  for (const { invoke, completion } of pairs) {
    if (invoke.f === 'add') {
      const element = invoke.value;
      if (typeof element !== 'number' || !Number.isSafeInteger(element)) {
        return `op ${invoke.index}: add value ${JSON.stringify(element)} is not an integer; fix the workload's encoding`;
      }
      const earlier = adds.get(element);
      if (earlier !== undefined) {
        return `ops ${earlier.invokeIndex} and ${invoke.index} both add ${element}, but set adds must be unique; fix the workload's generator`;
      }
      const outcome: AddOutcome = completion === undefined ? 'pending' : (completion.type as AddOutcome);
      adds.set(element, { element, invokeIndex: invoke.index, completionIndex: completion?.index, outcome });
      continue;
    }

    if (invoke.f !== 'read' || completion?.type !== 'ok') continue;
    const value = completion.value;
    if (!Array.isArray(value) || !value.every((item) => typeof item === 'number' && Number.isSafeInteger(item))) {
      return `op ${completion.index}: read value ${JSON.stringify(value).slice(0, 80)} is not an array of integers; fix the workload's encoding`;
    }
    const elements = new Set<number>(value as number[]);
    if (elements.size !== value.length) duplicated.push(duplicatedAnomaly(value as number[], invoke.index, completion.index));
    reads.push({ invokeIndex: invoke.index, completionIndex: completion.index, elements });
  }

  return { adds, reads, duplicated };
}

/** Finds elements a read returned that no add could have put there (never added, failed, or added later). */
function findUnexpected(adds: Map<number, AddRecord>, reads: ReadRecord[]): Anomaly[] {
  const found: Anomaly[] = [];
  const reported = new Set<number>();

  for (const read of reads) {
    for (const element of read.elements) {
      if (reported.has(element)) continue;
      const add = adds.get(element);
      let reason: string | undefined;
      if (add === undefined) reason = 'no op ever added it';
      else if (add.outcome === 'fail') reason = `its add (op ${add.invokeIndex}) failed, so it never happened`;
      else if (add.invokeIndex > read.completionIndex) reason = `its add (op ${add.invokeIndex}) was invoked only after this read completed`;
      if (reason === undefined) continue;

      reported.add(element);
      found.push({
        kind: 'unexpected',
        explanation: `The read at op ${read.completionIndex} returned element ${element}, but ${reason}.`,
        opIndexes: add === undefined ? [read.invokeIndex, read.completionIndex] : [read.invokeIndex, read.completionIndex, add.invokeIndex],
        details: { element, addOutcome: add?.outcome ?? 'never-added' },
      });
    }
  }
  return found;
}

/** Maps each element that surely exists to the history index from which it is known to exist. */
function knownIndexByElement(adds: Map<number, AddRecord>, reads: ReadRecord[]): Map<number, number> {
  const known = new Map<number, number>();
  for (const add of adds.values()) {
    if (add.outcome === 'ok' && add.completionIndex !== undefined) known.set(add.element, add.completionIndex);
  }
  for (const read of reads) {
    for (const element of read.elements) {
      const add = adds.get(element);
      if (add === undefined || add.outcome === 'fail' || add.invokeIndex > read.completionIndex) continue;
      const current = known.get(element);
      if (current === undefined || read.completionIndex < current) known.set(element, read.completionIndex);
    }
  }
  return known;
}

/**
 * Finds, per known element, the first read that began after the element was known and missed it.
 * The work is bounded by the total size of the reads, since each read lists the whole set.
 */
function findFirstMisses(knownIndexes: Map<number, number>, reads: ReadRecord[]): Map<number, ReadRecord> {
  const byKnownIndex = [...knownIndexes].sort((a, b) => a[1] - b[1]);
  const byInvoke = [...reads].sort((a, b) => a.invokeIndex - b.invokeIndex);
  const firstMissedBy = new Map<number, ReadRecord>();
  let knownCount = 0;

  for (const read of byInvoke) {
    while (knownCount < byKnownIndex.length && byKnownIndex[knownCount][1] < read.invokeIndex) knownCount++;
    for (let i = 0; i < knownCount; i++) {
      const element = byKnownIndex[i][0];
      if (!read.elements.has(element) && !firstMissedBy.has(element)) firstMissedBy.set(element, read);
    }
  }
  return firstMissedBy;
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

function duplicatedAnomaly(values: number[], invokeIndex: number, completionIndex: number): Anomaly {
  const seen = new Set<number>();
  const repeated = new Set<number>();
  for (const value of values) (seen.has(value) ? repeated : seen).add(value);
  return {
    kind: 'duplicated',
    explanation: `The read at op ${completionIndex} lists element(s) ${[...repeated].slice(0, 5).join(', ')} more than once, but a set holds each element once.`,
    opIndexes: [invokeIndex, completionIndex],
    details: { repeated: [...repeated] },
  };
}

function outcomeStats(adds: Map<number, AddRecord>, reads: ReadRecord[], finalReadCount: number): Record<string, number> & {
  addOkCount: number;
} {
  const counts: Record<AddOutcome, number> = { ok: 0, fail: 0, info: 0, pending: 0 };
  let recoveredCount = 0;
  let neverReadCount = 0;
  const everRead = new Set<number>();
  for (const read of reads) for (const element of read.elements) everRead.add(element);

  for (const add of adds.values()) {
    counts[add.outcome]++;
    if (add.outcome === 'fail') continue;
    if (!everRead.has(add.element)) neverReadCount++;
    else if (add.outcome !== 'ok') recoveredCount++;
  }
  return {
    addCount: adds.size,
    addOkCount: counts.ok,
    addFailCount: counts.fail,
    addIndeterminateCount: counts.info + counts.pending,
    readOkCount: reads.length,
    finalReadCount,
    // Adds with an unknown outcome that some read showed happened.
    recoveredCount,
    // Adds not known to have failed whose element no ok read ever contained.
    neverReadCount,
  };
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
