import t from 'tap';
import type { Op, OpType, ProcessId } from '../history/types.js';
import { generateRegisterHistory } from './generate.js';
import { checkLinearizable, UnsupportedOpError, type LinearizableOptions } from './index.js';

/** [process, type, f, value, key] */
type Step = [ProcessId, OpType, string, unknown?, string?];

function history(steps: Step[]): Op[] {
  return steps.map(([process, type, f, value, key], index) => {
    const op: Op = { index, time: index * 10, process, type, f, key: key ?? 'x' };
    if (value !== undefined) op.value = value;
    if (process === 'nemesis') delete op.key;
    return op;
  });
}

async function verdict(steps: Step[], options: Partial<LinearizableOptions> = {}) {
  return checkLinearizable(history(steps), { model: 'cas-register', ...options });
}

t.test('indeterminate write later observed', async (t) => {
  const observed = await verdict([
    [0, 'invoke', 'write', 1],
    [0, 'info', 'write', 1],
    [1, 'invoke', 'read', null],
    [1, 'ok', 'read', 1],
  ]);
  t.equal(observed.valid, true, 'an info write may take effect after its info record');
  const never = await verdict([
    [0, 'invoke', 'write', 1],
    [1, 'invoke', 'read', null],
    [1, 'ok', 'read', null],
    [1, 'invoke', 'read', null],
    [1, 'ok', 'read', 1],
  ]);
  t.equal(never.valid, true, 'a write that never completed may take effect late');
  const before = await verdict([
    [1, 'invoke', 'read', null],
    [1, 'ok', 'read', 1],
    [0, 'invoke', 'write', 1],
    [0, 'info', 'write', 1],
  ]);
  t.equal(before.valid, false, 'an info write cannot take effect before its invocation');
});

t.test('failed write must not take effect', async (t) => {
  const steps: Step[] = [
    [0, 'invoke', 'write', 1],
    [0, 'fail', 'write', 1],
    [1, 'invoke', 'read', null],
    [1, 'ok', 'read', 1],
  ];
  t.equal((await verdict(steps)).valid, false);
  steps[3] = [1, 'ok', 'read', null];
  t.equal((await verdict(steps)).valid, true);
});

t.test('concurrent cas from the same value', async (t) => {
  const both = (first: OpType, second: OpType): Step[] => [
    [0, 'invoke', 'cas', [0, 1]],
    [1, 'invoke', 'cas', [0, 2]],
    [0, first, 'cas', [0, 1]],
    [1, second, 'cas', [0, 2]],
  ];
  t.equal((await verdict(both('ok', 'ok'), { initial: 0 })).valid, false, 'both cannot swap');
  t.equal((await verdict(both('ok', 'fail'), { initial: 0 })).valid, true, 'one swaps, the other sees 1');
  t.equal((await verdict(both('fail', 'fail'), { initial: 0 })).valid, false, 'informative: both saw a value other than 0, impossible');
  t.equal((await verdict(both('fail', 'fail'), { initial: 0, casFail: 'not-happened' })).valid, true, 'not-happened: failed cas are dropped');
  t.equal((await verdict(both('info', 'info'), { initial: 0 })).valid, true);
});

