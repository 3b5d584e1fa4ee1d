import t from 'tap';
import fc from 'fast-check';
import type { Command, CommandResult, JsonValue } from './types.js';
import { canonicalJson, DedupTable, Fnv1a64, jsonEquals, KvStateMachine } from './kv.js';

t.test('fnv1a64 known vectors', async (t) => {
  t.equal(new Fnv1a64().digest(), 'cbf29ce484222325', 'empty input is the offset basis');
  t.equal(new Fnv1a64().update('a').digest(), 'af63dc4c8601ec8c');
  t.equal(new Fnv1a64().update('foobar').digest(), '85944171f73967e8');
  t.equal(new Fnv1a64().update('foo').update('bar').digest(), '85944171f73967e8', 'updates concatenate');
});

t.test('kv command table', async (t) => {
  const cases: { name: string; before: [string, JsonValue][]; cmd: Command; result: CommandResult; after: [string, JsonValue][] }[] = [
    { name: 'put', before: [], cmd: { kind: 'put', key: 'a', value: 1 }, result: { kind: 'done' }, after: [['a', 1]] },
    { name: 'put null deletes', before: [['a', 1]], cmd: { kind: 'put', key: 'a', value: null }, result: { kind: 'done' }, after: [] },
    { name: 'delete', before: [['a', 1], ['b', 2]], cmd: { kind: 'delete', key: 'a' }, result: { kind: 'done' }, after: [['b', 2]] },
    { name: 'delete absent', before: [], cmd: { kind: 'delete', key: 'a' }, result: { kind: 'done' }, after: [] },
    { name: 'cas match', before: [['a', 1]], cmd: { kind: 'cas', key: 'a', expected: 1, value: 2 }, result: { kind: 'cas', swapped: true, current: 1 }, after: [['a', 2]] },
    { name: 'cas mismatch', before: [['a', 1]], cmd: { kind: 'cas', key: 'a', expected: 3, value: 2 }, result: { kind: 'cas', swapped: false, current: 1 }, after: [['a', 1]] },
    { name: 'cas absent expected null', before: [], cmd: { kind: 'cas', key: 'a', expected: null, value: 5 }, result: { kind: 'cas', swapped: true, current: null }, after: [['a', 5]] },
    { name: 'cas present expected null', before: [['a', 0]], cmd: { kind: 'cas', key: 'a', expected: null, value: 5 }, result: { kind: 'cas', swapped: false, current: 0 }, after: [['a', 0]] },
    { name: 'cas deep equal', before: [['a', { x: [1, { y: 2 }], z: 'q' }]], cmd: { kind: 'cas', key: 'a', expected: { z: 'q', x: [1, { y: 2 }] }, value: 7 }, result: { kind: 'cas', swapped: true, current: { x: [1, { y: 2 }], z: 'q' } }, after: [['a', 7]] },
    { name: 'cas deep unequal', before: [['a', [1, 2]]], cmd: { kind: 'cas', key: 'a', expected: [1, 2, 3], value: 7 }, result: { kind: 'cas', swapped: false, current: [1, 2] }, after: [['a', [1, 2]]] },
    { name: 'append absent', before: [], cmd: { kind: 'append', key: 'a', value: 1 }, result: { kind: 'value', value: [1] }, after: [['a', [1]]] },
    { name: 'append list', before: [['a', [1]]], cmd: { kind: 'append', key: 'a', value: 2 }, result: { kind: 'value', value: [1, 2] }, after: [['a', [1, 2]]] },
    { name: 'append string', before: [['a', 'ab']], cmd: { kind: 'append', key: 'a', value: 'cd' }, result: { kind: 'value', value: 'abcd' }, after: [['a', 'abcd']] },
    { name: 'append to number', before: [['a', 3]], cmd: { kind: 'append', key: 'a', value: 1 }, result: { kind: 'error', message: 'cannot append 1 to number value at key a' }, after: [['a', 3]] },
    { name: 'append number to string', before: [['a', 's']], cmd: { kind: 'append', key: 'a', value: 1 }, result: { kind: 'error', message: 'cannot append 1 to string value at key a' }, after: [['a', 's']] },
    { name: 'incr absent', before: [], cmd: { kind: 'incr', key: 'n', delta: 5 }, result: { kind: 'value', value: 5 }, after: [['n', 5]] },
    { name: 'incr number', before: [['n', 5]], cmd: { kind: 'incr', key: 'n', delta: -7 }, result: { kind: 'value', value: -2 }, after: [['n', -2]] },
    { name: 'incr string', before: [['n', 'x']], cmd: { kind: 'incr', key: 'n', delta: 1 }, result: { kind: 'error', message: 'cannot incr string value at key n' }, after: [['n', 'x']] },
    { name: 'incr infinite', before: [], cmd: { kind: 'incr', key: 'n', delta: Infinity }, result: { kind: 'error', message: 'invalid incr delta Infinity at key n: expected a finite number' }, after: [] },
    { name: 'noop', before: [['a', 1]], cmd: { kind: 'noop' }, result: { kind: 'done' }, after: [['a', 1]] },
    { name: 'config', before: [['a', 1]], cmd: { kind: 'config', config: { members: [], families: [] } }, result: { kind: 'done' }, after: [['a', 1]] },
    {
      name: 'txn reads its own appends',
      before: [['x', [0]]],
      cmd: { kind: 'txn', ops: [{ f: 'r', key: 'x' }, { f: 'append', key: 'x', value: 1 }, { f: 'r', key: 'x' }, { f: 'append', key: 'y', value: 2 }, { f: 'r', key: 'z' }] },
      result: { kind: 'txn', ops: [{ f: 'r', key: 'x', value: [0] }, { f: 'append', key: 'x', value: 1 }, { f: 'r', key: 'x', value: [0, 1] }, { f: 'append', key: 'y', value: 2 }, { f: 'r', key: 'z', value: null }] },
      after: [['x', [0, 1]], ['y', [2]]],
    },
    {
      name: 'txn failure changes nothing',
      before: [['n', 1]],
      cmd: { kind: 'txn', ops: [{ f: 'append', key: 'x', value: 1 }, { f: 'append', key: 'n', value: 2 }] },
      result: { kind: 'error', message: 'cannot append 2 to number value at key n' },
      after: [['n', 1]],
    },
  ];
  for (const { name, before, cmd, result, after } of cases) {
    const kv = KvStateMachine.fromSnapshot(before);
    t.same(kv.execute(cmd), result, `${name}: result`);
    t.same(kv.entries(), after, `${name}: state`);
  }
});

