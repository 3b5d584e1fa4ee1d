// Builds the simulator's NodeView from the core's dump.
import type { TraftNode } from '../core/node.js';
import type { NodeView } from './view.js';

export function viewOf(node: TraftNode): NodeView {
  const dump = node.dump();
  return {
    id: dump.id,
    role: dump.role,
    ready: dump.ready,
    votedFor: dump.votedFor,
    committer: dump.committer,
    accepted: dump.accepted,
    committed: dump.committed,
    applied: dump.applied,
    floor: dump.floor,
    records: dump.records,
    config: dump.config,
    base: dump.base,
    stateHash: dump.stateHash,
  };
}
