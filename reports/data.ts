// Pure report data from a run's metadata, history and checker results. The HTML page only draws it.
import type { Op, OpType, ProcessId } from '../checker/history/types.js';
import { mergeValidity, type CheckResult, type Validity } from '../checker/result.js';
import { pairOps, type OpPair } from '../checker/op-pairs.js';
import { opIndexesToShow, viewAnomaly, type OpLookup } from './anomaly-view.js';
import { buildFaultBands } from './faults.js';
import { clipText, previewJson, previewText } from './preview.js';
import { buildLatencyBins, buildThroughputBins, chooseBinNs } from './series.js';
import {
  TIMELINE_TYPE_CODES,
  type FunctionCounts,
  type ReportData,
  type ResultView,
  type RunMeta,
  type TimelineData,
} from './types.js';

/** Anomalies shown per checker result; the count of all of them is shown too. */
export const ANOMALIES_SHOWN_MAX = 8;
/** Client ops drawn on the timeline; the page states how many later ops it left out. */
export const TIMELINE_OPS_MAX = 250_000;
/** History problems listed on the page. */
export const PROBLEMS_SHOWN_MAX = 20;

const LABEL_CHARS_MAX = 60;
/** Extra result fields whose preview is longer than this are left out of the page. */
const EXTRA_FIELD_CHARS_MAX = 20_000;
const STANDARD_RESULT_FIELDS = new Set(['checker', 'valid', 'summary', 'anomalies', 'unknownReason', 'stats']);

/** Builds everything the report page shows. Pure: the same inputs give the same data. */
export function buildReportData(meta: RunMeta, ops: Op[], results: CheckResult[]): ReportData {
  const historyEndNs = ops.reduce((latest, op) => Math.max(latest, op.time), 0);
  const { pairs, problems } = pairOps(ops);
  const clientPairs = pairs.filter((pair) => pair.invoke.process !== 'nemesis');
  const nemesisPairs = pairs.filter((pair) => pair.invoke.process === 'nemesis');
  const binNs = chooseBinNs(historyEndNs);
  const verdict = results.length > 0 ? mergeValidity(results.map((result) => result.valid)) : (meta.valid ?? 'unknown');

  const shownProblems = problems.slice(0, PROBLEMS_SHOWN_MAX);
  if (problems.length > PROBLEMS_SHOWN_MAX) shownProblems.push(`… and ${problems.length - PROBLEMS_SHOWN_MAX} more problems`);

  return {
    formatVersion: 1,
    run: { ...meta, durationNs: historyEndNs },
    verdict,
    verdictText: describeVerdict(verdict, results),
    counts: countOps(ops, pairs),
    results: results.map((result) => viewResult(result, ops, pairs)),
    timeline: buildTimeline(clientPairs, historyEndNs),
    faults: buildFaultBands(nemesisPairs, historyEndNs),
    binNs,
    latency: buildLatencyBins(clientPairs, binNs),
    throughput: buildThroughputBins(clientPairs, binNs, historyEndNs),
    problems: shownProblems,
  };
}

/**
 * Returns a preview of an extra result field, or a note in its place when even the preview is
 * large (for example a list of failures that the anomalies already show).
 */
function boundedExtra(value: unknown): unknown {
  const preview = previewJson(value);
  const bytes = JSON.stringify(preview)?.length ?? 0;
  if (bytes <= EXTRA_FIELD_CHARS_MAX) return preview;
  return `${bytes} characters left out of the report; see results.json`;
}

function describeVerdict(verdict: Validity, results: CheckResult[]): string {
  if (results.length === 0) return 'Unknown: no checker results, so the run was not checked (it may have stopped early)';
  const names = (valid: Validity): string =>
    results
      .filter((result) => result.valid === valid)
      .map((result) => result.checker)
      .join(', ');
  if (verdict === false) return `Invalid: anomalies found by ${names(false)}`;
  if (verdict === 'unknown') return `Unknown: ${names('unknown')} could not decide`;
  return `Valid: ${results.length} checker${results.length === 1 ? '' : 's'} found no anomalies`;
}

function countOps(ops: Op[], pairs: OpPair[]): ReportData['counts'] {
  const byType: Record<OpType, number> = { invoke: 0, ok: 0, fail: 0, info: 0 };
  const processes = new Set<ProcessId>();
  let nemesisOpCount = 0;
  for (const op of ops) {
    byType[op.type]++;
    processes.add(op.process);
    if (op.process === 'nemesis') nemesisOpCount++;
  }

  const byF = new Map<string, FunctionCounts>();
  for (const { invoke, completion } of pairs) {
    const client = invoke.process !== 'nemesis';
    const name = `${client ? 'client' : 'nemesis'}:${invoke.f}`;
    let counts = byF.get(name);
    if (counts === undefined) byF.set(name, (counts = { f: invoke.f, client, invoke: 0, ok: 0, fail: 0, info: 0, pending: 0 }));
    counts.invoke++;
    if (completion === undefined || completion.type === 'invoke') counts.pending++;
    else counts[completion.type]++;
  }

  return {
    opCount: ops.length,
    clientOpCount: ops.length - nemesisOpCount,
    nemesisOpCount,
    processCount: [...processes].filter((process) => process !== 'nemesis').length,
    byType,
    byF: [...byF.values()].sort((a, b) => Number(b.client) - Number(a.client) || a.f.localeCompare(b.f)),
  };
}

