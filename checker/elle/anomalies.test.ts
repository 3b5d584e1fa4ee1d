// Hand-written list-append histories, one or more per anomaly class, with the verdict each must get.
import t from 'tap';
import { checkListAppend, type ConsistencyModel, type ElleAnomaly, type ElleResult } from './index.js';
import { EXAMPLES_PER_KIND_MAX } from './findings.js';
import { HistoryBuilder } from './testing.js';

function run(builder: HistoryBuilder, consistency: ConsistencyModel = 'strict-serializable'): Promise<ElleResult> {
  return checkListAppend(builder.ops, { consistency });
}

/** Returns the first anomaly of `kind` in the result, and throws (failing the test) when there is none. */
function anomalyOf(result: ElleResult, kind: string): ElleAnomaly {
  const anomaly = result.anomalies.find((a) => a.kind === kind);
  if (anomaly === undefined) throw new Error(`expected a ${kind} anomaly, found ${result.anomalyTypes.join(', ') || 'none'}`);
  return anomaly;
}

t.test('G0 from interleaved appends', async (t) => {
  const h = new HistoryBuilder()
    .invoke(0, [['append', 'x', 1], ['append', 'y', 1]])
    .invoke(1, [['append', 'x', 2], ['append', 'y', 2]])
    .complete(0, 'ok')
    .complete(1, 'ok')
    .txn(2, [['r', 'x', [1, 2]], ['r', 'y', [2, 1]]]);
  const result = await run(h, 'read-uncommitted');
  t.equal(result.valid, false);
  const anomaly = anomalyOf(result, 'G0');
  const cycle = anomaly.details?.cycle;
  t.same(cycle?.edges.map((e) => e.type), ['ww', 'ww']);
  t.match(anomaly.explanation, /T2 appended 1 to key "x"; T3 appended 2, the next element read after it; so T2 ww-> T3/);
  t.same(result.notModels, ['read-uncommitted', 'read-committed', 'snapshot-isolation', 'serializable', 'strong-session-serializable', 'strict-serializable']);
});

t.test('G1c from circular reads', async (t) => {
  const h = new HistoryBuilder()
    .invoke(0, [['append', 'x', 1], ['r', 'y', [1]]])
    .invoke(1, [['append', 'y', 1], ['r', 'x', [1]]])
    .complete(0, 'ok')
    .complete(1, 'ok');
  const result = await run(h, 'read-committed');
  t.equal(result.valid, false);
  const cycle = anomalyOf(result, 'G1c').details?.cycle;
  t.same(cycle?.edges.map((e) => e.type), ['wr', 'wr']);
  t.equal(result.notModels[0], 'read-committed');

  const uncommitted = await run(h, 'read-uncommitted');
  t.equal(uncommitted.valid, true, 'G1c is allowed under read-uncommitted');
  t.same(uncommitted.anomalies, []);
  t.same(uncommitted.anomalyTypes, ['G1c'], 'the anomaly is still named');
});

t.test('G-single from read skew', async (t) => {
  const h = new HistoryBuilder()
    .txn(0, [['append', 'x', 1], ['append', 'y', 1]])
    .invoke(1, [['append', 'x', 2], ['append', 'y', 2]])
    .invoke(2, [['r', 'x', [1]], ['r', 'y', [1, 2]]])
    .complete(1, 'ok')
    .complete(2, 'ok')
    .txn(3, [['r', 'x', [1, 2]], ['r', 'y', [1, 2]]]);
  const result = await run(h, 'snapshot-isolation');
  t.equal(result.valid, false);
  const anomaly = anomalyOf(result, 'G-single');
  t.same(anomaly.details?.cycle?.edges.map((e) => e.type).sort(), ['rw', 'wr']);
  t.match(anomaly.explanation, /T4 appended 2 to key "x"; T5 read key "x" without 2 \(it read \[1\]\); so T5 rw-> T4/);
  t.same(result.notModels, ['snapshot-isolation', 'serializable', 'strong-session-serializable', 'strict-serializable']);
  t.same(anomaly.details?.notModels, result.notModels, 'the anomaly names the models it rules out');
});

function writeSkew(): HistoryBuilder {
  return new HistoryBuilder()
    .invoke(0, [['r', 'x', []], ['r', 'y', []], ['append', 'x', 1]])
    .invoke(1, [['r', 'x', []], ['r', 'y', []], ['append', 'y', 1]])
    .complete(0, 'ok')
    .complete(1, 'ok')
    .txn(2, [['r', 'x', [1]], ['r', 'y', [1]]]);
}

