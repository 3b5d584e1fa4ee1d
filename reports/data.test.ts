import t from 'tap';
import type { Op, OpType, ProcessId } from '../checker/history/types.js';
import type { CheckResult } from '../checker/result.js';
import { checkLinearizable } from '../checker/linearizable/index.js';
import { ANOMALIES_SHOWN_MAX, buildReportData } from './data.js';
import { PREFIX_OPS_MAX } from './anomaly-view.js';
import { previewJson } from './preview.js';
import { chooseBinNs } from './series.js';
import { syntheticRun } from './testing/synthetic-run.js';
import { TIMELINE_TYPE_CODES, type RunMeta } from './types.js';

const meta: RunMeta = {
  workload: 'register',
  seed: 7,
  options: { nodes: 3 },
  command: 'traft run register --seed 7',
  startedAt: '2026-12-04T20:00:00.000Z',
  versions: { traft: '0.1.0' },
  nodes: [],
};

type Step = [timeNs: number, process: ProcessId, type: OpType, f: string, value?: unknown];

function history(steps: Step[]): Op[] {
  return steps.map(([time, process, type, f, value], index) => ({ index, time, process, type, f, key: 'k', value }));
}

const passing: CheckResult = { checker: 'set', valid: true, summary: 'fine', anomalies: [] };

t.test('data: counts by f and type', async (t) => {
  const ops = history([
    [0, 0, 'invoke', 'read'],
    [10, 1, 'invoke', 'write', 1],
    [20, 0, 'ok', 'read', 1],
    [30, 1, 'info', 'write', 1],
    [40, 'nemesis', 'invoke', 'kill', [1]],
    [50, 'nemesis', 'info', 'kill', [1]],
    [60, 2, 'invoke', 'write', 2],
  ]);
  const data = buildReportData(meta, ops, [passing]);
  t.same(data.counts.byType, { invoke: 4, ok: 1, fail: 0, info: 2 });
  t.equal(data.counts.opCount, 7);
  t.equal(data.counts.nemesisOpCount, 2);
  t.equal(data.counts.processCount, 3);
  t.same(data.counts.byF, [
    { f: 'read', client: true, invoke: 1, ok: 1, fail: 0, info: 0, pending: 0 },
    { f: 'write', client: true, invoke: 2, ok: 0, fail: 0, info: 1, pending: 1 },
    { f: 'kill', client: false, invoke: 1, ok: 0, fail: 0, info: 1, pending: 0 },
  ]);
  t.equal(data.run.durationNs, 60);
});

t.test('data: verdict merges results', async (t) => {
  const failing: CheckResult = { checker: 'linearizable', valid: false, summary: 'bad', anomalies: [] };
  const undecided: CheckResult = { checker: 'elle', valid: 'unknown', summary: '?', anomalies: [], unknownReason: 'time limit' };
  const cases: { results: CheckResult[]; verdict: boolean | string; text: RegExp }[] = [
    { results: [passing], verdict: true, text: /^Valid: 1 checker found no anomalies/ },
    { results: [passing, undecided], verdict: 'unknown', text: /^Unknown: elle could not decide/ },
    { results: [passing, undecided, failing], verdict: false, text: /^Invalid: anomalies found by linearizable/ },
    { results: [], verdict: 'unknown', text: /no checker results/ },
  ];
  for (const c of cases) {
    const data = buildReportData(meta, [], c.results);
    t.equal(data.verdict, c.verdict, `${c.text}: verdict`);
    t.match(data.verdictText, c.text);
  }
});

