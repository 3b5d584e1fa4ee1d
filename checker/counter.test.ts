import t from 'tap';
import fc from 'fast-check';
import type { Op, OpType } from './history/types.js';
import { checkCounter } from './counter.js';

/** Builds a history in call order; index and time (1 µs per op) follow the order. */
function history(steps: [number, OpType, string, unknown][]): Op[] {
  return steps.map(([process, type, f, value], index) => ({ index, time: index * 1000, process, type, f, value }));
}

t.test('counter: reads within bounds are valid', async (t) => {
  const result = checkCounter(
    history([
      [0, 'invoke', 'add', 2],
      [1, 'invoke', 'read', null],
      [0, 'ok', 'add', 2],
      [1, 'ok', 'read', 2], // the concurrent add may or may not be counted
      [1, 'invoke', 'read', null],
      [1, 'ok', 'read', 2],
    ]),
  );
  t.equal(result.valid, true);
  t.equal(result.checker, 'counter');
  t.equal(result.stats?.readOkCount, 2);
});

t.test('counter: bounds table', async (t) => {
  const cases: { name: string; steps: [number, OpType, string, unknown][]; valid: boolean; kind?: string }[] = [
    {
      name: 'read misses an acked add',
      steps: [[0, 'invoke', 'add', 3], [0, 'ok', 'add', 3], [1, 'invoke', 'read', null], [1, 'ok', 'read', 0]],
      valid: false,
      kind: 'read-too-low',
    },
    {
      name: 'read counts an add never invoked',
      steps: [[1, 'invoke', 'read', null], [1, 'ok', 'read', 1]],
      valid: false,
      kind: 'read-too-high',
    },
    {
      name: 'read counts a failed add',
      steps: [[0, 'invoke', 'add', 5], [1, 'invoke', 'read', null], [1, 'ok', 'read', 5], [0, 'fail', 'add', 5]],
      valid: false,
      kind: 'read-too-high',
    },
    {
      name: 'read may count an info add',
      steps: [[0, 'invoke', 'add', 5], [0, 'info', 'add', 5], [1, 'invoke', 'read', null], [1, 'ok', 'read', 5]],
      valid: true,
    },
    {
      name: 'read may skip an info add',
      steps: [[0, 'invoke', 'add', 5], [0, 'info', 'add', 5], [1, 'invoke', 'read', null], [1, 'ok', 'read', 0]],
      valid: true,
    },
    {
      name: 'read may count an add invoked during it',
      steps: [[1, 'invoke', 'read', null], [0, 'invoke', 'add', 4], [1, 'ok', 'read', 4], [0, 'ok', 'add', 4]],
      valid: true,
    },
    {
      name: 'add invoked after the read completed',
      steps: [[1, 'invoke', 'read', null], [1, 'ok', 'read', 4], [0, 'invoke', 'add', 4], [0, 'ok', 'add', 4]],
      valid: false,
      kind: 'read-too-high',
    },
    {
      name: 'failed and info reads are ignored',
      steps: [[1, 'invoke', 'read', null], [1, 'fail', 'read', null], [2, 'invoke', 'read', null], [2, 'info', 'read', null]],
      valid: true,
    },
  ];
  for (const c of cases) {
    const result = checkCounter(history(c.steps));
    t.equal(result.valid, c.valid, `${c.name}: verdict`);
    if (c.kind !== undefined) t.equal(result.anomalies[0]?.kind, c.kind, `${c.name}: anomaly kind`);
    if (!c.valid) t.ok((result.anomalies[0]?.opIndexes ?? []).length > 0, `${c.name}: op indexes`);
  }
});

t.test('counter: malformed input is unknown', async (t) => {
  const negative = checkCounter(history([[0, 'invoke', 'add', -1], [0, 'ok', 'add', -1]]));
  t.equal(negative.valid, 'unknown');
  t.match(negative.unknownReason, /op 0: add value -1 is not a non-negative integer/);

  const textRead = checkCounter(history([[1, 'invoke', 'read', null], [1, 'ok', 'read', 'ten']]));
  t.equal(textRead.valid, 'unknown');
  t.match(textRead.unknownReason, /read value "ten" is not a number/);

  const orphan = checkCounter(history([[1, 'ok', 'read', 0]]));
  t.equal(orphan.valid, 'unknown');
  t.match(orphan.unknownReason, /no matching invoke/);
});

// A serial execution against a real counter is always valid, and bumping any read past the
// total ever added makes it invalid.
t.test('counter: serial histories against a model', async (t) => {
  const step = fc.oneof(fc.record({ f: fc.constant('add'), delta: fc.nat(10) }), fc.record({ f: fc.constant('read'), delta: fc.constant(0) }));
  fc.assert(
    fc.property(fc.array(step, { minLength: 1, maxLength: 40 }), fc.nat(3), (steps, processSeed) => {
      let counter = 0;
      let total = 0;
      const built: [number, OpType, string, unknown][] = [];
      for (const { f, delta } of steps) {
        const process = (processSeed + built.length) % 4;
        if (f === 'add') {
          counter += delta;
          total += delta;
          built.push([process, 'invoke', 'add', delta], [process, 'ok', 'add', delta]);
        } else {
          built.push([process, 'invoke', 'read', null], [process, 'ok', 'read', counter]);
        }
      }
      if (checkCounter(history(built)).valid !== true) return false;

      const readAt = built.findIndex(([, type, f]) => type === 'ok' && f === 'read');
      if (readAt < 0) return true;
      built[readAt] = [built[readAt][0], 'ok', 'read', total + 1];
      return checkCounter(history(built)).valid === false;
    }),
    { seed: 42, numRuns: 200 },
  );
  t.pass('200 seeded serial histories checked');
});
