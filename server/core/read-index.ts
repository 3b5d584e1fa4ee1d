// Linearizable reads through ReadIndex.
//
// When a read of key k arrives at a ready leader c, it records W = the committed, not yet applied
// positions that touch k or are barriers. It then needs one heartbeat round sent after the read
// arrived: replies at ballot c from followers whose VotedFor is still c (OK, NEED_SYNC or
// NEED_SNAPSHOT), plus the leader, must form a quorum of the latest config. A higher leader could
// only be elected after a quorum member answered that round, so its writes are concurrent with the
// read. Finally the read waits until W is applied, then returns the local value.
import { commandKeys } from './command.js';
import { bitOf } from './membership.js';
import { isQuorum } from './quorum.js';
import type { LeaderState, NodeCore, PendingRead } from './state.js';
import type { ReadConsistency } from './types.js';

export function read(core: NodeCore, requestId: number, key: string, consistency: ReadConsistency): void {
  const staleRead = consistency === 'stale' || (core.bug('stale-read') && core.role === 'leader');
  if (staleRead) {
    core.complete(requestId, { status: 'ok', result: { kind: 'value', value: core.kv.get(key) }, lsn: null });
    return;
  }
  const lead = core.lead;
  if (lead === null) {
    core.complete(requestId, { status: 'not-leader', leaderId: core.leaderId });
    return;
  }
  if (!lead.ready) {
    core.complete(requestId, { status: 'not-ready' });
    return;
  }

  const pending: PendingRead = {
    requestId,
    key,
    minRequestId: core.peekRequestId(),
    acks: 0n,
    confirmed: false,
    waitFor: unappliedWritesOf(core, key),
  };
  lead.reads.push(pending);
  pending.confirmed = isQuorum(core.log.latestConfig().config, bitOf(core, core.id));
  lead.readRoundRequested = true;
  // Only a read the leader confirms alone can complete now; the others wait for the round.
  if (pending.confirmed) serveReads(core, lead);
}

/** Committed, unapplied positions whose record touches `key` or is a barrier. */
function unappliedWritesOf(core: NodeCore, key: string): number[] {
  const log = core.log;
  const positions: number[] = [];
  const end = log.committed.len();
  for (const lsn of log.committed.positionsFrom(log.applied.firstMissing())) {
    if (lsn >= end) break;
    if (log.applied.has(lsn)) continue;
    const record = log.get(lsn);
    if (record === undefined) continue;
    const keys = commandKeys(record.command);
    if (keys === 'all' || keys.has(key)) positions.push(lsn);
  }
  return positions;
}

/** Counts a reply at the leader's ballot from a follower that still promises it. */
export function noteReadAck(core: NodeCore, lead: LeaderState, from: number, requestId: number): void {
  if (lead.reads.length === 0) return;
  const bit = bitOf(core, from);
  const config = core.log.latestConfig().config;
  const self = bitOf(core, core.id);
  let confirmedNow = false;
  for (const pending of lead.reads) {
    if (pending.confirmed || requestId < pending.minRequestId) continue;
    pending.acks |= bit;
    if (isQuorum(config, pending.acks | self)) {
      pending.confirmed = true;
      confirmedNow = true;
    }
  }
  if (confirmedNow) serveReads(core, lead);
}

/**
 * Serves reads if records were applied since the last scan. A confirmation serves at once, so no
 * other event makes a read servable, and rescanning after every input cost quadratic time.
 */
export function serveReadsAfterApply(core: NodeCore, lead: LeaderState): void {
  if (lead.readsScannedAtVersion === core.stateVersion) return;
  serveReads(core, lead);
}

/** Completes every confirmed read whose writes are applied, in arrival order. */
export function serveReads(core: NodeCore, lead: LeaderState): void {
  lead.readsScannedAtVersion = core.stateVersion;
  if (lead.reads.length === 0) return;
  const applied = core.log.applied;
  const waiting: PendingRead[] = [];
  for (const pending of lead.reads) {
    if (pending.confirmed && pending.waitFor.every((lsn) => applied.has(lsn))) {
      core.complete(pending.requestId, { status: 'ok', result: { kind: 'value', value: core.kv.get(pending.key) }, lsn: null });
    } else {
      waiting.push(pending);
    }
  }
  lead.reads = waiting;
}
