// The list-append checker: infers version orders and dependency edges from a history of list-append
// txns, searches the dependency graph for cycles, and names the anomalies and the consistency models
// they rule out. The approach follows Kingsbury and Alvaro, "Elle: Inferring Isolation Anomalies
// from Experimental Observations" (VLDB 2020).
import type { Op } from '../history/types.js';
import { searchCycles, type CycleSearchResult } from './cycles.js';
import { addDataEdges, addProcessEdges, addRealtimeEdges } from './edges.js';
import { describeCycle, explainCycle } from './explain.js';
import { Findings } from './findings.js';
import { EdgeList, Graph, RW } from './graph.js';
import { checkInternalConsistency } from './internal.js';
import { modelIndex, modelsRuledOut, weakestRuledOut } from './models.js';
import { ListAppendInputError } from './normalize.js';
import { collectTxns } from './txns.js';
import { CONSISTENCY_MODELS, type CheckListAppendOptions, type ConsistencyModel, type ElleAnomaly, type ElleResult, type Txn } from './types.js';
import { analyzeVersions, buildKeyHistories } from './versions.js';

export { ListAppendInputError, normalizeListAppendOps, parseTxnValue } from './normalize.js';
export { parseConsistencyModel, modelsRuledOut } from './models.js';
export { CONSISTENCY_MODELS } from './types.js';
export type { CheckListAppendOptions, ConsistencyModel, CycleDetails, ElleAnomaly, ElleResult } from './types.js';

export const DEFAULT_CONSISTENCY: ConsistencyModel = 'strict-serializable';
export const DEFAULT_TIME_LIMIT_MS = 10_000;

/**
 * Checks a list-append history against a consistency model (default strict-serializable). Throws
 * ListAppendInputError when the history or the options are malformed. A component whose cycle
 * search runs past `timeLimitMs` makes the verdict `unknown`, unless an anomaly already rules the
 * model out.
 */
export async function checkListAppend(ops: Op[], options: CheckListAppendOptions = {}): Promise<ElleResult> {
  const consistency = options.consistency ?? DEFAULT_CONSISTENCY;
  const timeLimitMs = options.timeLimitMs ?? DEFAULT_TIME_LIMIT_MS;
  if (!(CONSISTENCY_MODELS as readonly string[]).includes(consistency)) {
    throw new ListAppendInputError(`unknown consistency model "${String(consistency)}"; use one of ${CONSISTENCY_MODELS.join(', ')}`);
  }
  if (!Number.isFinite(timeLimitMs) || timeLimitMs < 0) {
    throw new ListAppendInputError(`invalid time limit ${timeLimitMs} ms; give a non-negative number of milliseconds`);
  }
  const startedMs = performance.now();

  const txns = collectTxns(ops);
  const findings = new Findings();
  checkInternalConsistency(txns, findings);
  const keyMap = buildKeyHistories(txns);
  analyzeVersions(txns, keyMap, findings);
  const keys = [...keyMap.values()];

  const edges = new EdgeList();
  addDataEdges(txns, keys, edges);
  addProcessEdges(txns, edges);
  addRealtimeEdges(txns, edges);
  const graph = new Graph(txns.length, edges);

  const search = searchCycles(graph, txns, timeLimitMs);
  for (const cycle of search.cycles) {
    const details = describeCycle(graph, cycle.edges, txns, keys);
    findings.add({
      kind: cycle.kind,
      explanation: explainCycle(cycle.kind, details),
      opIndexes: details.txns.map((txn) => txn.index),
      details: { cycle: details },
    });
  }

  const result = buildResult({ consistency, timeLimitMs, txns, findings, edges, search });
  result.stats = {
    txnCount: txns.length,
    okTxnCount: txns.filter((txn) => txn.outcome === 'ok').length,
    infoTxnCount: txns.filter((txn) => txn.outcome === 'info').length,
    failTxnCount: txns.filter((txn) => txn.outcome === 'fail').length,
    keyCount: keys.length,
    edgeCount: edges.length,
    dataEdgeCount: countDataEdges(edges),
    sccCount: search.componentCount,
    unfinishedSccCount: search.unfinished.length,
    checkTimeMs: Math.round(performance.now() - startedMs),
  };
  return result;
}

