// LogForward (phase 2): the leader's sending and per-position commit counting, and the follower's
// acceptance rule with the base-coverage switch.
//
// Follower rule for LogForward(c, base B_c, records, Committed, floor F):
// 1. c below VotedFor: reply STALE and change nothing (a promise never expires).
// 2. c above VotedFor: promise c. Either way reset the election timer.
// 3. Committer == c: store the records.
// 4. Committer < c: switch, atomically, only if K ∪ positions(records) covers B_c, where
//    K = the positions held and committed (plus the snapshot prefix). Otherwise reply NEED_SYNC, or
//    NEED_SNAPSHOT when a missing position is below the leader's floor.
// 5. If Committer == c now: Committed ∪= req.Committed ∩ Accepted, reply OK.
//
// The leader commits a position when it and the synced followers whose latest OK lists the
// position form a quorum of the latest config. It counts itself only once the record is durable.
import assert from 'node:assert';
import { ballotEquals, ballotLess, compareBallots } from './ballot.js';
import { TailBitmap } from './bitmap.js';
import { buildRecord, indexRecord } from './apply.js';
import { bitOf, isCommitQuorum, replicationTargets } from './membership.js';
import { isQuorum } from './quorum.js';
import { noteReadAck } from './read-index.js';
import { sendSnapshot } from './snapshot.js';
import type { FollowerState, LeaderState, NodeCore, SentRange } from './state.js';
import type { ClientTag, Command, LogRecord, Message, MessageBody } from './types.js';

type LogForward = Extract<Message, { type: 'log-forward' }>;
type LogForwardReply = Extract<Message, { type: 'log-forward-reply' }>;

// ---------------------------------------------------------------------------------------------
// Leader: appending and sending

/** Appends a record at the next lsn of the leader's log and queues it for the synced followers. */
export function appendRecord(core: NodeCore, lead: LeaderState, command: Command, client?: ClientTag): LogRecord {
  const seq = core.log.accepted.len();
  const record = buildRecord(core, lead, seq, command, client);
  core.log.store(record);
  indexRecord(lead, record);
  core.persistRecords([record]);
  lead.ackMasks.set(seq, 0n);
  lead.unsent.push(record);
  return record;
}

export function newFollower(id: number, knownCommitted: TailBitmap | null, nowTick: number): FollowerState {
  return {
    id,
    synced: false,
    knownAccepted: null,
    knownCommitted,
    lastReplyRequestId: 0,
    lastReplyTick: nowTick,
    syncSentAtTick: Number.NEGATIVE_INFINITY,
    snapshotSentAtTick: Number.NEGATIVE_INFINITY,
    recentSends: [],
  };
}

/**
 * Heartbeats after which a record sent to a follower counts as lost and is resent. Under load a
 * LogForward and its reply take longer than one heartbeat, so resending after one would send
 * every in-flight record twice.
 */
export const RESEND_DELAY_HEARTBEATS = 2;

function resendDelayTicks(core: NodeCore): number {
  return RESEND_DELAY_HEARTBEATS * core.opts.heartbeatTicks;
}

/** Notes that records `fromSeq`..`toSeq`, ascending and above every earlier send, went to `follower` now. */
function noteSent(core: NodeCore, follower: FollowerState, fromSeq: number, toSeq: number): void {
  const sends = follower.recentSends;
  const last = sends[sends.length - 1];
  if (last !== undefined && last.tick === core.tickCount) {
    last.toSeq = Math.max(last.toSeq, toSeq);
    return;
  }
  sends.push({ tick: core.tickCount, fromSeq, toSeq });
}

/**
 * Returns the lowest seq sent to `follower` within the resend delay; records at or above it are
 * in flight. Sends appear in seq order, so every record above the returned seq was sent since.
 */
function inFlightFromSeq(core: NodeCore, follower: FollowerState): number {
  const sends = follower.recentSends;
  const oldestRecentTick = core.tickCount - resendDelayTicks(core);
  let expired = 0;
  while (expired < sends.length && (sends[expired] as SentRange).tick <= oldestRecentTick) expired++;
  if (expired > 0) sends.splice(0, expired);
  return sends.length === 0 ? Number.POSITIVE_INFINITY : (sends[0] as SentRange).fromSeq;
}