t.test('data: fault bands pair by target', async (t) => {
  const ops = history([
    [100, 'nemesis', 'invoke', 'kill', [1]],
    [110, 'nemesis', 'info', 'kill', [1]],
    [120, 'nemesis', 'invoke', 'kill', [2]],
    [130, 'nemesis', 'info', 'kill', [2]],
    [200, 'nemesis', 'invoke', 'restart', [2]],
    [210, 'nemesis', 'info', 'restart', [2]],
    [300, 'nemesis', 'invoke', 'partition', { kind: 'halves', groups: [[1], [2, 3]] }],
    [310, 'nemesis', 'info', 'partition', { kind: 'halves', groups: [[1], [2, 3]] }],
    [400, 'nemesis', 'invoke', 'heal', null],
    [410, 'nemesis', 'info', 'heal', null],
    [500, 'nemesis', 'invoke', 'pause', [3]],
    [510, 'nemesis', 'info', 'pause', [3]],
    [600, 'nemesis', 'invoke', 'resume', null],
    [610, 'nemesis', 'info', 'resume', null],
    [900, 0, 'invoke', 'read'],
  ]);
  const bands = buildReportData(meta, ops, []).faults;
  t.equal(bands.length, 4);

  const [kill1, kill2, partition, pause] = bands;
  t.same([kill1.f, kill1.startNs, kill1.endNs, kill1.healed, kill1.targets], ['kill', 100, 900, false, 'node 1'], 'kill 1 never restarted');
  t.same([kill2.f, kill2.startNs, kill2.endNs, kill2.healed, kill2.endF], ['kill', 120, 210, true, 'restart'], 'kill 2 ends at its restart');
  t.same([partition.startNs, partition.endNs, partition.endIndex], [300, 410, 9], 'heal without targets ends the partition');
  t.match(partition.targets, /halves/, 'a value without targets is shown as JSON');
  t.same([pause.startNs, pause.endNs, pause.healed], [500, 610, true], 'resume without targets ends the pause');
});

t.test('data: retired processes share a lane', async (t) => {
  const ops = history([
    [0, 0, 'invoke', 'write', 1],
    [5, 1, 'invoke', 'write', 2],
    [10, 0, 'info', 'write', 1],
    [20, 2, 'invoke', 'read'], // replaces process 0 after its info op
    [25, 1, 'ok', 'write', 2],
    [30, 2, 'ok', 'read', 1],
  ]);
  const { timeline } = buildReportData(meta, ops, []);
  t.equal(timeline.laneCount, 2);
  t.same(timeline.lane, [0, 1, 0]);
  t.same(timeline.laneLabels, ['0 2', '1']);
  t.same(timeline.type, [TIMELINE_TYPE_CODES.info, TIMELINE_TYPE_CODES.ok, TIMELINE_TYPE_CODES.ok]);
  t.same(timeline.startNs, [0, 5, 20]);
  t.same(timeline.endNs, [10, 25, 30]);
  t.same(timeline.invokeIndex, [0, 1, 3]);
  t.same(timeline.completionIndex, [2, 4, 5]);
  t.same(timeline.fNames, ['write', 'read']);
  t.match(timeline.label[2], /^key k 1$/);
});

t.test('data: pending ops and malformed spots', async (t) => {
  const ops = history([
    [0, 0, 'invoke', 'write', 1],
    [5, 1, 'ok', 'write', 2],
  ]);
  const data = buildReportData(meta, ops, []);
  t.same(data.timeline.endNs, [-1]);
  t.same(data.timeline.type, [TIMELINE_TYPE_CODES.pending]);
  t.equal(data.problems.length, 1);
  t.match(data.problems[0], /op 1: ok write on process 1 has no matching invoke/);
});

t.test('data: latency and throughput bins', async (t) => {
  // Ten ok ops with latencies 1..10 ms, all invoked in the first bin; two failures later.
  const steps: Step[] = [];
  for (let i = 1; i <= 10; i++) steps.push([0, i, 'invoke', 'read'], [i * 1e6, i, 'ok', 'read', 0]);
  steps.push([100e6, 20, 'invoke', 'write', 1], [150e6, 20, 'fail', 'write', 1], [199e6, 21, 'invoke', 'write', 1], [200e6, 21, 'fail', 'write', 1]);
  const ops = history(steps.sort((a, b) => a[0] - b[0]));
  const data = buildReportData(meta, ops, []);

  t.equal(data.binNs, 1e6, '200 ms spans about 200 bins of 1 ms');
  t.equal(data.latency.length, 1, 'failed ops have no latency bin');
  t.same(data.latency[0], { startNs: 0, count: 10, p50Ns: 5e6, p95Ns: 10e6, p99Ns: 10e6, maxNs: 10e6 });

  const completions = data.throughput.reduce((sum, bin) => sum + bin.ok + bin.fail + bin.info, 0);
  t.equal(completions, 12);
  t.equal(data.throughput.length, 201);
  t.equal(data.throughput[150].fail, 1);
  t.equal(data.throughput[200].fail, 1);
});

