// TraftNode: the public API of the TRaft core, in the shape of etcd's raft.
//
// Inputs are tick(), step(message), propose(), read() and changeConfig(); each call only changes
// memory and queues output. ready() drains that output: what to persist (one atomic batch), the
// messages to send once it is durable, the completed client requests and the events. advance()
// marks the batch durable, and only then does a leader count itself toward a record's quorum.
// Nothing here performs I/O, reads a clock or calls Math.random.
import assert from 'node:assert';
import { campaign, handleElect, handleElectReply, handleFetchSnapshotReply, serveAsCandidate } from './election.js';
import { isBlind } from './command.js';
import { runApplyLoop } from './apply.js';
import { NodeOptionsError } from './errors.js';
import { Fnv1a64, DedupTable, KvStateMachine } from './kv.js';
import { changeConfig, continueConfigChange } from './membership.js';
import { validateConfig } from './quorum.js';
import { read, serveReadsAfterApply } from './read-index.js';
import {
  appendRecord,
  broadcastHeartbeat,
  broadcastReadRound,
  checkQuorum,
  flushAppends,
  handleLogForward,
  handleLogForwardReply,
  recheckCommits,
} from './replication.js';
import { handleFetchSnapshot, handleInstallSnapshot, handleInstallSnapshotReply, maybeCheckpoint } from './snapshot.js';
import { NodeCore, clientKey } from './state.js';
import type { BitmapSummary, ClientTag, ClusterConfig, Command, CoreUnsafeBug, JsonValue, Message, NodeDump, NodeStatus, ReadConsistency, Ready, RestoredState } from './types.js';
import { CORE_UNSAFE_BUGS } from './types.js';
import type { TailBitmap } from './bitmap.js';

export interface NodeOptions {
  id: number;
  clusterId: string;
  /** The initial config when there is no durable state. */
  bootstrap: ClusterConfig;
  /** From recover(); a restarted node starts as follower and campaigns above every persisted term. */
  restored?: RestoredState;
  /** Base election timeout; each wait is drawn from [base, 2 * base) with `random`. */
  electionTimeoutTicks: number;
  heartbeatTicks: number;
  /** Seeded source of numbers in [0, 1). */
  random: () => number;
  /** A planted bug; none by default. */
  unsafe?: CoreUnsafeBug;
  /** `in-order` commits only a prefix, like classic Raft (for the benchmark). Default out-of-order. */
  commitOrder?: 'out-of-order' | 'in-order';
  /** Write a checkpoint and purge every N applied records; 0 (the default) never does. */
  checkpointEveryApplied?: number;
  /** Maximum records per LogForward to a synced follower; default 1024. */
  maxRecordsPerMessage?: number;
}

/**
 * In a 5-node unlimited-rate run a leader appended about 500 records per Ready. Each LogForward
 * costs the follower one Ready, one WAL write and one fsync, so a cap of 256 split those Readies
 * and cost CPU.
 */
const MAX_RECORDS_PER_MESSAGE_DEFAULT = 1024;

function checkOptions(opts: NodeOptions): void {
  const positiveInteger = (value: number, name: string): void => {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new NodeOptionsError(`invalid ${name} ${value}: expected a positive integer`);
    }
  };
  if (!Number.isSafeInteger(opts.id) || opts.id < 0) throw new NodeOptionsError(`invalid id ${opts.id}: expected a non-negative integer`);
  positiveInteger(opts.electionTimeoutTicks, 'electionTimeoutTicks');
  positiveInteger(opts.heartbeatTicks, 'heartbeatTicks');
  if (opts.heartbeatTicks >= opts.electionTimeoutTicks) {
    throw new NodeOptionsError(
      `invalid heartbeatTicks ${opts.heartbeatTicks}: expected less than electionTimeoutTicks ${opts.electionTimeoutTicks}`,
    );
  }
  if (opts.maxRecordsPerMessage !== undefined) positiveInteger(opts.maxRecordsPerMessage, 'maxRecordsPerMessage');
  const every = opts.checkpointEveryApplied ?? 0;
  if (!Number.isSafeInteger(every) || every < 0) {
    throw new NodeOptionsError(`invalid checkpointEveryApplied ${every}: expected a non-negative integer (0 = never)`);
  }
  if (opts.unsafe !== undefined && !CORE_UNSAFE_BUGS.includes(opts.unsafe)) {
    throw new NodeOptionsError(`unknown unsafe bug ${String(opts.unsafe)}: expected one of ${CORE_UNSAFE_BUGS.join(', ')}`);
  }
  const invalid = validateConfig(opts.bootstrap);
  if (invalid !== null) throw new NodeOptionsError(`invalid bootstrap config: ${invalid}`);
}

