// A read-only view of the node for the client and admin services: status, config, member
// addresses, state dump and invariant checks. The server builds it over TraftNode.
import type { Ballot, ClusterConfig, Role } from '../core/types.js';

export interface BitmapSummaryView {
  offset: bigint;
  len: bigint;
  count: bigint;
}

export interface StatusView {
  role: Role;
  ballot: Ballot;
  leaderId: number | null;
  ready: boolean;
  committer: Ballot | null;
  accepted: BitmapSummaryView;
  committed: BitmapSummaryView;
  applied: BitmapSummaryView;
  config: ClusterConfig;
  /** The node's full status as JSON text. */
  json: string;
}

export interface NodeView {
  status(): StatusView;
  config(): ClusterConfig;
  /** host:port of member `id`, or undefined when unknown. */
  addressOf(id: number): string | undefined;
  /** The node's full state as JSON text. */
  dumpJson(): string;
  stateHash(): string;
  /** One line per broken local invariant; empty when all hold. */
  checkInvariants(): string[];
}