t.test('G2-item from write skew', async (t) => {
  const result = await run(writeSkew(), 'serializable');
  t.equal(result.valid, false);
  const cycle = anomalyOf(result, 'G2-item').details?.cycle;
  t.same(cycle?.edges.map((e) => e.type), ['rw', 'rw']);
  t.notOk(result.anomalyTypes.includes('G-single'), 'no cycle has exactly one rw edge');
});

t.test('write skew allowed under snapshot isolation', async (t) => {
  const result = await run(writeSkew(), 'snapshot-isolation');
  t.equal(result.valid, true);
  t.same(result.anomalies, []);
  t.same(result.anomalyTypes, ['G2-item']);
  t.match(result.summary, /also found G2-item \(1\), which only rule out stronger models/);
});

t.test('G-nonadjacent breaks snapshot isolation', async (t) => {
  // T1 rw-> T2 wr-> T3 rw-> T4 wr-> T1: two rw edges, never consecutive.
  const h = new HistoryBuilder()
    .invoke(0, [['r', 'x', []], ['r', 'w', [1]]])
    .invoke(1, [['append', 'x', 1], ['append', 'y', 1]])
    .invoke(2, [['r', 'y', [1]], ['r', 'z', []]])
    .invoke(3, [['append', 'z', 1], ['append', 'w', 1]])
    .complete(0, 'ok')
    .complete(1, 'ok')
    .complete(2, 'ok')
    .complete(3, 'ok')
    .txn(4, [['r', 'x', [1]], ['r', 'y', [1]], ['r', 'z', [1]], ['r', 'w', [1]]]);
  const result = await run(h, 'snapshot-isolation');
  t.equal(result.valid, false);
  const cycle = anomalyOf(result, 'G-nonadjacent').details?.cycle;
  t.equal(cycle?.edges.length, 4);
  t.equal(cycle?.edges.filter((e) => e.type === 'rw').length, 2);
  t.notOk(result.anomalyTypes.includes('G2-item'), 'the cycle is named by its stronger class');
  t.equal((await run(h, 'read-committed')).valid, true);
});

