// Collects anomalies by kind, keeping a bounded number of examples of each.
import type { ElleAnomaly, ListKey, ListValue, Txn } from './types.js';

/** Examples kept per anomaly kind; every occurrence is still counted. */
export const EXAMPLES_PER_KIND_MAX = 8;

export class Findings {
  private readonly examples = new Map<string, ElleAnomaly[]>();
  private readonly counts = new Map<string, number>();

  add(anomaly: ElleAnomaly): void {
    this.counts.set(anomaly.kind, (this.counts.get(anomaly.kind) ?? 0) + 1);
    let list = this.examples.get(anomaly.kind);
    if (list === undefined) {
      list = [];
      this.examples.set(anomaly.kind, list);
    }
    if (list.length < EXAMPLES_PER_KIND_MAX) list.push(anomaly);
  }

  kinds(): string[] {
    return [...this.counts.keys()];
  }

  count(kind: string): number {
    return this.counts.get(kind) ?? 0;
  }

  examplesOf(kind: string): ElleAnomaly[] {
    return this.examples.get(kind) ?? [];
  }
}

/** Names a txn in explanations by the history index of its completion, for example `T12`. */
export function txnName(txn: Txn): string {
  return `T${txn.index}`;
}

export function show(value: ListKey | ListValue): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** Renders a list for an explanation, eliding the middle of long lists. */
export function showList(list: readonly ListValue[] | null): string {
  if (list === null) return 'nil';
  if (list.length <= 8) return `[${list.map(show).join(' ')}]`;
  const head = list.slice(0, 3).map(show).join(' ');
  const tail = list.slice(-3).map(show).join(' ');
  return `[${head} ... ${tail}] (${list.length} elements)`;
}
