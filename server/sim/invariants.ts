// The safety invariants checked after every simulated step, against a global oracle of chosen
// positions. "Chosen" is per ballot: record X at lsn i is chosen when every member of some quorum
// accepted X at i while its Committer was the same ballot b. A node "accepts" X at i under b when
// its view stores X at i, i is in its Accepted set, and its Committer is b.
import type { Ballot, ClusterConfig, LogRecord, NodeEvent } from '../core/types.js';
import { TailBitmap } from '../core/bitmap.js';
import { checkCrossIntersection, validateConfig } from '../core/quorum.js';
import type { NodeView } from './view.js';
import { ballotKey, compareBallot, contentKey, isNonBlind, keysOf, satisfiesQuorum } from './model.js';

export type InvariantName =
  | 'I-promise'
  | 'I-committer'
  | 'I-ballot'
  | 'I-chosen-unique'
  | 'I-log-matching'
  | 'I-base'
  | 'I-completeness'
  | 'I-monotone'
  | 'I-apply-order'
  | 'I-config'
  | 'I-sm-convergence'
  | 'I-durability'
  | 'I-linearizable'
  | 'I-liveness'
  /** The core's own assertion failed (a thrown error inside a node call). */
  | 'core-assertion';

export interface Violation {
  invariant: InvariantName;
  nodeId: number | null;
  message: string;
}

/** The checker's memory of one node. Fields under `life` reset when the node restarts. */
interface NodeTrack {
  maxVotedFor: Ballot;
  maxCommitter: Ballot | null;
  life: LifeTrack | null;
}

interface LifeTrack {
  committerKey: string;
  accepted: TailBitmap;
  committed: TailBitmap;
  applied: TailBitmap;
  /** Records already counted as accepted under `committerKey`, by lsn. */
  counted: Map<number, LogRecord>;
  /** Union of the Overrides of applied records and of snapshot-installed Applied sets. */
  coverage: TailBitmap;
  /** Per key, the index of the last non-blind op executed, in the global per-key order. */
  keyCursor: Map<string, number>;
  /** True until the first observation of this life ends; a restarted node re-applies what it recovered. */
  fresh: boolean;
  /** True when the Committer changed in the step being observed. */
  switched: boolean;
}

interface ChosenEntry {
  content: string;
  /** The lowest committer ballot under which a quorum accepted it. */
  ballot: Ballot;
}

const ZERO: Ballot = { term: 0, id: 0 };

function parseBallotKey(key: string): Ballot {
  const [term, id] = key.split('.').map(Number);
  return { term, id };
}

export class SafetyChecker {
  readonly violations: Violation[] = [];
  /** The oracle: lsn -> the content chosen there. */
  readonly chosen = new Map<number, ChosenEntry>();
  private readonly tracks = new Map<number, NodeTrack>();
  /** lsn -> committer ballot -> content -> mask of positions that accepted it. */
  private readonly accepts = new Map<number, Map<string, Map<string, bigint>>>();
  private readonly committedContent = new Map<number, string>();
  private readonly leaderConfig = new Map<string, ClusterConfig>();
  /** Per committer ballot, the lsns accepted under it that are not chosen yet. */
  private readonly lsnsAcceptedUnder = new Map<string, Set<number>>();
  private readonly baseOf = new Map<string, TailBitmap>();
  private readonly leaderOfBallot = new Map<string, number>();
  private readonly establishedBallots = new Set<string>();
  /** Per key, the global order of executed non-blind lsns; every replica must follow it. */
  private readonly keyOrder = new Map<string, { lsns: number[]; index: Map<number, number> }>();
  private readonly recordIndex = new Map<number, LogRecord>();

  constructor(private readonly positionOf: (id: number) => number | undefined) {}

  /** Forgets what a node held in memory; its durable promise and Committer must survive. */
  noteRestart(id: number): void {
    const track = this.tracks.get(id);
    if (track !== undefined) track.life = null;
  }

  private report(invariant: InvariantName, nodeId: number | null, message: string): void {
    if (this.violations.length < 100) this.violations.push({ invariant, nodeId, message });
  }

  observe(view: NodeView, events: readonly NodeEvent[]): void {
    let track = this.tracks.get(view.id);
    if (track === undefined) {
      track = { maxVotedFor: ZERO, maxCommitter: null, life: null };
      this.tracks.set(view.id, track);
    }
    this.checkBallots(view, track);
    if (view.role === 'leader') this.updateLeaderConfig(view);
    const life = this.updateAcceptance(view, track);
    this.checkCommitted(view, life, this.changedLsns);
    this.checkApplyEvents(view, life, events);
    this.checkMonotone(view, life);
    this.checkBase(view);
    if (view.role === 'leader') this.checkLeader(view);

    // The dump hands out fresh copies of its bitmaps, so they can be kept as they are.
    life.accepted = view.accepted;
    life.committed = view.committed;
    life.applied = view.applied;
    life.fresh = false;
  }