function summarize(bitmap: TailBitmap): BitmapSummary {
  return { offset: bitmap.firstMissing(), len: bitmap.len(), count: bitmap.count() };
}

export class TraftNode {
  private readonly core: NodeCore;
  private hashCache: { version: number; hash: string } | null = null;

  constructor(opts: NodeOptions) {
    checkOptions(opts);
    this.core = new NodeCore(
      {
        id: opts.id,
        clusterId: opts.clusterId,
        electionTimeoutTicks: opts.electionTimeoutTicks,
        heartbeatTicks: opts.heartbeatTicks,
        random: opts.random,
        unsafe: opts.unsafe ?? null,
        commitOrder: opts.commitOrder ?? 'out-of-order',
        checkpointEveryApplied: opts.checkpointEveryApplied ?? 0,
        maxRecordsPerMessage: opts.maxRecordsPerMessage ?? MAX_RECORDS_PER_MESSAGE_DEFAULT,
      },
      opts.bootstrap,
    );
    if (opts.restored !== undefined) this.restore(opts.restored);
    this.afterCall();
  }

  /** Loads durable state: a restarted node is a follower and re-applies committed records. */
  private restore(restored: RestoredState): void {
    const core = this.core;
    const log = core.log;
    core.votedFor = restored.hardState.votedFor;
    core.committer = restored.hardState.committer;
    core.observeBallot(core.votedFor);
    core.observeBallot(core.committer);
    const snapshot = restored.snapshot;
    if (snapshot !== null) {
      core.kv = KvStateMachine.fromSnapshot(snapshot.kv);
      core.dedup = DedupTable.restore(snapshot.dedup);
      log.applied = snapshot.applied.clone();
      core.stateVersion += 1;
      log.purgeBelow(snapshot.floor);
      log.baseConfig = { config: snapshot.config, lsn: snapshot.configLsn };
    }
    for (const record of restored.records) {
      if (record.seq >= log.floor) log.store(record);
    }
    log.committed.unionInPlace(restored.committed.intersection(log.accepted));
    core.applyDirty = true;
  }

  tick(): void {
    const core = this.core;
    core.tickCount += 1;
    if (core.lead !== null) {
      core.heartbeatElapsedTicks += 1;
      if (core.heartbeatElapsedTicks >= core.opts.heartbeatTicks) broadcastHeartbeat(core, core.lead);
      checkQuorum(core, core.lead);
    } else {
      core.electionElapsedTicks += 1;
      if (core.electionElapsedTicks >= core.randomizedElectionTicks) {
        core.restartElectionTimer();
        campaign(core);
      }
    }
    this.afterCall();
  }

  /** Handles one message. Messages for another cluster or another node are dropped. */
  step(msg: Message): void {
    const core = this.core;
    if (msg.clusterId !== core.clusterId || msg.to !== core.id || msg.from === core.id) return;
    switch (msg.type) {
      case 'elect':
        handleElect(core, msg);
        break;
      case 'elect-reply':
        handleElectReply(core, msg);
        break;
      case 'log-forward':
        handleLogForward(core, msg);
        break;
      case 'log-forward-reply':
        handleLogForwardReply(core, msg);
        break;
      case 'install-snapshot':
        handleInstallSnapshot(core, msg);
        break;
      case 'install-snapshot-reply':
        handleInstallSnapshotReply(core, msg);
        break;
      case 'fetch-snapshot':
        handleFetchSnapshot(core, msg);
        break;
      case 'fetch-snapshot-reply':
        handleFetchSnapshotReply(core, msg);
        break;
      default:
        assertNeverMessage(msg);
    }
    this.afterCall();
  }