t.test('data: bin widths', async (t) => {
  const cases: [durationNs: number, binNs: number][] = [
    [0, 1],
    [200, 1],
    [60e9, 500e6],
    [30e9, 200e6],
    [1e9, 5e6],
  ];
  for (const [durationNs, binNs] of cases) t.equal(chooseBinNs(durationNs), binNs, `${durationNs} ns`);
});

t.test('data: anomalies keep ops and cycles', async (t) => {
  const run = syntheticRun({ clientOpCount: 400, concurrency: 5, seed: 3 });
  const data = buildReportData(run.meta, run.ops, run.results);
  t.equal(data.verdict, false);

  const linearizable = data.results[0];
  t.equal(linearizable.anomalyCount, 1);
  const anomaly = linearizable.anomalies[0];
  t.same(anomaly.ops.map((op) => op.index), run.results[0].anomalies[0].opIndexes);
  t.equal(anomaly.ops[1].type, 'ok');
  const view = anomaly.linearizability!;
  const prefix = (run.results[0].anomalies[0].details as { linearizedPrefix: number[] }).linearizedPrefix;
  t.equal(view.key, anomaly.ops[0].key);
  t.equal(view.prefixLength, prefix.length);
  t.equal(view.prefixOps.length, PREFIX_OPS_MAX, 'the last prefix ops');
  t.ok(view.prefixOps.every((op) => op.type === 'ok' && op.key === view.key), 'shown by their ok completions');
  const completionOf = (invokeIndex: number): number =>
    run.ops.find((op) => op.index > invokeIndex && op.process === run.ops[invokeIndex].process)!.index;
  t.same(view.prefixOps.map((op) => op.index), prefix.slice(-PREFIX_OPS_MAX).map(completionOf));
  t.same(view.statesBefore, ['0', '3']);
  t.same(view.minimalHistory.map((op) => op.index), anomaly.opIndexes);
  t.equal(view.minimalHistoryComplete, true);
  t.same(anomaly.details, { key: view.key }, 'fields shown by the view leave the generic details');

  const elle = data.results[2];
  t.same(elle.extra, { notModels: ['snapshot-isolation', 'serializable'] });
  const cycle = elle.anomalies[0].cycle!;
  t.same(cycle.edges.map((edge) => [edge.from, edge.to, edge.type]), [[0, 1, 'rw'], [1, 0, 'wr']]);
  t.equal(cycle.txns[0].value, '[["r",3,[1]],["append",4,2]]');
});

t.test('data: anomalies capped per result', async (t) => {
  const many: CheckResult = {
    checker: 'bank',
    valid: false,
    summary: 'bad',
    anomalies: Array.from({ length: ANOMALIES_SHOWN_MAX + 4 }, (_, i) => ({ kind: 'wrong-total', explanation: `read ${i}` })),
  };
  const view = buildReportData(meta, [], [many]).results[0];
  t.equal(view.anomalyCount, ANOMALIES_SHOWN_MAX + 4);
  t.equal(view.anomalies.length, ANOMALIES_SHOWN_MAX);
});

