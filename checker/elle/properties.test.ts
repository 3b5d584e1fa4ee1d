// Property tests: histories from a serial model are always valid, and breaking one of them by
// swapping two reads' results always yields a cycle.
import fc from 'fast-check';
import t from 'tap';
import type { Op } from '../history/types.js';
import { generateListAppendHistory } from './generate.js';
import { checkListAppend, type CycleDetails } from './index.js';

const CYCLE_KIND = /^(G0|G1c|G-single|G2-item)(-process|-realtime)?$/;

t.test('serial model histories are valid', async (t) => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      fc.integer({ min: 1, max: 120 }),
      fc.integer({ min: 1, max: 6 }),
      fc.double({ min: 0, max: 6, noNaN: true }),
      async (seed, txnCount, activeKeyCount, windowSlots) => {
        const ops = generateListAppendHistory(seed, { txnCount, activeKeyCount, windowSlots, appendsPerKeyMax: 6, failRate: 0.1, infoRate: 0.1 });
        const result = await checkListAppend(ops, { consistency: 'strict-serializable' });
        // A tiny history may give no dependency at all, and then the only honest verdict is unknown.
        if (result.valid === 'unknown' && result.stats?.dataEdgeCount === 0 && result.anomalyTypes.length === 0) return;
        if (result.valid !== true) throw new Error(`seed ${seed}: ${result.summary}\n${result.anomalies.map((a) => a.explanation).join('\n')}`);
      },
    ),
    { numRuns: 150 },
  );
  t.pass('150 generated histories checked');
});

interface ExternalRead {
  op: Op;
  microOp: unknown[];
}

/** Collects the first read of each key in every `ok` txn, by key, because later reads in a txn depend on its own appends. */
function externalReads(ops: readonly Op[]): Map<unknown, ExternalRead[]> {
  const byKey = new Map<unknown, ExternalRead[]>();
  for (const op of ops) {
    if (op.type !== 'ok') continue;
    const touched = new Set<unknown>();
    for (const microOp of op.value as unknown[][]) {
      const key = microOp[1];
      if (microOp[0] === 'r' && !touched.has(key)) {
        let reads = byKey.get(key);
        if (reads === undefined) byKey.set(key, (reads = []));
        reads.push({ op, microOp });
      }
      touched.add(key);
    }
  }
  return byKey;
}

/** Throws unless the edges chain into one closed cycle that visits each txn once. */
function checkCycleShape(cycle: CycleDetails, label: string): void {
  const edges = cycle.edges;
  edges.forEach((edge, i) => {
    const next = edges[(i + 1) % edges.length]!;
    if (edge.to !== next.from) throw new Error(`${label}: edge ${i} ends at T${edge.to} but the next starts at T${next.from}`);
  });
  const txns = new Set(edges.map((edge) => edge.from));
  if (txns.size !== edges.length) throw new Error(`${label}: the cycle visits a txn twice`);
  if (cycle.txns.length !== edges.length) throw new Error(`${label}: ${cycle.txns.length} txns for ${edges.length} edges`);
}

t.test('swapping two reads creates a cycle', async (t) => {
  let swapped = 0;
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 0, max: 1000 }), async (seed, pick) => {
      // A serial history (windows under half a slot) so every pair of txns is ordered in real time.
      const ops = generateListAppendHistory(seed, { txnCount: 40, activeKeyCount: 2, windowSlots: 0.4, failRate: 0, infoRate: 0, finalReads: false });
      const pairs: [ExternalRead, ExternalRead][] = [];
      for (const reads of externalReads(ops).values()) {
        for (let i = 0; i < reads.length; i++) {
          for (let j = i + 1; j < reads.length; j++) {
            const a = reads[i]!;
            const b = reads[j]!;
            if (a.op !== b.op && (a.microOp[2] as unknown[]).length !== (b.microOp[2] as unknown[]).length) pairs.push([a, b]);
          }
        }
      }
      fc.pre(pairs.length > 0);

      const [a, b] = pairs[pick % pairs.length]!;
      [a.microOp[2], b.microOp[2]] = [b.microOp[2], a.microOp[2]];
      swapped++;
      const result = await checkListAppend(ops, { consistency: 'strict-serializable' });
      if (result.valid !== false || !result.anomalyTypes.some((kind) => CYCLE_KIND.test(kind))) {
        throw new Error(`seed ${seed}, pick ${pick}: expected a cycle, got ${result.summary}`);
      }
      for (const anomaly of result.anomalies) {
        const cycle = anomaly.details?.cycle;
        if (cycle !== undefined) checkCycleShape(cycle, `seed ${seed}, pick ${pick}, ${anomaly.kind}`);
      }
    }),
    { numRuns: 150 },
  );
  t.ok(swapped > 100, `${swapped} histories had a pair of reads to swap`);
});
