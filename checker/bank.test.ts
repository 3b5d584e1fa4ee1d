import t from 'tap';
import type { Op, OpType } from './history/types.js';
import { checkBank, BANK_ANOMALIES_PER_KIND_MAX } from './bank.js';

function history(steps: [number, OpType, string, unknown][]): Op[] {
  return steps.map(([process, type, f, value], index) => ({ index, time: index * 1000, process, type, f, value }));
}

const options = { accounts: ['a', 'b', 'c'], totalBalance: 30 };

function read(balances: unknown): [number, OpType, string, unknown][] {
  return [[1, 'invoke', 'read', null], [1, 'ok', 'read', balances]];
}

t.test('bank: conserved totals are valid', async (t) => {
  const result = checkBank(
    history([
      ...read({ a: 10, b: 10, c: 10 }),
      [0, 'invoke', 'transfer', { from: 'a', to: 'b', amount: 5 }],
      [0, 'ok', 'transfer', { from: 'a', to: 'b', amount: 5 }],
      ...read({ a: 5, b: 15, c: 10 }),
    ]),
    options,
  );
  t.equal(result.valid, true);
  t.equal(result.checker, 'bank');
  t.equal(result.stats?.readOkCount, 2);
  t.equal(result.stats?.transferOkCount, 1);
});

t.test('bank: anomaly table', async (t) => {
  const cases: { name: string; balances: unknown; kinds: string[]; allowNegative?: boolean; valid: boolean }[] = [
    { name: 'money created', balances: { a: 11, b: 10, c: 10 }, kinds: ['wrong-total'], valid: false },
    { name: 'negative balance', balances: { a: -5, b: 25, c: 10 }, kinds: ['negative-balance'], valid: false },
    { name: 'negative balance allowed', balances: { a: -5, b: 25, c: 10 }, kinds: [], allowNegative: true, valid: true },
    { name: 'missing account', balances: { a: 20, b: 10 }, kinds: ['missing-account'], valid: false },
    { name: 'unexpected account', balances: { a: 10, b: 10, c: 10, d: 0 }, kinds: ['unexpected-account'], valid: false },
    { name: 'missing account and lost money', balances: { a: 10, b: 10 }, kinds: ['missing-account', 'wrong-total'], valid: false },
  ];
  for (const c of cases) {
    const result = checkBank(history(read(c.balances)), { ...options, allowNegative: c.allowNegative });
    t.equal(result.valid, c.valid, `${c.name}: verdict`);
    t.same(result.anomalies.map((anomaly) => anomaly.kind), c.kinds, `${c.name}: kinds`);
    for (const anomaly of result.anomalies) t.same(anomaly.opIndexes, [1], `${c.name}: op index`);
  }
});

t.test('bank: failed reads are ignored', async (t) => {
  const result = checkBank(history([[1, 'invoke', 'read', null], [1, 'fail', 'read', null]]), options);
  t.equal(result.valid, true);
  t.equal(result.stats?.readOkCount, 0);
});

t.test('bank: anomalies capped per kind', async (t) => {
  const steps: [number, OpType, string, unknown][] = [];
  for (let i = 0; i < BANK_ANOMALIES_PER_KIND_MAX + 5; i++) steps.push(...read({ a: 0, b: 0, c: 0 }));
  const result = checkBank(history(steps), options);
  t.equal(result.valid, false);
  t.equal(result.anomalies.length, BANK_ANOMALIES_PER_KIND_MAX);
  t.equal(result.stats?.wrongTotalCount, BANK_ANOMALIES_PER_KIND_MAX + 5);
  t.match(result.summary, /15 wrong-total/);
});

t.test('bank: malformed reads are unknown', async (t) => {
  const notObject = checkBank(history(read([10, 10, 10])), options);
  t.equal(notObject.valid, 'unknown');
  t.match(notObject.unknownReason, /op 1: read value \[10,10,10\] is not an object of balances/);

  const textBalance = checkBank(history(read({ a: '10', b: 10, c: 10 })), options);
  t.equal(textBalance.valid, 'unknown');
  t.match(textBalance.unknownReason, /balance of account "a" is "10", not a number/);
});
