// The state one TRaft node carries, its output buffer, and the role transitions. The protocol
// steps live in election.ts, replication.ts, apply.ts, read-index.ts, membership.ts and
// snapshot.ts; each takes a NodeCore. node.ts wraps it in the public TraftNode API.
import assert from 'node:assert';
import { ballotLess, compareBallots, formatBallot } from './ballot.js';
import { TailBitmap } from './bitmap.js';
import { DedupTable, KvStateMachine } from './kv.js';
import { RecordLog } from './log.js';
import type {
  Ballot,
  ClientOutcome,
  ClusterConfig,
  CoreUnsafeBug,
  LogRecord,
  Message,
  MessageBody,
  MessageHeader,
  NodeEvent,
  PersistOp,
  Ready,
  Role,
} from './types.js';

type RecordsOp = Extract<PersistOp, { type: 'records' }>;

export interface CoreOptions {
  id: number;
  clusterId: string;
  electionTimeoutTicks: number;
  heartbeatTicks: number;
  random: () => number;
  unsafe: CoreUnsafeBug | null;
  commitOrder: 'out-of-order' | 'in-order';
  checkpointEveryApplied: number;
  maxRecordsPerMessage: number;
}

/** A client request waiting on a record. Blind writes complete at commit, others at apply. */
export interface PendingRequest {
  requestId: number;
  blind: boolean;
}

export interface FollowerState {
  id: number;
  /** True once the follower replied OK at this ballot, i.e. it switched and holds the base. */
  synced: boolean;
  /** The follower's Accepted from its latest OK at this ballot; null before the first OK. */
  knownAccepted: TailBitmap | null;
  /** A sending hint: the follower's Committed from its latest reply or its ElectReply. */
  knownCommitted: TailBitmap | null;
  /** Request id of the newest reply applied; older replies are dropped. */
  lastReplyRequestId: number;
  /** Tick of the latest reply at this ballot; the quorum check counts followers heard recently. */
  lastReplyTick: number;
  syncSentAtTick: number;
  snapshotSentAtTick: number;
  /**
   * Seq ranges sent to the follower as they were appended, one entry per tick, oldest first. A
   * heartbeat does not resend a record sent less than RESEND_DELAY_HEARTBEATS heartbeats ago.
   */
  recentSends: SentRange[];
}

/** Records from `fromSeq` to `toSeq` (inclusive) went to a follower at tick `tick`. */
export interface SentRange {
  tick: number;
  fromSeq: number;
  toSeq: number;
}

export interface PendingRead {
  requestId: number;
  key: string;
  /** Replies to messages with a request id below this were sent before the read arrived. */
  minRequestId: number;
  /** Positions of followers that confirmed the ballot after the read arrived. */
  acks: bigint;
  confirmed: boolean;
  /** Committed positions touching the key (or barriers) that must be applied before reading. */
  waitFor: number[];
}

export interface ConfigChange {
  requestId: number;
  target: ClusterConfig;
  /** Lsn of the record appended last for this change (the joint config, then the target). */
  lsn: number;
  stage: 'joint' | 'final';
}

export interface LeaderState {
  ballot: Ballot;
  /** Tick at which this node became leader. */
  startTick: number;
  /** B_c: every lsn below `baseEnd`. */
  base: TailBitmap;
  baseEnd: number;
  ready: boolean;
  followers: Map<number, FollowerState>;
  /** Uncommitted positions this leader holds, each with the mask of synced followers holding it. */
  ackMasks: Map<number, bigint>;
  /** In-order commit only: positions with a quorum that wait for every lower position. */
  quorumReached: Set<number>;
  pending: Map<number, PendingRequest[]>;
  /** Records appended since the last flush; broadcast to synced followers by `flushAppends`. */
  unsent: LogRecord[];
  /** Greatest lsn touching each key, and the greatest barrier lsn (-1 when none). */
  lastByKey: Map<string, number>;
  lastBarrier: number;
  /** Greatest put lsn per key; used only by the planted bug `set-only-interference`. */
  lastPutByKey: Map<string, number>;
  /** Lsn of the record carrying each (clientId, seq) in the unpurged log. */
  clientIndex: Map<string, number>;
  reads: PendingRead[];
  /** The core's stateVersion when `reads` was last scanned; a read waits only for applies after it. */
  readsScannedAtVersion: number;
  /** A read arrived this call; one heartbeat round goes out when the call ends. */
  readRoundRequested: boolean;
  configChange: ConfigChange | null;
}

