import t from 'tap';
import fc from 'fast-check';
import type { Op, OpType } from './history/types.js';
import { checkSet, SET_ANOMALIES_PER_KIND_MAX } from './set.js';

type Step = [number, OpType, string, unknown];

function history(steps: Step[]): Op[] {
  return steps.map(([process, type, f, value], index) => ({ index, time: index * 1000, process, type, f, value }));
}

function add(process: number, element: number, outcome: OpType = 'ok'): Step[] {
  return [[process, 'invoke', 'add', element], [process, outcome, 'add', element]];
}

function read(process: number, elements: number[]): Step[] {
  return [[process, 'invoke', 'read', null], [process, 'ok', 'read', elements]];
}

t.test('set: all acked adds read is valid', async (t) => {
  const result = checkSet(history([...add(0, 1), ...add(1, 2), ...add(0, 3, 'fail'), ...read(2, [1, 2])]));
  t.equal(result.valid, true);
  t.equal(result.checker, 'set');
  t.equal(result.stats?.addOkCount, 2);
  t.equal(result.stats?.addFailCount, 1);
  t.equal(result.stats?.finalReadCount, 1);
});

t.test('set: lost acked add', async (t) => {
  const result = checkSet(history([...add(0, 1), ...add(1, 2), ...read(2, [1])]));
  t.equal(result.valid, false);
  t.equal(result.stats?.lostCount, 1);
  t.equal(result.anomalies[0]?.kind, 'lost');
  t.same(result.anomalies[0]?.opIndexes, [2, 3, 5]);
  t.match(result.anomalies[0]?.explanation, /Element 2 is missing from the final read \(op 5\), but its add was acknowledged at op 3/);
});

t.test('set: recovered info add then lost', async (t) => {
  // Element 1's add timed out, a read showed it, and the final read lost it.
  const steps: Step[] = [...add(0, 1, 'info'), ...read(1, [1]), ...read(1, [])];
  const result = checkSet(history(steps));
  t.equal(result.valid, false);
  t.equal(result.stats?.lostCount, 1);
  t.match(result.anomalies[0]?.explanation, /a read at op 3 already contained it/);
});

t.test('set: indeterminate adds counted', async (t) => {
  const steps: Step[] = [...add(0, 1, 'info'), ...add(1, 2, 'info'), [3, 'invoke', 'add', 3], ...read(2, [1])];
  const result = checkSet(history(steps));
  t.equal(result.valid, true);
  t.equal(result.stats?.recoveredCount, 1);
  t.equal(result.stats?.neverReadCount, 2);
  t.equal(result.stats?.addIndeterminateCount, 3);
});

t.test('set: unexpected elements table', async (t) => {
  const cases: { name: string; steps: Step[]; pattern: RegExp }[] = [
    { name: 'never added', steps: [...add(0, 1), ...read(1, [1, 9])], pattern: /element 9, but no op ever added it/ },
    { name: 'failed add', steps: [...add(0, 1, 'fail'), ...read(1, [1])], pattern: /its add \(op 0\) failed/ },
    { name: 'add invoked later', steps: [...read(1, [1]), ...add(0, 1), ...read(1, [1])], pattern: /invoked only after this read completed/ },
  ];
  for (const c of cases) {
    const result = checkSet(history(c.steps));
    t.equal(result.valid, false, `${c.name}: verdict`);
    t.equal(result.stats?.unexpectedCount, 1, `${c.name}: count`);
    t.match(result.anomalies[0]?.explanation, c.pattern, `${c.name}: explanation`);
  }
});

t.test('set: stale read', async (t) => {
  // The read at ops 4-5 began after element 1 was acked but missed it; the final read has it.
  const steps: Step[] = [...add(0, 1), ...add(0, 2), ...read(1, [2]), ...read(1, [1, 2])];
  const strict = checkSet(history(steps));
  t.equal(strict.valid, false);
  t.equal(strict.stats?.staleCount, 1);
  t.equal(strict.anomalies[0]?.kind, 'stale');
  t.same(strict.anomalies[0]?.opIndexes, [0, 1, 4, 5]);

  const relaxed = checkSet(history(steps), { linearizable: false });
  t.equal(relaxed.valid, true);
  t.equal(relaxed.stats?.staleCount, 1);
  t.match(relaxed.summary, /1 stale \(allowed\)/);
});

t.test('set: concurrent read is not stale', async (t) => {
  // The read began before the add was acked, so missing the element is allowed.
  const steps: Step[] = [[0, 'invoke', 'add', 1], [1, 'invoke', 'read', null], [0, 'ok', 'add', 1], [1, 'ok', 'read', []], ...read(1, [1])];
  t.equal(checkSet(history(steps)).valid, true);
});