/** Returns the progress record for `id`, creating it when a config change made `id` a target. */
export function followerFor(core: NodeCore, lead: LeaderState, id: number): FollowerState {
  let follower = lead.followers.get(id);
  if (follower === undefined) {
    follower = newFollower(id, null, core.tickCount);
    lead.followers.set(id, follower);
  }
  return follower;
}

function logForward(core: NodeCore, lead: LeaderState, records: LogRecord[]): MessageBody {
  return {
    type: 'log-forward',
    ballot: lead.ballot,
    base: lead.base,
    records,
    committed: core.log.frozen('committed'),
    floor: core.log.floor,
  };
}

/**
 * Sends the records appended since the last flush to every synced follower. Returns true when it
 * sent any: then every synced follower got a LogForward in this flush.
 */
export function flushAppends(core: NodeCore, lead: LeaderState): boolean {
  if (lead.unsent.length === 0) return false;
  const records = lead.unsent;
  lead.unsent = [];
  // The chunks are cut once and shared by the messages to every follower.
  const max = core.opts.maxRecordsPerMessage;
  const chunks: LogRecord[][] = [];
  for (let k = 0; k < records.length; k += max) chunks.push(records.slice(k, k + max));
  const fromSeq = (records[0] as LogRecord).seq;
  const toSeq = (records[records.length - 1] as LogRecord).seq;

  for (const id of replicationTargets(core)) {
    const follower = followerFor(core, lead, id);
    if (!follower.synced) continue;
    for (const chunk of chunks) core.send(id, logForward(core, lead, chunk));
    noteSent(core, follower, fromSeq, toSeq);
  }
  return true;
}

/**
 * Steps down when the leader and the followers that replied within the last election timeout are
 * no quorum of the latest config. A leader that can send but not receive would otherwise keep
 * followers from campaigning while it commits nothing.
 */
export function checkQuorum(core: NodeCore, lead: LeaderState): void {
  const windowTicks = core.opts.electionTimeoutTicks;
  if (core.tickCount - lead.startTick < windowTicks) return;
  let mask = bitOf(core, core.id);
  for (const follower of lead.followers.values()) {
    if (core.tickCount - follower.lastReplyTick < windowTicks) mask |= bitOf(core, follower.id);
  }
  if (!isQuorum(core.log.latestConfig().config, mask)) core.becomeFollower(null);
}

/** Sends a heartbeat round to every target; each also carries what that follower lacks. */
export function broadcastHeartbeat(core: NodeCore, lead: LeaderState): void {
  core.heartbeatElapsedTicks = 0;
  for (const id of replicationTargets(core)) sendToFollower(core, lead, followerFor(core, lead, id), false);
}

/**
 * Sends the heartbeat round a ReadIndex read needs. A synced follower gets a LogForward without
 * records, because what it lacks went out when appended and the periodic heartbeat resends it.
 * So a burst of reads does not resend every unacknowledged record, and the heartbeat timer keeps
 * running. With `syncedAlreadySent`, synced followers get nothing: a LogForward went to each of
 * them after the reads arrived, and its reply confirms the ballot just as well.
 */
export function broadcastReadRound(core: NodeCore, lead: LeaderState, syncedAlreadySent: boolean): void {
  for (const id of replicationTargets(core)) {
    const follower = followerFor(core, lead, id);
    if (follower.synced && syncedAlreadySent) continue;
    if (follower.synced) core.send(id, logForward(core, lead, []));
    else sendToFollower(core, lead, follower, false);
  }
}

/**
 * Sends one LogForward to a follower. A synced follower gets the records it lacks that were not
 * sent to it within the resend delay (up to the per-message maximum). An unsynced one gets a probe, or, when its Committed is known and
 * `syncNow` is set or no sync went out this tick, everything the leader holds beyond that
 * Committed so that one message covers the base: the switch is all-or-nothing.
 */