export interface CampaignState {
  ballot: Ballot;
  /** Granting replies by voter id; the candidate itself is implicit. */
  grants: Map<number, Extract<MessageBody, { type: 'elect-reply' }>>;
  rejected: Set<number>;
  asked: Set<number>;
  /** Voters asked for a snapshot, because they hold positions only inside it. */
  fetching: Set<number>;
  /** The latest config when the campaign started; the granted set must be a quorum of it. */
  preConfig: ClusterConfig;
}

export function clientKey(clientId: string, seq: number): string {
  return `${clientId}\u0000${seq}`;
}

export class NodeCore {
  readonly id: number;
  readonly clusterId: string;
  readonly opts: CoreOptions;

  votedFor: Ballot;
  committer: Ballot | null = null;
  readonly log: RecordLog;
  kv = new KvStateMachine();
  dedup = new DedupTable();

  role: Role = 'follower';
  leaderId: number | null = null;
  campaign: CampaignState | null = null;
  lead: LeaderState | null = null;
  /** Highest term seen in any ballot; a new campaign uses one more. */
  maxTermSeen = 0;

  tickCount = 0;
  electionElapsedTicks = 0;
  randomizedElectionTicks: number;
  heartbeatElapsedTicks = 0;
  /** Tick of the last accepted LogForward, snapshot or vote grant (campaigns do not count). */
  lastContactTick = 0;
  appliedSinceCheckpoint = 0;
  /** Raised whenever the state machine or Applied changes; keys the state hash cache. */
  stateVersion = 0;
  applyDirty = false;
  private nextRequestId = 0;

  // Output collected for the next Ready.
  persist: PersistOp[] = [];
  /** The `records` op at the end of `persist` that persistRecords built and may extend. */
  private openRecordsOp: RecordsOp | null = null;
  mustSync = false;
  messages: Message[] = [];
  completions: Ready['completions'] = [];
  events: NodeEvent[] = [];
  /** Lsns written by `persist` ops not yet made durable by advance(), with a count per lsn. */
  readonly notDurable = new Map<number, number>();
  /** Positions committed during the current call; reported in one commit event. */
  newlyCommitted: number[] = [];
  private batchLsns: number[] = [];
  readonly outstanding: { ready: Ready; lsns: number[] }[] = [];

  constructor(opts: CoreOptions, bootstrap: ClusterConfig) {
    this.id = opts.id;
    this.clusterId = opts.clusterId;
    this.opts = opts;
    this.votedFor = { term: 0, id: opts.id };
    this.log = new RecordLog(bootstrap, opts.unsafe === null);
    this.randomizedElectionTicks = this.drawElectionTimeout();
  }

  bug(name: CoreUnsafeBug): boolean {
    return this.opts.unsafe === name;
  }

  /** True when no planted bug is on, so every invariant assert applies. */
  get strict(): boolean {
    return this.opts.unsafe === null;
  }

  // -------------------------------------------------------------------------------------------
  // Output

  send(to: number, body: MessageBody): number {
    this.nextRequestId += 1;
    const header: MessageHeader = { clusterId: this.clusterId, from: this.id, to, requestId: this.nextRequestId };
    this.messages.push(Object.assign(header, body) as Message);
    return this.nextRequestId;
  }

