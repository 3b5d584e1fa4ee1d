// Bank checker: transfers move money between accounts, so every read must see the same total.
//
// Encoding: f 'transfer' with value = {from, to, amount}; f 'read' with value =
// {[account]: balance} on the completion (null on the invoke). Only ok reads are checked,
// and transfers are counted for the stats only, because a read alone shows the invariant.
import assert from 'node:assert';
import type { Op } from './history/types.js';
import type { Anomaly, CheckResult } from './result.js';

export interface BankOptions {
  /** Every account the workload created; a read must name exactly these. */
  accounts: string[];
  /** The sum of all balances, which transfers conserve. */
  totalBalance: number;
  /** When true, negative balances are not anomalies (a workload that allows overdrafts). */
  allowNegative?: boolean;
}

/** Anomalies kept per kind; the stats carry the full counts. */
export const BANK_ANOMALIES_PER_KIND_MAX = 10;

type BankAnomalyKind = 'wrong-total' | 'negative-balance' | 'missing-account' | 'unexpected-account';

/** Checks every ok read: known accounts only, all present, no negative balance, total conserved. */
export function checkBank(ops: Op[], options: BankOptions): CheckResult {
  assert(options.accounts.length > 0, 'checkBank needs at least one account');
  assert(new Set(options.accounts).size === options.accounts.length, 'checkBank accounts must be unique');
  assert(Number.isFinite(options.totalBalance), 'checkBank totalBalance must be a finite number');

  const known = new Set(options.accounts);
  const counts: Record<BankAnomalyKind, number> = {
    'wrong-total': 0,
    'negative-balance': 0,
    'missing-account': 0,
    'unexpected-account': 0,
  };
  const anomalies: Anomaly[] = [];
  const record = (anomaly: Anomaly & { kind: BankAnomalyKind }): void => {
    counts[anomaly.kind]++;
    if (counts[anomaly.kind] <= BANK_ANOMALIES_PER_KIND_MAX) anomalies.push(anomaly);
  };
  let readOkCount = 0;
  let transferOkCount = 0;

  for (const op of ops) {
    if (op.f === 'transfer' && op.type === 'ok') transferOkCount++;
    if (op.f !== 'read' || op.type !== 'ok') continue;

    const balances = parseBalances(op);
    if (typeof balances === 'string') return unknownResult(balances);
    readOkCount++;

    for (const anomaly of readAnomalies(op.index, balances, known, options)) record(anomaly);
  }

  const invalidReadCount = counts['wrong-total'] + counts['negative-balance'] + counts['missing-account'] + counts['unexpected-account'];
  const stats = {
    readOkCount,
    transferOkCount,
    wrongTotalCount: counts['wrong-total'],
    negativeBalanceCount: counts['negative-balance'],
    missingAccountCount: counts['missing-account'],
    unexpectedAccountCount: counts['unexpected-account'],
  };
  if (invalidReadCount > 0) {
    const parts = (Object.keys(counts) as BankAnomalyKind[]).filter((kind) => counts[kind] > 0).map((kind) => `${counts[kind]} ${kind}`);
    return { checker: 'bank', valid: false, summary: `${readOkCount} reads checked: ${parts.join(', ')}`, anomalies, stats };
  }
  return {
    checker: 'bank',
    valid: true,
    summary: `all ${readOkCount} reads sum to ${options.totalBalance} over ${options.accounts.length} accounts`,
    anomalies: [],
    stats,
  };
}

function readAnomalies(
  opIndex: number,
  balances: Map<string, number>,
  known: Set<string>,
  options: BankOptions,
): (Anomaly & { kind: BankAnomalyKind })[] {
  const found: (Anomaly & { kind: BankAnomalyKind })[] = [];
  const balanceTable = Object.fromEntries(balances);

  const missing = [...known].filter((account) => !balances.has(account));
  if (missing.length > 0) {
    found.push({
      kind: 'missing-account',
      explanation: `The read at op ${opIndex} has no balance for ${missing.length} known account(s) (${missing.slice(0, 5).join(', ')}), so an account disappeared.`,
      opIndexes: [opIndex],
      details: { missing, balances: balanceTable },
    });
  }

  const unexpected = [...balances.keys()].filter((account) => !known.has(account));
  if (unexpected.length > 0) {
    found.push({
      kind: 'unexpected-account',
      explanation: `The read at op ${opIndex} names account(s) the workload never created (${unexpected.slice(0, 5).join(', ')}).`,
      opIndexes: [opIndex],
      details: { unexpected, balances: balanceTable },
    });
  }

  const negative = [...balances].filter(([, balance]) => balance < 0);
  if (negative.length > 0 && options.allowNegative !== true) {
    found.push({
      kind: 'negative-balance',
      explanation: `The read at op ${opIndex} shows negative balance(s) (${negative.slice(0, 5).map(([a, b]) => `${a}: ${b}`).join(', ')}), which transfers must never produce.`,
      opIndexes: [opIndex],
      details: { negative: Object.fromEntries(negative), balances: balanceTable },
    });
  }

  let total = 0;
  for (const balance of balances.values()) total += balance;
  if (total !== options.totalBalance) {
    found.push({
      kind: 'wrong-total',
      explanation: `The read at op ${opIndex} sums to ${total}, not ${options.totalBalance}, so money was created or destroyed.`,
      opIndexes: [opIndex],
      details: { total, expected: options.totalBalance, balances: balanceTable },
    });
  }
  return found;
}

/** Returns the balances of an ok read, or a one-line reason when the value is malformed. */
function parseBalances(op: Op): Map<string, number> | string {
  const value = op.value;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return `op ${op.index}: read value ${JSON.stringify(value)} is not an object of balances; fix the workload's encoding`;
  }
  const balances = new Map<string, number>();
  for (const [account, balance] of Object.entries(value)) {
    if (typeof balance !== 'number' || !Number.isFinite(balance)) {
      return `op ${op.index}: balance of account ${JSON.stringify(account)} is ${JSON.stringify(balance)}, not a number; fix the workload's encoding`;
    }
    balances.set(account, balance);
  }
  return balances;
}

function unknownResult(reason: string): CheckResult {
  return { checker: 'bank', valid: 'unknown', summary: `cannot check: ${reason}`, anomalies: [], unknownReason: reason };
}
