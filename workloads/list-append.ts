// list-append: txns of 1 to 4 micro-ops that append unique values to lists and read lists, over a
// rotating key space, then a final read of every key. Checked by the Elle-style cycle search for
// strict serializability.
//
// History encoding: f txn, value a list of micro-ops `["append", key, value]` and `["r", key, list]`
// with integer keys. A read's list is null on invoke, and null on ok when the key is absent.
import { checkListAppend } from '../checker/elle/index.js';
import { fixed, fromFunction, type Generator } from '../controller/generator.js';
import type { JsonValue, MicroOp } from '../server/core/types.js';
import { clientOps, completionForFailedRead, completionForFailure, txnResults, type Completion, type KvClient, type Workload, type WorkloadOp, type WorkloadParams } from './types.js';

type MicroOpValue = ['append', number, number] | ['r', number, JsonValue];

/** Appends per key before the key is retired, so reads stay short and version orders small. */
export const LIST_APPEND_APPENDS_PER_KEY_MAX = 32;
/**
 * Keys taking appends at once.
 * NOTE: a window of 4 keys with 128 appends each puts more concurrent appends on every key, yet it
 * caught `--unsafe set-only-interference` less often. Among three-node runs whose nemesis drew a
 * flaky partition and then a kill that changed the leader, it caught the bug in 2 of 9, against 5 of
 * 7 with these values. The README's planted-bug section describes the runs.
 */
export const LIST_APPEND_ACTIVE_KEYS = 10;
const MICRO_OPS_MAX = 4;
/** Keys read per txn in the final phase. */
const FINAL_KEYS_PER_TXN = 16;

interface ListAppendState {
  active: { key: number; appends: number }[];
  nextKey: number;
}

function serverKey(key: number): string {
  return `la:${key}`;
}

function nextTxn(random: { int(bound: number): number }, state: ListAppendState): [WorkloadOp, ListAppendState] {
  const active = [...state.active];
  let nextKey = state.nextKey;
  const length = 1 + random.int(MICRO_OPS_MAX);
  const microOps: MicroOpValue[] = [];

  for (let i = 0; i < length; i += 1) {
    const slot = random.int(active.length);
    const chosen = active[slot] as { key: number; appends: number };
    if (random.int(2) === 0) {
      microOps.push(['r', chosen.key, null]);
      continue;
    }
    // Values count from 1 per key, so every appended value is unique within its key.
    microOps.push(['append', chosen.key, chosen.appends + 1]);
    if (chosen.appends + 1 >= LIST_APPEND_APPENDS_PER_KEY_MAX) {
      active[slot] = { key: nextKey, appends: 0 };
      nextKey += 1;
    } else {
      active[slot] = { key: chosen.key, appends: chosen.appends + 1 };
    }
  }
  return [{ f: 'txn', value: microOps }, { active, nextKey }];
}

export function listAppendGenerator(): Generator<WorkloadOp> {
  const initial: ListAppendState = {
    active: Array.from({ length: LIST_APPEND_ACTIVE_KEYS }, (_, key) => ({ key, appends: 0 })),
    nextKey: LIST_APPEND_ACTIVE_KEYS,
  };
  return fromFunction(initial, (ctx, state) => nextTxn(ctx.random, state));
}

async function invokeTxn(client: KvClient, op: WorkloadOp): Promise<Completion> {
  const microOps = op.value as MicroOpValue[];
  const request: MicroOp[] = microOps.map((micro) =>
    micro[0] === 'append' ? { f: 'append', key: serverKey(micro[1]), value: micro[2] } : { f: 'r', key: serverKey(micro[1]) },
  );
  const outcome = await client.txn(request);
  const readOnly = microOps.every((micro) => micro[0] === 'r');
  if (outcome.type !== 'ok' && readOnly) return { ...completionForFailedRead(outcome), value: microOps };
  if (outcome.type !== 'ok') return { ...completionForFailure(outcome), value: microOps };

  const results = txnResults(outcome);
  if (results === undefined || results.length !== microOps.length) {
    return { type: 'info', value: microOps, error: 'txn reply did not carry one result per micro-op' };
  }
  const completed: MicroOpValue[] = microOps.map((micro, position) => {
    if (micro[0] === 'append') return micro;
    return ['r', micro[1], results[position]?.value ?? null];
  });
  return { type: 'ok', value: completed };
}

export const listAppendWorkload: Workload = {
  name: 'list-append',
  description: 'txns of appends and reads over rotating keys; checked for strict serializability (Elle-style cycles)',
  create(_params: WorkloadParams) {
    const touchedKeys = new Set<number>();
    return {
      generator: listAppendGenerator(),
      finalGenerator() {
        const keys = [...touchedKeys].sort((a, b) => a - b);
        const txns: WorkloadOp[] = [];
        for (let start = 0; start < keys.length; start += FINAL_KEYS_PER_TXN) {
          const chunk = keys.slice(start, start + FINAL_KEYS_PER_TXN);
          txns.push({ f: 'txn', value: chunk.map((key) => ['r', key, null]) });
        }
        return fixed(txns);
      },
      invoke(client: KvClient, op: WorkloadOp) {
        for (const micro of op.value as MicroOpValue[]) touchedKeys.add(micro[1]);
        return invokeTxn(client, op);
      },
    };
  },
  async check(ops, options) {
    return [await checkListAppend(clientOps(ops), { consistency: 'strict-serializable', timeLimitMs: options.timeLimitMs })];
  },
};