t.test('history without dependencies is unknown', async (t) => {
  const h = new HistoryBuilder().txn(0, [['r', 'x', []]]).txn(1, [['append', 'y', 1]], 'fail');
  const result = await run(h);
  t.equal(result.valid, 'unknown');
  t.match(result.unknownReason, /no committed read observed another txn's append among 2 txns/);
  t.equal(result.stats?.dataEdgeCount, 0);
});

t.test('stale read on one process is G-single-process', async (t) => {
  const h = new HistoryBuilder().txn(0, [['append', 'x', 1]]).txn(0, [['r', 'x', []]]);
  const session = await run(h, 'strong-session-serializable');
  t.equal(session.valid, false);
  const cycle = anomalyOf(session, 'G-single-process').details?.cycle;
  t.same(cycle?.edges.map((e) => e.type).sort(), ['process', 'rw']);
  t.match(cycle?.edges.find((e) => e.type === 'process')?.why, /T1 and T3 ran on process 0, and T3 was invoked after T1 completed; so T1 process-> T3/);

  const serializable = await run(h, 'serializable');
  t.equal(serializable.valid, true, 'serializability ignores process order');
  t.ok(serializable.anomalyTypes.includes('G-single-process'));
});

t.test('stale read across processes is G-single-realtime', async (t) => {
  const h = new HistoryBuilder().txn(0, [['append', 'x', 1]]).txn(1, [['r', 'x', []]]);
  const strict = await run(h, 'strict-serializable');
  t.equal(strict.valid, false);
  const cycle = anomalyOf(strict, 'G-single-realtime').details?.cycle;
  t.match(cycle?.edges.find((e) => e.type === 'realtime')?.why, /T1 completed \(op 1\) before T3 was invoked \(op 2\); so T1 realtime-> T3/);
  t.notOk(strict.anomalyTypes.includes('G-single-process'), 'different processes give no process edge');

  for (const consistency of ['serializable', 'strong-session-serializable'] as const) {
    const weaker = await run(h, consistency);
    t.equal(weaker.valid, true, `valid under ${consistency}`);
  }
});

t.test('G0-process and G0-realtime', async (t) => {
  const sameProcess = new HistoryBuilder().txn(0, [['append', 'x', 1]]).txn(0, [['append', 'x', 2]]).txn(2, [['r', 'x', [2, 1]]]);
  const session = await run(sameProcess, 'strong-session-serializable');
  t.equal(session.valid, false);
  anomalyOf(session, 'G0-process');
  t.equal((await run(sameProcess, 'serializable')).valid, true);

  const otherProcess = new HistoryBuilder().txn(0, [['append', 'x', 1]]).txn(1, [['append', 'x', 2]]).txn(2, [['r', 'x', [2, 1]]]);
  const strict = await run(otherProcess);
  anomalyOf(strict, 'G0-realtime');
  t.equal((await run(otherProcess, 'strong-session-serializable')).valid, true);
});

t.test('read after own append shows wr', async (t) => {
  // T3 read x as [1 2] after appending 2, so it saw T2's 1: T2 wr-> T3 beside T2 ww-> T3, and T3 ww-> T2 on y.
  const h = new HistoryBuilder()
    .invoke(0, [['append', 'x', 1], ['append', 'y', 2]])
    .invoke(1, [['append', 'y', 1], ['append', 'x', 2], ['r', 'x', [1, 2]]])
    .complete(0, 'ok')
    .complete(1, 'ok')
    .txn(2, [['r', 'y', [1, 2]]]);
  const result = await run(h, 'read-committed');
  t.equal(result.valid, false);
  t.ok(result.anomalyTypes.includes('G0'), 'the ww-only cycle');
  const cycle = anomalyOf(result, 'G1c').details?.cycle;
  t.same(cycle?.edges.map((e) => e.type).sort(), ['wr', 'ww']);
  t.ok(cycle?.edges.some((e) => e.why === 'T2 appended 1 to key "x"; T3 read key "x" ending in 1; so T2 wr-> T3'));
});

t.test('G1c-process and G1c-realtime', async (t) => {
  const sameProcess = new HistoryBuilder().txn(0, [['append', 'y', 1], ['r', 'x', [1]]]).txn(0, [['append', 'x', 1]]);
  const session = await run(sameProcess, 'strong-session-serializable');
  const cycle = anomalyOf(session, 'G1c-process').details?.cycle;
  t.same(cycle?.edges.map((e) => e.type).sort(), ['process', 'wr']);

  const otherProcess = new HistoryBuilder().txn(0, [['append', 'y', 1], ['r', 'x', [1]]]).txn(1, [['append', 'x', 1]]);
  anomalyOf(await run(otherProcess), 'G1c-realtime');
  t.equal((await run(otherProcess, 'strong-session-serializable')).valid, true);
});

/** Builds A rw-> B rw-> C -> A, where C precedes A on the same process or only in real time. */
function antiDependencyChain(sameProcess: boolean): HistoryBuilder {
  const cProcess = sameProcess ? 0 : 2;
  return new HistoryBuilder()
    .invoke(1, [['append', 'x', 1], ['r', 'y', []]])
    .txn(cProcess, [['append', 'y', 1]])
    .txn(0, [['r', 'x', []]])
    .complete(1, 'ok')
    .txn(3, [['r', 'x', [1]], ['r', 'y', [1]]]);
}

t.test('G2-item-process and G2-item-realtime', async (t) => {
  const session = await run(antiDependencyChain(true), 'strong-session-serializable');
  t.equal(session.valid, false);
  const cycle = anomalyOf(session, 'G2-item-process').details?.cycle;
  t.same(cycle?.edges.map((e) => e.type).sort(), ['process', 'rw', 'rw']);
  t.notOk(session.anomalyTypes.some((kind) => kind.startsWith('G-single')), 'every cycle has two rw edges');

  const strict = await run(antiDependencyChain(false));
  anomalyOf(strict, 'G2-item-realtime');
  t.equal((await run(antiDependencyChain(false), 'strong-session-serializable')).valid, true);
});

t.test('G1a aborted read', async (t) => {
  const h = new HistoryBuilder()
    .txn(0, [['append', 'x', 1]], 'fail')
    .txn(1, [['append', 'y', 1]])
    .txn(2, [['r', 'x', [1]], ['r', 'y', [1]]]);
  const result = await run(h, 'read-committed');
  t.equal(result.valid, false);
  const anomaly = anomalyOf(result, 'G1a');
  t.match(anomaly.explanation, /T5 read key "x" as \[1\], which includes 1; T1 appended 1 but failed/);
  t.same(anomaly.opIndexes, [1, 5]);
  t.equal((await run(h, 'read-uncommitted')).valid, true);
});

t.test('reads of info txns are not flagged', async (t) => {
  const h = new HistoryBuilder()
    .txn(0, [['append', 'x', 1]], 'info')
    .invoke(1, [['append', 'x', 2]])
    .txn(2, [['r', 'x', [1, 2]]])
    .txn(3, [['r', 'x', [1, 2]]]);
  const result = await run(h);
  t.equal(result.valid, true, 'an info txn may have committed, and an unfinished one may too');
  t.same(result.anomalyTypes, []);
  t.equal(result.stats?.infoTxnCount, 2);
});

t.test('unread appends of info and fail txns are not lost', async (t) => {
  const h = new HistoryBuilder()
    .txn(0, [['append', 'x', 1]], 'info')
    .txn(1, [['append', 'x', 2]], 'fail')
    .txn(2, [['append', 'x', 3]])
    .txn(3, [['r', 'x', [3]]]);
  const result = await run(h);
  t.equal(result.valid, true);
  t.same(result.anomalyTypes, []);
});

t.test('G1b intermediate read', async (t) => {
  const h = new HistoryBuilder()
    .invoke(0, [['append', 'x', 1], ['append', 'x', 2]])
    .invoke(1, [['r', 'x', [1]]])
    .complete(0, 'ok')
    .complete(1, 'ok');
  const result = await run(h, 'read-committed');
  t.equal(result.valid, false);
  const anomaly = anomalyOf(result, 'G1b');
  t.match(anomaly.explanation, /T3 read key "x" ending in 1, but T2 appended 1 and then more values/);
});

t.test('dirty update over an aborted append', async (t) => {
  const h = new HistoryBuilder().txn(0, [['append', 'x', 1]], 'fail').txn(1, [['append', 'x', 2]]).txn(2, [['r', 'x', [1, 2]]]);
  const result = await run(h, 'read-committed');
  const anomaly = anomalyOf(result, 'dirty-update');
  t.match(anomaly.explanation, /contains 1, appended by T1 which failed, followed by 2 from T3/);
  t.ok(result.anomalyTypes.includes('G1a'));
});

t.test('duplicate elements in a read', async (t) => {
  const h = new HistoryBuilder().txn(0, [['append', 'x', 1]]).txn(1, [['r', 'x', [1, 1]]]);
  const result = await run(h, 'read-uncommitted');
  t.equal(result.valid, false);
  t.match(anomalyOf(result, 'duplicate-elements').explanation, /contains 1 more than once/);
});

t.test('internal inconsistency', async (t) => {
  const ownAppendMissing = new HistoryBuilder().txn(0, [['append', 'x', 1], ['r', 'x', [5]]]).txn(1, [['append', 'x', 5]]);
  const first = await run(ownAppendMissing, 'read-uncommitted');
  t.match(anomalyOf(first, 'internal').explanation, /T1 read key "x" as \[5\], but it expected a list ending in \[1\]/);

  const rereadChanged = new HistoryBuilder().txn(0, [['r', 'x', []], ['append', 'x', 1], ['r', 'x', [1, 1]]]);
  const second = await run(rereadChanged, 'read-uncommitted');
  t.match(anomalyOf(second, 'internal').explanation, /it expected exactly \[1\]/);

  const consistent = new HistoryBuilder()
    .txn(0, [['append', 'x', 1], ['r', 'x', [1]], ['append', 'x', 2], ['r', 'x', [1, 2]]])
    .txn(1, [['r', 'x', [1, 2]]]);
  t.equal((await run(consistent)).valid, true, 'a txn that reads its own appends is fine');
});

t.test('incompatible orders', async (t) => {
  const h = new HistoryBuilder()
    .txn(0, [['append', 'x', 1]])
    .txn(1, [['append', 'x', 2]])
    .txn(2, [['r', 'x', [1, 2]]])
    .txn(3, [['r', 'x', [2]]]);
  const result = await run(h, 'read-uncommitted');
  t.equal(result.valid, false);
  t.match(anomalyOf(result, 'incompatible-order').explanation, /key "x" has no single version order: T7 read \[2\] but T5 read \[1 2\]/);
});

t.test('lost append in final reads', async (t) => {
  const h = new HistoryBuilder().txn(0, [['append', 'x', 1]]).txn(1, [['append', 'x', 2]]).txn(2, [['r', 'x', [2]]]);
  const result = await run(h);
  t.equal(result.valid, false);
  t.match(
    anomalyOf(result, 'lost-append').explanation,
    /T1 appended 1 to key "x" and committed, but no read ever saw 1, although the final read T5 started after every append had finished and read \[2\]/,
  );
  t.equal((await run(h, 'serializable')).valid, true, 'a serializable order may put the reads first');
});

t.test('unread append before more appends is not lost', async (t) => {
  // Elle orders only observed values, so a read that misses an append is no anomaly unless it is a
  // final read. The read of "x" here is followed by another append, so it is not final.
  const h = new HistoryBuilder()
    .txn(0, [['append', 'x', 1]])
    .txn(1, [['r', 'x', []]])
    .txn(0, [['append', 'y', 1]])
    .txn(1, [['r', 'y', [1]]]);
  const result = await run(h);
  t.equal(result.valid, true, result.summary);
  t.equal(result.anomalyCounts['lost-append'], undefined);

  const withFinalRead = new HistoryBuilder().txn(0, [['append', 'x', 1]]).txn(0, [['append', 'y', 1]]).txn(1, [['r', 'x', []], ['r', 'y', [1]]]);
  const lost = await run(withFinalRead);
  t.equal(lost.valid, false, 'the same miss in a final read is a lost append');
  t.equal(lost.anomalyCounts['lost-append'], 1);
  t.equal(lost.anomalyCounts['G-single-realtime'], 1, 'the final read also precedes the writer through an rw edge');
});

t.test('garbage read of a value never appended', async (t) => {
  const h = new HistoryBuilder().txn(0, [['r', 'x', [9]]]);
  const result = await run(h, 'read-uncommitted');
  t.equal(result.valid, false);
  t.match(anomalyOf(result, 'garbage-read').explanation, /read 9 in key "x", but no txn appended 9/);
});

t.test('valid concurrent history', async (t) => {
  const h = new HistoryBuilder()
    .invoke(0, [['append', 1, 1], ['r', 2, []]])
    .invoke(1, [['append', 2, 1], ['r', 1, [1]]])
    .complete(0, 'ok')
    .complete(1, 'ok')
    .txn(0, [['r', 1, [1]], ['r', 2, [1]], ['append', 1, 2]])
    .txn(1, [['r', 1, [1, 2]]]);
  const result = await run(h);
  t.equal(result.valid, true);
  t.same(result.anomalies, []);
  t.same(result.notModels, []);
  t.equal(result.stats?.txnCount, 4);
  t.equal(result.stats?.keyCount, 2);
  t.equal(result.stats?.sccCount, 0);
});

t.test('exhausted budget gives unknown', async (t) => {
  const result = await checkListAppend(writeSkew().ops, { consistency: 'read-committed', timeLimitMs: 0 });
  t.equal(result.valid, 'unknown', 'the G2-item found does not rule out read-committed, and G0/G1c searches did not run');
  t.match(result.unknownReason, /component of 2 txns ran past its 0 ms budget while looking for G0 cycles/);

  const decided = await checkListAppend(writeSkew().ops, { consistency: 'serializable', timeLimitMs: 0 });
  t.equal(decided.valid, false, 'a cycle found before the budget still rules the model out');
});

t.test('malformed input raises ListAppendInputError', async (t) => {
  const duplicate = new HistoryBuilder().txn(0, [['append', 'x', 1]]).txn(1, [['append', 'x', 1]]);
  await t.rejects(checkListAppend(duplicate.ops, {}), { name: 'ListAppendInputError', message: /value 1 is appended by both T1 and T3/ });

  const badOp = [{ index: 0, time: 0, process: 0, type: 'invoke' as const, f: 'txn', value: [['write', 'x', 1]] }];
  await t.rejects(checkListAppend(badOp, {}), { name: 'ListAppendInputError', message: /micro-op function "write" is unknown; use append or r/ });

  const orphan = [{ index: 0, time: 0, process: 0, type: 'ok' as const, f: 'txn', value: [] }];
  await t.rejects(checkListAppend(orphan, {}), { name: 'ListAppendInputError', message: /has no matching invoke/ });

  await t.rejects(checkListAppend([], { consistency: 'linearizable' as ConsistencyModel }), { message: /unknown consistency model "linearizable"/ });

  const register = [{ index: 0, time: 0, process: 0, type: 'invoke' as const, f: 'read', key: 'k', value: null }];
  await t.rejects(checkListAppend(register, {}), { name: 'ListAppendInputError', message: /found f="read" but no txn ops; this is not a list-append history/ });
});

t.test('examples capped, counts kept', async (t) => {
  const h = new HistoryBuilder().txn(0, [['append', 'y', 1]]);
  for (let value = 1; value <= 20; value++) h.txn(1, [['append', 'x', value]], 'fail');
  for (let value = 1; value <= 20; value++) {
    const list = Array.from({ length: value }, (_, i) => i + 1);
    h.txn(2, [['r', 'x', list], ['r', 'y', [1]]]);
  }
  const result = await run(h, 'read-committed');
  t.equal(result.valid, false);
  t.equal(result.anomalyCounts['G1a'], 20, 'every aborted read is counted');
  t.equal(result.anomalies.filter((a) => a.kind === 'G1a').length, EXAMPLES_PER_KIND_MAX, 'only the first few are kept');
  t.match(result.summary, /G1a \(20\)/);
});
