// The public contract of the TRaft core: commands, records, messages, durable state and the
// Ready value. Everything here is plain data. Nothing in server/core performs I/O.
import type { TailBitmap } from './bitmap.js';

/** A leader ballot, ordered by term and then id. Only replica `id` creates ballots with its id. */
export interface Ballot {
  readonly term: number;
  readonly id: number;
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

// ---------------------------------------------------------------------------------------------
// Cluster configuration

export interface Member {
  id: number;
  /** host:port where the member serves peers; opaque to the core. */
  addr: string;
  /** The member's bit (0..63) in quorum masks. Stable for the member's lifetime. */
  position: number;
}

/** One family of quorums; a set of positions satisfies it when it contains one of its quorums. */
export type QuorumFamily =
  /** Any `threshold` of `positions`; a majority config uses floor(n/2)+1. */
  | { kind: 'threshold'; positions: number[]; threshold: number }
  /** Positions whose weights sum to at least `threshold`. */
  | { kind: 'weighted'; weights: { position: number; weight: number }[]; threshold: number }
  /** Minimal quorums listed explicitly, each as a list of positions (grids, custom systems). */
  | { kind: 'explicit'; quorums: number[][] };

/**
 * A quorum system: a set of positions is a quorum when it satisfies every family. A joint config
 * is the concatenation of two configs' families. A member in no family is a learner.
 */
export interface ClusterConfig {
  members: Member[];
  families: QuorumFamily[];
}

// ---------------------------------------------------------------------------------------------
// Commands, results and records

export type MicroOp = { f: 'append'; key: string; value: JsonValue } | { f: 'r'; key: string };

export type Command =
  | { kind: 'noop' }
  | { kind: 'put'; key: string; value: JsonValue }
  | { kind: 'delete'; key: string }
  /** `expected: null` means "the key is absent". */
  | { kind: 'cas'; key: string; expected: JsonValue; value: JsonValue }
  /** Appends to a list (an absent key becomes a one-element list) or concatenates to a string. */
  | { kind: 'append'; key: string; value: JsonValue }
  | { kind: 'incr'; key: string; delta: number }
  | { kind: 'txn'; ops: MicroOp[] }
  /** A membership change: a barrier for apply. */
  | { kind: 'config'; config: ClusterConfig };

export type MicroOpResult = { f: 'append'; key: string; value: JsonValue } | { f: 'r'; key: string; value: JsonValue };

export type CommandResult =
  | { kind: 'done' }
  | { kind: 'cas'; swapped: boolean; current: JsonValue }
  | { kind: 'value'; value: JsonValue }
  | { kind: 'txn'; ops: MicroOpResult[] }
  /** The command ran but could not take effect, e.g. incr of a non-number; the state is unchanged. */
  | { kind: 'error'; message: string };

/** Identifies a client request for exactly-once retries. */
export interface ClientTag {
  clientId: string;
  seq: number;
  /**
   * Optional watermark: the client received a reply for every seq at or below it and will not
   * retry them, so replicas drop those dedup entries when this record applies.
   */
  ackedThrough?: number;
}

export interface LogRecord {
  /** The lsn. */
  seq: number;
  /** Ballot of the leader that created the record at this lsn; (author, seq) identifies content. */
  author: Ballot;
  command: Command;
  client?: ClientTag;
  /** Positions that must be applied before this one. */
  depends: TailBitmap;
  /** Positions whose effect this record supersedes, itself included. Consulted only by apply. */
  overrides: TailBitmap;
}

// ---------------------------------------------------------------------------------------------
// Messages between replicas. Every message carries the cluster id, the sender, the receiver and a
// request id; every reply echoes the request's ballot.

export interface MessageHeader {
  clusterId: string;
  from: number;
  to: number;
  requestId: number;
}

export interface DedupEntry {
  clientId: string;
  seq: number;
  result: CommandResult;
}

/** The state image a leader sends to a follower that lacks purged positions; checkpoints store it too. */
export interface Snapshot {
  /** Purge floor S: every position below it is applied and committed. */
  floor: number;
  applied: TailBitmap;
  committed: TailBitmap;
  config: ClusterConfig;
  /** Lsn of the config record `config` came from; -1 for the bootstrap config. */
  configLsn: number;
  kv: [string, JsonValue][];
  dedup: DedupEntry[];
  /** Every record the sender stores at lsns >= floor. */
  records: LogRecord[];
}

export type MessageBody =
  | { type: 'elect'; ballot: Ballot; committer: Ballot | null; accepted: TailBitmap; configLsn: number }
  | {
      type: 'elect-reply';
      ballot: Ballot;
      granted: boolean;
      votedFor: Ballot;
      committer: Ballot | null;
      accepted: TailBitmap;
      committed: TailBitmap;
      records: LogRecord[];
      /** Positions the voter holds only inside its snapshot (purged); the candidate must fetch them. */
      snapshotOnly: TailBitmap;
      /** Positions held but left out of `records` because of the size cap. */
      omitted: TailBitmap;
      configLsn: number;
    }
  | { type: 'log-forward'; ballot: Ballot; base: TailBitmap; records: LogRecord[]; committed: TailBitmap; floor: number }
  | {
      type: 'log-forward-reply';
      ballot: Ballot;
      status: 'ok' | 'stale' | 'need-sync' | 'need-snapshot';
      votedFor: Ballot;
      committer: Ballot | null;
      accepted: TailBitmap;
      committed: TailBitmap;
      applied: TailBitmap;
    }
  | { type: 'install-snapshot'; ballot: Ballot; snapshot: Snapshot }
  | { type: 'install-snapshot-reply'; ballot: Ballot; installed: boolean; applied: TailBitmap }
  | { type: 'fetch-snapshot'; ballot: Ballot }
  | { type: 'fetch-snapshot-reply'; ballot: Ballot; snapshot: Snapshot | null };

export type Message = MessageHeader & MessageBody;

// ---------------------------------------------------------------------------------------------
// Durable state

export interface HardState {
  votedFor: Ballot;
  committer: Ballot | null;
}

/**
 * One durable change. A Ready's `persist` list is written as one atomic batch, in order.
 * Replaying every op since the last checkpoint through `recover` rebuilds the durable state.
 */
export type PersistOp =
  | { type: 'hard-state'; hardState: HardState }
  | { type: 'records'; records: LogRecord[] }
  /** The Committer switch: keep only positions in `keep`, store `records`, set the Committer. */
  | { type: 'switch'; committer: Ballot; keep: TailBitmap; records: LogRecord[] }
  /** A hint; safe to lose. */
  | { type: 'committed'; committed: TailBitmap }
  /** A full image: everything before it may be purged from the log once it is durable. */
  | { type: 'checkpoint'; hardState: HardState; snapshot: Snapshot };

// ---------------------------------------------------------------------------------------------
// Clients

export type ReadConsistency = 'linearizable' | 'stale';

export type ClientOutcome =
  | { status: 'ok'; result: CommandResult; lsn: number | null }
  | { status: 'not-leader'; leaderId: number | null }
  | { status: 'not-ready' }
  /** The request may or may not take effect (leadership lost, deposed mid-flight). */
  | { status: 'unknown'; reason: string }
  /** The request was invalid and had no effect, e.g. a config that fails the intersection check. */
  | { status: 'rejected'; reason: string };

export interface Completion {
  requestId: number;
  outcome: ClientOutcome;
}

// ---------------------------------------------------------------------------------------------
// Ready

export type Role = 'follower' | 'candidate' | 'leader';

export type NodeEvent =
  | { type: 'role'; role: Role; ballot: Ballot; ready: boolean }
  | { type: 'commit'; seqs: number[] }
  | { type: 'apply'; seq: number; command: Command }
  | { type: 'snapshot'; floor: number; installed: boolean };

/**
 * The output of one or more calls into the node. The driver must handle it in this order:
 * 1. write `persist` as one atomic batch, and fsync it when `mustSync` is true;
 * 2. only then send `messages` (a vote grant or a LogForward OK may depend on that batch);
 * 3. then deliver `completions` to clients;
 * 4. then call `advance(ready)`, which tells the node the batch is durable (a leader counts
 *    itself toward a record's quorum only after this).
 * One relaxation, as in etcd's raft: a driver MAY send the `log-forward` requests of a Ready
 * while its batch is still being synced, provided neither this Ready nor any earlier Ready that
 * is not yet advanced persists anything but `records` and `committed` ops. Those requests carry
 * the leader's own records, which it does not count until advance(), and a Committed set built
 * only from durable acks. Replies (votes, LogForward OK), completions and every other message
 * still wait for the fsync.
 * The state machine is applied inside the core; `events` reports what happened.
 */
export interface Ready {
  persist: PersistOp[];
  mustSync: boolean;
  messages: Message[];
  completions: Completion[];
  events: NodeEvent[];
}

/** Planted bugs: each re-enables one known-unsafe behaviour so the bench can prove it catches it. */
export const CORE_UNSAFE_BUGS = [
  'accept-expired-vote',
  'skip-base-sync',
  'voter-scan-own-offset',
  'candidate-serves',
  'set-only-interference',
  'coverage-counts-as-accepted',
  'stale-read',
  'commit-on-minority',
] as const;
export type CoreUnsafeBug = (typeof CORE_UNSAFE_BUGS)[number];

// ---------------------------------------------------------------------------------------------
// Restart, status and dump (added by the node; compatible extensions of the contract above)

/** The durable state rebuilt by `recover()` from a checkpoint and the ops written after it. */
export interface RestoredState {
  hardState: HardState;
  /** The latest checkpoint's image, or null when no checkpoint was ever written. */
  snapshot: Snapshot | null;
  /** Every record held at lsns >= the snapshot floor, in lsn order. */
  records: LogRecord[];
  /** The committed hint: positions known committed, limited to positions held or below the floor. */
  committed: TailBitmap;
}

export interface BitmapSummary {
  /** Length of the all-ones prefix. */
  offset: number;
  /** Greatest member + 1; 0 when empty. */
  len: number;
  count: number;
}

export interface NodeStatus {
  id: number;
  role: Role;
  /** The highest ballot promised (VotedFor). */
  ballot: Ballot;
  /** The leader this node follows or is; null while unknown. */
  leaderId: number | null;
  /** A leader is ready once its base is committed; always false for other roles. */
  ready: boolean;
  committer: Ballot | null;
  accepted: BitmapSummary;
  committed: BitmapSummary;
  applied: BitmapSummary;
  /** The effective config: the latest config record in the log, else the snapshot's. */
  config: ClusterConfig;
  /** Number of records held in memory (lsns >= floor). */
  logSize: number;
  /** Purge floor S: positions below it live only in the snapshot. */
  floor: number;
}

export interface FollowerProgress {
  id: number;
  synced: boolean;
  knownAccepted: TailBitmap | null;
  knownCommitted: TailBitmap | null;
}

/** The full protocol state of one node, for invariant checks and the admin service. */
export interface NodeDump {
  id: number;
  role: Role;
  ready: boolean;
  votedFor: Ballot;
  committer: Ballot | null;
  accepted: TailBitmap;
  committed: TailBitmap;
  applied: TailBitmap;
  floor: number;
  /** Records held with content, keyed by lsn: the node's live map, valid until its next call. */
  records: ReadonlyMap<number, LogRecord>;
  /** The effective config (joint while a change is pending). */
  config: ClusterConfig;
  /** Lsn of the record the effective config came from; -1 for the bootstrap config. */
  configLsn: number;
  /** The latest committed config. */
  committedConfig: ClusterConfig;
  /** B_c while this node leads, else null. */
  base: TailBitmap | null;
  leaderId: number | null;
  /** Per-follower replication progress while this node leads; empty otherwise. */
  progress: FollowerProgress[];
  stateHash: string;
}
