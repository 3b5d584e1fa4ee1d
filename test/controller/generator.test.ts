// Generators stepped on a simulated clock: rates, time limits, mixes, phases and seeded replay.
import t from 'tap';
import { fixed, fromFunction, limitOps, mix, NS_PER_S, rate, sequence, simulate, sleep, timeLimit } from '../../controller/generator.js';
import { Random } from '../../controller/random.js';

const counter = () => fromFunction<number, number>(0, (_ctx, next) => [next, next + 1]);

t.test('fixed emits each op once', async (t) => {
  const ops = simulate(fixed(['a', 'b', 'c']), new Random(1), { endNs: NS_PER_S, opCostNs: 1, opsMax: 100 });
  t.same(ops.map((entry) => entry.op), ['a', 'b', 'c']);
});

t.test('timeLimit stops at the deadline', async (t) => {
  const ops = simulate(timeLimit(NS_PER_S, counter()), new Random(1), { startNs: 5 * NS_PER_S, endNs: 100 * NS_PER_S, opCostNs: 1_000_000, opsMax: 10_000 });
  t.equal(ops.length, 1000, 'one op per ms for one second');
  t.ok(ops.every((entry) => entry.timeNs < 6 * NS_PER_S), 'every op falls inside the limit, measured from the first step');
});

t.test('rate averages the target', async (t) => {
  const ops = simulate(timeLimit(10 * NS_PER_S, rate(100, counter())), new Random(2), { endNs: 20 * NS_PER_S, opCostNs: 1000, opsMax: 100_000 });
  t.ok(ops.length > 900 && ops.length < 1100, `about 1000 ops in 10 s at 100 ops/s (got ${ops.length})`);
});

t.test('rate 0 is unlimited', async (t) => {
  const ops = simulate(timeLimit(NS_PER_S, rate(0, counter())), new Random(2), { endNs: 2 * NS_PER_S, opCostNs: 100_000, opsMax: 100_000 });
  t.equal(ops.length, 10_000);
});

t.test('rate does not burst after a slow caller', async (t) => {
  let generator = rate(10, counter());
  const random = new Random(3);
  const first = generator.step({ timeNs: 0, random });
  t.equal(first.kind, 'op');
  if (first.kind !== 'op') return;
  generator = first.next;
  // The caller comes back 10 s late: it gets one op now, then the next one is paced again.
  const late = generator.step({ timeNs: 10 * NS_PER_S, random });
  t.equal(late.kind, 'op');
  if (late.kind !== 'op') return;
  let burst = 0;
  let current = late.next;
  for (let i = 0; i < 5; i += 1) {
    const step = current.step({ timeNs: 10 * NS_PER_S, random });
    if (step.kind === 'done') break;
    current = step.next;
    if (step.kind === 'op') burst += 1;
  }
  t.ok(burst <= 1, `at most one more op at the same instant (got ${burst})`);
});

t.test('mix respects weights and drops finished members', async (t) => {
  const generator = mix([
    { weight: 3, generator: fromFunction<null, string>(null, () => ['heavy', null]) },
    { weight: 1, generator: fromFunction<null, string>(null, () => ['light', null]) },
    { weight: 5, generator: fixed(['once']) },
  ]);
  const ops = simulate(generator, new Random(4), { endNs: NS_PER_S, opCostNs: 1, opsMax: 4000 }).map((entry) => entry.op);
  const heavy = ops.filter((op) => op === 'heavy').length;
  const light = ops.filter((op) => op === 'light').length;
  t.equal(ops.filter((op) => op === 'once').length, 1, 'the fixed member emits once');
  t.ok(heavy / light > 2.4 && heavy / light < 3.6, `heavy:light near 3:1 (got ${heavy}:${light})`);
});

t.test('sequence runs phases in order', async (t) => {
  const generator = sequence<number | string>([limitOps(3, counter()), sleep(NS_PER_S), fixed(['final'])]);
  const ops = simulate(generator, new Random(5), { endNs: 10 * NS_PER_S, opCostNs: 1000, opsMax: 100 });
  t.same(ops.map((entry) => entry.op), [0, 1, 2, 'final']);
  t.ok(ops[3]!.timeNs >= NS_PER_S, 'the final op waits for the sleep');
});

t.test('same seed, same schedule', async (t) => {
  const build = () => timeLimit(NS_PER_S, rate(1000, mix([{ weight: 1, generator: counter() }, { weight: 2, generator: fromFunction<null, number>(null, (ctx) => [ctx.random.int(1000), null]) }])));
  const options = { endNs: 2 * NS_PER_S, opCostNs: 10_000, opsMax: 10_000 };
  const first = simulate(build(), new Random(99), options);
  const second = simulate(build(), new Random(99), options);
  const third = simulate(build(), new Random(100), options);
  t.same(first, second, 'identical for the same seed');
  t.notSame(first, third, 'different for another seed');
});

t.test('generators are values', async (t) => {
  const generator = counter();
  const random = new Random(1);
  const a = generator.step({ timeNs: 0, random });
  const b = generator.step({ timeNs: 0, random });
  t.same(a.kind === 'op' ? a.op : undefined, 0);
  t.same(b.kind === 'op' ? b.op : undefined, 0, 'stepping a generator twice gives the same op');
});