export function sendToFollower(core: NodeCore, lead: LeaderState, follower: FollowerState, syncNow: boolean): void {
  const log = core.log;
  if (follower.synced) {
    const known = follower.knownAccepted as TailBitmap;
    if (lacksPurged(core, follower, known)) {
      sendSnapshot(core, lead, follower);
    }
    const records = missingRecords(core, known, core.opts.maxRecordsPerMessage, inFlightFromSeq(core, follower));
    core.send(follower.id, logForward(core, lead, records));
    return;
  }
  const known = follower.knownCommitted;
  if (known === null || (!syncNow && follower.syncSentAtTick === core.tickCount)) {
    core.send(follower.id, logForward(core, lead, []));
    return;
  }
  follower.syncSentAtTick = core.tickCount;
  // NOTE: the base sync ignores maxRecordsPerMessage, because a follower switches only on a message
  // that covers the whole base. Staging a large base across messages is not implemented.
  core.send(follower.id, logForward(core, lead, missingRecords(core, known, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY)));
}

/**
 * Returns true when `follower` lacks a purged position that was not sent to it within the resend
 * delay. A checkpoint purges records still on their way to slower followers, which need no snapshot.
 */
function lacksPurged(core: NodeCore, follower: FollowerState, accepted: TailBitmap): boolean {
  const firstMissing = accepted.firstMissing();
  return firstMissing < core.log.floor && firstMissing < inFlightFromSeq(core, follower);
}

/** Records held at or above the floor and below `belowSeq` whose positions are not in `known`, ascending. */
function missingRecords(core: NodeCore, known: TailBitmap, max: number, belowSeq: number): LogRecord[] {
  const log = core.log;
  const records: LogRecord[] = [];
  const start = Math.max(log.floor, known.firstMissing());
  for (const lsn of log.accepted.positionsFrom(start)) {
    if (records.length >= max || lsn >= belowSeq) break;
    if (known.has(lsn)) continue;
    const record = log.get(lsn);
    if (record !== undefined) records.push(record);
  }
  return records;
}

// ---------------------------------------------------------------------------------------------
// Leader: replies and commit counting

export function handleLogForwardReply(core: NodeCore, msg: LogForwardReply): void {
  core.observeBallot(msg.votedFor);
  core.observeBallot(msg.committer);
  const lead = core.lead;
  if (lead === null) return;
  if (ballotLess(lead.ballot, msg.votedFor)) {
    core.becomeFollower(null);
    return;
  }
  if (!ballotEquals(msg.ballot, lead.ballot)) return;
  const follower = lead.followers.get(msg.from);
  if (follower === undefined) return;
  if (msg.requestId <= follower.lastReplyRequestId) {
    handleLateReply(core, lead, follower, msg);
    return;
  }
  follower.lastReplyRequestId = msg.requestId;
  follower.lastReplyTick = core.tickCount;

  switch (msg.status) {
    case 'stale':
      return;
    case 'need-sync':
      follower.synced = false;
      follower.knownAccepted = null;
      follower.recentSends = [];
      follower.knownCommitted = msg.committed;
      noteReadAck(core, lead, msg.from, msg.requestId);
      sendToFollower(core, lead, follower, false);
      return;
    case 'need-snapshot':
      follower.synced = false;
      follower.knownAccepted = null;
      follower.recentSends = [];
      follower.knownCommitted = msg.committed;
      noteReadAck(core, lead, msg.from, msg.requestId);
      sendSnapshot(core, lead, follower);
      return;
    case 'ok':
      assert(!core.strict || ballotEquals(msg.committer, lead.ballot), `OK from ${msg.from} without Committer ${lead.ballot.term}.${lead.ballot.id}`);
      const wasSynced = follower.synced;
      follower.synced = true;
      follower.knownAccepted = msg.accepted;
      follower.knownCommitted = msg.committed;
      countAcks(core, lead, msg.from, msg.accepted);
      noteReadAck(core, lead, msg.from, msg.requestId);
      if (lacksPurged(core, follower, msg.accepted)) {
        sendSnapshot(core, lead, follower);
      } else if (!wasSynced && !core.log.accepted.isSubsetOf(msg.accepted)) {
        // Records appended while the follower was syncing went only to synced followers.
        sendToFollower(core, lead, follower, false);
      }
      return;
    default:
      return assertNeverStatus(msg.status);
  }
}