  // ---- I-promise, I-committer, I-ballot ----

  private checkBallots(view: NodeView, track: NodeTrack): void {
    const id = view.id;
    if (compareBallot(view.votedFor, track.maxVotedFor) < 0) {
      this.report('I-promise', id, `VotedFor went down from ${ballotKey(track.maxVotedFor)} to ${ballotKey(view.votedFor)}`);
    } else {
      track.maxVotedFor = view.votedFor;
    }
    if (compareBallot(view.committer, track.maxCommitter) < 0) {
      this.report('I-committer', id, `Committer went down from ${ballotKey(track.maxCommitter)} to ${ballotKey(view.committer)}`);
    } else {
      track.maxCommitter = view.committer;
    }
    if (compareBallot(view.committer, view.votedFor) > 0) {
      this.report('I-committer', id, `Committer ${ballotKey(view.committer)} is above VotedFor ${ballotKey(view.votedFor)}`);
    }
    if (view.role !== 'leader') return;

    const ballot = ballotKey(view.votedFor);
    if (view.votedFor.id !== id) this.report('I-ballot', id, `leads with ballot ${ballot}, whose id is not its own`);
    if (compareBallot(view.committer, view.votedFor) !== 0) {
      this.report('I-ballot', id, `leads at ${ballot} before its Committer switched to it (Committer ${ballotKey(view.committer)})`);
    }
    const previous = this.leaderOfBallot.get(ballot);
    if (previous !== undefined && previous !== id) this.report('I-ballot', id, `ballot ${ballot} already led by node ${previous}`);
    this.leaderOfBallot.set(ballot, id);
  }

  // ---- the oracle and I-log-matching ----

  /** Lsns whose record the last `updateAcceptance` saw for the first time; reused to avoid garbage. */
  private changedLsns: number[] = [];

  private updateAcceptance(view: NodeView, track: NodeTrack): LifeTrack {
    this.changedLsns.length = 0;
    const committerKey = ballotKey(view.committer);
    let life = track.life;
    if (life === null) {
      life = {
        committerKey,
        accepted: TailBitmap.empty(),
        committed: TailBitmap.empty(),
        applied: view.applied.clone(),
        counted: new Map(),
        coverage: view.applied.clone(),
        keyCursor: new Map(),
        fresh: true,
        switched: false,
      };
      track.life = life;
    } else {
      life.switched = life.committerKey !== committerKey;
      if (life.switched) {
        life.committerKey = committerKey;
        life.counted = new Map();
      }
    }
    if (view.committer === null) return life;

    const position = this.positionOf(view.id);
    for (const [lsn, record] of view.records) {
      if (life.counted.get(lsn) === record) continue;
      if (!view.accepted.has(lsn)) continue;
      life.counted.set(lsn, record);
      this.changedLsns.push(lsn);
      this.recordIndex.set(lsn, record);
      if (position !== undefined) this.addAcceptance(view, lsn, committerKey, contentKey(record), position);
    }
    return life;
  }

  private addAcceptance(view: NodeView, lsn: number, committer: string, content: string, position: number): void {
    let byBallot = this.accepts.get(lsn);
    if (byBallot === undefined) {
      byBallot = new Map();
      this.accepts.set(lsn, byBallot);
    }
    let byContent = byBallot.get(committer);
    if (byContent === undefined) {
      byContent = new Map();
      byBallot.set(committer, byContent);
    }
    for (const other of byContent.keys()) {
      if (other !== content) {
        this.report('I-log-matching', view.id, `lsn ${lsn} holds ${content} under Committer ${committer}, another replica holds ${other}`);
      }
    }
    const mask = (byContent.get(content) ?? 0n) | (1n << BigInt(position));
    byContent.set(content, mask);
    let lsns = this.lsnsAcceptedUnder.get(committer);
    if (lsns === undefined) {
      lsns = new Set();
      this.lsnsAcceptedUnder.set(committer, lsns);
    }
    lsns.add(lsn);
    this.maybeChosen(view.id, lsn, committer, content, mask, this.leaderConfig.get(committer) ?? view.config);
  }

