// Internal consistency: within one committed txn, each read of a key must agree with the txn's own
// earlier reads of and appends to that key.
import { Findings, show, showList, txnName } from './findings.js';
import type { ListKey, ListValue, Txn } from './types.js';

/** Expected state of a key inside one txn: the whole list, or only the suffix the txn appended itself. */
type Expectation = { kind: 'exact'; list: readonly ListValue[] } | { kind: 'suffix'; appended: ListValue[] };

export function checkInternalConsistency(txns: readonly Txn[], findings: Findings): void {
  for (const txn of txns) {
    if (txn.outcome !== 'ok') continue;
    const expected = new Map<ListKey, Expectation>();

    for (const op of txn.ops) {
      const known = expected.get(op.key);
      if (op.f === 'append') {
        // Lists are replaced, never changed in place, because an exact expectation shares the read's list.
        if (known === undefined) expected.set(op.key, { kind: 'suffix', appended: [op.value] });
        else if (known.kind === 'exact') expected.set(op.key, { kind: 'exact', list: [...known.list, op.value] });
        else known.appended.push(op.value);
        continue;
      }

      const list = op.list ?? [];
      if (known !== undefined && !agrees(known, list)) {
        findings.add({
          kind: 'internal',
          explanation: `${txnName(txn)} read key ${show(op.key)} as ${showList(list)}, but ${describeExpectation(known)} from its own earlier micro-ops`,
          opIndexes: [txn.index],
          details: { key: op.key, read: list, expected: known.kind === 'exact' ? known.list : { endsWith: known.appended } },
        });
      }
      expected.set(op.key, { kind: 'exact', list });
    }
  }
}

function agrees(known: Expectation, list: readonly ListValue[]): boolean {
  if (known.kind === 'exact') {
    return known.list.length === list.length && known.list.every((value, i) => value === list[i]);
  }
  const offset = list.length - known.appended.length;
  return offset >= 0 && known.appended.every((value, i) => value === list[offset + i]);
}

function describeExpectation(known: Expectation): string {
  if (known.kind === 'exact') return `it expected exactly ${showList(known.list)}`;
  return `it expected a list ending in ${showList(known.appended)}`;
}
