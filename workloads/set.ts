// set: unique adds to one list, reads of the whole set during the run, then final reads after
// every fault is healed. Checked for lost, unexpected, never-read and stale adds.
//
// History encoding: f add (value: a unique integer) / read (value: the integers read, as an array,
// on ok; null on invoke).
import { checkSet } from '../checker/set.js';
import { fixed, fromFunction, mix } from '../controller/generator.js';
import { clientOps, completionForFailedRead, completionForFailure, type Completion, type KvClient, type Workload, type WorkloadOp } from './types.js';

const SET_KEY = 'set';
/** Reads are a small share: each returns the whole set, which grows with the run. */
const READ_WEIGHT = 1;
const ADD_WEIGHT = 9;
const FINAL_READS = 3;

async function invokeSet(client: KvClient, op: WorkloadOp): Promise<Completion> {
  switch (op.f) {
    case 'add': {
      const outcome = await client.append(SET_KEY, op.value as number);
      if (outcome.type !== 'ok') return { ...completionForFailure(outcome), value: op.value };
      return { type: 'ok', value: op.value };
    }
    case 'read': {
      const outcome = await client.get(SET_KEY);
      if (outcome.type !== 'ok') return completionForFailedRead(outcome);
      const value = outcome.value ?? [];
      if (!Array.isArray(value)) return { type: 'info', error: `read returned a non-list value ${JSON.stringify(value)}` };
      return { type: 'ok', value };
    }
    default:
      throw new Error(`set workload has no op ${op.f}`);
  }
}

export const setWorkload: Workload = {
  name: 'set',
  description: 'unique adds to a set and reads of it; checks for lost, unexpected, never-read and stale adds',
  create() {
    const adds = fromFunction<number, WorkloadOp>(0, (_ctx, next) => [{ f: 'add', value: next }, next + 1]);
    const reads = fromFunction<null, WorkloadOp>(null, () => [{ f: 'read', value: null }, null]);
    return {
      generator: mix([
        { weight: ADD_WEIGHT, generator: adds },
        { weight: READ_WEIGHT, generator: reads },
      ]),
      finalGenerator: () => fixed<WorkloadOp>(Array.from({ length: FINAL_READS }, () => ({ f: 'read', value: null }))),
      invoke: invokeSet,
    };
  },
  async check(ops) {
    return [checkSet(clientOps(ops))];
  },
};