  private maybeChosen(id: number, lsn: number, committer: string, content: string, mask: bigint, config: ClusterConfig): void {
    if (!satisfiesQuorum(config, mask)) return;
    const ballot = parseBallotKey(committer);
    const existing = this.chosen.get(lsn);
    this.lsnsAcceptedUnder.get(committer)?.delete(lsn);
    if (existing === undefined) {
      this.chosen.set(lsn, { content, ballot });
    } else if (existing.content !== content) {
      this.report('I-chosen-unique', id, `lsn ${lsn} chosen twice: ${existing.content} under ${ballotKey(existing.ballot)}, then ${content} under ${committer}`);
    } else if (compareBallot(ballot, existing.ballot) < 0) {
      existing.ballot = ballot;
    }
  }

  // ---- every committed position equals the oracle's content ----

  private checkCommitted(view: NodeView, life: LifeTrack, changed: readonly number[]): void {
    const fresh = view.committed.difference(life.committed);
    for (const lsn of fresh.positionsFrom(0)) {
      const record = view.records.get(lsn);
      if (record === undefined) continue; // covered by the snapshot, no content held
      this.checkCommittedContent(view.id, lsn, contentKey(record));
    }
    // A committed position whose content changed since the last look is just as wrong.
    for (const lsn of changed) {
      const record = view.records.get(lsn);
      if (record === undefined || !view.committed.has(lsn) || fresh.has(lsn)) continue;
      this.checkCommittedContent(view.id, lsn, contentKey(record));
    }
  }

  private checkCommittedContent(id: number, lsn: number, content: string): void {
    const chosen = this.chosen.get(lsn);
    if (chosen === undefined) {
      this.report('I-chosen-unique', id, `lsn ${lsn} marked Committed with ${content}, but no quorum accepted it under one ballot`);
    } else if (chosen.content !== content) {
      this.report('I-chosen-unique', id, `lsn ${lsn} marked Committed with ${content}, but ${chosen.content} was chosen there`);
    }
    const seen = this.committedContent.get(lsn);
    if (seen === undefined) this.committedContent.set(lsn, content);
    else if (seen !== content) this.report('I-log-matching', id, `lsn ${lsn} Committed as ${content} here and as ${seen} elsewhere`);
  }

  // ---- I-apply-order ----

  private checkApplyEvents(view: NodeView, life: LifeTrack, events: readonly NodeEvent[]): void {
    // The first look at a (re)started node cannot know what it applied before the events listed.
    let running: TailBitmap | null = life.fresh ? null : life.applied.clone();
    for (const event of events) {
      if (event.type === 'snapshot') {
        if (event.installed) {
          running = null;
          life.keyCursor.clear();
        }
        continue;
      }
      if (event.type !== 'apply') continue;
      const record = view.records.get(event.seq) ?? life.counted.get(event.seq) ?? this.recordIndex.get(event.seq);
      if (record === undefined || record.seq !== event.seq) continue;
      if (running !== null) {
        if (running.has(event.seq)) {
          this.report('I-apply-order', view.id, `lsn ${event.seq} executed although it was already applied or superseded`);
        }
        if (!record.depends.isSubsetOf(running)) {
          const missing = record.depends.difference(running);
          this.report('I-apply-order', view.id, `lsn ${event.seq} executed before its dependencies ${missing.toString()}`);
        }
        running.unionInPlace(record.overrides);
        running.add(event.seq);
      }
      life.coverage.unionInPlace(record.overrides);
      if (isNonBlind(event.command)) this.checkKeyOrder(view.id, life, event.seq, event.command);
    }
    if (running === null) life.coverage.unionInPlace(view.applied);
  }

  private checkKeyOrder(id: number, life: LifeTrack, lsn: number, command: LogRecord['command']): void {
    const keys = keysOf(command);
    if (keys === 'all') return;
    for (const key of keys) {
      let order = this.keyOrder.get(key);
      if (order === undefined) {
        order = { lsns: [], index: new Map() };
        this.keyOrder.set(key, order);
      }
      const cursor = life.keyCursor.get(key);
      let index = order.index.get(lsn);
      if (index === undefined) {
        if (cursor !== undefined && cursor !== order.lsns.length - 1) {
          this.report('I-apply-order', id, `key ${key}: executed lsn ${lsn} but skipped lsn ${order.lsns[cursor + 1]}, which other replicas executed before it`);
        }
        index = order.lsns.length;
        order.lsns.push(lsn);
        order.index.set(lsn, index);
      } else if (cursor !== undefined && index !== cursor + 1) {
        this.report('I-apply-order', id, `key ${key}: executed lsn ${lsn} out of the order other replicas used (${order.lsns.slice(Math.max(0, cursor - 1), index + 2).join(', ')})`);
      }
      life.keyCursor.set(key, index);
    }
  }

