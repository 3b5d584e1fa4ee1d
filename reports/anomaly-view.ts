// Anomalies as the report shows them: the ops they name, bounded details, and the two shapes the
// page draws specially (a linearizability failure and an Elle dependency cycle).
import type { Op } from '../checker/history/types.js';
import type { Anomaly } from '../checker/result.js';
import { clipText, previewJson, previewText } from './preview.js';
import type { AnomalyView, CycleView, LinearizabilityView, OpView } from './types.js';

/** Ops listed under one anomaly. */
export const ANOMALY_OPS_MAX = 20;
/** Ops of a linearized prefix listed, counted back from the failing op. */
export const PREFIX_OPS_MAX = 12;
/** Ops of a shrunk failing history listed. */
export const MINIMAL_HISTORY_OPS_MAX = 40;

const OP_VALUE_CHARS_MAX = 300;
/** Detail fields the linearizability view already shows, left out of the generic details. */
const LINEARIZABILITY_FIELDS = ['op', 'completion', 'explanation', 'linearizedPrefix', 'statesBefore', 'minimalHistory', 'minimalHistoryComplete'];

/** The history ops an anomaly view may name, found in one pass over the history. */
export interface OpLookup {
  byIndex: Map<number, Op>;
  /** The completion of each needed invocation, so the page can show what the op returned. */
  completionByInvokeIndex: Map<number, Op>;
}

/** Returns the history indexes of the ops an anomaly view needs to look up. */
export function opIndexesToShow(anomaly: Anomaly): number[] {
  const indexes = (anomaly.opIndexes ?? []).slice(0, ANOMALY_OPS_MAX);
  const prefix = linearizedPrefixOf(anomaly.details);
  if (prefix !== undefined) indexes.push(...prefix.slice(-PREFIX_OPS_MAX));
  return indexes;
}

export function viewAnomaly(anomaly: Anomaly, lookup: OpLookup): AnomalyView {
  const opIndexes = anomaly.opIndexes ?? [];
  const ops = [...new Set(opIndexes.slice(0, ANOMALY_OPS_MAX))]
    .sort((a, b) => a - b)
    .flatMap((index) => {
      const op = lookup.byIndex.get(index);
      return op === undefined ? [] : [viewOp(op)];
    });
  const linearizability = viewLinearizability(anomaly.details, lookup);

  let details = anomaly.details;
  if (linearizability !== undefined && typeof details === 'object' && details !== null) {
    details = Object.fromEntries(Object.entries(details).filter(([field]) => !LINEARIZABILITY_FIELDS.includes(field)));
  }
  return {
    kind: anomaly.kind,
    explanation: anomaly.explanation,
    opIndexes,
    ops,
    details: details === undefined ? undefined : previewJson(details),
    cycle: viewCycle(anomaly.details),
    linearizability,
  };
}

export function viewOp(op: Op): OpView {
  return {
    index: op.index,
    timeNs: op.time,
    process: String(op.process),
    type: op.type,
    f: op.f,
    key: op.key,
    value: previewText(op.value, OP_VALUE_CHARS_MAX),
    error: op.error,
  };
}

function linearizedPrefixOf(details: unknown): number[] | undefined {
  if (typeof details !== 'object' || details === null) return undefined;
  const prefix = (details as { linearizedPrefix?: unknown }).linearizedPrefix;
  if (!Array.isArray(prefix) || !prefix.every((index) => typeof index === 'number')) return undefined;
  return prefix as number[];
}

/**
 * Reads a linearizability failure ({key, linearizedPrefix, statesBefore, minimalHistory?}): the
 * ops linearized just before the failing op, the model states it could not take effect in, and
 * the shrunk history that still fails.
 */
function viewLinearizability(details: unknown, lookup: OpLookup): LinearizabilityView | undefined {
  const prefix = linearizedPrefixOf(details);
  if (prefix === undefined) return undefined;
  const record = details as { key?: unknown; statesBefore?: unknown; minimalHistory?: unknown; minimalHistoryComplete?: unknown };

  // Each prefix op is shown by its completion when it has one, because that carries what a read returned.
  const prefixOps = prefix.slice(-PREFIX_OPS_MAX).flatMap((index) => {
    const op = lookup.completionByInvokeIndex.get(index) ?? lookup.byIndex.get(index);
    return op === undefined ? [] : [viewOp(op)];
  });
  const states = Array.isArray(record.statesBefore) ? record.statesBefore : [];
  const minimal = Array.isArray(record.minimalHistory) ? (record.minimalHistory as Op[]) : [];
  return {
    key: record.key === undefined ? undefined : String(record.key),
    prefixLength: prefix.length,
    prefixOps,
    statesBefore: states.slice(0, 50).map((state) => (typeof state === 'string' ? clipText(state, 200) : previewText(state, 200))),
    minimalHistory: minimal.slice(0, MINIMAL_HISTORY_OPS_MAX).filter(isOpLike).map(viewOp),
    minimalHistoryLength: minimal.length,
    minimalHistoryComplete: record.minimalHistoryComplete === true,
  };
}

function isOpLike(value: unknown): value is Op {
  if (typeof value !== 'object' || value === null) return false;
  const op = value as Partial<Op>;
  return typeof op.index === 'number' && typeof op.time === 'number' && typeof op.type === 'string' && typeof op.f === 'string';
}

/**
 * Reads an Elle-style `details.cycle` ({txns: {index, process, value}[], edges: {from, to, type, why}[]}).
 * Edge ends may be op indexes of the txns or positions in the txns list; both become positions.
 */
function viewCycle(details: unknown): CycleView | undefined {
  if (typeof details !== 'object' || details === null) return undefined;
  const cycle = (details as { cycle?: unknown }).cycle;
  if (typeof cycle !== 'object' || cycle === null) return undefined;
  const { txns, edges } = cycle as { txns?: unknown; edges?: unknown };
  if (!Array.isArray(txns) || !Array.isArray(edges)) return undefined;

  const txnViews = txns.slice(0, 12).map((txn) => {
    const record = (typeof txn === 'object' && txn !== null ? txn : {}) as Record<string, unknown>;
    return { index: Number(record.index), process: String(record.process), value: previewText(record.value, 120) };
  });
  const positionOf = (end: unknown): number | undefined => {
    const byIndex = txnViews.findIndex((txn) => txn.index === end);
    if (byIndex >= 0) return byIndex;
    return typeof end === 'number' && Number.isInteger(end) && end >= 0 && end < txnViews.length ? end : undefined;
  };

  const edgeViews: CycleView['edges'] = [];
  for (const edge of edges.slice(0, 24)) {
    const record = (typeof edge === 'object' && edge !== null ? edge : {}) as Record<string, unknown>;
    const from = positionOf(record.from);
    const to = positionOf(record.to);
    if (from === undefined || to === undefined) continue;
    edgeViews.push({ from, to, type: clipText(String(record.type ?? ''), 24), why: clipText(String(record.why ?? ''), 300) });
  }
  return txnViews.length > 0 ? { txns: txnViews, edges: edgeViews } : undefined;
}