t.test('kv results survive later commands', async (t) => {
  const kv = new KvStateMachine();
  kv.execute({ kind: 'append', key: 'l', value: 1 });
  const read = kv.execute({ kind: 'txn', ops: [{ f: 'r', key: 'l' }] });
  const snapshot = kv.toSnapshot();
  kv.execute({ kind: 'append', key: 'l', value: 2 });
  t.same(read, { kind: 'txn', ops: [{ f: 'r', key: 'l', value: [1] }] }, 'an earlier read result is unchanged');
  t.same(snapshot, [['l', [1]]], 'an earlier snapshot is unchanged');
  t.same(kv.get('l'), [1, 2]);
  t.equal(kv.get('missing'), null);
});

t.test('kv hash is deterministic', async (t) => {
  const a = KvStateMachine.fromSnapshot([['b', { y: 1, x: 2 }], ['a', [1, 'two']]]);
  const b = KvStateMachine.fromSnapshot([['a', [1, 'two']], ['b', { x: 2, y: 1 }]]);
  t.equal(a.hash(), b.hash(), 'insertion and object key order do not matter');
  t.match(a.hash(), /^[0-9a-f]{16}$/);
  b.execute({ kind: 'put', key: 'c', value: 0 });
  t.not(a.hash(), b.hash(), 'a new key changes the hash');
  const c = KvStateMachine.fromSnapshot([['a', '1']]);
  const d = KvStateMachine.fromSnapshot([['a', 1]]);
  t.not(c.hash(), d.hash(), 'a string and a number differ');
  t.equal(new KvStateMachine().hash(), new KvStateMachine().hash());
});

