// Checkpoints, purge and InstallSnapshot.
//
// The purge floor S is the all-ones prefix of Applied ∩ Committed. A snapshot carries the state
// machine, the full Applied bitmap (records applied out of order above S are inside the state),
// the sender's Committed, S, the config in force at S, the dedup table and every record the sender
// holds at lsns >= S.
//
// Installing never counts coverage as content: Accepted and Committed gain [0, S) plus the
// positions whose content the installer then holds. A snapshot is installed only when it is not
// below the local floor (so every position applied here but not in the snapshot is still held and
// re-executes on top of it) and when it adds applied positions.
import { ballotEquals, ballotLess } from './ballot.js';
import { dependFloor } from './apply.js';
import { DedupTable, KvStateMachine } from './kv.js';
import { clientKey } from './state.js';
import type { FollowerState, LeaderState, NodeCore } from './state.js';
import { sendToFollower } from './replication.js';
import type { Ballot, Message, Snapshot } from './types.js';

export function buildSnapshot(core: NodeCore): Snapshot {
  const log = core.log;
  const records = [...log.records.values()].sort((a, b) => a.seq - b.seq);
  return {
    floor: log.floor,
    applied: log.frozen('applied'),
    committed: log.frozen('committed'),
    config: log.baseConfig.config,
    configLsn: log.baseConfig.lsn,
    kv: core.kv.toSnapshot(),
    dedup: core.dedup.entries(),
    records,
  };
}

/** Purges up to S and writes a checkpoint after every `checkpointEveryApplied` applied records. */
export function maybeCheckpoint(core: NodeCore): void {
  const every = core.opts.checkpointEveryApplied;
  if (every <= 0 || core.appliedSinceCheckpoint < every) return;
  core.appliedSinceCheckpoint = 0;
  const floor = dependFloor(core);
  if (floor > core.log.floor) purge(core, floor);
  core.pushCheckpoint({ type: 'checkpoint', hardState: { votedFor: core.votedFor, committer: core.committer }, snapshot: buildSnapshot(core) });
  core.emit({ type: 'snapshot', floor: core.log.floor, installed: false });
}

function purge(core: NodeCore, floor: number): void {
  core.log.purgeBelow(floor);
  const lead = core.lead;
  if (lead === null) return;
  for (const [key, lsn] of lead.clientIndex) {
    if (lsn < floor) lead.clientIndex.delete(key);
  }
}

/**
 * Sends a snapshot to a follower that lacks purged positions, at most once per election timeout.
 * NOTE: a loaded leader can take longer than that to build and send a snapshot of several
 * megabytes. The transport drops a snapshot while the previous one to that follower is in
 * flight, but the core still builds each one before the transport drops it.
 */
export function sendSnapshot(core: NodeCore, lead: LeaderState, follower: FollowerState): void {
  if (core.tickCount - follower.snapshotSentAtTick < core.opts.electionTimeoutTicks) return;
  follower.snapshotSentAtTick = core.tickCount;
  core.send(follower.id, { type: 'install-snapshot', ballot: lead.ballot, snapshot: buildSnapshot(core) });
}

export function handleInstallSnapshot(core: NodeCore, msg: Extract<Message, { type: 'install-snapshot' }>): void {
  core.observeBallot(msg.ballot);
  if (ballotLess(msg.ballot, core.votedFor)) {
    core.reply(msg, { type: 'install-snapshot-reply', ballot: msg.ballot, installed: false, applied: core.log.frozen('applied') });
    return;
  }
  core.promise(msg.ballot);
  core.stepDownIfHigher(msg.ballot, msg.ballot.id);
  if (core.role === 'follower') core.leaderId = msg.ballot.id;
  core.resetElectionTimer();
  const installed = installSnapshot(core, msg.snapshot, msg.ballot);
  core.reply(msg, { type: 'install-snapshot-reply', ballot: msg.ballot, installed, applied: core.log.frozen('applied') });
}

/**
 * Installs `snap` when allowed; returns whether it did. `sourceCommitter` is the Committer under
 * which the sender holds its records: new records are stored only when it equals ours.
 */
export function installSnapshot(core: NodeCore, snap: Snapshot, sourceCommitter: Ballot | null): boolean {
  const log = core.log;
  if (snap.floor < log.floor) return false;
  if (snap.applied.isSubsetOf(log.applied) && snap.floor === log.floor) return false;

  core.kv = KvStateMachine.fromSnapshot(snap.kv);
  core.dedup = DedupTable.restore(snap.dedup);
  log.applied = snap.applied.clone();
  core.stateVersion += 1;
  log.purgeBelow(snap.floor);
  log.baseConfig = { config: snap.config, lsn: snap.configLsn };

  // Records are taken only under the same Committer: a chosen record stored under an older
  // Committer would disagree with an unchosen copy another replica keeps at that Committer.
  const sameCommitter = sourceCommitter !== null && ballotEquals(sourceCommitter, core.committer);
  for (const record of snap.records) {
    if (record.seq < log.floor) continue;
    const held = log.get(record.seq);
    if (held === undefined) {
      if (sameCommitter) log.store(record);
    } else if (!ballotEquals(held.author, record.author)) {
      continue;
    }
    if (snap.committed.has(record.seq) && log.holds(record.seq) && !log.committed.has(record.seq)) {
      log.committed.add(record.seq);
      core.newlyCommitted.push(record.seq);
    }
  }

  rebuildClientIndex(core);
  core.applyDirty = true;
  core.appliedSinceCheckpoint = 0;
  core.pushCheckpoint({ type: 'checkpoint', hardState: { votedFor: core.votedFor, committer: core.committer }, snapshot: buildSnapshot(core) });
  core.emit({ type: 'snapshot', floor: log.floor, installed: true });
  return true;
}

function rebuildClientIndex(core: NodeCore): void {
  const lead = core.lead;
  if (lead === null) return;
  lead.clientIndex.clear();
  for (const record of core.log.records.values()) {
    if (record.client !== undefined) lead.clientIndex.set(clientKey(record.client.clientId, record.client.seq), record.seq);
  }
}

export function handleFetchSnapshot(core: NodeCore, msg: Extract<Message, { type: 'fetch-snapshot' }>): void {
  core.observeBallot(msg.ballot);
  // Only a voter still promising the candidate's ballot serves it: its log cannot have changed
  // under a higher leader since its grant.
  const snapshot = ballotEquals(msg.ballot, core.votedFor) ? buildSnapshot(core) : null;
  core.reply(msg, { type: 'fetch-snapshot-reply', ballot: msg.ballot, snapshot });
}

export function handleInstallSnapshotReply(core: NodeCore, msg: Extract<Message, { type: 'install-snapshot-reply' }>): void {
  const lead = core.lead;
  if (lead === null || !ballotEquals(msg.ballot, lead.ballot)) return;
  const follower = lead.followers.get(msg.from);
  if (follower === undefined) return;
  follower.lastReplyTick = core.tickCount;
  if (!msg.installed) return;
  follower.snapshotSentAtTick = Number.NEGATIVE_INFINITY;
  sendToFollower(core, lead, follower, true);
}
