// The register workload's own rules: unique written values, and which failed cas ops the check drops.
import t from 'tap';
import type { Op } from '../../checker/history/types.js';
import { simulate, NS_PER_S } from '../../controller/generator.js';
import { Random } from '../../controller/random.js';
import { registerGenerator, registerWorkload, withoutUnexecutedCas } from '../../workloads/register.js';

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