t.test('kv snapshot round trip', async (t) => {
  const value = fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<JsonValue>;
  const command: fc.Arbitrary<Command> = fc.oneof(
    fc.record({ kind: fc.constant('put' as const), key: fc.constantFrom('a', 'b', 'c'), value }),
    fc.record({ kind: fc.constant('delete' as const), key: fc.constantFrom('a', 'b', 'c') }),
    fc.record({ kind: fc.constant('append' as const), key: fc.constantFrom('a', 'b', 'c'), value: fc.integer() }),
    fc.record({ kind: fc.constant('incr' as const), key: fc.constantFrom('a', 'b', 'c'), delta: fc.integer({ min: -5, max: 5 }) }),
    fc.record({ kind: fc.constant('cas' as const), key: fc.constantFrom('a', 'b', 'c'), expected: fc.oneof(fc.constant(null), fc.integer({ min: 0, max: 3 })), value: fc.integer({ min: 0, max: 3 }) }),
  );
  fc.assert(
    fc.property(fc.array(command, { maxLength: 30 }), (commands) => {
      const kv = new KvStateMachine();
      for (const cmd of commands) kv.execute(cmd);
      const copy = KvStateMachine.fromSnapshot(JSON.parse(JSON.stringify(kv.toSnapshot())));
      t.equal(copy.hash(), kv.hash());
      t.same(copy.entries(), kv.entries());
      return true;
    }),
    { numRuns: 100 },
  );
});

t.test('json equality and canonical form', async (t) => {
  t.ok(jsonEquals({ a: [1, null], b: 'x' }, { b: 'x', a: [1, null] }));
  t.notOk(jsonEquals({ a: 1 }, { a: 1, b: undefined as unknown as JsonValue }));
  t.notOk(jsonEquals([1], { 0: 1 }));
  t.notOk(jsonEquals(null, 0));
  t.equal(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] }), '{"a":[{"c":3,"d":2}],"b":1}');
});

t.test('dedup table watermark', async (t) => {
  const table = new DedupTable();
  const done: CommandResult = { kind: 'done' };
  t.ok(table.record({ clientId: 'c1', seq: 1 }, done));
  t.ok(table.record({ clientId: 'c1', seq: 2 }, { kind: 'value', value: 4 }));
  t.same(table.lookup({ clientId: 'c1', seq: 2 }), { kind: 'value', value: 4 });
  t.equal(table.lookup({ clientId: 'c2', seq: 2 }), undefined, 'another client');
  table.gc('c1', 1);
  t.equal(table.lookup({ clientId: 'c1', seq: 1 }), undefined, 'dropped at the watermark');
  t.ok(table.isBelowWatermark({ clientId: 'c1', seq: 1 }));
  t.notOk(table.isBelowWatermark({ clientId: 'c1', seq: 2 }));
  t.notOk(table.record({ clientId: 'c1', seq: 1 }, done), 'insert at the watermark is ignored');
  t.equal(table.lookup({ clientId: 'c1', seq: 1 }), undefined);
  table.gc('c1', 0);
  t.same(table.watermarks(), [{ clientId: 'c1', watermark: 1 }], 'the watermark never goes down');
  t.same(table.entries(), [{ clientId: 'c1', seq: 2, result: { kind: 'value', value: 4 } }]);
});

t.test('dedup record and gc commute', async (t) => {
  type Step = { op: 'record'; seq: number } | { op: 'gc'; watermark: number };
  const step: fc.Arbitrary<Step> = fc.oneof(
    fc.record({ op: fc.constant('record' as const), seq: fc.integer({ min: 1, max: 10 }) }),
    fc.record({ op: fc.constant('gc' as const), watermark: fc.integer({ min: 0, max: 10 }) }),
  );
  const run = (steps: Step[]): DedupTable => {
    const table = new DedupTable();
    for (const s of steps) {
      if (s.op === 'record') table.record({ clientId: 'c', seq: s.seq }, { kind: 'value', value: s.seq });
      else table.gc('c', s.watermark);
    }
    return table;
  };
  fc.assert(
    fc.property(fc.array(step, { maxLength: 12 }).chain((steps) => fc.tuple(fc.constant(steps), fc.shuffledSubarray(steps, { minLength: steps.length, maxLength: steps.length }))), ([steps, shuffled]) => {
      const a = run(steps);
      const b = run(shuffled);
      t.equal(a.hash(), b.hash(), 'any order of the same records and gcs gives one table');
      const restored = DedupTable.restore(a.entries(), a.watermarks());
      t.equal(restored.hash(), a.hash(), 'restore keeps entries and watermarks');
      return true;
    }),
    { numRuns: 200 },
  );
});
