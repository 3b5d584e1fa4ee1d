// The register workload's own rules: unique written values, and which failed cas ops the check drops.
import t from 'tap';
import fc from 'fast-check';
import type { Op } from '../../checker/history/types.js';
import { fromFunction, simulate, NS_PER_S, type Generator } from '../../controller/generator.js';
import { Random } from '../../controller/random.js';
import { activeKeyCount, REGISTER_OPS_PER_KEY_MAX, registerGenerator, registerWorkload, SlotVersion, withoutUnexecutedCas } from '../../workloads/register.js';
import type { WorkloadOp } from '../../workloads/types.js';

function op(index: number, process: number, type: Op['type'], f: string, value: unknown, error?: string): Op {
  return { index, time: index * 1000, process, type, f, key: 'r0', value, ...(error === undefined ? {} : { error }) };
}

t.test('written values are unique per key', async (t) => {
  const ops = simulate(registerGenerator({ concurrency: 10 }), new Random(3), { endNs: NS_PER_S, opCostNs: 1000, opsMax: 2000 });
  const written = new Map<string, Set<unknown>>();
  for (const { op: generated } of ops) {
    if (generated.f === 'read') continue;
    const value = generated.f === 'cas' ? (generated.value as unknown[])[1] : generated.value;
    const seen = written.get(generated.key as string) ?? new Set<unknown>();
    t.notOk(seen.has(value), `value ${String(value)} is written once on ${generated.key}`);
    seen.add(value);
    written.set(generated.key as string, seen);
  }
  t.ok(written.size >= 2, 'several keys are used');
});

t.test('unexecuted cas is dropped', async (t) => {
  const history = [
    op(0, 1, 'invoke', 'cas', [1, 2]),
    op(1, 2, 'invoke', 'cas', [1, 3]),
    op(2, 1, 'fail', 'cas', [1, 2], 'not executed: redirected to leader 2'),
    op(3, 2, 'fail', 'cas', [1, 3], 'cas-mismatch'),
  ];
  const kept = withoutUnexecutedCas(history);
  t.same(kept.map((kept) => kept.index), [1, 3], 'the refused cas goes, the mismatched cas stays');
});

t.test('refused cas does not fake a comparison', async (t) => {
  // Without the drop, the refused cas reads as "the register was not 1" while it held 1.
  const history = [
    op(0, 1, 'invoke', 'write', 1),
    op(1, 1, 'ok', 'write', 1),
    op(2, 2, 'invoke', 'cas', [1, 2]),
    op(3, 2, 'fail', 'cas', [1, 2], 'not sent: UNAVAILABLE'),
    op(4, 3, 'invoke', 'read', null),
    op(5, 3, 'ok', 'read', 1),
  ];
  const [result] = await registerWorkload.check(history, { timeLimitMs: 10_000 });
  t.equal(result?.valid, true);
});

t.test('mismatched cas still counts', async (t) => {
  const history = [
    op(0, 1, 'invoke', 'write', 1),
    op(1, 1, 'ok', 'write', 1),
    op(2, 2, 'invoke', 'cas', [1, 2]),
    op(3, 2, 'fail', 'cas', [1, 2], 'cas-mismatch'),
    op(4, 3, 'invoke', 'read', null),
    op(5, 3, 'ok', 'read', 1),
  ];
  const [result] = await registerWorkload.check(history, { timeLimitMs: 10_000 });
  t.equal(result?.valid, false);
});

// The register generator against a reference that copies its key array on every op: the plain,
// obviously pure form that the persistent SlotVersion array replaces.

interface ReferenceKey {
  key: number;
  ops: number;
  recent: number[];
}