function countDataEdges(edges: EdgeList): number {
  let count = 0;
  for (let e = 0; e < edges.length; e++) if (edges.type[e]! <= RW) count++;
  return count;
}

interface Analysis {
  consistency: ConsistencyModel;
  timeLimitMs: number;
  txns: readonly Txn[];
  findings: Findings;
  edges: EdgeList;
  search: CycleSearchResult;
}

/** Decides the verdict from the anomalies found and the unfinished searches, and lists what rules out which model. */
function buildResult({ consistency, timeLimitMs, txns, findings, edges, search }: Analysis): ElleResult {
  const kinds = findings.kinds().sort((a, b) => modelIndex(weakestRuledOut(a)) - modelIndex(weakestRuledOut(b)) || a.localeCompare(b));
  const notModels = CONSISTENCY_MODELS.filter((model) => kinds.some((kind) => modelsRuledOut(kind).includes(model)));
  const relevantKinds = kinds.filter((kind) => modelsRuledOut(kind).includes(consistency));
  const anomalies: ElleAnomaly[] = relevantKinds.flatMap((kind) =>
    findings.examplesOf(kind).map((anomaly) => ({ ...anomaly, details: { ...anomaly.details, notModels: modelsRuledOut(kind) } })),
  );
  const anomalyCounts: Record<string, number> = {};
  for (const kind of kinds) anomalyCounts[kind] = findings.count(kind);

  const blocking = search.unfinished.filter((component) => component.weakestModelIndex <= modelIndex(consistency));
  let valid: ElleResult['valid'] = true;
  let unknownReason: string | undefined;
  if (relevantKinds.length > 0) {
    valid = false;
  } else if (blocking.length > 0) {
    valid = 'unknown';
    unknownReason =
      `the cycle search in a component of ${blocking[0]!.size} txns ran past its ${timeLimitMs} ms budget ` +
      `while looking for ${blocking[0]!.search} cycles${blocking.length > 1 ? ` (and ${blocking.length - 1} more components)` : ''}; ` +
      'raise the time limit to decide';
  } else if (countDataEdges(edges) === 0) {
    // With no ww, wr or rw edge no txn's effects were observed, so a "valid" would claim what was never tested.
    valid = 'unknown';
    unknownReason =
      `no committed read observed another txn's append among ${txns.length} txns, so no ww, wr or rw dependency could be inferred; ` +
      'the history needs successful reads of appended keys';
  }

  return {
    checker: 'elle',
    valid,
    consistency,
    summary: summarize(valid, consistency, relevantKinds, kinds, anomalyCounts, txns.length, unknownReason),
    anomalies,
    ...(unknownReason === undefined ? {} : { unknownReason }),
    anomalyTypes: kinds,
    anomalyCounts,
    notModels,
  };
}

function summarize(
  valid: ElleResult['valid'],
  consistency: ConsistencyModel,
  relevantKinds: string[],
  kinds: string[],
  counts: Record<string, number>,
  txnCount: number,
  unknownReason: string | undefined,
): string {
  const list = (names: string[]): string => names.map((kind) => `${kind} (${counts[kind]})`).join(', ');
  const others = kinds.filter((kind) => !relevantKinds.includes(kind));
  const aside = others.length > 0 ? `; also found ${list(others)}, which only rule out stronger models` : '';
  if (valid === false) return `not ${consistency}: found ${list(relevantKinds)} in ${txnCount} txns${aside}`;
  if (valid === 'unknown') return `unknown whether ${consistency}: ${unknownReason}${aside}`;
  return `${consistency}: no anomaly ruling it out in ${txnCount} txns${aside}`;
}