  // ---- I-monotone ----

  private checkMonotone(view: NodeView, life: LifeTrack): void {
    const id = view.id;
    if (!life.switched && !life.accepted.isSubsetOf(view.accepted)) {
      this.report('I-monotone', id, `Accepted shrank without a Committer switch: lost ${life.accepted.difference(view.accepted).toString()}`);
    }
    if (!life.committed.isSubsetOf(view.committed)) {
      this.report('I-monotone', id, `Committed shrank: lost ${life.committed.difference(view.committed).toString()}`);
    }
    if (!life.applied.isSubsetOf(view.applied)) {
      this.report('I-monotone', id, `Applied shrank: lost ${life.applied.difference(view.applied).toString()}`);
    }
    if (!view.committed.isSubsetOf(view.accepted)) {
      this.report('I-monotone', id, `Committed is not within Accepted: ${view.committed.difference(view.accepted).toString()}`);
    }
    const allowed = view.committed.union(life.coverage);
    if (!view.applied.isSubsetOf(allowed)) {
      this.report('I-monotone', id, `Applied holds positions neither committed nor overridden by an applied record: ${view.applied.difference(allowed).toString()}`);
    }
  }

  // ---- I-base ----

  private checkBase(view: NodeView): void {
    if (view.committer === null) return;
    const base = this.baseOf.get(ballotKey(view.committer));
    if (base === undefined || base.isSubsetOf(view.accepted)) return;
    this.report('I-base', view.id, `Committer ${ballotKey(view.committer)} but missing base positions ${base.difference(view.accepted).toString()}`);
  }

  // ---- leaders: I-completeness, I-config ----

  private checkLeader(view: NodeView): void {
    const ballot = ballotKey(view.votedFor);
    if (view.base !== null && !this.baseOf.has(ballot)) this.baseOf.set(ballot, view.base.clone());
    if (this.establishedBallots.has(ballot)) return;
    this.establishedBallots.add(ballot);

    // Phase 1 of ballot c guarantees every record chosen under a lower ballot. A late grant can
    // complete phase 1 of c after a higher ballot chose more, and that leader cannot commit anything.
    for (const [lsn, entry] of this.chosen) {
      if (lsn < view.floor || compareBallot(entry.ballot, view.votedFor) >= 0) continue;
      const record = view.records.get(lsn);
      if (record === undefined) {
        if (view.accepted.has(lsn) && view.applied.has(lsn)) continue; // covered by an installed snapshot
        this.report('I-completeness', view.id, `new leader ${ballot} lacks lsn ${lsn}, chosen as ${entry.content}`);
      } else if (contentKey(record) !== entry.content) {
        this.report('I-completeness', view.id, `new leader ${ballot} holds ${contentKey(record)} at lsn ${lsn}, chosen as ${entry.content}`);
      }
    }
  }

  /**
   * Records the config a leader counts commits in. A config takes effect on append, so a new one
   * can turn earlier acceptances under this ballot into a quorum: those are re-evaluated.
   */
  private updateLeaderConfig(view: NodeView): void {
    const ballot = ballotKey(view.votedFor);
    const previous = this.leaderConfig.get(ballot);
    if (previous === view.config) return;
    this.checkConfig(view, ballot, previous);
    this.leaderConfig.set(ballot, view.config);
    if (previous === undefined) return;
    for (const lsn of this.lsnsAcceptedUnder.get(ballot) ?? []) {
      const byContent = this.accepts.get(lsn)?.get(ballot);
      if (byContent === undefined) continue;
      for (const [content, mask] of byContent) this.maybeChosen(view.id, lsn, ballot, content, mask, view.config);
    }
  }

  private checkConfig(view: NodeView, ballot: string, previous: ClusterConfig | undefined): void {
    const reason = validateConfig(view.config);
    if (reason !== null) this.report('I-config', view.id, `leader ${ballot} uses an invalid config: ${reason}`);
    if (previous !== undefined && JSON.stringify(previous) !== JSON.stringify(view.config)) {
      const cross = checkCrossIntersection(previous, view.config);
      if (cross !== null) this.report('I-config', view.id, `leader ${ballot} moved between configs that do not cross-intersect: ${cross}`);
    }

    let pending = 0;
    for (const [lsn, record] of view.records) {
      if (record.command.kind === 'config' && !view.committed.has(lsn)) pending++;
    }
    if (pending > 1) this.report('I-config', view.id, `leader ${ballot} has ${pending} uncommitted config records`);
  }
}
