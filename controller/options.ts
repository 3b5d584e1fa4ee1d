// Validation of `traft run` options: raw command-line strings in, one typed RunOptions out. Every
// rejection is a UsageError naming the flag, the bad value and what to pass instead.
import { z } from 'zod';
import { UNSAFE_BUGS as SERVER_UNSAFE_BUGS } from '../server/config.js';
import { WORKLOAD_NAMES } from '../workloads/index.js';
import { UsageError } from './errors.js';
import { NEMESIS_FAMILIES, type NemesisFamily } from './nemesis.js';

/** Planted bugs `--unsafe` accepts: the server's list, so the two cannot drift apart. */
export const UNSAFE_BUGS: readonly string[] = SERVER_UNSAFE_BUGS;

export const NODES_MAX = 15;
export const SEED_MAX = 2 ** 31 - 1;

export interface RunOptions {
  workload: string;
  nodes: number;
  timeLimitS: number;
  /** The concurrency as given (`10` or `2n`) and as resolved for this node count. */
  concurrencySpec: string;
  concurrency: number;
  /** Ops per second over all clients; 0 means unlimited. */
  rateOpsPerS: number;
  nemesis: NemesisFamily[];
  nemesisIntervalS: number;
  seed: number;
  store: string;
  unsafe?: string;
  keepData: boolean;
  /** Pause after healing every fault, before the final reads. */
  recoveryS: number;
  checkTimeLimitS: number;
  rpcTimeoutMs: number;
  electionTimeoutMs: number;
  heartbeatMs: number;
}

/** The raw option strings commander hands over for `traft run`. */
export interface RawRunOptions {
  nodes: string;
  timeLimit: string;
  /** Absent means the default for the rate: RUN_DEFAULTS.concurrency, or unlimitedRateConcurrency at rate 0. */
  concurrency?: string;
  rate: string;
  nemesis: string;
  nemesisInterval: string;
  seed?: string;
  store: string;
  unsafe?: string;
  keepData?: boolean;
  recoveryTime: string;
  checkTimeLimit: string;
  rpcTimeoutMs: string;
  electionTimeoutMs: string;
  heartbeatMs: string;
}

export const RUN_DEFAULTS = {
  nodes: '5',
  timeLimit: '60',
  concurrency: '10n',
  /**
   * The concurrency for `--rate 0`. An unlimited run is paced only by its open ops, so it needs
   * many client processes; their calls then share Batch RPCs.
   */
  unlimitedRateConcurrency: '300n',
  rate: '500',
  nemesis: 'all',
  nemesisInterval: '2',
  store: './store',
  recoveryTime: '5',
  checkTimeLimit: '120',
  rpcTimeoutMs: '1000',
  electionTimeoutMs: '300',
  heartbeatMs: '50',
} as const;

function parseNumber(flag: string, raw: string, schema: z.ZodNumber, hint: string): number {
  const trimmed = raw.trim();
  const value = trimmed === '' ? Number.NaN : Number(trimmed);
  const result = schema.safeParse(value);
  if (!result.success) throw new UsageError(`invalid ${flag} ${JSON.stringify(raw)}: ${hint}`);
  return result.data;
}

/** Resolves `N` or `Nn` (N times the node count) to a positive number of client processes. */
export function parseConcurrency(raw: string, nodes: number): number {
  const match = /^(\d+)(n?)$/.exec(raw.trim());
  const count = match === null ? 0 : Number(match[1]) * (match[2] === 'n' ? nodes : 1);
  if (count < 1 || count > 10_000) {
    throw new UsageError(`invalid --concurrency ${JSON.stringify(raw)}: pass a count such as 10, or a multiple of the node count such as 2n (1 to 10000 processes)`);
  }
  return count;
}

/** Parses `kill,pause,partition`, `none` or `all` into a list of fault families. */
export function parseNemesis(raw: string): NemesisFamily[] {
  const names = raw.split(',').map((name) => name.trim()).filter((name) => name.length > 0);
  if (names.length === 1 && names[0] === 'none') return [];
  if (names.length === 1 && names[0] === 'all') return [...NEMESIS_FAMILIES];
  const families: NemesisFamily[] = [];
  for (const name of names) {
    if (!(NEMESIS_FAMILIES as readonly string[]).includes(name)) {
      throw new UsageError(`invalid --nemesis ${JSON.stringify(raw)}: unknown fault ${JSON.stringify(name)}; pass a comma-separated list of ${NEMESIS_FAMILIES.join(', ')}, or none, or all`);
    }
    if (!families.includes(name as NemesisFamily)) families.push(name as NemesisFamily);
  }
  if (families.length === 0) throw new UsageError(`invalid --nemesis ${JSON.stringify(raw)}: pass ${NEMESIS_FAMILIES.join(',')}, none or all`);
  return families;
}