/**
 * Counts the acks of a reply that arrived after the reply to a later request, which happens when a
 * small LogForward overtakes a large one. Sync state and Committed still come from the newest reply.
 */
function handleLateReply(core: NodeCore, lead: LeaderState, follower: FollowerState, msg: LogForwardReply): void {
  if (msg.status !== 'ok' || !follower.synced) return;
  countAcks(core, lead, msg.from, msg.accepted);
  noteReadAck(core, lead, msg.from, msg.requestId);
  const known = follower.knownAccepted as TailBitmap;
  if (!msg.accepted.isSubsetOf(known)) follower.knownAccepted = known.union(msg.accepted);
}

function assertNeverStatus(status: never): never {
  throw new Error(`unexpected log-forward-reply status ${String(status)}`);
}

function countAcks(core: NodeCore, lead: LeaderState, from: number, accepted: TailBitmap): void {
  const bit = bitOf(core, from);
  if (bit === 0n) return;
  const reached: number[] = [];
  for (const [lsn, mask] of lead.ackMasks) {
    if ((mask & bit) !== 0n || !accepted.has(lsn)) continue;
    lead.ackMasks.set(lsn, mask | bit);
    if (hasCommitQuorum(core, lead, lsn)) reached.push(lsn);
  }
  reached.sort((a, b) => a - b);
  for (const lsn of reached) commitReached(core, lead, lsn);
}

function hasCommitQuorum(core: NodeCore, lead: LeaderState, lsn: number): boolean {
  const mask = lead.ackMasks.get(lsn);
  if (mask === undefined) return false;
  const self = core.isDurable(lsn) ? bitOf(core, core.id) : 0n;
  return isCommitQuorum(core, core.log.latestConfig().config, mask | self);
}

/** Re-tests every uncommitted position, after the config changed or records became durable. */
export function recheckCommits(core: NodeCore, lead: LeaderState, lsns: Iterable<number>): void {
  const reached: number[] = [];
  for (const lsn of lsns) {
    if (hasCommitQuorum(core, lead, lsn)) reached.push(lsn);
  }
  reached.sort((a, b) => a - b);
  for (const lsn of reached) commitReached(core, lead, lsn);
}

export function recheckAllCommits(core: NodeCore, lead: LeaderState): void {
  recheckCommits(core, lead, [...lead.ackMasks.keys()]);
}

/** Commits `lsn`, which a quorum has accepted. With in-order commit it first waits for every lower position. */
function commitReached(core: NodeCore, lead: LeaderState, lsn: number): void {
  if (!lead.ackMasks.has(lsn)) return;
  if (core.opts.commitOrder === 'out-of-order') {
    commitPosition(core, lead, lsn);
    return;
  }
  lead.quorumReached.add(lsn);
  let next = core.log.committed.firstMissing();
  while (lead.quorumReached.has(next)) {
    lead.quorumReached.delete(next);
    commitPosition(core, lead, next);
    next = core.log.committed.firstMissing();
  }
}

function commitPosition(core: NodeCore, lead: LeaderState, lsn: number): void {
  lead.ackMasks.delete(lsn);
  markCommitted(core, lsn);
  if (core.bug('coverage-counts-as-accepted')) {
    const record = core.log.get(lsn);
    if (record !== undefined) core.log.committed.unionInPlace(record.overrides.intersection(core.log.accepted));
  }
  const waiting = lead.pending.get(lsn);
  if (waiting !== undefined) {
    // Blind writes are acked at commit: no result depends on the state they apply to.
    const rest = waiting.filter((request) => !request.blind);
    for (const request of waiting) {
      if (request.blind) core.complete(request.requestId, { status: 'ok', result: { kind: 'done' }, lsn });
    }
    if (rest.length === 0) lead.pending.delete(lsn);
    else lead.pending.set(lsn, rest);
  }
  if (!lead.ready && core.log.committed.firstMissing() >= lead.baseEnd) becomeReady(core, lead);
}

export function markCommitted(core: NodeCore, lsn: number): void {
  if (core.log.committed.has(lsn)) return;
  core.log.committed.add(lsn);
  core.newlyCommitted.push(lsn);
  core.applyDirty = true;
}

