// Quorum tests against the node's configs, replication targets, and config changes.
//
// A config takes effect when its record is appended. The leader counts commits in the latest
// config of its log, which is a joint config while a change is pending. It replicates to every
// member of every config from the latest committed one onward. A change is direct when the current and the
// target configs cross-intersect, otherwise it goes through their joint config first. At most one
// change is pending at a time, and only a ready leader starts one.
import { checkCrossIntersection, isQuorum, isVoter, jointConfig, validateConfig } from './quorum.js';
import { appendRecord, recheckAllCommits } from './replication.js';
import type { LeaderState, NodeCore } from './state.js';
import type { ClusterConfig, Member } from './types.js';

/** Returns the member's position in the newest live config that lists it; undefined for unknown ids. */
export function positionOf(core: NodeCore, id: number): number | undefined {
  return core.log.livePositions().get(id);
}

export function bitOf(core: NodeCore, id: number): bigint {
  const position = positionOf(core, id);
  return position === undefined ? 0n : 1n << BigInt(position);
}

/** Returns every id in a live config other than this node, ascending. */
export function replicationTargets(core: NodeCore): number[] {
  const ids: number[] = [];
  for (const id of core.log.livePositions().keys()) {
    if (id !== core.id) ids.push(id);
  }
  return ids.sort((a, b) => a - b);
}

/** True when `id` is a member of a config in this node's log from the latest committed one onward. */
export function isKnownMember(core: NodeCore, id: number): boolean {
  return core.log.livePositions().has(id);
}

const minorityConfigs = new WeakMap<ClusterConfig, ClusterConfig>();

/**
 * Tests a commit quorum. Planted bug `commit-on-minority`: each threshold family accepts one
 * member fewer than its threshold.
 */
export function isCommitQuorum(core: NodeCore, config: ClusterConfig, mask: bigint): boolean {
  if (!core.bug('commit-on-minority')) return isQuorum(config, mask);
  let lowered = minorityConfigs.get(config);
  if (lowered === undefined) {
    lowered = {
      members: config.members,
      families: config.families.map((family) =>
        family.kind === 'threshold' ? { ...family, threshold: Math.max(1, family.threshold - 1) } : family,
      ),
    };
    minorityConfigs.set(config, lowered);
  }
  return isQuorum(lowered, mask);
}

/** Returns why `target` cannot follow `current`, or null. Positions must stay with their ids. */
function checkPositionsStable(current: ClusterConfig, target: ClusterConfig): string | null {
  const byId = new Map<number, Member>(current.members.map((m) => [m.id, m]));
  const byPosition = new Map<number, Member>(current.members.map((m) => [m.position, m]));
  for (const member of target.members) {
    const old = byId.get(member.id);
    if (old !== undefined && old.position !== member.position) {
      return `member ${member.id} moves from position ${old.position} to ${member.position}; keep each member's position`;
    }
    const holder = byPosition.get(member.position);
    if (holder !== undefined && holder.id !== member.id) {
      return `position ${member.position} of member ${holder.id} is reused by member ${member.id}; allocate an unused position`;
    }
  }
  return null;
}

/** Starts a config change toward `target`; the completion arrives once `target` commits. */
export function changeConfig(core: NodeCore, requestId: number, target: ClusterConfig): void {
  const lead = core.lead;
  if (lead === null) {
    core.complete(requestId, { status: 'not-leader', leaderId: core.leaderId });
    return;
  }
  if (!lead.ready) {
    core.complete(requestId, { status: 'not-ready' });
    return;
  }
  if (lead.configChange !== null || core.log.hasPendingConfig()) {
    core.complete(requestId, { status: 'rejected', reason: 'a config change is already in progress; retry after it commits' });
    return;
  }
  const invalid = validateConfig(target);
  if (invalid !== null) {
    core.complete(requestId, { status: 'rejected', reason: `invalid target config: ${invalid}` });
    return;
  }
  const current = core.log.latestConfig().config;
  const moved = checkPositionsStable(current, target);
  if (moved !== null) {
    core.complete(requestId, { status: 'rejected', reason: moved });
    return;
  }

  const direct = checkCrossIntersection(current, target) === null;
  const config = direct ? target : jointConfig(current, target);
  const record = appendRecord(core, lead, { kind: 'config', config });
  lead.configChange = { requestId, target, lsn: record.seq, stage: direct ? 'final' : 'joint' };
  recheckAllCommits(core, lead);
}

/**
 * Moves a config change on after its record commits: from the joint config to the target, or to
 * completion. A leader that is no voter in the committed latest config steps down.
 */
export function continueConfigChange(core: NodeCore): void {
  const lead = core.lead;
  if (lead === null) return;
  const change = lead.configChange;
  if (change !== null && core.log.committed.has(change.lsn)) {
    if (change.stage === 'joint') {
      const record = appendRecord(core, lead, { kind: 'config', config: change.target });
      lead.configChange = { ...change, lsn: record.seq, stage: 'final' };
      recheckAllCommits(core, lead);
    } else {
      lead.configChange = null;
      core.complete(change.requestId, { status: 'ok', result: { kind: 'done' }, lsn: change.lsn });
    }
  }
  stepDownIfRemoved(core);
}

function stepDownIfRemoved(core: NodeCore): void {
  if (core.log.hasPendingConfig()) return;
  const committed = core.log.committedConfig().config;
  if (isVoter(committed, core.id)) return;
  core.becomeFollower(null);
}