t.test('stale read after completed write', async (t) => {
  const result = await verdict([
    [0, 'invoke', 'write', 1],
    [0, 'ok', 'write', 1],
    [1, 'invoke', 'write', 2],
    [1, 'ok', 'write', 2],
    [2, 'invoke', 'read', null],
    [3, 'invoke', 'read', null],
    [3, 'ok', 'read', 2],
    [2, 'ok', 'read', 1],
  ]);
  t.equal(result.valid, false);
  t.equal(result.failures.length, 1);
  const failure = result.failures[0]!;
  t.equal(failure.op.index, 4, 'the stale read is the op that cannot be linearized');
  t.equal(failure.completion?.index, 7);
  t.same(failure.statesBefore, ['2']);
  t.same(failure.linearizedPrefix, [0, 2, 5], 'both writes and the fresh read come first');
  t.match(failure.explanation, /process 2's read returning 1 \(op 4\) cannot take effect/);
  t.same(
    failure.minimalHistory?.map((op) => op.index),
    [0, 1, 2, 3, 4, 7],
    'the shrunk history keeps the write the read saw, the overwriting write and the stale read',
  );
  t.equal(failure.minimalHistoryComplete, true);
  t.same(result.anomalies[0]?.opIndexes, [4, 7]);
  t.equal(result.anomalies[0]?.kind, 'nonlinearizable');
});

t.test('reads after quiescence', async (t) => {
  const writes: Step[] = [
    [0, 'invoke', 'write', 1],
    [1, 'invoke', 'write', 2],
    [0, 'ok', 'write', 1],
    [1, 'ok', 'write', 2],
  ];
  const agreeing = await verdict([...writes, [2, 'invoke', 'read'], [2, 'ok', 'read', 2], [3, 'invoke', 'read'], [3, 'ok', 'read', 2]]);
  t.equal(agreeing.valid, true);
  const flipping = await verdict([...writes, [2, 'invoke', 'read'], [2, 'ok', 'read', 2], [3, 'invoke', 'read'], [3, 'ok', 'read', 1]]);
  t.equal(flipping.valid, false, 'the register cannot go back to 1 after quiescence');
});

t.test('keys valid and invalid in one history', async (t) => {
  const result = await verdict([
    [0, 'invoke', 'write', 1, 'a'],
    [0, 'ok', 'write', 1, 'a'],
    [1, 'invoke', 'read', null, 'b'],
    [1, 'ok', 'read', 5, 'b'],
    [2, 'invoke', 'read', null, 'a'],
    [2, 'ok', 'read', 1, 'a'],
    ['nemesis', 'info', 'kill', null],
  ]);
  t.equal(result.valid, false);
  t.equal(result.keys, 2);
  t.equal(result.ops, 3);
  t.equal(result.failedKeys, 1);
  t.equal(result.failures[0]?.key, 'b');
  t.match(result.summary, /1 of 2 keys/);
});

t.test('initial value', async (t) => {
  const steps: Step[] = [
    [0, 'invoke', 'read', null],
    [0, 'ok', 'read', 'start'],
  ];
  t.equal((await verdict(steps)).valid, false, 'nil by default');
  t.equal((await verdict(steps, { initial: 'start' })).valid, true);
});

t.test('time limit yields unknown with the reason', async (t) => {
  // 14 overlapping writes and 14 overlapping reads that no order satisfies: the search must
  // visit a large share of the 2^28 configurations before giving up.
  const steps: Step[] = [];
  for (let p = 0; p < 14; p += 1) steps.push([p, 'invoke', 'write', p]);
  for (let p = 14; p < 28; p += 1) steps.push([p, 'invoke', 'read', null]);
  for (let p = 0; p < 14; p += 1) steps.push([p, 'ok', 'write', p]);
  for (let p = 14; p < 27; p += 1) steps.push([p, 'ok', 'read', p - 14]);
  steps.push([27, 'ok', 'read', 99]);
  const result = await verdict(steps, { timeLimitMs: 1 });
  t.equal(result.valid, 'unknown');
  t.match(result.unknownReason, /key "x": time limit reached after exploring \d+ configurations/);
  t.equal(result.unknownKeys.length, 1);
  const memory = await verdict(steps, { memoryLimitBytes: 1024 });
  t.equal(memory.valid, 'unknown');
  t.match(memory.unknownReason, /memory limit of 1 KiB reached/);
});

t.test('unsupported op is an input error', async (t) => {
  await t.rejects(verdict([[0, 'invoke', 'incr', 1], [0, 'ok', 'incr', 1]]), UnsupportedOpError);
  await t.rejects(verdict([[0, 'invoke', 'cas', [1, 2]], [0, 'ok', 'cas', [1, 2]]], { model: 'register' }), /has no cas/);
});

t.test('kv model', async (t) => {
  const kv = (steps: Step[]) => verdict(steps, { model: 'kv' });
  t.equal(
    (
      await kv([
        [0, 'invoke', 'append', 'a'],
        [0, 'ok', 'append', 'a'],
        [1, 'invoke', 'append', 'b'],
        [2, 'invoke', 'get', null],
        [1, 'ok', 'append', 'b'],
        [2, 'ok', 'get', 'ab'],
        [3, 'invoke', 'get', null],
        [3, 'ok', 'get', 'ab'],
      ])
    ).valid,
    true,
  );
  t.equal((await kv([[0, 'invoke', 'get', null], [0, 'ok', 'get', '']])).valid, true, 'a missing key reads as ""');
  t.equal(
    (
      await kv([
        [0, 'invoke', 'put', 'v'],
        [0, 'ok', 'put', 'v'],
        [0, 'invoke', 'delete', null],
        [0, 'ok', 'delete', null],
        [1, 'invoke', 'get', null],
        [1, 'ok', 'get', 'v'],
      ])
    ).valid,
    false,
    'a get after a completed delete cannot see the value',
  );
  t.equal(
    (
      await kv([
        [0, 'invoke', 'put', 'v'],
        [0, 'ok', 'put', 'v'],
        [0, 'invoke', 'cas', ['v', 'w']],
        [0, 'ok', 'cas', ['v', 'w']],
        [1, 'invoke', 'get', null],
        [1, 'ok', 'get', 'w'],
      ])
    ).valid,
    true,
  );
  t.equal(
    (
      await kv([
        [0, 'invoke', 'append', 'a'],
        [0, 'ok', 'append', 'a'],
        [1, 'invoke', 'append', 'b'],
        [1, 'ok', 'append', 'b'],
        [2, 'invoke', 'get', null],
        [2, 'ok', 'get', 'ba'],
      ])
    ).valid,
    false,
    'appends in real-time order',
  );
});

t.test('set, counter and queue models', async (t) => {
  t.equal(
    (
      await verdict(
        [
          [0, 'invoke', 'add', 1],
          [1, 'invoke', 'add', 2],
          [0, 'ok', 'add', 1],
          [2, 'invoke', 'read'],
          [2, 'ok', 'read', [2, 1]],
          [1, 'info', 'add', 2],
        ],
        { model: 'set' },
      )
    ).valid,
    true,
  );
  t.equal(
    (await verdict([[0, 'invoke', 'add', 1], [0, 'ok', 'add', 1], [2, 'invoke', 'read'], [2, 'ok', 'read', []]], { model: 'set' })).valid,
    false,
    'a completed add must be read',
  );
  t.equal(
    (await verdict([[0, 'invoke', 'add', 2], [1, 'invoke', 'read'], [1, 'ok', 'read', 2], [0, 'info', 'add', 2], [1, 'invoke', 'read'], [1, 'ok', 'read', 2]], { model: 'counter' })).valid,
    true,
  );
  t.equal(
    (await verdict([[0, 'invoke', 'add', 2], [0, 'ok', 'add', 2], [1, 'invoke', 'read'], [1, 'ok', 'read', 3]], { model: 'counter' })).valid,
    false,
  );
  const queue: Step[] = [
    [0, 'invoke', 'enqueue', 'a'],
    [0, 'ok', 'enqueue', 'a'],
    [0, 'invoke', 'enqueue', 'b'],
    [0, 'ok', 'enqueue', 'b'],
    [1, 'invoke', 'dequeue'],
    [1, 'ok', 'dequeue', 'a'],
    [1, 'invoke', 'dequeue'],
    [1, 'ok', 'dequeue', 'b'],
    [1, 'invoke', 'dequeue'],
    [1, 'ok', 'dequeue', null],
  ];
  t.equal((await verdict(queue, { model: 'queue' })).valid, true);
  queue[5] = [1, 'ok', 'dequeue', 'b'];
  queue[7] = [1, 'ok', 'dequeue', 'a'];
  t.equal((await verdict(queue, { model: 'queue' })).valid, false, 'FIFO order');
});

t.test('worker threads give the same verdicts', async (t) => {
  const ops = generateRegisterHistory({ ops: 30_000, keys: 40, processes: 20, infoProbability: 0.01, valuesMax: 5, seed: 11 });
  // Corrupt one read of one key so the worker path also reports a failure.
  const read = ops.find((op) => op.type === 'ok' && op.f === 'read' && op.index > 1000)!;
  read.value = 12345;
  const inline = await checkLinearizable(ops, { model: 'cas-register', workers: 1, shrinkTimeMsMax: 0 });
  const parallel = await checkLinearizable(ops, { model: 'cas-register', workers: 2, shrinkTimeMsMax: 0 });
  t.equal(inline.valid, false);
  t.equal(parallel.valid, false);
  t.equal(parallel.stats?.['parallel'], 1, 'the worker path ran');
  t.same(
    parallel.failures.map((failure) => [failure.key, failure.op.index, failure.statesBefore]),
    inline.failures.map((failure) => [failure.key, failure.op.index, failure.statesBefore]),
  );
  t.equal(parallel.failures[0]?.completion?.index, read.index);
});
