import fc from 'fast-check';
import t from 'tap';
import type { Op } from '../history/types.js';
import { createModel, ILLEGAL, type CasFailMode, type ModelOp } from '../models/index.js';
import { generateRegisterHistory } from './generate.js';
import { checkLinearizable } from './index.js';
import { pairOpsByKey } from './pairs.js';

/**
 * Decides linearizability naively, by trying every order of the ops that respects real-time order,
 * with each indeterminate op taken or left out. Exponential, so only for histories of a few ops.
 */
function bruteForceLinearizable(ops: Op[], casFail: CasFailMode): boolean {
  const byKey = pairOpsByKey(ops);
  for (const pairs of byKey.values()) {
    const model = createModel('cas-register');
    const entries: Array<{ op: ModelOp; call: number; ret: number }> = [];
    for (const pair of pairs) {
      const preparation = model.prepare(pair.invoke, pair.completion, casFail);
      if (preparation.use !== 'op') continue;
      const indeterminate = pair.completion === undefined || pair.completion.type === 'info';
      entries.push({ op: preparation.op, call: pair.callPosition, ret: indeterminate ? Infinity : pair.returnPosition });
    }
    const done = new Array<boolean>(entries.length).fill(false);
    const search = (state: unknown): boolean => {
      if (entries.every((entry, i) => done[i] || entry.ret === Infinity)) return true;
      for (let i = 0; i < entries.length; i += 1) {
        if (done[i]) continue;
        // An op may go next only if no pending op completed before it was invoked.
        const blocked = entries.some((other, j) => !done[j] && j !== i && other.ret < entries[i]!.call);
        if (blocked) continue;
        const after = model.step(state, entries[i]!.op);
        if (after === ILLEGAL) continue;
        done[i] = true;
        const found = search(after);
        done[i] = false;
        if (found) return true;
      }
      return false;
    };
    if (!search(model.init(null))) return false;
  }
  return true;
}

const smallHistory = fc.record({
  ops: fc.integer({ min: 1, max: 7 }),
  processes: fc.integer({ min: 1, max: 4 }),
  infoProbability: fc.constantFrom(0, 0.2, 0.5),
  valuesMax: fc.integer({ min: 1, max: 3 }),
  seed: fc.integer(),
});

t.test('generated histories are linearizable', async (t) => {
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        ops: fc.integer({ min: 1, max: 200 }),
        keys: fc.integer({ min: 1, max: 5 }),
        processes: fc.integer({ min: 1, max: 8 }),
        infoProbability: fc.constantFrom(0, 0.02, 0.1),
        valuesMax: fc.integer({ min: 1, max: 6 }),
        seed: fc.integer(),
      }),
      async (options) => {
        const ops = generateRegisterHistory(options);
        const result = await checkLinearizable(ops, { model: 'cas-register', workers: 1 });
        return result.valid === true;
      },
    ),
    { numRuns: 100, seed: 4242 },
  );
  t.pass('100 generated histories checked');
});

t.test('read of a never-written value is invalid', async (t) => {
  await fc.assert(
    fc.asyncProperty(
      fc.record({ ops: fc.integer({ min: 2, max: 200 }), processes: fc.integer({ min: 1, max: 8 }), seed: fc.integer(), pick: fc.nat() }),
      async ({ ops: count, processes, seed, pick }) => {
        const ops = generateRegisterHistory({ ops: count, keys: 1, processes, infoProbability: 0.05, valuesMax: 4, seed });
        const reads = ops.filter((op) => op.type === 'ok' && op.f === 'read');
        fc.pre(reads.length > 0);
        reads[pick % reads.length]!.value = 1000;
        const result = await checkLinearizable(ops, { model: 'cas-register', workers: 1, shrinkTimeMsMax: 50 });
        return result.valid === false && result.failures[0] !== undefined;
      },
    ),
    { numRuns: 100, seed: 99 },
  );
  t.pass('100 corrupted histories rejected');
});

t.test('corrupted read agrees with brute force', async (t) => {
  let invalidSeen = 0;
  let validSeen = 0;
  await fc.assert(
    fc.asyncProperty(smallHistory, fc.nat(), fc.integer({ min: 0, max: 3 }), async (options, pick, value) => {
      const ops = generateRegisterHistory({ ...options, keys: 1 });
      const reads = ops.filter((op) => op.type === 'ok' && op.f === 'read');
      if (reads.length > 0) reads[pick % reads.length]!.value = value === 3 ? null : value;
      const expected = bruteForceLinearizable(ops, 'informative');
      const result = await checkLinearizable(ops, { model: 'cas-register', workers: 1, shrinkTimeMsMax: 20 });
      if (expected) validSeen += 1;
      else invalidSeen += 1;
      return result.valid === expected;
    }),
    { numRuns: 400, seed: 7 },
  );
  t.ok(invalidSeen > 20, `corruptions made ${invalidSeen} histories invalid`);
  t.ok(validSeen > 20, `${validSeen} corruptions were legal values`);
});

t.test('random histories agree with brute force', async (t) => {
  // Arbitrary op soups, not built from a model: most are not linearizable.
  const step = fc.record({
    process: fc.integer({ min: 0, max: 3 }),
    f: fc.constantFrom('read', 'write', 'cas'),
    value: fc.integer({ min: 0, max: 2 }),
    expected: fc.constantFrom<number | null>(0, 1, 2, null),
    outcome: fc.constantFrom('ok', 'ok', 'fail', 'info', 'none'),
  });
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 7 }), fc.array(fc.nat(), { minLength: 14, maxLength: 14 }), fc.constantFrom<CasFailMode>('informative', 'not-happened'), async (steps, order, casFail) => {
      const ops = interleave(steps, order);
      const expected = bruteForceLinearizable(ops, casFail);
      const result = await checkLinearizable(ops, { model: 'cas-register', casFail, workers: 1, shrinkTimeMsMax: 10 });
      return result.valid === expected;
    }),
    { numRuns: 500, seed: 13 },
  );
  t.pass('500 random histories agree');
});

/** Turns op descriptions into a history, interleaving invocations and completions by `order`. */
function interleave(
  steps: Array<{ process: number; f: string; value: number; expected: number | null; outcome: string }>,
  order: number[],
): Op[] {
  const queues = new Map<number, Array<Omit<Op, 'index' | 'time'>>>();
  steps.forEach((step, i) => {
    // Each step gets its own process id, so any interleaving is well formed.
    const process = step.process * 10 + i;
    const value = step.f === 'cas' ? [step.expected, step.value] : step.f === 'read' ? null : step.value;
    const events: Array<Omit<Op, 'index' | 'time'>> = [{ process, type: 'invoke', f: step.f, key: 'x', value }];
    if (step.outcome !== 'none') {
      // An ok read returns nil when the drawn value is 2, so reads of an empty register occur too.
      let result: unknown = value;
      if (step.f === 'read' && step.outcome === 'ok') result = step.value === 2 ? null : step.value;
      events.push({ process, type: step.outcome as Op['type'], f: step.f, key: 'x', value: result });
    }
    queues.set(process, events);
  });
  const ops: Op[] = [];
  let turn = 0;
  while (queues.size > 0) {
    const processes = [...queues.keys()];
    const process = processes[(order[turn % order.length] ?? 0) % processes.length]!;
    turn += 1;
    const events = queues.get(process)!;
    const event = events.shift()!;
    ops.push({ index: ops.length, time: ops.length, ...event } as Op);
    if (events.length === 0) queues.delete(process);
  }
  return ops;
}