export function parseRunOptions(workload: string, raw: RawRunOptions, randomSeed: () => number): RunOptions {
  if (!WORKLOAD_NAMES.includes(workload)) {
    throw new UsageError(`unknown workload ${JSON.stringify(workload)}: pass one of ${WORKLOAD_NAMES.join(', ')} (see traft workloads)`);
  }
  const nodes = parseNumber('--nodes', raw.nodes, z.number().int().min(1).max(NODES_MAX), `pass a node count from 1 to ${NODES_MAX}`);
  const positiveSeconds = z.number().positive().max(7 * 24 * 3600);
  const timeLimitS = parseNumber('--time-limit', raw.timeLimit, positiveSeconds, 'pass a positive number of seconds');
  const rateOpsPerS = parseNumber('--rate', raw.rate, z.number().min(0).max(1_000_000), 'pass ops per second, or 0 for unlimited');
  const nemesisIntervalS = parseNumber('--nemesis-interval', raw.nemesisInterval, positiveSeconds, 'pass a positive number of seconds');
  const recoveryS = parseNumber('--recovery-time', raw.recoveryTime, z.number().min(0).max(3600), 'pass a number of seconds, 0 or more');
  const checkTimeLimitS = parseNumber('--check-time-limit', raw.checkTimeLimit, positiveSeconds, 'pass a positive number of seconds');
  const rpcTimeoutMs = parseNumber('--rpc-timeout-ms', raw.rpcTimeoutMs, z.number().int().min(1).max(600_000), 'pass a positive number of milliseconds');
  const electionTimeoutMs = parseNumber('--election-timeout-ms', raw.electionTimeoutMs, z.number().int().min(10).max(60_000), 'pass milliseconds from 10 to 60000');
  const heartbeatMs = parseNumber('--heartbeat-ms', raw.heartbeatMs, z.number().int().min(1).max(60_000), 'pass a positive number of milliseconds');
  if (heartbeatMs >= electionTimeoutMs) {
    throw new UsageError(`invalid --heartbeat-ms ${heartbeatMs}: it must be below --election-timeout-ms (${electionTimeoutMs})`);
  }
  const seed = raw.seed === undefined ? randomSeed() : parseNumber('--seed', raw.seed, z.number().int().min(0).max(SEED_MAX), `pass an integer from 0 to ${SEED_MAX}`);
  if (raw.unsafe !== undefined && !UNSAFE_BUGS.includes(raw.unsafe)) {
    throw new UsageError(`unknown --unsafe ${JSON.stringify(raw.unsafe)}: pass one of ${UNSAFE_BUGS.join(', ')}`);
  }
  if (raw.store.trim() === '') throw new UsageError('invalid --store "": pass a folder for the run store, such as ./store');
  const nemesis = parseNemesis(raw.nemesis);
  if (nemesis.includes('partition') && nodes < 2) {
    throw new UsageError(`invalid --nemesis ${JSON.stringify(raw.nemesis)} with --nodes 1: a partition needs at least 2 nodes`);
  }

  const concurrencySpec = raw.concurrency ?? (rateOpsPerS === 0 ? RUN_DEFAULTS.unlimitedRateConcurrency : RUN_DEFAULTS.concurrency);

  return {
    workload,
    nodes,
    timeLimitS,
    concurrencySpec,
    concurrency: parseConcurrency(concurrencySpec, nodes),
    rateOpsPerS,
    nemesis,
    nemesisIntervalS,
    seed,
    store: raw.store,
    unsafe: raw.unsafe,
    keepData: raw.keepData === true,
    recoveryS,
    checkTimeLimitS,
    rpcTimeoutMs,
    electionTimeoutMs,
    heartbeatMs,
  };
}

/** Builds the `traft run` command line that replays a run with the same schedule. */
export function replayCommand(options: RunOptions): string {
  const parts = [
    'traft run', options.workload,
    '--nodes', String(options.nodes),
    '--time-limit', String(options.timeLimitS),
    '--concurrency', options.concurrencySpec,
    '--rate', String(options.rateOpsPerS),
    '--nemesis', options.nemesis.length === 0 ? 'none' : options.nemesis.join(','),
    '--nemesis-interval', String(options.nemesisIntervalS),
    '--seed', String(options.seed),
  ];
  if (options.unsafe !== undefined) parts.push('--unsafe', options.unsafe);
  const defaults = RUN_DEFAULTS;
  if (String(options.recoveryS) !== defaults.recoveryTime) parts.push('--recovery-time', String(options.recoveryS));
  if (String(options.rpcTimeoutMs) !== defaults.rpcTimeoutMs) parts.push('--rpc-timeout-ms', String(options.rpcTimeoutMs));
  if (String(options.electionTimeoutMs) !== defaults.electionTimeoutMs) parts.push('--election-timeout-ms', String(options.electionTimeoutMs));
  if (String(options.heartbeatMs) !== defaults.heartbeatMs) parts.push('--heartbeat-ms', String(options.heartbeatMs));
  return parts.join(' ');
}