  /** The request id the next `send` will use; replies to it or later follow this moment. */
  peekRequestId(): number {
    return this.nextRequestId + 1;
  }

  reply(request: MessageHeader, body: MessageBody): void {
    const header: MessageHeader = { clusterId: this.clusterId, from: this.id, to: request.from, requestId: request.requestId };
    this.messages.push(Object.assign(header, body) as Message);
  }

  persistHardState(): void {
    this.persist.push({ type: 'hard-state', hardState: { votedFor: this.votedFor, committer: this.committer } });
    this.mustSync = true;
  }

  /**
   * Persists `records`. Consecutive calls share one `records` op, so a leader that appends one
   * record per proposal writes one op per Ready instead of one per record.
   */
  persistRecords(records: LogRecord[]): void {
    if (records.length === 0) return;
    const last = this.persist[this.persist.length - 1];
    if (last !== undefined && last === this.openRecordsOp) {
      for (const record of records) last.records.push(record);
    } else {
      // A copy, because the caller may keep using its array.
      const op: RecordsOp = { type: 'records', records: [...records] };
      this.persist.push(op);
      this.openRecordsOp = op;
    }
    this.trackLsns(records);
    this.mustSync = true;
  }

  /** Persists the Committer switch (keep `keep`, add `records`, set the Committer) as one op. */
  persistSwitch(keep: TailBitmap, records: LogRecord[]): void {
    assert(this.committer !== null, 'switch persisted without a committer');
    this.persist.push({ type: 'switch', committer: this.committer, keep: keep.clone(), records });
    this.trackLsns(records);
    this.mustSync = true;
  }

  /** Persists the Committed hint; it replaces a hint right before it, which it supersedes. */
  persistCommittedHint(): void {
    const op: PersistOp = { type: 'committed', committed: this.log.frozen('committed') };
    if (this.persist[this.persist.length - 1]?.type === 'committed') this.persist[this.persist.length - 1] = op;
    else this.persist.push(op);
  }

  pushCheckpoint(op: Extract<PersistOp, { type: 'checkpoint' }>): void {
    this.persist.push(op);
    this.trackLsns(op.snapshot.records);
    this.mustSync = true;
  }

  complete(requestId: number, outcome: ClientOutcome): void {
    this.completions.push({ requestId, outcome });
  }

  emit(event: NodeEvent): void {
    this.events.push(event);
  }

  private trackLsns(records: LogRecord[]): void {
    for (const record of records) {
      this.notDurable.set(record.seq, (this.notDurable.get(record.seq) ?? 0) + 1);
      this.batchLsns.push(record.seq);
    }
  }

  isDurable(lsn: number): boolean {
    return !this.notDurable.has(lsn);
  }

  /** Marks the lsns of an advanced batch durable; returns those now durable. */
  markDurable(lsns: number[]): number[] {
    const durable: number[] = [];
    for (const lsn of lsns) {
      const count = this.notDurable.get(lsn);
      assert(count !== undefined, `lsn ${lsn} made durable twice`);
      if (count > 1) {
        this.notDurable.set(lsn, count - 1);
      } else {
        this.notDurable.delete(lsn);
        durable.push(lsn);
      }
    }
    return durable;
  }

  hasOutput(): boolean {
    return this.persist.length > 0 || this.messages.length > 0 || this.completions.length > 0 || this.events.length > 0;
  }

  /** Moves the collected output into a Ready and remembers which lsns it makes durable. */
  drain(): Ready {
    const ready: Ready = {
      persist: this.persist,
      mustSync: this.mustSync,
      messages: this.messages,
      completions: this.completions,
      events: this.events,
    };
    this.outstanding.push({ ready, lsns: this.batchLsns });
    this.persist = [];
    this.mustSync = false;
    this.messages = [];
    this.completions = [];
    this.events = [];
    this.batchLsns = [];
    return ready;
  }

  // -------------------------------------------------------------------------------------------
  // Ballots, timers and roles

