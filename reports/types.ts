// The run metadata the controller writes, and the report data built from a run.
import type { OpType, ProcessId } from '../checker/history/types.js';
import type { CheckResult, Validity } from '../checker/result.js';

/** One server process of a run. */
export interface RunNode {
  id: number;
  /** host:port the node serves clients on. */
  listen: string;
  dataDir: string;
  logPath: string;
}

/** The contents of run.json, written by the controller at the start of a run and updated at its end. */
export interface RunMeta {
  workload: string;
  seed: number;
  /** The validated `traft run` options. */
  options: Record<string, unknown>;
  /** The exact command that replays this run. */
  command: string;
  /** ISO 8601 start time. */
  startedAt: string;
  /** ISO 8601 end time; absent while running or after a crash. */
  endedAt?: string;
  /** Versions of traft, Node and anything else that shaped the run. */
  versions: Record<string, string>;
  nodes: RunNode[];
  valid?: Validity;
  runDir?: string;
}

/** The contents of results.json. */
export interface RunResults {
  valid: Validity;
  results: CheckResult[];
}

/** One op as the report shows it: every field is display text or a number. */
export interface OpView {
  index: number;
  timeNs: number;
  process: string;
  type: OpType;
  f: string;
  key?: string;
  /** The value as JSON text, clipped to a preview length. */
  value: string;
  error?: string;
}

/** A dependency cycle between transactions, drawn as a small diagram. */
export interface CycleView {
  txns: { index: number; process: string; value: string }[];
  /** `from` and `to` are positions in `txns`. */
  edges: { from: number; to: number; type: string; why: string }[];
}

/** A linearizability failure: what was linearized before the failing op and where it could not fit. */
export interface LinearizabilityView {
  key?: string;
  /** Ops linearized before the failing op, in all. */
  prefixLength: number;
  /** The last few of them, in linearization order, each shown by its completion when it has one. */
  prefixOps: OpView[];
  /** Model states the failing op could not take effect in, as text. */
  statesBefore: string[];
  /** The start of a shrunk history that still fails. */
  minimalHistory: OpView[];
  minimalHistoryLength: number;
  /** True when no single op can be dropped from the shrunk history without it passing. */
  minimalHistoryComplete: boolean;
}

export interface AnomalyView {
  kind: string;
  explanation: string;
  opIndexes: number[];
  /** The ops named by opIndexes that exist in the history, in history order. */
  ops: OpView[];
  /** The checker's details, bounded in size for the page (long arrays and strings are cut). */
  details?: unknown;
  cycle?: CycleView;
  linearizability?: LinearizabilityView;
}

export interface ResultView {
  checker: string;
  valid: Validity;
  summary: string;
  unknownReason?: string;
  stats: Record<string, number>;
  anomalyCount: number;
  /** The first few anomalies of the result. */
  anomalies: AnomalyView[];
  /** Fields a checker added beyond CheckResult (for example Elle's ruled-out models), bounded in size. */
  extra?: Record<string, unknown>;
}

/** Op counts for one f, by completion type; `pending` counts invocations that never completed. */
export interface FunctionCounts {
  f: string;
  client: boolean;
  invoke: number;
  ok: number;
  fail: number;
  info: number;
  pending: number;
}

/** Type codes of the timeline columns, so the page stores one small integer per op. */
export const TIMELINE_TYPE_CODES = { ok: 0, fail: 1, info: 2, pending: 3 } as const;

/**
 * Client ops as parallel columns (one entry per invocation), which keeps the embedded JSON small
 * enough for 100k-op histories. A lane is a row of the chart. Processes that never overlap in time
 * share a lane, so retired clients and their replacements fill one row.
 */
export interface TimelineData {
  laneCount: number;
  /** Per lane, its process ids as text, or the first id and how many more (`"7 +12"`) when over three. */
  laneLabels: string[];
  fNames: string[];
  startNs: number[];
  /** Completion time, or -1 when the op never completed. */
  endNs: number[];
  lane: number[];
  /** One of TIMELINE_TYPE_CODES. */
  type: number[];
  /** Index into fNames. */
  fCode: number[];
  process: ProcessId[];
  invokeIndex: number[];
  /** Completion op index, or -1 when the op never completed. */
  completionIndex: number[];
  /** Key and value preview for the hover text. */
  label: string[];
  /** Client ops in the history; larger than startNs.length when the timeline was cut at its limit. */
  opCountTotal: number;
}

/** A span during which a fault was (or may have been) in effect. */
export interface FaultBand {
  /** The starting fault: kill, pause, partition or stop. */
  f: string;
  startNs: number;
  endNs: number;
  /** False when no heal, resume, restart or start closed the fault before the history ended. */
  healed: boolean;
  /** The fault's targets as text. */
  targets: string;
  startIndex: number;
  endIndex?: number;
  /** The op that ended the fault. */
  endF?: string;
  /** Set when the nemesis reported that applying the fault failed, so it may never have been in effect. */
  error?: string;
}

/** Latency quantiles of ok client ops, binned by invocation time. */
export interface LatencyBin {
  startNs: number;
  count: number;
  p50Ns: number;
  p95Ns: number;
  p99Ns: number;
  maxNs: number;
}

/** Client completions per type, binned by completion time. */
export interface ThroughputBin {
  startNs: number;
  ok: number;
  fail: number;
  info: number;
}

export interface ReportData {
  formatVersion: 1;
  run: RunMeta & { durationNs: number };
  verdict: Validity;
  /** One line naming the verdict and which checkers decided it. */
  verdictText: string;
  counts: {
    opCount: number;
    clientOpCount: number;
    nemesisOpCount: number;
    processCount: number;
    byType: Record<OpType, number>;
    byF: FunctionCounts[];
  };
  results: ResultView[];
  timeline: TimelineData;
  faults: FaultBand[];
  binNs: number;
  latency: LatencyBin[];
  throughput: ThroughputBin[];
  /** Malformed spots in the history or inputs, shown above everything else. */
  problems: string[];
}
