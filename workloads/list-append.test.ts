import t from 'tap';
import type { Generator } from '../controller/generator.js';
import { Random } from '../controller/random.js';
import { LIST_APPEND_ACTIVE_KEYS, LIST_APPEND_APPENDS_PER_KEY_MAX, listAppendGenerator } from './list-append.js';
import type { WorkloadOp } from './types.js';

type MicroOpValue = ['append', number, number] | ['r', number, null];

function generate(seed: number, count: number): MicroOpValue[][] {
  const random = new Random(seed);
  let generator: Generator<WorkloadOp> = listAppendGenerator();
  const txns: MicroOpValue[][] = [];
  while (txns.length < count) {
    const step = generator.step({ timeNs: 0, random });
    if (step.kind !== 'op') throw new Error(`the list-append generator returned ${step.kind}`);
    txns.push(step.op.value as MicroOpValue[]);
    generator = step.next;
  }
  return txns;
}

t.test('list-append txn shape', async (t) => {
  const txns = generate(3, 5000);
  const lengths = new Set(txns.map((txn) => txn.length));
  t.same([...lengths].sort(), [1, 2, 3, 4], 'txns have 1 to 4 micro-ops');
  t.ok(
    txns.every((txn) => txn.every((micro) => (micro[0] === 'r' && micro[2] === null) || micro[0] === 'append')),
    'reads are invoked with null',
  );
});

t.test('list-append values per key', async (t) => {
  const lastValue = new Map<number, number>();
  const gaps: string[] = [];
  let activeMax = 0;
  for (const txn of generate(5, 5000)) {
    for (const micro of txn) {
      if (micro[0] !== 'append') continue;
      const [, key, value] = micro;
      if (value !== (lastValue.get(key) ?? 0) + 1) gaps.push(`key ${key}: ${lastValue.get(key) ?? 0} then ${value}`);
      lastValue.set(key, value);
    }
    const active = [...lastValue.values()].filter((value) => value < LIST_APPEND_APPENDS_PER_KEY_MAX).length;
    activeMax = Math.max(activeMax, active);
  }
  t.same(gaps.slice(0, 5), [], 'each key takes the values 1, 2, 3 ... in order, so values are unique per key');
  t.ok([...lastValue.values()].every((value) => value <= LIST_APPEND_APPENDS_PER_KEY_MAX), 'no key takes more appends than the maximum');
  t.ok(activeMax <= LIST_APPEND_ACTIVE_KEYS, `at most ${LIST_APPEND_ACTIVE_KEYS} keys take appends at once (saw ${activeMax})`);
  t.ok(lastValue.size > LIST_APPEND_ACTIVE_KEYS, 'retired keys are replaced by new ones');
});
