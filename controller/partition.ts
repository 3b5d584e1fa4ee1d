// Partition shapes as pure functions from a node order to the directed links to cut. The caller
// passes the nodes already shuffled by the run's seed, so the same seed cuts the same links.
import assert from 'node:assert/strict';

export const PARTITION_SHAPES = ['halves', 'one', 'leader', 'majorities-ring', 'bridge', 'one-way', 'flaky'] as const;
export type PartitionShape = (typeof PARTITION_SHAPES)[number];

export const PARTITION_SHAPE_DESCRIPTIONS: Record<PartitionShape, string> = {
  halves: 'two halves that cannot reach each other',
  one: 'one node isolated from all others',
  leader: 'the current leader isolated from all others',
  'majorities-ring': 'every node sees a majority, but no two nodes see the same majority',
  bridge: 'two halves joined only through one bridge node',
  'one-way': "one node's outbound (or inbound) links cut, the other direction intact",
  flaky: 'no link cut, but open peer connections are dropped at random, losing the messages in flight',
};

export type Link = [from: number, to: number];

export interface PartitionPlan {
  shape: PartitionShape;
  /** The directed links to cut. */
  cuts: Link[];
  /** Groups of nodes that can still talk, for the history and the report. */
  groups: number[][];
}

function cutBetween(left: readonly number[], right: readonly number[]): Link[] {
  const cuts: Link[] = [];
  for (const a of left) {
    for (const b of right) {
      cuts.push([a, b], [b, a]);
    }
  }
  return cuts;
}

function isolate(node: number, order: readonly number[]): PartitionPlan['cuts'] {
  return cutBetween([node], order.filter((other) => other !== node));
}

/**
 * Plans a partition. `order` is every node id in a seeded random order; `leader` is the current
 * leader when known (the `leader` shape falls back to the first node of `order`); `inbound` picks
 * the direction of a one-way cut.
 */
export function planPartition(shape: PartitionShape, order: readonly number[], leader: number | undefined, inbound: boolean): PartitionPlan {
  assert(order.length >= 2, `a partition needs at least 2 nodes, got ${order.length}`);
  const half = Math.floor(order.length / 2);
  switch (shape) {
    case 'halves': {
      const left = order.slice(0, half);
      const right = order.slice(half);
      return { shape, cuts: cutBetween(left, right), groups: [left, right] };
    }
    case 'one': {
      const node = order[0] as number;
      return { shape, cuts: isolate(node, order), groups: [[node], order.slice(1)] };
    }
    case 'leader': {
      const node = leader !== undefined && order.includes(leader) ? leader : (order[0] as number);
      const rest = order.filter((other) => other !== node);
      return { shape, cuts: isolate(node, order), groups: [[node], rest] };
    }
    case 'majorities-ring':
      return planMajoritiesRing(order);
    case 'bridge': {
      // The bridge node sits in the middle and keeps its links to both sides.
      const left = order.slice(0, half);
      const bridge = order[half] as number;
      const right = order.slice(half + 1);
      return { shape, cuts: cutBetween(left, right), groups: [[...left, bridge], [bridge, ...right]] };
    }
    case 'one-way': {
      const node = order[0] as number;
      const others = order.slice(1);
      const cuts: Link[] = others.map((other) => (inbound ? [other, node] : [node, other]));
      return { shape, cuts, groups: [[node], others] };
    }
    case 'flaky':
      // The proxy mesh drops connections while this plan is active; no link stays cut.
      return { shape, cuts: [], groups: [[...order]] };
    default:
      return assertNeverShape(shape);
  }
}

/**
 * Places the nodes on a ring and lets each talk only to the nodes within distance d, where d is the
 * smallest distance that gives every node a majority (itself plus d on each side). With 3 nodes the
 * ring is complete and nothing is cut.
 */
function planMajoritiesRing(order: readonly number[]): PartitionPlan {
  const n = order.length;
  const majority = Math.floor(n / 2) + 1;
  const reach = Math.ceil((majority - 1) / 2);
  const cuts: Link[] = [];
  const groups: number[][] = [];
  for (let i = 0; i < n; i += 1) {
    const group: number[] = [];
    for (let j = 0; j < n; j += 1) {
      const distance = Math.min(Math.abs(i - j), n - Math.abs(i - j));
      if (distance <= reach) group.push(order[j] as number);
      else cuts.push([order[i] as number, order[j] as number]);
    }
    groups.push(group);
  }
  return { shape: 'majorities-ring', cuts, groups };
}

function assertNeverShape(shape: never): never {
  throw new Error(`unknown partition shape ${String(shape)}`);
}
