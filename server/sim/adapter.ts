// Builds the simulator's NodeView from the core's dump. The dump already has every field the view
// needs, and its state hash is computed only when read.
import type { TraftNode } from '../core/node.js';
import type { NodeView } from './view.js';

export function viewOf(node: TraftNode): NodeView {
  return node.dump();
}
