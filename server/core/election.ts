// Election (phase 1): campaigning, the voter's grant rule, the candidate's merge, and becoming
// leader.
//
// Voter: reject when its (Committer, len(Accepted)) is above the candidate's, Committer first;
// then reject a ballot below VotedFor; otherwise promise it (durable before the reply leaves). A
// granting voter whose Committer equals the candidate's returns every record it holds that the
// candidate lacks, scanning from the candidate's Accepted offset, and lists the positions it holds
// only inside its snapshot.
//
// Candidate: once the granted set (itself included) is a quorum of its latest config, merge the
// records of the grants whose Committer equals its own (the maximum, by the grant rule), merge
// their Committed, and check the granted set is also a quorum of the latest config after the merge.
// Positions held only in a voter's snapshot are fetched first. Every remaining hole below the end
// of the merged log gets a noop, and the noops and Committer = c are persisted as one batch.
import assert from 'node:assert';
import { ballotEquals, ballotLess, compareBallots, formatBallot } from './ballot.js';
import { TailBitmap } from './bitmap.js';
import { rebuildIndexes } from './apply.js';
import { bitOf, isKnownMember, replicationTargets } from './membership.js';
import { isQuorum, isVoter } from './quorum.js';
import { becomeReady, followerFor, newFollower, recheckAllCommits, sendToFollower } from './replication.js';
import { installSnapshot } from './snapshot.js';
import type { CampaignState, LeaderState, NodeCore } from './state.js';
import type { Ballot, LogRecord, Message } from './types.js';

type Elect = Extract<Message, { type: 'elect' }>;
type ElectReply = Extract<Message, { type: 'elect-reply' }>;

/**
 * Returns whether this node may campaign: it is a voter in some live config. A node that a pending
 * config removes still campaigns, because it may hold the only copies of that config record, and
 * voters with shorter logs reject everyone else. As leader it commits the change and then steps
 * down.
 */
export function mayCampaign(core: NodeCore): boolean {
  return core.log.liveConfigs().some((entry) => isVoter(entry.config, core.id));
}

/** Starts a campaign with a ballot one term above every term seen. Learners never campaign. */
export function campaign(core: NodeCore): void {
  if (core.role === 'leader') return;
  if (!mayCampaign(core)) return;
  const latest = core.log.latestConfig().config;

  const term = Math.max(core.maxTermSeen, core.votedFor.term, core.committer?.term ?? 0) + 1;
  const ballot: Ballot = { term, id: core.id };
  core.promise(ballot);
  core.role = 'candidate';
  core.leaderId = null;
  core.campaign = { ballot, grants: new Map(), rejected: new Set(), asked: new Set(), fetching: new Set(), preConfig: latest };
  core.restartElectionTimer();
  core.emit({ type: 'role', role: 'candidate', ballot, ready: false });
  askVotes(core, core.campaign);
  tryFinishElection(core);
}

