// Version orders per key, inferred from reads, and the anomalies visible without a dependency graph:
// incompatible orders, duplicate or never-appended elements, aborted and intermediate reads, dirty
// updates and lost appends.
import { Findings, show, showList, txnName } from './findings.js';
import { ListAppendInputError } from './normalize.js';
import type { ListKey, ListValue, Txn } from './types.js';

/** Appends and committed reads of one key, and the version order inferred from them. */
export interface KeyHistory {
  key: ListKey;
  /** Txn id of the one txn that appended each value (in any outcome). */
  writerOf: Map<ListValue, number>;
  /** Values after which the same txn appended another value to this key. */
  intermediate: Set<ListValue>;
  /** Reads by `ok` txns, in history order: reader id, list read (nil as []), and whether it was external. */
  readTxns: number[];
  readLists: ListValue[][];
  /**
   * For each read, how many leading elements show other txns' writes, or -1. Only the txn's first read
   * of the key counts. When the txn appended to the key before that read, the read must end with those
   * appends, and they are not counted; otherwise it is -1 and the internal check reports the read.
   */
  readExternalLength: number[];
  /** The version order (the longest read), or null when the reads are not prefixes of one list. */
  order: ListValue[] | null;
  /** Writer txn id of each position of `order`; -1 where no txn appended that value. */
  orderWriters: Int32Array;
  /**
   * Positions in `readTxns` of the final reads: reads invoked after every txn that appends to any
   * key had its last op recorded.
   */
  finalReads: number[];
  /**
   * `ok` txns whose append to this key no read observed; they come after every observed version.
   * Filled only for keys with a final read (see findUnobservedAppends).
   */
  unobservedOkWriters: number[];
}

/** Collects the appends and `ok` reads of every key. Throws ListAppendInputError on a value appended twice. */
export function buildKeyHistories(txns: readonly Txn[]): Map<ListKey, KeyHistory> {
  const keys = new Map<ListKey, KeyHistory>();
  const keyOf = (key: ListKey): KeyHistory => {
    let history = keys.get(key);
    if (history === undefined) {
      history = {
        key,
        writerOf: new Map(),
        intermediate: new Set(),
        readTxns: [],
        readLists: [],
        readExternalLength: [],
        order: null,
        orderWriters: new Int32Array(0),
        finalReads: [],
        unobservedOkWriters: [],
      };
      keys.set(key, history);
    }
    return history;
  };

  const appendsEndPosition = lastAppendPosition(txns);
  for (const txn of txns) {
    const lastAppended = new Map<ListKey, ListValue>();
    const ownAppends = new Map<ListKey, ListValue[]>();
    const read = new Set<ListKey>();
    for (const op of txn.ops) {
      const history = keyOf(op.key);
      if (op.f === 'append') {
        const previousWriter = history.writerOf.get(op.value);
        if (previousWriter !== undefined) {
          throw new ListAppendInputError(
            `key ${show(op.key)}: value ${show(op.value)} is appended by both T${txns[previousWriter]!.index} and ${txnName(txn)}; ` +
              'list-append histories need values that are unique per key',
            txn.index,
          );
        }
        history.writerOf.set(op.value, txn.id);
        const previous = lastAppended.get(op.key);
        if (previous !== undefined) history.intermediate.add(previous);
        lastAppended.set(op.key, op.value);
        if (!read.has(op.key)) ownAppends.set(op.key, [...(ownAppends.get(op.key) ?? []), op.value]);
      } else if (txn.outcome === 'ok') {
        const list = op.list ?? [];
        history.readTxns.push(txn.id);
        history.readLists.push(list);
        history.readExternalLength.push(read.has(op.key) ? -1 : externalLength(list, ownAppends.get(op.key) ?? []));
        if (txn.invokePosition > appendsEndPosition) history.finalReads.push(history.readTxns.length - 1);
        read.add(op.key);
      }
    }
  }
  return keys;
}

/** Returns the history position of the last op of any txn that appends, or -1 when no txn appends. */
function lastAppendPosition(txns: readonly Txn[]): number {
  let position = -1;
  for (const txn of txns) {
    if (txn.ops.some((op) => op.f === 'append')) position = Math.max(position, txn.lastPosition);
  }
  return position;
}

/** Returns how many leading elements of `list` precede the txn's own earlier appends, or -1 if it does not end with them. */
function externalLength(list: readonly ListValue[], ownAppends: readonly ListValue[]): number {
  const length = list.length - ownAppends.length;
  if (length < 0) return -1;
  for (let i = 0; i < ownAppends.length; i++) if (list[length + i] !== ownAppends[i]) return -1;
  return length;
}

