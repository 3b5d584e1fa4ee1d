// Partition shapes: which directed links each shape cuts, for 3 and 5 nodes.
import t from 'tap';
import { planPartition, PARTITION_SHAPES, type Link } from '../../controller/partition.js';

const five = [3, 1, 5, 2, 4];

function canReach(cuts: Link[], from: number, to: number): boolean {
  return !cuts.some(([a, b]) => a === from && b === to);
}

t.test('halves cut every link across, both ways', async (t) => {
  const plan = planPartition('halves', five, undefined, false);
  t.same(plan.groups, [[3, 1], [5, 2, 4]]);
  t.equal(plan.cuts.length, 2 * 2 * 3);
  t.notOk(canReach(plan.cuts, 3, 5));
  t.notOk(canReach(plan.cuts, 5, 3));
  t.ok(canReach(plan.cuts, 5, 2), 'links inside a half stay');
});

t.test('one isolates the first node', async (t) => {
  const plan = planPartition('one', five, undefined, false);
  for (const other of [1, 5, 2, 4]) {
    t.notOk(canReach(plan.cuts, 3, other));
    t.notOk(canReach(plan.cuts, other, 3));
  }
  t.equal(plan.cuts.length, 8);
});

t.test('leader isolates the leader', async (t) => {
  const plan = planPartition('leader', five, 2, false);
  t.same(plan.groups[0], [2]);
  t.notOk(canReach(plan.cuts, 2, 4));
  t.ok(canReach(plan.cuts, 3, 4));
  const fallback = planPartition('leader', five, undefined, false);
  t.same(fallback.groups[0], [3], 'without a known leader the first node is isolated');
});

t.test('majorities ring over 5 nodes', async (t) => {
  const plan = planPartition('majorities-ring', five, undefined, false);
  const views = plan.groups.map((group) => [...group].sort().join(','));
  for (const group of plan.groups) t.equal(group.length, 3, 'every node sees a majority');
  t.equal(new Set(views).size, 5, 'no two nodes see the same majority');
  for (const [from, to] of plan.cuts) t.notOk(canReach(plan.cuts, to, from) && !canReach(plan.cuts, from, to), `cut ${from}->${to} is symmetric`);
});

t.test('bridge keeps the middle node linked to both sides', async (t) => {
  const plan = planPartition('bridge', five, undefined, false);
  t.same(plan.groups, [[3, 1, 5], [5, 2, 4]]);
  t.notOk(canReach(plan.cuts, 1, 2));
  t.ok(canReach(plan.cuts, 1, 5));
  t.ok(canReach(plan.cuts, 5, 4));
});

t.test('one-way cuts a single direction', async (t) => {
  const outbound = planPartition('one-way', five, undefined, false);
  t.notOk(canReach(outbound.cuts, 3, 1));
  t.ok(canReach(outbound.cuts, 1, 3));
  const inbound = planPartition('one-way', five, undefined, true);
  t.notOk(canReach(inbound.cuts, 1, 3));
  t.ok(canReach(inbound.cuts, 3, 1));
});

t.test('every shape cuts something on 3 nodes except the ring and flaky', async (t) => {
  for (const shape of PARTITION_SHAPES) {
    const plan = planPartition(shape, [2, 3, 1], 1, false);
    if (shape === 'majorities-ring') t.equal(plan.cuts.length, 0, 'a ring of 3 is complete');
    else if (shape === 'flaky') t.same(plan, { shape, cuts: [], groups: [[2, 3, 1]] }, 'flaky drops connections instead of cutting links');
    else t.ok(plan.cuts.length > 0, `${shape} cuts at least one link`);
    for (const [from, to] of plan.cuts) t.not(from, to, `${shape} never cuts a node from itself`);
  }
});
