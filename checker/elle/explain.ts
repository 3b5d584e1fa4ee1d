// Plain-words explanations of dependency edges and cycles.
import { show, showList, txnName } from './findings.js';
import { EDGE_TYPE_NAMES, Graph, PROCESS, REALTIME, RW, WR, WW } from './graph.js';
import type { CycleDetails, ListKey, ListValue, Txn } from './types.js';
import type { KeyHistory } from './versions.js';

/** Returns the last value `txn` appended to `key`, which is the unobserved one when the edge came from an unobserved append. */
function lastAppend(txn: Txn, key: ListKey): ListValue | undefined {
  let value: ListValue | undefined;
  for (const op of txn.ops) if (op.f === 'append' && op.key === key) value = op.value;
  return value;
}

export function explainEdge(graph: Graph, edge: number, txns: readonly Txn[], keys: readonly KeyHistory[]): string {
  const edges = graph.edges;
  const from = txns[edges.from[edge]!]!;
  const to = txns[edges.to[edge]!]!;
  const type = edges.type[edge]!;
  const arrow = `${txnName(from)} ${EDGE_TYPE_NAMES[type]}-> ${txnName(to)}`;

  if (type === PROCESS) {
    return `${txnName(from)} and ${txnName(to)} ran on process ${String(from.process)}, and ${txnName(to)} was invoked after ${txnName(from)} completed; so ${arrow}`;
  }
  if (type === REALTIME) {
    return `${txnName(from)} completed (op ${from.index}) before ${txnName(to)} was invoked (op ${to.invokeIndex}); so ${arrow}`;
  }

  const history = keys[edges.key[edge]!]!;
  const order = history.order!;
  const position = edges.position[edge]!;
  const key = show(history.key);
  switch (type) {
    case WW: {
      const earlier = show(order[edges.previousPosition[edge]!]!);
      if (position < 0) {
        const later = lastAppend(to, history.key);
        return `${txnName(from)} appended ${earlier} to key ${key}; ${txnName(to)} appended ${later === undefined ? '?' : show(later)}, which no read saw, so it comes after every element read; so ${arrow}`;
      }
      return `${txnName(from)} appended ${earlier} to key ${key}; ${txnName(to)} appended ${show(order[position]!)}, the next element read after it; so ${arrow}`;
    }
    case WR:
      return `${txnName(from)} appended ${show(order[position]!)} to key ${key}; ${txnName(to)} read key ${key} ending in ${show(order[position]!)}; so ${arrow}`;
    case RW: {
      const value = position < 0 ? lastAppend(to, history.key) : order[position];
      const valueText = value === undefined ? '?' : show(value);
      const read = readOf(history, from.id);
      const seen = read === undefined ? '' : ` (it read ${showList(read)})`;
      const unseen = position < 0 ? ', which no read saw' : '';
      return `${txnName(to)} appended ${valueText} to key ${key}${unseen}; ${txnName(from)} read key ${key} without ${valueText}${seen}; so ${arrow}`;
    }
    default:
      throw new Error(`edge ${edge} has unknown type ${type}`);
  }
}

function readOf(history: KeyHistory, reader: number): ListValue[] | undefined {
  for (let r = 0; r < history.readTxns.length; r++) {
    if (history.readTxns[r] === reader && history.readExternalLength[r]! >= 0) return history.readLists[r];
  }
  return undefined;
}

/** Builds the report data for a cycle given as edge ids in path order. */
export function describeCycle(graph: Graph, cycle: readonly number[], txns: readonly Txn[], keys: readonly KeyHistory[]): CycleDetails {
  const edges = graph.edges;
  return {
    txns: cycle.map((edge) => {
      const txn = txns[edges.from[edge]!]!;
      return { index: txn.index, process: txn.process, value: txn.recordedValue };
    }),
    edges: cycle.map((edge) => ({
      from: txns[edges.from[edge]!]!.index,
      to: txns[edges.to[edge]!]!.index,
      type: edgeTypeName(edges.type[edge]!),
      why: explainEdge(graph, edge, txns, keys),
    })),
  };
}

function edgeTypeName(type: number): CycleDetails['edges'][number]['type'] {
  const name = EDGE_TYPE_NAMES[type];
  if (name === undefined) throw new Error(`unknown edge type ${type}`);
  return name;
}

/** Renders a cycle as one paragraph: the cycle in arrow form, then the reason for each edge. */
export function explainCycle(kind: string, details: CycleDetails): string {
  const names = details.edges.map((edge) => `T${edge.from} ${edge.type}->`).join(' ');
  const first = details.edges[0]!;
  const reasons = details.edges.map((edge) => `${edge.why}.`).join(' ');
  return `${kind} cycle: ${names} T${first.from}. ${reasons}`;
}