  /**
   * Proposes a command. Only an established leader appends. A retry of a (clientId, seq) already
   * in the log waits on that record, and one already executed completes with its stored result.
   */
  propose(requestId: number, command: Command, client?: ClientTag): void {
    const core = this.core;
    this.proposeCommand(requestId, command, client);
    void core;
    this.afterCall();
  }

  private proposeCommand(requestId: number, command: Command, client?: ClientTag): void {
    const core = this.core;
    if (command.kind === 'config') {
      core.complete(requestId, { status: 'rejected', reason: 'config commands go through changeConfig, not propose' });
      return;
    }
    if (core.role === 'candidate' && core.bug('candidate-serves')) serveAsCandidate(core);
    const lead = core.lead;
    if (lead === null) {
      core.complete(requestId, { status: 'not-leader', leaderId: core.leaderId });
      return;
    }
    const blind = isBlind(command);
    // NOTE: dedup entries are dropped only when clients send `ackedThrough`; without it the
    // table grows with every client request.
    if (client !== undefined) {
      if (core.dedup.isBelowWatermark(client)) {
        core.complete(requestId, {
          status: 'rejected',
          reason: `request seq ${client.seq} of client ${client.clientId} is at or below its acknowledged watermark; use a new seq`,
        });
        return;
      }
      const result = core.dedup.lookup(client);
      if (result !== undefined) {
        core.complete(requestId, { status: 'ok', result, lsn: null });
        return;
      }
      const lsn = lead.clientIndex.get(clientKey(client.clientId, client.seq));
      if (lsn !== undefined) {
        this.waitOnExisting(requestId, lsn, blind);
        return;
      }
    }
    const record = appendRecord(core, lead, command, client);
    lead.pending.set(record.seq, [{ requestId, blind }]);
  }

  /** Attaches a retried request to the record already in the log, or completes it at once. */
  private waitOnExisting(requestId: number, lsn: number, blind: boolean): void {
    const core = this.core;
    const lead = core.lead;
    assert(lead !== null);
    const log = core.log;
    // Applied without a dedup entry means skipped by an overrider: it counts as ok.
    if (lsn < log.floor || log.applied.has(lsn)) {
      core.complete(requestId, { status: 'ok', result: { kind: 'done' }, lsn });
      return;
    }
    if (blind && log.committed.has(lsn)) {
      core.complete(requestId, { status: 'ok', result: { kind: 'done' }, lsn });
      return;
    }
    const waiting = lead.pending.get(lsn) ?? [];
    waiting.push({ requestId, blind });
    lead.pending.set(lsn, waiting);
  }

  /** Reads `key`: linearizable through ReadIndex unless `stale` is requested. */
  read(requestId: number, key: string, consistency: ReadConsistency = 'linearizable'): void {
    read(this.core, requestId, key, consistency);
    this.afterCall();
  }

  /** Changes the config to `target`, directly or through a joint config; completes on commit. */
  changeConfig(requestId: number, target: ClusterConfig): void {
    changeConfig(this.core, requestId, target);
    this.afterCall();
  }

  /** Starts an election now. */
  campaign(): void {
    campaign(this.core);
    this.afterCall();
  }

  hasReady(): boolean {
    this.flushSends();
    return this.core.hasOutput();
  }

  /**
   * Turns records appended and reads received since the last Ready into messages. Deferring this
   * to hasReady()/ready() batches every proposal made between two Readies into one LogForward per
   * follower.
   */
  private flushSends(): void {
    const core = this.core;
    const lead = core.lead;
    if (lead === null) return;
    const appendsSent = flushAppends(core, lead);
    if (lead.readRoundRequested) {
      lead.readRoundRequested = false;
      broadcastReadRound(core, lead, appendsSent);
    }
  }