/** Infers each key's version order and records the non-cycle anomalies it reveals. */
export function analyzeVersions(txns: readonly Txn[], keys: Map<ListKey, KeyHistory>, findings: Findings): void {
  for (const history of keys.values()) {
    const longest = longestRead(history);
    if (longest >= 0 && !checkPrefixes(txns, history, longest, findings)) {
      for (let r = 0; r < history.readLists.length; r++) checkReadElements(txns, history, r, findings);
      checkIntermediateReads(txns, history, findings);
      continue;
    }

    const order = longest >= 0 ? history.readLists[longest]! : [];
    history.order = order;
    history.orderWriters = new Int32Array(order.length);
    for (let p = 0; p < order.length; p++) history.orderWriters[p] = history.writerOf.get(order[p]!) ?? -1;

    if (longest >= 0) checkOrderElements(txns, history, longest, findings);
    checkIntermediateReads(txns, history, findings);
    findUnobservedAppends(txns, history, findings);
  }
}

function longestRead(history: KeyHistory): number {
  let longest = -1;
  for (let r = 0; r < history.readLists.length; r++) {
    if (longest < 0 || history.readLists[r]!.length > history.readLists[longest]!.length) longest = r;
  }
  return longest;
}

/** Checks that every read of the key is a prefix of the longest; records one incompatible-order otherwise. */
function checkPrefixes(txns: readonly Txn[], history: KeyHistory, longest: number, findings: Findings): boolean {
  const order = history.readLists[longest]!;
  for (let r = 0; r < history.readLists.length; r++) {
    const list = history.readLists[r]!;
    let p = 0;
    while (p < list.length && list[p] === order[p]) p++;
    if (p === list.length) continue;

    const reader = txns[history.readTxns[r]!]!;
    const longReader = txns[history.readTxns[longest]!]!;
    findings.add({
      kind: 'incompatible-order',
      explanation:
        `key ${show(history.key)} has no single version order: ${txnName(reader)} read ${showList(list)} but ` +
        `${txnName(longReader)} read ${showList(order)}, and they differ at position ${p}, ` +
        'while every read of a key must be a prefix of the longest one',
      opIndexes: [reader.index, longReader.index],
      details: { key: history.key, reads: [list, order] },
    });
    return false;
  }
  return true;
}

/** Checks the longest read (a list every other read is a prefix of) for duplicates, unknown and aborted values. */
function checkOrderElements(txns: readonly Txn[], history: KeyHistory, longest: number, findings: Findings): void {
  const order = history.order!;
  const seen = new Set<ListValue>();
  const reader = txns[history.readTxns[longest]!]!;
  let failedPosition = -1;
  let dirtyReported = false;

  for (let p = 0; p < order.length; p++) {
    const value = order[p]!;
    if (seen.has(value)) {
      findings.add({
        kind: 'duplicate-elements',
        explanation: `${txnName(reader)} read key ${show(history.key)} as ${showList(order)}, which contains ${show(value)} more than once, but each value is appended once`,
        opIndexes: [reader.index],
        details: { key: history.key, value },
      });
    }
    seen.add(value);

    const writer = history.orderWriters[p]!;
    if (writer < 0) {
      findings.add({
        kind: 'garbage-read',
        explanation: `${txnName(reader)} read ${show(value)} in key ${show(history.key)}, but no txn appended ${show(value)} to key ${show(history.key)}`,
        opIndexes: [reader.index],
        details: { key: history.key, value },
      });
    } else if (txns[writer]!.outcome === 'fail' && failedPosition < 0) {
      failedPosition = p;
    } else if (failedPosition >= 0 && !dirtyReported && txns[writer]!.outcome !== 'fail') {
      reportDirtyUpdate(txns, history, failedPosition, p, findings);
      dirtyReported = true;
    }
  }

  // Every read is a prefix of the order, so a read contains the first aborted value exactly when it is longer than its position.
  const firstFailed = history.orderWriters.findIndex((writer) => writer >= 0 && txns[writer]!.outcome === 'fail');
  if (firstFailed < 0) return;
  for (let r = 0; r < history.readLists.length; r++) {
    if (history.readLists[r]!.length > firstFailed) reportAbortedRead(txns, history, r, firstFailed, findings);
  }
}

/** Scans one read element by element; used when the key has no version order. */
function checkReadElements(txns: readonly Txn[], history: KeyHistory, r: number, findings: Findings): void {
  const list = history.readLists[r]!;
  const reader = txns[history.readTxns[r]!]!;
  const seen = new Set<ListValue>();
  for (let p = 0; p < list.length; p++) {
    const value = list[p]!;
    const writer = history.writerOf.get(value);
    if (seen.has(value)) {
      findings.add({
        kind: 'duplicate-elements',
        explanation: `${txnName(reader)} read key ${show(history.key)} as ${showList(list)}, which contains ${show(value)} more than once, but each value is appended once`,
        opIndexes: [reader.index],
        details: { key: history.key, value },
      });
    }
    seen.add(value);
    if (writer === undefined) {
      findings.add({
        kind: 'garbage-read',
        explanation: `${txnName(reader)} read ${show(value)} in key ${show(history.key)}, but no txn appended ${show(value)} to key ${show(history.key)}`,
        opIndexes: [reader.index],
        details: { key: history.key, value },
      });
    } else if (txns[writer]!.outcome === 'fail') {
      reportAbortedRead(txns, history, r, p, findings);
      return;
    }
  }
}