function viewResult(result: CheckResult, ops: Op[], pairs: OpPair[]): ResultView {
  const shownAnomalies = result.anomalies.slice(0, ANOMALIES_SHOWN_MAX);
  const neededIndexes = new Set(shownAnomalies.flatMap(opIndexesToShow));
  const lookup: OpLookup = { byIndex: new Map(), completionByInvokeIndex: new Map() };
  for (const op of ops) if (neededIndexes.has(op.index)) lookup.byIndex.set(op.index, op);
  for (const { invoke, completion } of pairs) {
    if (completion !== undefined && neededIndexes.has(invoke.index)) lookup.completionByInvokeIndex.set(invoke.index, completion);
  }

  const extraEntries = Object.entries(result)
    .filter(([field]) => !STANDARD_RESULT_FIELDS.has(field))
    .map(([field, value]) => [field, boundedExtra(value)]);
  return {
    checker: result.checker,
    valid: result.valid,
    summary: result.summary,
    unknownReason: result.unknownReason,
    stats: result.stats ?? {},
    anomalyCount: result.anomalies.length,
    anomalies: shownAnomalies.map((anomaly) => viewAnomaly(anomaly, lookup)),
    extra: extraEntries.length > 0 ? (previewJson(Object.fromEntries(extraEntries)) as Record<string, unknown>) : undefined,
  };
}

/** Lays client ops out in lanes: a process takes the lowest lane free since before its first op. */
function buildTimeline(clientPairs: OpPair[], historyEndNs: number): TimelineData {
  const drawnPairs = clientPairs.slice(0, TIMELINE_OPS_MAX);
  const laneByProcess = assignLanes(drawnPairs, historyEndNs);
  const laneLabels: string[][] = [];
  for (const [process, lane] of laneByProcess) (laneLabels[lane] ??= []).push(String(process));

  const fNames: string[] = [];
  const fCodes = new Map<string, number>();
  const timeline: TimelineData = {
    laneCount: laneLabels.length,
    laneLabels: laneLabels.map((processes) => (processes.length <= 3 ? processes.join(' ') : `${processes[0]} +${processes.length - 1}`)),
    fNames,
    startNs: [],
    endNs: [],
    lane: [],
    type: [],
    fCode: [],
    process: [],
    invokeIndex: [],
    completionIndex: [],
    label: [],
    opCountTotal: clientPairs.length,
  };

  for (const { invoke, completion } of drawnPairs) {
    let fCode = fCodes.get(invoke.f);
    if (fCode === undefined) {
      fCode = fNames.push(invoke.f) - 1;
      fCodes.set(invoke.f, fCode);
    }
    const type = completion === undefined || completion.type === 'invoke' ? 'pending' : completion.type;
    timeline.startNs.push(invoke.time);
    timeline.endNs.push(completion?.time ?? -1);
    timeline.lane.push(laneByProcess.get(invoke.process)!);
    timeline.type.push(TIMELINE_TYPE_CODES[type]);
    timeline.fCode.push(fCode);
    timeline.process.push(invoke.process);
    timeline.invokeIndex.push(invoke.index);
    timeline.completionIndex.push(completion?.index ?? -1);
    timeline.label.push(opLabel(invoke, completion));
  }
  return timeline;
}

function assignLanes(pairs: OpPair[], historyEndNs: number): Map<ProcessId, number> {
  const spans = new Map<ProcessId, { startNs: number; endNs: number }>();
  for (const { invoke, completion } of pairs) {
    const endNs = completion?.time ?? historyEndNs;
    const span = spans.get(invoke.process);
    if (span === undefined) spans.set(invoke.process, { startNs: invoke.time, endNs });
    else span.endNs = Math.max(span.endNs, endNs);
  }

  const laneEndsNs: number[] = [];
  const laneByProcess = new Map<ProcessId, number>();
  const ordered = [...spans].sort((a, b) => a[1].startNs - b[1].startNs);
  for (const [process, span] of ordered) {
    let lane = laneEndsNs.findIndex((endNs) => endNs < span.startNs);
    if (lane < 0) lane = laneEndsNs.push(span.endNs) - 1;
    else laneEndsNs[lane] = span.endNs;
    laneByProcess.set(process, lane);
  }
  return laneByProcess;
}

function opLabel(invoke: Op, completion: Op | undefined): string {
  const value = completion?.type === 'ok' && completion.value !== undefined ? completion.value : invoke.value;
  const parts = [invoke.key === undefined ? '' : `key ${invoke.key}`, previewText(value, LABEL_CHARS_MAX), completion?.error ?? ''];
  return clipText(parts.filter((part) => part.length > 0).join(' '), LABEL_CHARS_MAX);
}
