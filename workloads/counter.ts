// counter: increments of one key and reads of it. Every read must lie between the sum of the
// increments acknowledged before it began and the sum of those attempted before it ended.
//
// History encoding: f add (value: the delta, a positive integer) / read (value: the number read on
// ok, null on invoke).
import { checkCounter } from '../checker/counter.js';
import { fixed, fromFunction, mix } from '../controller/generator.js';
import { clientOps, completionForFailedRead, completionForFailure, type Completion, type KvClient, type Workload, type WorkloadOp } from './types.js';

const COUNTER_KEY = 'counter';
const DELTA_MAX = 5;
const FINAL_READS = 3;

async function invokeCounter(client: KvClient, op: WorkloadOp): Promise<Completion> {
  switch (op.f) {
    case 'add': {
      const outcome = await client.incr(COUNTER_KEY, op.value as number);
      if (outcome.type !== 'ok') return { ...completionForFailure(outcome), value: op.value };
      if (outcome.result?.kind === 'error') return { type: 'fail', value: op.value, error: outcome.result.message };
      return { type: 'ok', value: op.value };
    }
    case 'read': {
      const outcome = await client.get(COUNTER_KEY);
      if (outcome.type !== 'ok') return completionForFailedRead(outcome);
      const value = outcome.value ?? 0;
      if (typeof value !== 'number') return { type: 'info', error: `read returned a non-number ${JSON.stringify(value)}` };
      return { type: 'ok', value };
    }
    default:
      throw new Error(`counter workload has no op ${op.f}`);
  }
}

export const counterWorkload: Workload = {
  name: 'counter',
  description: 'increments and reads of one counter; every read must lie between acked and attempted sums',
  create() {
    const adds = fromFunction<null, WorkloadOp>(null, (ctx) => [{ f: 'add', value: ctx.random.intBetween(1, DELTA_MAX) }, null]);
    const reads = fromFunction<null, WorkloadOp>(null, () => [{ f: 'read', value: null }, null]);
    return {
      generator: mix([
        { weight: 1, generator: adds },
        { weight: 1, generator: reads },
      ]),
      finalGenerator: () => fixed<WorkloadOp>(Array.from({ length: FINAL_READS }, () => ({ f: 'read', value: null }))),
      invoke: invokeCounter,
    };
  },
  async check(ops) {
    return [checkCounter(clientOps(ops))];
  },
};