t.test('set: negative and huge elements', async (t) => {
  // These elements take the map path of the element table instead of the dense array.
  const huge = 2 ** 40;
  const valid = checkSet(history([...add(0, -5), ...add(1, huge), ...add(0, 3), ...read(2, [3, huge, -5])]));
  t.equal(valid.valid, true);
  t.equal(valid.stats?.addOkCount, 3);

  const lost = checkSet(history([...add(0, -5), ...add(1, huge), ...read(2, [-5])]));
  t.equal(lost.stats?.lostCount, 1);
  t.match(lost.anomalies[0]?.explanation, new RegExp(`Element ${huge} is missing`));
});

t.test('set: duplicated element in a read', async (t) => {
  const result = checkSet(history([...add(0, 1), ...read(1, [1, 1])]));
  t.equal(result.valid, false);
  t.equal(result.anomalies[0]?.kind, 'duplicated');
});

t.test('set: no final read is unknown', async (t) => {
  const noRead = checkSet(history([...read(1, []), ...add(0, 1)]));
  t.equal(noRead.valid, 'unknown');
  t.match(noRead.unknownReason, /no ok read began after the last add completed/);

  const unexpectedAnyway = checkSet(history([...read(1, [7]), ...add(0, 1)]));
  t.equal(unexpectedAnyway.valid, false);
  t.equal(unexpectedAnyway.stats?.unexpectedCount, 1);
});

t.test('set: malformed input is unknown', async (t) => {
  const cases: { name: string; steps: Step[]; pattern: RegExp }[] = [
    { name: 'text element', steps: [...add(0, 'x' as unknown as number)], pattern: /add value "x" is not an integer/ },
    { name: 'duplicate add', steps: [...add(0, 1), ...add(1, 1)], pattern: /ops 0 and 2 both add 1/ },
    { name: 'read not an array', steps: [[1, 'invoke', 'read', null], [1, 'ok', 'read', { a: 1 }]], pattern: /is not an array of integers/ },
    { name: 'double invoke', steps: [[0, 'invoke', 'add', 1], [0, 'invoke', 'add', 2]], pattern: /still in flight/ },
  ];
  for (const c of cases) {
    const result = checkSet(history(c.steps));
    t.equal(result.valid, 'unknown', `${c.name}: verdict`);
    t.match(result.unknownReason, c.pattern, `${c.name}: reason`);
  }
});

t.test('set: anomalies capped per kind', async (t) => {
  const steps: Step[] = [];
  for (let element = 0; element < SET_ANOMALIES_PER_KIND_MAX + 3; element++) steps.push(...add(0, element));
  steps.push(...read(1, []));
  const result = checkSet(history(steps));
  t.equal(result.stats?.lostCount, SET_ANOMALIES_PER_KIND_MAX + 3);
  t.equal(result.anomalies.length, SET_ANOMALIES_PER_KIND_MAX);
});

// Concurrent histories from a real set: each process adds or reads with random interleaving.
// They must be valid; dropping one acked element from the final read must be caught as lost.
t.test('set: random histories against a model', async (t) => {
  const action = fc.record({ process: fc.nat(3), isRead: fc.boolean(), completeNow: fc.boolean() });
  fc.assert(
    fc.property(fc.array(action, { minLength: 1, maxLength: 60 }), (actions) => {
      const contents = new Set<number>();
      const open = new Map<number, Step>();
      const steps: Step[] = [];
      let nextElement = 0;
      const complete = (process: number): void => {
        const invoke = open.get(process)!;
        open.delete(process);
        if (invoke[2] === 'add') steps.push([process, 'ok', 'add', invoke[3]]);
        else steps.push([process, 'ok', 'read', [...contents]]);
      };

      for (const { process, isRead, completeNow } of actions) {
        if (open.has(process)) {
          complete(process);
          continue;
        }
        const invoke: Step = isRead ? [process, 'invoke', 'read', null] : [process, 'invoke', 'add', nextElement];
        steps.push(invoke);
        open.set(process, invoke);
        if (!isRead) contents.add(nextElement++); // takes effect between invoke and completion
        if (completeNow) complete(process);
      }
      for (const process of [...open.keys()]) complete(process);
      steps.push(...read(9, [...contents]));

      if (checkSet(history(steps)).valid !== true) return false;
      if (contents.size === 0) return true;
      const dropped = [...contents].slice(1);
      steps[steps.length - 1] = [9, 'ok', 'read', dropped];
      return checkSet(history(steps)).stats?.lostCount === 1;
    }),
    { seed: 7, numRuns: 300 },
  );
  t.pass('300 seeded concurrent histories checked');
});