function referenceGenerator(concurrency: number): Generator<WorkloadOp> {
  const count = activeKeyCount(concurrency);
  const initial = { active: Array.from({ length: count }, (_, key): ReferenceKey => ({ key, ops: 0, recent: [] })), nextKey: count };
  return fromFunction(initial, (ctx, state): [WorkloadOp, typeof initial] => {
    const slot = ctx.random.int(state.active.length);
    const chosen = state.active[slot]!;
    const key = `r${chosen.key}`;
    const fresh = chosen.ops + 1;
    const draw = ctx.random.int(10);
    let op: WorkloadOp;
    let recent = chosen.recent;
    if (draw < 4) {
      op = { f: 'read', key, value: null };
    } else if (draw < 7) {
      op = { f: 'write', key, value: fresh };
      recent = [...recent, fresh].slice(-3);
    } else {
      const expected = recent.length === 0 ? null : ctx.random.pick(recent);
      op = { f: 'cas', key, value: [expected, fresh] };
      recent = [...recent, fresh].slice(-3);
    }
    const active = [...state.active];
    let nextKey = state.nextKey;
    if (fresh >= REGISTER_OPS_PER_KEY_MAX) {
      active[slot] = { key: nextKey, ops: 0, recent: [] };
      nextKey += 1;
    } else {
      active[slot] = { key: chosen.key, ops: fresh, recent };
    }
    return [op, { active, nextKey }];
  });
}

t.test('generator matches the copying reference', async (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 40 }), fc.integer(), (concurrency, seed) => {
      const options = { endNs: NS_PER_S, opCostNs: 1000, opsMax: 3000 };
      const actual = simulate(registerGenerator({ concurrency }), new Random(seed), options);
      const expected = simulate(referenceGenerator(concurrency), new Random(seed), options);
      t.same(actual, expected, `concurrency ${concurrency}, seed ${seed}`);
      return true;
    }),
    { numRuns: 30 },
  );
});

t.test('stepping old generators replays their ops', async (t) => {
  // Each step picks an earlier generator to step again, as a test or a replay may, so the
  // persistent array must give every old version its own values back.
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 12 }), fc.integer(), fc.array(fc.nat(), { minLength: 1, maxLength: 400 }), (concurrency, seed, picks) => {
      const actual: Generator<WorkloadOp>[] = [registerGenerator({ concurrency })];
      const expected: Generator<WorkloadOp>[] = [referenceGenerator(concurrency)];
      for (const [step, pick] of picks.entries()) {
        const index = pick % actual.length;
        const actualStep = actual[index]!.step({ timeNs: 0, random: new Random(seed + step) });
        const expectedStep = expected[index]!.step({ timeNs: 0, random: new Random(seed + step) });
        if (actualStep.kind !== 'op' || expectedStep.kind !== 'op') throw new Error('the register generator is endless');
        t.same(actualStep.op, expectedStep.op, `step ${step} from generator ${index}`);
        actual.push(actualStep.next);
        expected.push(expectedStep.next);
      }
      return true;
    }),
    { numRuns: 40 },
  );
});

t.test('slot versions keep their values', async (t) => {
  const action = fc.record({ from: fc.nat(), index: fc.nat(), value: fc.integer(), read: fc.boolean() });
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 8 }), fc.array(action, { maxLength: 200 }), (length, actions) => {
      const versions = [new SlotVersion(Array.from({ length }, (_, i) => i))];
      const models = [Array.from({ length }, (_, i) => i)];
      for (const { from, index, value, read } of actions) {
        const position = from % versions.length;
        const slot = index % length;
        if (read) {
          t.equal(versions[position]!.get(slot), models[position]![slot], `version ${position} slot ${slot}`);
          continue;
        }
        versions.push(versions[position]!.set(slot, value));
        const model = [...models[position]!];
        model[slot] = value;
        models.push(model);
      }
      versions.forEach((version, position) => {
        t.same(Array.from({ length }, (_, slot) => version.get(slot)), models[position], `version ${position}`);
      });
      return true;
    }),
    { numRuns: 200 },
  );
});

t.test('first version keeps few versions alive', async (t) => {
  // The workload instance keeps its first generator for the whole run, so the versions that the
  // first SlotVersion reaches must stay bounded however many ops follow.
  const length = 5;
  const first = new SlotVersion(Array.from({ length }, (_, i) => i));
  let newest = first;
  for (let i = 0; i < 1000; i += 1) newest = newest.set(i % length, i);

  let reachable = 0;
  for (let version: unknown = first; version !== undefined; version = (version as { newer?: unknown }).newer) reachable += 1;
  t.ok(reachable <= length + 1, `the first version reaches ${reachable} versions, at most ${length + 1}`);
  t.same(Array.from({ length }, (_, slot) => first.get(slot)), [0, 1, 2, 3, 4], 'the first version keeps its values');
  t.same(Array.from({ length }, (_, slot) => newest.get(slot)), [995, 996, 997, 998, 999], 'the newest version has the last writes');
});
