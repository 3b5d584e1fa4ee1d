// Every workload driven end to end against an in-memory store: the generator, the client mapping,
// the recorded history and the workload's checkers. A correct store must check valid; a store with
// a planted fault must check invalid, which shows the workload can catch that fault.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import t from 'tap';
import { HistoryWriter, readJsonlHistory } from '../../checker/history/jsonl.js';
import type { Op } from '../../checker/history/types.js';
import { mergeValidity } from '../../checker/result.js';
import { ProcessTable, runClientPhase } from '../../controller/clients.js';
import { limitOps } from '../../controller/generator.js';
import { Random } from '../../controller/random.js';
import { HistoryRecorder } from '../../controller/recorder.js';
import { findWorkload } from '../../workloads/index.js';
import { FakeKv, type FakeFault } from './fake-kv.js';

const silent = pino({ level: 'silent' });

async function runAgainstFake(workloadName: string, fault: FakeFault | undefined, seed: number, opsMax: number): Promise<Op[]> {
  const workload = findWorkload(workloadName);
  if (workload === undefined) throw new Error(`no workload ${workloadName}`);
  const dir = await mkdtemp(path.join(tmpdir(), 'traft-workload-'));
  try {
    const file = path.join(dir, 'history.jsonl');
    const recorder = new HistoryRecorder(await HistoryWriter.open(file));
    const concurrency = 6;
    const instance = workload.create({ concurrency });
    const store = new FakeKv(seed, fault);
    const processes = new ProcessTable(concurrency);
    const random = new Random(seed);
    const signal = new AbortController().signal;
    const common = { workload: instance, clients: [store], recorder, random, signal, log: silent };

    await runClientPhase({ ...common, generator: limitOps(opsMax, instance.generator), concurrency }, processes);
    await runClientPhase({ ...common, generator: instance.finalGenerator(), concurrency: 2 }, processes);
    await recorder.close();

    const ops: Op[] = [];
    for await (const op of readJsonlHistory(file)) ops.push(op);
    return ops;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function verdictOf(workloadName: string, ops: Op[]) {
  const results = await findWorkload(workloadName)!.check(ops, { timeLimitMs: 20_000 });
  return { valid: mergeValidity(results.map((result) => result.valid)), results };
}

const cases: { workload: string; fault?: FakeFault; expected: boolean }[] = [
  { workload: 'register', expected: true },
  { workload: 'register', fault: 'indeterminate-writes', expected: true },
  { workload: 'register', fault: 'stale-reads', expected: false },
  { workload: 'set', expected: true },
  { workload: 'set', fault: 'indeterminate-writes', expected: true },
  { workload: 'set', fault: 'lose-writes', expected: false },
  { workload: 'bank', expected: true },
  { workload: 'bank', fault: 'partial-txns', expected: false },
  { workload: 'counter', expected: true },
  { workload: 'counter', fault: 'indeterminate-writes', expected: true },
  { workload: 'counter', fault: 'lose-writes', expected: false },
  { workload: 'list-append', expected: true },
  { workload: 'list-append', fault: 'partial-txns', expected: false },
];

for (const { workload, fault, expected } of cases) {
  t.test(`${workload} against ${fault ?? 'a correct store'}`, async (t) => {
    const ops = await runAgainstFake(workload, fault, 7, 400);
    const clientInvokes = ops.filter((op) => op.process !== 'nemesis' && op.type === 'invoke');
    t.ok(clientInvokes.length >= 400, `at least 400 invocations recorded (got ${clientInvokes.length})`);
    const { valid, results } = await verdictOf(workload, ops);
    t.equal(valid, expected, results.map((result) => `${result.checker}: ${result.summary}`).join('; '));
  });
}

t.test('history is well formed', async (t) => {
  const ops = await runAgainstFake('register', 'indeterminate-writes', 3, 200);
  t.same(ops.map((op) => op.index), ops.map((_, position) => position), 'indexes count from 0 without gaps');
  for (let i = 1; i < ops.length; i += 1) {
    if (ops[i]!.time < ops[i - 1]!.time) t.fail(`time goes backwards at op ${i}`);
  }
  const open = new Map<number, Op>();
  for (const op of ops) {
    const process = op.process as number;
    if (op.type === 'invoke') {
      t.notOk(open.has(process), `process ${process} has one op open at a time (op ${op.index})`);
      open.set(process, op);
    } else {
      t.equal(open.get(process)?.f, op.f, `op ${op.index} completes the open op of process ${process}`);
      open.delete(process);
    }
  }
  const infos = ops.filter((op) => op.type === 'info');
  t.ok(infos.length > 0, 'the fault produced info ops');
  for (const info of infos) {
    const later = ops.find((op) => op.index > info.index && op.process === info.process);
    t.equal(later, undefined, `process ${info.process} is retired after its info op ${info.index}`);
  }
});

t.test('same seed, same ops', async (t) => {
  const first = await runAgainstFake('list-append', undefined, 11, 100);
  const second = await runAgainstFake('list-append', undefined, 11, 100);
  const invokes = (ops: Op[]) => ops.filter((op) => op.type === 'invoke').map((op) => JSON.stringify(op.value));
  t.same(new Set(invokes(first)), new Set(invokes(second)), 'the same txns are generated');
});
