// The node state the simulator's checks read: a plain snapshot of its protocol state, taken from
// `TraftNode.dump()` after every step that changed the node.
import type { Ballot, ClusterConfig, LogRecord, Role } from '../core/types.js';
import type { TailBitmap } from '../core/bitmap.js';

export interface NodeView {
  id: number;
  role: Role;
  /** A leader is ready once its base B_c is committed. */
  ready: boolean;
  votedFor: Ballot;
  committer: Ballot | null;
  accepted: TailBitmap;
  committed: TailBitmap;
  applied: TailBitmap;
  /** Purge floor S: positions below it live only in the snapshot. */
  floor: number;
  /** Records held with content, keyed by lsn. */
  records: ReadonlyMap<number, LogRecord>;
  /** The effective config (joint when a change is pending). */
  config: ClusterConfig;
  /** B_c, set while the node leads. */
  base: TailBitmap | null;
  stateHash: string;
}