function reportAbortedRead(txns: readonly Txn[], history: KeyHistory, r: number, position: number, findings: Findings): void {
  const reader = txns[history.readTxns[r]!]!;
  const list = history.readLists[r]!;
  const value = list[position]!;
  const writer = txns[history.writerOf.get(value)!]!;
  findings.add({
    kind: 'G1a',
    explanation:
      `${txnName(reader)} read key ${show(history.key)} as ${showList(list)}, which includes ${show(value)}; ` +
      `${txnName(writer)} appended ${show(value)} but failed, so ${txnName(reader)} read an aborted write`,
    opIndexes: [writer.index, reader.index],
    details: { key: history.key, value, writer: writer.index, reader: reader.index },
  });
}

function reportDirtyUpdate(txns: readonly Txn[], history: KeyHistory, failedPosition: number, position: number, findings: Findings): void {
  const order = history.order!;
  const failed = txns[history.orderWriters[failedPosition]!]!;
  const later = txns[history.orderWriters[position]!]!;
  findings.add({
    kind: 'dirty-update',
    explanation:
      `key ${show(history.key)} contains ${show(order[failedPosition]!)}, appended by ${txnName(failed)} which failed, ` +
      `followed by ${show(order[position]!)} from ${txnName(later)} which did not fail, so a write built on an aborted write`,
    opIndexes: [failed.index, later.index],
    details: { key: history.key, failedValue: order[failedPosition], value: order[position] },
  });
}

/** Records reads whose last element is one a txn appended before appending another value to the same key. */
function checkIntermediateReads(txns: readonly Txn[], history: KeyHistory, findings: Findings): void {
  for (let r = 0; r < history.readLists.length; r++) {
    const list = history.readLists[r]!;
    if (list.length === 0) continue;
    const last = list[list.length - 1]!;
    if (!history.intermediate.has(last)) continue;

    const reader = txns[history.readTxns[r]!]!;
    const writer = txns[history.writerOf.get(last)!]!;
    if (writer.id === reader.id || writer.outcome === 'fail') continue;
    findings.add({
      kind: 'G1b',
      explanation:
        `${txnName(reader)} read key ${show(history.key)} ending in ${show(last)}, but ${txnName(writer)} appended ${show(last)} ` +
        `and then more values to key ${show(history.key)} in the same txn, so ${txnName(reader)} read an intermediate state`,
      opIndexes: [writer.index, reader.index],
      details: { key: history.key, value: last, writer: writer.index, reader: reader.index },
    });
  }
}

/**
 * Lists the `ok` appends to a key with a final read that no read observed, and reports each as a
 * lost append. Such an append must sit after every observed version, because a read longer than its
 * position would include it. A final read began after the append completed, so it must include the
 * append under strict serializability.
 *
 * Keys without a final read are left alone, as in Elle, which orders only the values some read
 * observed. So an append that was merely never read, common at the end of a history, cannot make a
 * history Elle finds valid invalid here. The list-append workload ends with read-only txns that start
 * after every other txn has finished, which makes its final reads explicit.
 */
function findUnobservedAppends(txns: readonly Txn[], history: KeyHistory, findings: Findings): void {
  if (history.finalReads.length === 0) return;
  const observed = new Set<ListValue>(history.order!);
  const lastFinal = history.finalReads[history.finalReads.length - 1]!;
  const finalReader = txns[history.readTxns[lastFinal]!]!;
  const finalRead = history.readLists[lastFinal]!;

  for (const [value, writerId] of history.writerOf) {
    if (observed.has(value)) continue;
    const writer = txns[writerId]!;
    if (writer.outcome !== 'ok') continue;
    const writers = history.unobservedOkWriters;
    if (writers[writers.length - 1] !== writerId) writers.push(writerId);

    findings.add({
      kind: 'lost-append',
      explanation:
        `${txnName(writer)} appended ${show(value)} to key ${show(history.key)} and committed, but no read ever saw ${show(value)}, ` +
        `although the final read ${txnName(finalReader)} started after every append had finished and read ${showList(finalRead)}`,
      opIndexes: [writer.index, finalReader.index],
      details: { key: history.key, value, writer: writer.index, reader: finalReader.index },
    });
  }
}