  observeBallot(ballot: Ballot | null): void {
    if (ballot !== null && ballot.term > this.maxTermSeen) this.maxTermSeen = ballot.term;
  }

  /** Raises VotedFor (the promise) to `ballot`; persisted by the caller's batch. */
  promise(ballot: Ballot): void {
    assert(!ballotLess(ballot, this.votedFor), `VotedFor would decrease from ${formatBallot(this.votedFor)} to ${formatBallot(ballot)}`);
    if (compareBallots(ballot, this.votedFor) === 0) return;
    this.votedFor = ballot;
    this.observeBallot(ballot);
    this.persistHardState();
  }

  drawElectionTimeout(): number {
    const base = this.opts.electionTimeoutTicks;
    const r = this.opts.random();
    assert(r >= 0, `random() returned ${r}, expected a number in [0, 1)`);
    assert(r < 1, `random() returned ${r}, expected a number in [0, 1)`);
    return base + Math.floor(r * base);
  }

  /** Restarts the election timer after hearing from a leader or granting a vote. */
  resetElectionTimer(): void {
    this.lastContactTick = this.tickCount;
    this.restartElectionTimer();
  }

  /** Draws a new election timeout and starts counting from zero (a campaign starting). */
  restartElectionTimer(): void {
    this.electionElapsedTicks = 0;
    this.randomizedElectionTicks = this.drawElectionTimeout();
  }

  /**
   * Becomes a follower of `leaderId` (null when unknown). A deposed leader reports every waiting
   * client request as unknown: the record may still commit under a later leader.
   */
  becomeFollower(leaderId: number | null): void {
    const wasRole = this.role;
    if (this.lead !== null) this.abandonLeadership();
    this.campaign = null;
    this.role = 'follower';
    this.leaderId = leaderId;
    if (wasRole !== 'follower') this.emit({ type: 'role', role: 'follower', ballot: this.votedFor, ready: false });
  }

  private abandonLeadership(): void {
    const lead = this.lead;
    assert(lead !== null);
    for (const waiting of lead.pending.values()) {
      for (const request of waiting) {
        this.complete(request.requestId, { status: 'unknown', reason: `leader ${formatBallot(lead.ballot)} stepped down` });
      }
    }
    for (const read of lead.reads) this.complete(read.requestId, { status: 'not-leader', leaderId: null });
    if (lead.configChange !== null) {
      this.complete(lead.configChange.requestId, { status: 'unknown', reason: `leader ${formatBallot(lead.ballot)} stepped down` });
    }
    this.lead = null;
  }

  /** Steps down when `ballot` is above the one this node leads or campaigns with. */
  stepDownIfHigher(ballot: Ballot, leaderId: number | null): void {
    const own = this.lead?.ballot ?? this.campaign?.ballot ?? null;
    if (own !== null && ballotLess(own, ballot)) this.becomeFollower(leaderId);
  }

  // -------------------------------------------------------------------------------------------
  // Invariants

  /** Checks the local invariants that hold after every call (I-promise, I-committer, subsets). */
  checkInvariants(): void {
    if (!this.strict) return;
    assert(!ballotLess(this.votedFor, this.committer), `Committer ${formatBallot(this.committer)} above VotedFor ${formatBallot(this.votedFor)}`);
    if (this.lead !== null) {
      assert(this.role === 'leader', 'leader state without the leader role');
      assert(this.lead.ballot.id === this.id, 'a leader ballot whose id is not this node');
      assert(compareBallots(this.lead.ballot, this.votedFor) === 0, 'a leader promised a higher ballot without stepping down');
      assert(compareBallots(this.lead.ballot, this.committer) === 0, 'a leader whose Committer is not its own ballot');
    }
    assert(this.log.committed.isSubsetOf(this.log.accepted), 'Committed is not a subset of Accepted');
    assert(this.log.accepted.firstMissing() >= this.log.floor, 'Accepted lost positions below the floor');
  }

}
