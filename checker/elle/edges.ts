// Infers the dependency edges between txns: ww, wr and rw from each key's version order, process
// order within each client, and real-time order (one txn completed before another was invoked).
import assert from 'node:assert';
import { EdgeList, PROCESS, REALTIME, RW, WR, WW } from './graph.js';
import type { KeyHistory } from './versions.js';
import type { Txn } from './types.js';

/**
 * Cap on the rw edges per key from readers of the full version order to unobserved `ok` appends.
 * Each such reader gets an edge to every unobserved append, so the count grows as their product.
 * NOTE: past the cap some rw edges are dropped, so a cycle through them may be missed.
 */
const UNOBSERVED_RW_EDGES_PER_KEY_MAX = 100_000;

export function addDataEdges(txns: readonly Txn[], keys: readonly KeyHistory[], edges: EdgeList): void {
  const failed = (id: number): boolean => id < 0 || txns[id]!.outcome === 'fail';

  keys.forEach((history, keyId) => {
    const order = history.order;
    if (order === null) return;
    const writers = history.orderWriters;

    // ww: each version's writer precedes the writer of the next version. Failed writers were
    // reported already and are skipped, so order still flows through them.
    let previous = -1;
    for (let p = 0; p < order.length; p++) {
      const writer = writers[p]!;
      if (failed(writer)) continue;
      if (previous >= 0 && writers[previous] !== writer) edges.add(writers[previous]!, writer, WW, keyId, p, previous);
      previous = p;
    }
    for (const writer of history.unobservedOkWriters) {
      if (previous >= 0 && writers[previous] !== writer) edges.add(writers[previous]!, writer, WW, keyId, -1, previous);
    }

    // The next version after position p that a non-failed txn wrote, for rw edges.
    const nextWritten = new Int32Array(order.length + 1).fill(-1);
    for (let p = order.length - 1; p >= 0; p--) nextWritten[p] = failed(writers[p]!) ? nextWritten[p + 1]! : p;

    let unobservedEdges = 0;
    for (let r = 0; r < history.readTxns.length; r++) {
      const length = history.readExternalLength[r]!;
      if (length < 0) continue;
      const reader = history.readTxns[r]!;

      // wr: the reader saw the last version it read.
      if (length > 0) {
        const writer = writers[length - 1]!;
        if (!failed(writer) && writer !== reader) edges.add(writer, reader, WR, keyId, length - 1);
      }

      // rw: the reader did not see the next version, so it precedes that version's writer.
      const next = nextWritten[length]!;
      if (next >= 0) {
        const writer = writers[next]!;
        if (writer !== reader) edges.add(reader, writer, RW, keyId, next);
      } else if (length === order.length) {
        for (const writer of history.unobservedOkWriters) {
          if (writer === reader || unobservedEdges >= UNOBSERVED_RW_EDGES_PER_KEY_MAX) continue;
          edges.add(reader, writer, RW, keyId, -1);
          unobservedEdges++;
        }
      }
    }
  });
}

/** Adds an edge from each client's last `ok` txn to every later txn of the same client. */
export function addProcessEdges(txns: readonly Txn[], edges: EdgeList): void {
  const lastOk = new Map<number | string, number>();
  const byInvocation = txns.filter((txn) => txn.outcome !== 'fail').sort((a, b) => a.invokePosition - b.invokePosition);
  for (const txn of byInvocation) {
    const previous = lastOk.get(txn.process);
    if (previous !== undefined) edges.add(previous, txn.id, PROCESS);
    if (txn.outcome === 'ok') lastOk.set(txn.process, txn.id);
  }
}

/**
 * Adds real-time edges A -> B where A completed before B was invoked, keeping only a transitive
 * reduction: the frontier contains completed txns not yet followed by a later completed txn that
 * itself started after them. `info` txns never complete, and failed txns are left out.
 */
export function addRealtimeEdges(txns: readonly Txn[], edges: EdgeList): void {
  // Invocations and completions sit at distinct history positions, so one slot per position orders
  // them without a sort: txn id + 1 for an invocation, -(txn id + 1) for a completion.
  let positionCount = 0;
  for (const txn of txns) {
    positionCount = Math.max(positionCount, txn.invokePosition + 1);
    if (txn.outcome === 'ok') positionCount = Math.max(positionCount, txn.completePosition + 1);
  }
  const eventAt = new Int32Array(positionCount);
  for (const txn of txns) {
    if (txn.outcome === 'fail') continue;
    assert(eventAt[txn.invokePosition] === 0, `two events at history position ${txn.invokePosition}`);
    eventAt[txn.invokePosition] = txn.id + 1;
    if (txn.outcome !== 'ok') continue;
    assert(eventAt[txn.completePosition] === 0, `two events at history position ${txn.completePosition}`);
    eventAt[txn.completePosition] = -(txn.id + 1);
  }

  let frontier: number[] = [];
  const predecessors = new Map<number, number[]>();
  const superseded = new Uint8Array(txns.length);

  for (let position = 0; position < positionCount; position++) {
    const event = eventAt[position]!;
    if (event === 0) continue;
    if (event > 0) {
      const id = event - 1;
      for (const before of frontier) edges.add(before, id, REALTIME);
      predecessors.set(id, frontier);
      continue;
    }
    // Everything that preceded this txn is now reachable through it.
    const id = -event - 1;
    for (const before of predecessors.get(id) ?? []) superseded[before] = 1;
    predecessors.delete(id);
    frontier = frontier.filter((member) => superseded[member] === 0);
    frontier.push(id);
  }
}