t.test('data: previews bound large values', async (t) => {
  const limits = { stringCharsMax: 5, arrayItemsMax: 2, objectKeysMax: 1, depthMax: 2 };
  t.same(previewJson('abcdefgh', limits), 'abcd…');
  t.same(previewJson([1, 2, 3, 4], limits), [1, 2, '… 2 more']);
  t.same(previewJson({ a: 1, b: 2 }, limits), { a: 1, '…': '1 more keys' });
  t.same(previewJson([[[1]]], limits), [['…']]);
  t.same(previewJson({ n: Number.NaN, u: undefined }, { ...limits, objectKeysMax: 5 }), { n: 'NaN', u: 'undefined' });
});

t.test('data: large extra fields left out', async (t) => {
  const result = { checker: 'linearizable', valid: true, summary: 'ok', anomalies: [], failures: Array.from({ length: 100 }, () => 'x'.repeat(400)), keys: 3 };
  const view = buildReportData(meta, [], [result as CheckResult]).results[0];
  t.equal(view.extra?.keys, 3);
  t.match(view.extra?.failures, /^\d+ characters left out of the report; see results\.json$/);
});

t.test('data: pure for the same inputs', async (t) => {
  const run = syntheticRun({ clientOpCount: 300, concurrency: 4, seed: 11 });
  t.same(buildReportData(run.meta, run.ops, run.results), buildReportData(run.meta, run.ops, run.results));
});

// The linearizability checker's real failure shape must come out as the linearizability view.
t.test('data: real linearizability failure', async (t) => {
  const ops: Op[] = [
    { index: 0, time: 0, process: 0, type: 'invoke', f: 'write', key: 'x', value: 1 },
    { index: 1, time: 10, process: 0, type: 'ok', f: 'write', key: 'x', value: 1 },
    { index: 2, time: 20, process: 1, type: 'invoke', f: 'read', key: 'x', value: null },
    { index: 3, time: 30, process: 1, type: 'ok', f: 'read', key: 'x', value: 2 },
  ];
  const result = await checkLinearizable(ops, { model: 'cas-register', workers: 0 });
  t.equal(result.valid, false);

  const anomaly = buildReportData(meta, ops, [result]).results[0].anomalies[0];
  t.ok(anomaly.linearizability, 'the failure has a linearizability view');
  t.equal(anomaly.linearizability?.key, 'x');
  t.same(anomaly.linearizability?.prefixOps.map((op) => op.index), [1], 'the write, shown by its completion');
  t.ok((anomaly.linearizability?.statesBefore.length ?? 0) > 0, 'states listed');
  t.same(anomaly.ops.map((op) => op.index), [2, 3]);
});

t.test('data: controller nemesis values', async (t) => {
  // The controller records {targets, mode} or {targets, shape, cuts, groups}, and an error when a fault failed.
  const partition = { targets: [1, 2, 3], shape: 'majorities-ring', cuts: [[1, 2]], groups: [[1], [2, 3]] };
  const ops: Op[] = [
    { index: 0, time: 0, process: 'nemesis', type: 'invoke', f: 'partition', value: partition },
    { index: 1, time: 5, process: 'nemesis', type: 'info', f: 'partition', value: partition },
    { index: 2, time: 10, process: 'nemesis', type: 'invoke', f: 'pause', value: { targets: [4], mode: 'one' } },
    { index: 3, time: 15, process: 'nemesis', type: 'info', f: 'pause', value: { targets: [4], mode: 'one' }, error: 'failed: no such process' },
    { index: 4, time: 20, process: 'nemesis', type: 'invoke', f: 'heal', value: { targets: [1, 2, 3], shape: 'majorities-ring' } },
    { index: 5, time: 25, process: 'nemesis', type: 'info', f: 'heal', value: { targets: [1, 2, 3], shape: 'majorities-ring' } },
  ];
  const [partitionBand, pauseBand] = buildReportData(meta, ops, []).faults;
  t.equal(partitionBand.targets, 'nodes 1, 2, 3 (majorities-ring)');
  t.same([partitionBand.endNs, partitionBand.healed], [25, true]);
  t.equal(pauseBand.targets, 'node 4');
  t.equal(pauseBand.error, 'failed: no such process');
  t.equal(pauseBand.healed, false);
});
