// The fault schedule: alternation of faults and heals, intervals, targets, and seeded replay.
import t from 'tap';
import { NS_PER_S, simulate } from '../../controller/generator.js';
import { nemesisGenerator, selectTargets } from '../../controller/nemesis.js';
import { Random } from '../../controller/random.js';

t.test('schedule alternates fault and heal', async (t) => {
  const ops = simulate(nemesisGenerator(['kill', 'pause', 'partition'], [1, 2, 3, 4, 5], 10 * NS_PER_S), new Random(1), {
    endNs: 600 * NS_PER_S,
    opCostNs: 1000,
    opsMax: 1000,
  });
  t.ok(ops.length >= 40 && ops.length <= 80, `about one step per 10 s over 600 s (got ${ops.length})`);
  ops.forEach((entry, position) => {
    if (position % 2 === 0) t.not(entry.op.kind, 'heal', `step ${position} starts a fault`);
    else t.equal(entry.op.kind, 'heal', `step ${position} heals`);
  });
  const kinds = new Set(ops.map((entry) => entry.op.kind));
  t.ok(kinds.has('kill') && kinds.has('pause') && kinds.has('partition'), 'every family is drawn');
  for (let i = 1; i < ops.length; i += 1) {
    const gapNs = ops[i]!.timeNs - ops[i - 1]!.timeNs;
    t.ok(gapNs >= 5 * NS_PER_S && gapNs <= 15 * NS_PER_S + 1000, `gap ${i} within [0.5, 1.5] intervals`);
  }
});

t.test('each round of faults uses every family once', async (t) => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const ops = simulate(nemesisGenerator(['kill', 'pause', 'partition'], [1, 2, 3], 2 * NS_PER_S), new Random(seed), {
      endNs: 120 * NS_PER_S,
      opCostNs: 1000,
      opsMax: 1000,
    });
    const faults = ops.map((entry) => entry.op.kind).filter((kind) => kind !== 'heal');
    for (let start = 0; start + 3 <= faults.length; start += 3) {
      t.same(new Set(faults.slice(start, start + 3)), new Set(['kill', 'pause', 'partition']), `seed ${seed}, faults ${start}-${start + 2}`);
    }
  }
});

t.test('polling a waiting schedule draws nothing', async (t) => {
  const generator = nemesisGenerator(['kill', 'pause', 'partition'], [1, 2, 3], 2 * NS_PER_S);
  const first = generator.step({ timeNs: 0, random: new Random(4) });
  t.equal(first.kind, 'pending');
  if (first.kind !== 'pending') return;
  const random = new Random(9);
  const before = new Random(9).uint32();
  first.next.step({ timeNs: 1, random });
  t.equal(random.uint32(), before, 'an early poll leaves the random source untouched');
});

t.test('no families, no faults', async (t) => {
  const ops = simulate(nemesisGenerator([], [1, 2, 3], NS_PER_S), new Random(1), { endNs: 100 * NS_PER_S, opCostNs: 1, opsMax: 10 });
  t.equal(ops.length, 0);
});

t.test('same seed, same faults', async (t) => {
  const run = (seed: number) =>
    simulate(nemesisGenerator(['kill', 'partition'], [1, 2, 3], 5 * NS_PER_S), new Random(seed), { endNs: 200 * NS_PER_S, opCostNs: 1, opsMax: 100 });
  t.same(run(8), run(8));
  t.notSame(run(8), run(9));
});

t.test('target modes', async (t) => {
  const order = [4, 2, 5, 1, 3];
  t.same(selectTargets('one', order, undefined), [4]);
  t.same(selectTargets('minority', order, undefined), [4, 2]);
  t.same(selectTargets('majority', order, undefined), [4, 2, 5]);
  t.same(selectTargets('all', order, undefined), order);
  t.same(selectTargets('leader', order, 1), [1]);
  t.same(selectTargets('leader', order, undefined), [4], 'falls back to the first node without a leader');
  t.same(selectTargets('minority', [2, 1, 3], undefined), [2], 'a minority of 3 is one node');
});
