// NodeView over a TraftNode: status for the client service, the state dump and hash for the
// admin service, and the invariants one node can check about itself over time.
import { TailBitmap } from '../core/bitmap.js';
import { ballotLess, compareBallots, formatBallot } from '../core/ballot.js';
import type { TraftNode } from '../core/node.js';
import type { Ballot, BitmapSummary, ClusterConfig } from '../core/types.js';
import type { BitmapSummaryView, NodeView, StatusView } from './node-view.js';

function summaryView(summary: BitmapSummary): BitmapSummaryView {
  return { offset: BigInt(summary.offset), len: BigInt(summary.len), count: BigInt(summary.count) };
}

/** State seen by the previous invariant check, to detect promises or bitmaps going back. */
interface Seen {
  votedFor: Ballot;
  committer: Ballot | null;
  committed: TailBitmap;
  applied: TailBitmap;
}

export class CoreView implements NodeView {
  private seen: Seen | null = null;

  constructor(
    private readonly node: TraftNode,
    private readonly selfId: number,
    /** Addresses given on the command line, which take precedence over config addresses. */
    private readonly flagAddressOf: (id: number) => string | undefined,
  ) {}

  status(): StatusView {
    const status = this.node.status();
    return {
      role: status.role,
      ballot: status.ballot,
      leaderId: status.leaderId,
      ready: status.ready,
      committer: status.committer,
      accepted: summaryView(status.accepted),
      committed: summaryView(status.committed),
      applied: summaryView(status.applied),
      config: status.config,
      json: JSON.stringify(status),
    };
  }

  config(): ClusterConfig {
    return this.node.status().config;
  }

  /** Returns the address member `id` has in the effective config. */
  configAddressOf(id: number): string | undefined {
    return this.config().members.find((m) => m.id === id)?.addr;
  }

  addressOf(id: number): string | undefined {
    return this.flagAddressOf(id) ?? this.configAddressOf(id);
  }

  dumpJson(): string {
    const dump = this.node.dump();
    return JSON.stringify({ ...dump, records: [...dump.records.values()] });
  }

  stateHash(): string {
    return this.node.stateHash();
  }

  /**
   * Checks, for this node alone: Committer <= VotedFor; a leader leads under its own ballot;
   * Committed is within Accepted above the floor; and since the previous check VotedFor and
   * Committer did not decrease and Committed and Applied did not lose positions.
   */
  checkInvariants(): string[] {
    const dump = this.node.dump();
    const violations: string[] = [];

    if (ballotLess(dump.votedFor, dump.committer)) {
      violations.push(`I-committer: Committer ${formatBallot(dump.committer)} is above VotedFor ${formatBallot(dump.votedFor)}`);
    }
    if (dump.role === 'leader') {
      if (dump.votedFor.id !== this.selfId) {
        violations.push(`I-ballot: leader with VotedFor ${formatBallot(dump.votedFor)} of another id`);
      }
      if (compareBallots(dump.committer, dump.votedFor) !== 0) {
        violations.push(`I-ballot: leader whose Committer ${formatBallot(dump.committer)} is not its ballot ${formatBallot(dump.votedFor)}`);
      }
    }
    const floorSet = TailBitmap.prefix(dump.floor);
    if (!dump.committed.isSubsetOf(dump.accepted.union(floorSet))) {
      violations.push(`I-monotone: Committed ${dump.committed.toString()} is not within Accepted ${dump.accepted.toString()}`);
    }
    for (const [lsn, record] of dump.records) {
      if (record.seq !== lsn) {
        violations.push(`log: record stored at lsn ${lsn} has seq ${record.seq}`);
      }
    }

    const seen = this.seen;
    if (seen) {
      if (ballotLess(dump.votedFor, seen.votedFor)) {
        violations.push(`I-promise: VotedFor went from ${formatBallot(seen.votedFor)} down to ${formatBallot(dump.votedFor)}`);
      }
      if (ballotLess(dump.committer, seen.committer)) {
        violations.push(`I-committer: Committer went from ${formatBallot(seen.committer)} down to ${formatBallot(dump.committer)}`);
      }
      if (!seen.committed.isSubsetOf(dump.committed.union(floorSet))) {
        violations.push(`I-monotone: Committed lost ${seen.committed.difference(dump.committed).toString()}`);
      }
      if (!seen.applied.isSubsetOf(dump.applied)) {
        violations.push(`I-monotone: Applied lost ${seen.applied.difference(dump.applied).toString()}`);
      }
    }
    this.seen = {
      votedFor: dump.votedFor,
      committer: dump.committer,
      committed: dump.committed.clone(),
      applied: dump.applied.clone(),
    };
    return violations;
  }
}