export function becomeReady(core: NodeCore, lead: LeaderState): void {
  lead.ready = true;
  core.emit({ type: 'role', role: 'leader', ballot: lead.ballot, ready: true });
}

// ---------------------------------------------------------------------------------------------
// Follower

export function handleLogForward(core: NodeCore, msg: LogForward): void {
  const ballot = msg.ballot;
  core.observeBallot(ballot);
  let downgrade = false;
  if (ballotLess(ballot, core.votedFor)) {
    // Planted bug `accept-expired-vote`: a vote counts as expired after an election timeout with
    // no LogForward or vote grant. The node's own failed campaigns do not count as contact.
    const expired = core.tickCount - core.lastContactTick >= core.opts.electionTimeoutTicks;
    if (!(core.bug('accept-expired-vote') && expired)) {
      replyTo(core, msg, 'stale');
      return;
    }
    downgrade = true;
  } else {
    core.promise(ballot);
    core.stepDownIfHigher(ballot, ballot.id);
  }
  if (core.role === 'follower') core.leaderId = ballot.id;
  core.resetElectionTimer();

  const order = compareBallots(core.committer, ballot);
  if (order === 0) {
    storeRecords(core, msg.records);
  } else if (order < 0) {
    if (!trySwitch(core, msg)) return;
  } else {
    // Only the planted bug gets here: the Committer goes down (a log that mixes ballots).
    assert(downgrade, `Committer ${core.committer?.term}.${core.committer?.id} above an accepted ballot ${ballot.term}.${ballot.id}`);
    core.committer = ballot;
    core.persistHardState();
    storeRecords(core, msg.records);
  }

  learnCommitted(core, msg.committed);
  replyTo(core, msg, 'ok');
}

function storeRecords(core: NodeCore, records: LogRecord[]): void {
  const stored: LogRecord[] = [];
  for (const record of records) {
    if (record.seq < core.log.floor) continue;
    if (!core.log.store(record)) continue;
    stored.push(record);
    if (core.bug('coverage-counts-as-accepted')) core.log.accepted.unionInPlace(record.overrides);
  }
  core.persistRecords(stored);
}

/** Performs the Committer switch of step 4; replies and returns false when the base is not covered. */
function trySwitch(core: NodeCore, msg: LogForward): boolean {
  const log = core.log;
  const keep = log.committed.clone();
  const incoming = msg.records.filter((record) => record.seq >= log.floor);
  const covered = keep.clone();
  for (const record of incoming) covered.add(record.seq);

  if (!core.bug('skip-base-sync') && !msg.base.isSubsetOf(covered)) {
    const lowestMissing = covered.firstMissing();
    const needSnapshot = lowestMissing < msg.floor && msg.base.has(lowestMissing);
    replyTo(core, msg, needSnapshot ? 'need-snapshot' : 'need-sync');
    return false;
  }

  assert(ballotLess(core.committer, msg.ballot), 'a switch must raise the Committer');
  core.committer = msg.ballot;
  log.retainOnly(keep);
  const stored: LogRecord[] = [];
  for (const record of incoming) {
    if (log.store(record)) stored.push(record);
  }
  core.persistSwitch(keep, stored);
  core.applyDirty = true;
  assert(core.bug('skip-base-sync') || msg.base.isSubsetOf(log.accepted), 'a switched follower lacks part of the base');
  return true;
}

/** Committed ∪= leaderCommitted ∩ Accepted, reporting each newly committed position. */
function learnCommitted(core: NodeCore, leaderCommitted: TailBitmap): void {
  const log = core.log;
  const end = leaderCommitted.len();
  for (const lsn of leaderCommitted.positionsFrom(log.committed.firstMissing())) {
    if (lsn >= end) break;
    if (!log.committed.has(lsn) && log.accepted.has(lsn)) markCommitted(core, lsn);
  }
}

function replyTo(core: NodeCore, msg: LogForward, status: LogForwardReply['status']): void {
  core.reply(msg, {
    type: 'log-forward-reply',
    ballot: msg.ballot,
    status,
    votedFor: core.votedFor,
    committer: core.committer,
    accepted: core.log.frozen('accepted'),
    committed: core.log.frozen('committed'),
    applied: core.log.frozen('applied'),
  });
}