function askVotes(core: NodeCore, camp: CampaignState): void {
  for (const id of replicationTargets(core)) {
    if (camp.asked.has(id)) continue;
    camp.asked.add(id);
    core.send(id, {
      type: 'elect',
      ballot: camp.ballot,
      committer: core.committer,
      accepted: core.log.frozen('accepted'),
      configLsn: core.log.latestConfig().lsn,
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Voter

export function handleElect(core: NodeCore, msg: Elect): void {
  core.observeBallot(msg.ballot);
  core.observeBallot(msg.committer);
  const log = core.log;

  const logOrder = compareBallots(core.committer, msg.committer);
  const logIsNewer = logOrder > 0 || (logOrder === 0 && log.accepted.len() > msg.accepted.len());
  // Removed members may campaign with high terms; ignoring them keeps the cluster live.
  if (!isKnownMember(core, msg.from) || logIsNewer || ballotLess(msg.ballot, core.votedFor)) {
    replyElect(core, msg, false, [], TailBitmap.empty());
    return;
  }

  core.promise(msg.ballot);
  core.stepDownIfHigher(msg.ballot, null);
  core.resetElectionTimer();

  if (!ballotEquals(core.committer, msg.committer)) {
    replyElect(core, msg, true, [], TailBitmap.empty());
    return;
  }
  // Planted bug `voter-scan-own-offset`: scan from the voter's own Accepted offset, so positions
  // below it that the candidate lacks are never returned.
  const scanFrom = core.bug('voter-scan-own-offset') ? log.accepted.firstMissing() : msg.accepted.firstMissing();
  const records: LogRecord[] = [];
  for (const lsn of log.accepted.positionsFrom(Math.max(scanFrom, log.floor))) {
    if (msg.accepted.has(lsn)) continue;
    const record = log.get(lsn);
    if (record !== undefined) records.push(record);
  }
  const snapshotOnly =
    !core.bug('voter-scan-own-offset') && msg.accepted.firstMissing() < log.floor
      ? TailBitmap.prefix(log.floor).difference(msg.accepted)
      : TailBitmap.empty();
  replyElect(core, msg, true, records, snapshotOnly);
}

function replyElect(core: NodeCore, msg: Elect, granted: boolean, records: LogRecord[], snapshotOnly: TailBitmap): void {
  // NOTE: records are not capped per reply, so `omitted` is always empty; a very long log
  // difference travels in one ElectReply.
  core.reply(msg, {
    type: 'elect-reply',
    ballot: msg.ballot,
    granted,
    votedFor: core.votedFor,
    committer: core.committer,
    accepted: granted ? core.log.frozen('accepted') : TailBitmap.empty(),
    committed: granted ? core.log.frozen('committed') : TailBitmap.empty(),
    records,
    snapshotOnly,
    omitted: TailBitmap.empty(),
    configLsn: core.log.latestConfig().lsn,
  });
}

// ---------------------------------------------------------------------------------------------
// Candidate

export function handleElectReply(core: NodeCore, msg: ElectReply): void {
  core.observeBallot(msg.votedFor);
  core.observeBallot(msg.committer);
  const camp = core.campaign;
  if (camp === null || core.role !== 'candidate' || !ballotEquals(msg.ballot, camp.ballot)) return;
  if (ballotLess(camp.ballot, msg.votedFor)) {
    core.becomeFollower(null);
    return;
  }
  if (!msg.granted) {
    camp.rejected.add(msg.from);
    return;
  }
  if (camp.grants.has(msg.from)) return;
  camp.grants.set(msg.from, msg);
  mergeGrant(core, msg);
  tryFinishElection(core);
}

export function handleFetchSnapshotReply(core: NodeCore, msg: Extract<Message, { type: 'fetch-snapshot-reply' }>): void {
  const camp = core.campaign;
  if (camp === null || core.role !== 'candidate' || !ballotEquals(msg.ballot, camp.ballot)) return;
  if (!camp.fetching.has(msg.from)) return;
  camp.fetching.delete(msg.from);
  if (msg.snapshot === null) {
    // The voter promised a higher ballot since; this campaign cannot finish with its grant.
    camp.grants.delete(msg.from);
    return;
  }
  const grant = camp.grants.get(msg.from);
  installSnapshot(core, msg.snapshot, grant?.committer ?? null);
  tryFinishElection(core);
}

/** Stores the records of a grant whose Committer equals ours, and merges its Committed. */
function mergeGrant(core: NodeCore, grant: ElectReply): void {
  const log = core.log;
  if (ballotEquals(grant.committer, core.committer)) {
    const merged: LogRecord[] = [];
    for (const record of grant.records) {
      if (record.seq < log.floor) continue;
      if (log.store(record)) merged.push(record);
    }
    // Records accepted under our own Committer may be written before the switch batch.
    core.persistRecords(merged);
  }
  mergeCommitted(core, grant.committed);
}

function mergeCommitted(core: NodeCore, committed: TailBitmap): void {
  const log = core.log;
  const end = committed.len();
  for (const lsn of committed.positionsFrom(log.committed.firstMissing())) {
    if (lsn >= end) break;
    if (log.committed.has(lsn) || !log.accepted.has(lsn)) continue;
    log.committed.add(lsn);
    core.newlyCommitted.push(lsn);
    core.applyDirty = true;
  }
}

function grantedMask(core: NodeCore, camp: CampaignState): bigint {
  let mask = bitOf(core, core.id);
  for (const id of camp.grants.keys()) mask |= bitOf(core, id);
  return mask;
}

/** Finishes the election when every condition holds; otherwise keeps soliciting. */
function tryFinishElection(core: NodeCore): void {
  const camp = core.campaign;
  if (camp === null) return;
  const mask = grantedMask(core, camp);
  if (!isQuorum(camp.preConfig, mask)) return;

  if (!mayCampaign(core)) {
    core.becomeFollower(null);
    return;
  }
  const latest = core.log.latestConfig().config;
  if (!isQuorum(latest, mask)) {
    askVotes(core, camp);
    return;
  }
  if (fetchSnapshotOnlyPositions(core, camp)) return;
  assertCommittedCovered(core, camp);
  becomeLeader(core, camp);
}

/** Asks voters for the snapshot holding positions we lack; returns true while any is awaited. */
function fetchSnapshotOnlyPositions(core: NodeCore, camp: CampaignState): boolean {
  for (const [id, grant] of camp.grants) {
    if (!ballotEquals(grant.committer, core.committer)) continue;
    const needed = grant.snapshotOnly.union(grant.omitted);
    if (needed.isEmpty() || needed.isSubsetOf(core.log.accepted)) continue;
    if (!camp.fetching.has(id)) {
      camp.fetching.add(id);
      core.send(id, { type: 'fetch-snapshot', ballot: camp.ballot });
    }
  }
  return camp.fetching.size > 0;
}

/**
 * A position a grant lists as committed is chosen, so the merge must hold it: a max-Committer
 * voter holds or snapshot-covers every chosen position. A gap here would become a noop over a
 * chosen record.
 */
function assertCommittedCovered(core: NodeCore, camp: CampaignState): void {
  if (!core.strict) return;
  for (const [id, grant] of camp.grants) {
    assert(grant.committed.isSubsetOf(core.log.accepted), `voter ${id} lists committed positions the merge of ${formatBallot(camp.ballot)} lacks`);
  }
}

function becomeLeader(core: NodeCore, camp: CampaignState): void {
  const log = core.log;
  const ballot = camp.ballot;
  const baseEnd = log.accepted.len();
  const keep = log.accepted.clone();
  const noops: LogRecord[] = [];
  for (let lsn = log.accepted.firstMissing(); lsn < baseEnd; lsn++) {
    if (log.accepted.has(lsn)) continue;
    // A noop depends on every lower lsn, so a dependency chain cut by the hole still orders.
    const noop: LogRecord = { seq: lsn, author: ballot, command: { kind: 'noop' }, depends: TailBitmap.prefix(lsn), overrides: TailBitmap.prefix(lsn + 1) };
    log.store(noop);
    noops.push(noop);
  }
  assert(log.accepted.firstMissing() >= baseEnd, `the merged log of ${formatBallot(ballot)} has a hole below ${baseEnd}`);
  assert(ballotLess(core.committer, ballot), `Committer ${formatBallot(core.committer)} is not below the new ballot ${formatBallot(ballot)}`);
  core.committer = ballot;
  core.persistSwitch(keep, noops);

  const lead = newLeaderState(ballot, TailBitmap.prefix(baseEnd), baseEnd, core.tickCount);
  for (const lsn of log.accepted.positionsFrom(log.committed.firstMissing())) {
    if (!log.committed.has(lsn)) lead.ackMasks.set(lsn, 0n);
  }
  core.role = 'leader';
  core.leaderId = core.id;
  core.campaign = null;
  core.lead = lead;
  rebuildIndexes(core, lead);
  for (const id of replicationTargets(core)) {
    lead.followers.set(id, newFollower(id, camp.grants.get(id)?.committed ?? null, core.tickCount));
  }
  core.emit({ type: 'role', role: 'leader', ballot, ready: false });
  core.heartbeatElapsedTicks = 0;
  for (const follower of lead.followers.values()) sendToFollower(core, lead, follower, true);
  recheckAllCommits(core, lead);
  if (!lead.ready && log.committed.firstMissing() >= baseEnd) becomeReady(core, lead);
}

export function newLeaderState(ballot: Ballot, base: TailBitmap, baseEnd: number, startTick: number): LeaderState {
  return {
    ballot,
    startTick,
    base,
    baseEnd,
    ready: false,
    followers: new Map(),
    ackMasks: new Map(),
    quorumReached: new Set(),
    pending: new Map(),
    unsent: [],
    lastByKey: new Map(),
    lastBarrier: -1,
    lastPutByKey: new Map(),
    clientIndex: new Map(),
    reads: [],
    readsScannedAtVersion: -1,
    readRoundRequested: false,
    configChange: null,
  };
}

/**
 * Planted bug `candidate-serves`: a candidate takes a proposal and leads at once, with no merge,
 * no noops and an empty base, so followers switch to it and drop records that may be chosen.
 */
export function serveAsCandidate(core: NodeCore): void {
  const camp = core.campaign;
  if (camp === null) return;
  const ballot = camp.ballot;
  core.committer = ballot;
  core.persistHardState();
  const lead = newLeaderState(ballot, TailBitmap.empty(), 0, core.tickCount);
  lead.ready = true;
  for (const lsn of core.log.accepted.positionsFrom(core.log.committed.firstMissing())) {
    if (!core.log.committed.has(lsn) && core.log.holds(lsn)) lead.ackMasks.set(lsn, 0n);
  }
  core.role = 'leader';
  core.leaderId = core.id;
  core.campaign = null;
  core.lead = lead;
  rebuildIndexes(core, lead);
  for (const id of replicationTargets(core)) followerFor(core, lead, id).knownCommitted = TailBitmap.empty();
  core.emit({ type: 'role', role: 'leader', ballot, ready: true });
  for (const follower of lead.followers.values()) sendToFollower(core, lead, follower, true);
}
