// bank: transfers between accounts as multi-key txns and reads of every balance in one txn. The
// total must be conserved in every read.
//
// Each account is a list of signed deltas under the key `bank:<account>`, and its balance is the
// initial balance plus the sum of the list, because the server's txn offers only append and read.
// History encoding: f transfer (value {from, to, amount}) / read (value {account: balance} on ok,
// null on invoke).
import { checkBank } from '../checker/bank.js';
import { fixed, fromFunction, mix } from '../controller/generator.js';
import type { JsonValue, MicroOp } from '../server/core/types.js';
import { clientOps, completionForFailedRead, completionForFailure, txnResults, type Completion, type KvClient, type Workload, type WorkloadOp } from './types.js';

export const BANK_ACCOUNTS = ['a0', 'a1', 'a2', 'a3', 'a4'];
export const BANK_INITIAL_BALANCE = 100;
const AMOUNT_MAX = 5;
const FINAL_READS = 3;

function accountKey(account: string): string {
  return `bank:${account}`;
}

interface Transfer {
  from: string;
  to: string;
  amount: number;
}

/** Balance of an account from its list of deltas; undefined when the stored value is not a number list. */
function balanceOf(stored: JsonValue | undefined): number | undefined {
  if (stored === null || stored === undefined) return BANK_INITIAL_BALANCE;
  if (!Array.isArray(stored)) return undefined;
  let balance = BANK_INITIAL_BALANCE;
  for (const delta of stored) {
    if (typeof delta !== 'number') return undefined;
    balance += delta;
  }
  return balance;
}

async function invokeBank(client: KvClient, op: WorkloadOp): Promise<Completion> {
  switch (op.f) {
    case 'transfer': {
      const transfer = op.value as Transfer;
      const ops: MicroOp[] = [
        { f: 'append', key: accountKey(transfer.from), value: -transfer.amount },
        { f: 'append', key: accountKey(transfer.to), value: transfer.amount },
      ];
      const outcome = await client.txn(ops);
      if (outcome.type !== 'ok') return { ...completionForFailure(outcome), value: op.value };
      return { type: 'ok', value: op.value };
    }
    case 'read': {
      const outcome = await client.txn(BANK_ACCOUNTS.map((account) => ({ f: 'r', key: accountKey(account) })));
      if (outcome.type !== 'ok') return completionForFailedRead(outcome);
      const results = txnResults(outcome);
      if (results === undefined) return { type: 'info', error: 'txn reply carried no micro-op results' };
      const balances: Record<string, number> = {};
      for (const [position, account] of BANK_ACCOUNTS.entries()) {
        const balance = balanceOf(results[position]?.value);
        if (balance === undefined) return { type: 'info', error: `account ${account} holds a non-list value` };
        balances[account] = balance;
      }
      return { type: 'ok', value: balances };
    }
    default:
      throw new Error(`bank workload has no op ${op.f}`);
  }
}

export const bankWorkload: Workload = {
  name: 'bank',
  description: 'transfers between five accounts as txns and reads of all balances; the total must be conserved',
  create() {
    const transfers = fromFunction<null, WorkloadOp>(null, (ctx) => {
      const from = ctx.random.pick(BANK_ACCOUNTS);
      const to = ctx.random.pick(BANK_ACCOUNTS.filter((account) => account !== from));
      return [{ f: 'transfer', value: { from, to, amount: ctx.random.intBetween(1, AMOUNT_MAX) } }, null];
    });
    const reads = fromFunction<null, WorkloadOp>(null, () => [{ f: 'read', value: null }, null]);
    return {
      generator: mix([
        { weight: 1, generator: transfers },
        { weight: 1, generator: reads },
      ]),
      finalGenerator: () => fixed<WorkloadOp>(Array.from({ length: FINAL_READS }, () => ({ f: 'read', value: null }))),
      invoke: invokeBank,
    };
  },
  async check(ops) {
    // NOTE: the txn has no conditional micro-op, so a transfer cannot reject an overdraft and
    // negative balances are legal here. Only conservation of the total is checked.
    return [
      checkBank(clientOps(ops), {
        accounts: BANK_ACCOUNTS,
        totalBalance: BANK_ACCOUNTS.length * BANK_INITIAL_BALANCE,
        allowNegative: true,
      }),
    ];
  },
};