  /**
   * Drains the pending output. Several Readies may be outstanding, but the driver must handle them
   * in the order taken: a Ready's messages may depend on the persist batches of earlier Readies.
   */
  ready(): Ready {
    this.flushSends();
    return this.core.drain();
  }

  /** Marks the oldest undelivered Ready durable. Readies must be advanced in the order taken. */
  advance(ready: Ready): void {
    const core = this.core;
    const next = core.outstanding.shift();
    assert(next !== undefined, 'advance() called with no outstanding Ready');
    assert(next.ready === ready, 'advance() called out of order or with a Ready this node did not return');
    const durable = core.markDurable(next.lsns);
    if (core.lead !== null && durable.length > 0) {
      recheckCommits(core, core.lead, durable.filter((lsn) => core.lead?.ackMasks.has(lsn)));
    }
    this.afterCall();
  }

  /** Applies committed records, serves reads, moves config changes on and reports new commits. */
  private afterCall(): void {
    const core = this.core;
    for (let round = 0; round < 4; round++) {
      runApplyLoop(core);
      if (core.lead !== null) serveReadsAfterApply(core, core.lead);
      continueConfigChange(core);
      maybeCheckpoint(core);
      if (!core.applyDirty) break;
    }
    if (core.newlyCommitted.length > 0) {
      core.emit({ type: 'commit', seqs: core.newlyCommitted.sort((a, b) => a - b) });
      core.newlyCommitted = [];
      core.persistCommittedHint();
    }
    core.checkInvariants();
  }

  status(): NodeStatus {
    const core = this.core;
    const log = core.log;
    return {
      id: core.id,
      role: core.role,
      ballot: core.votedFor,
      leaderId: core.leaderId,
      ready: core.lead?.ready ?? false,
      committer: core.committer,
      accepted: summarize(log.accepted),
      committed: summarize(log.committed),
      applied: summarize(log.applied),
      config: log.latestConfig().config,
      logSize: log.records.size,
      floor: log.floor,
    };
  }

  dump(): NodeDump {
    const core = this.core;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const node = this;
    const log = core.log;
    const latest = log.latestConfig();
    const lead = core.lead;
    return {
      id: core.id,
      role: core.role,
      ready: lead?.ready ?? false,
      votedFor: core.votedFor,
      committer: core.committer,
      accepted: log.frozen('accepted'),
      committed: log.frozen('committed'),
      applied: log.frozen('applied'),
      floor: log.floor,
      records: log.records,
      config: latest.config,
      configLsn: latest.lsn,
      committedConfig: log.committedConfig().config,
      base: lead?.base ?? null,
      leaderId: core.leaderId,
      progress:
        lead === null
          ? []
          : [...lead.followers.values()].map((f) => ({
              id: f.id,
              synced: f.synced,
              knownAccepted: f.knownAccepted,
              knownCommitted: f.knownCommitted,
            })),
      // Computed on first read: hashing the whole state machine costs more than the rest of the
      // dump, and the simulator dumps after every step but compares hashes only at the end.
      get stateHash(): string {
        return node.stateHash();
      },
    };
  }

  /** Returns a hash of the state machine contents and the Applied bitmap. */
  stateHash(): string {
    const core = this.core;
    if (this.hashCache !== null && this.hashCache.version === core.stateVersion) return this.hashCache.hash;
    const hash = new Fnv1a64().update(core.kv.hash()).update(JSON.stringify(core.log.applied.toJSON())).digest();
    this.hashCache = { version: core.stateVersion, hash };
    return hash;
  }

  kvGet(key: string): JsonValue {
    return this.core.kv.get(key);
  }
}

function assertNeverMessage(msg: never): never {
  throw new Error(`unexpected message type ${JSON.stringify((msg as { type?: unknown }).type)}`);
}
