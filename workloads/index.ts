// The registry of named workloads for `traft run <workload>` and `traft workloads`.
import { bankWorkload } from './bank.js';
import { counterWorkload } from './counter.js';
import { listAppendWorkload } from './list-append.js';
import { registerWorkload } from './register.js';
import { setWorkload } from './set.js';
import type { Workload } from './types.js';

export const WORKLOADS: readonly Workload[] = [registerWorkload, setWorkload, bankWorkload, counterWorkload, listAppendWorkload];

export const WORKLOAD_NAMES = WORKLOADS.map((workload) => workload.name);

export function findWorkload(name: string): Workload | undefined {
  return WORKLOADS.find((workload) => workload.name === name);
}
