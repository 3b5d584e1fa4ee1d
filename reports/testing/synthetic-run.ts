// Synthetic runs for report tests, benchmarks and screenshots: a register-like client history
// with seeded outcomes and latencies, nemesis faults, and checker results with anomalies.
import type { Op, OpType, ProcessId } from '../../checker/history/types.js';
import type { CheckResult } from '../../checker/result.js';
import type { RunMeta } from '../types.js';

export interface SyntheticRun {
  meta: RunMeta;
  ops: Op[];
  results: CheckResult[];
}

export interface SyntheticOptions {
  /** Client ops (invocation plus completion pairs) to generate. */
  clientOpCount: number;
  concurrency: number;
  seed: number;
  /** Text placed in keys and values, for example markup that must render as text. */
  keyPrefix?: string;
  valuePayload?: string;
}

/** A small seeded generator (mulberry32), so every synthetic run is reproducible. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Builds a run of `clientOpCount` client ops over about 1 ms per op per client, with a kill and
 * restart, a pause and resume, and a partition and heal, plus an info op that retires its process.
 */
export function syntheticRun(options: SyntheticOptions): SyntheticRun {
  const random = seededRandom(options.seed);
  const keyPrefix = options.keyPrefix ?? 'k';
  const events: Omit<Op, 'index'>[] = [];
  const processes: ProcessId[] = Array.from({ length: options.concurrency }, (_, i) => i);
  const clockNs = Array.from({ length: options.concurrency }, () => Math.floor(random() * 1e6));
  let nextProcess = options.concurrency;

  for (let n = 0; n < options.clientOpCount; n++) {
    const slot = n % options.concurrency;
    const process = processes[slot];
    const startNs = clockNs[slot];
    const latencyNs = Math.floor(200_000 + random() * random() * 4_000_000);
    const type = pickOutcome(random());
    const f = random() < 0.5 ? 'read' : random() < 0.7 ? 'write' : 'cas';
    const key = `${keyPrefix}${Math.floor(random() * 8)}`;
    const written = options.valuePayload === undefined ? Math.floor(random() * 5) : `${options.valuePayload}${n}`;
    let invokeValue: unknown = written;
    if (f === 'read') invokeValue = null;
    if (f === 'cas') invokeValue = [written, written];
    const completionValue = f === 'read' && type === 'ok' ? written : invokeValue;

    events.push({ time: startNs, process, type: 'invoke', f, key, value: invokeValue });
    events.push({ time: startNs + latencyNs, process, type, f, key, value: completionValue, ...(type === 'ok' ? {} : { error: type === 'info' ? 'timeout' : 'not-leader' }) });
    clockNs[slot] = startNs + latencyNs + Math.floor(random() * 300_000);
    // An info op retires its process, as the bench does, and a fresh process id takes the slot.
    if (type === 'info') processes[slot] = nextProcess++;
  }

  const endNs = Math.max(...clockNs);
  const nemesis = (atShare: number, f: string, value: unknown): void => {
    const timeNs = Math.floor(endNs * atShare);
    events.push({ time: timeNs, process: 'nemesis', type: 'invoke', f, value });
    events.push({ time: timeNs + 50_000, process: 'nemesis', type: 'info', f, value });
  };
  nemesis(0.1, 'kill', [2]);
  nemesis(0.25, 'restart', [2]);
  nemesis(0.35, 'pause', [1, 4]);
  nemesis(0.45, 'resume', [1, 4]);
  nemesis(0.55, 'partition', { kind: 'halves', groups: [[1, 2], [3, 4, 5]] });
  nemesis(0.75, 'heal', null);
  nemesis(0.85, 'kill', [5]);

  events.sort((a, b) => a.time - b.time);
  const ops: Op[] = events.map((event, index) => ({ index, ...event }));
  return { meta: syntheticMeta(options), ops, results: syntheticResults(ops) };
}

/** Maps a uniform draw to an outcome: 90% ok, 7% fail, 3% info. */
function pickOutcome(draw: number): OpType {
  if (draw < 0.9) return 'ok';
  if (draw < 0.97) return 'fail';
  return 'info';
}

/** Returns the indexes of the last `count` ok invocations of `key` before `beforeIndex`. */
function prefixBefore(ops: Op[], key: string, beforeIndex: number, count: number): number[] {
  const invokes = new Map<ProcessId, Op>();
  const prefix: number[] = [];
  for (const op of ops) {
    if (op.index >= beforeIndex) break;
    if (op.type === 'invoke') invokes.set(op.process, op);
    else if (op.type === 'ok' && op.key === key) prefix.push(invokes.get(op.process)!.index);
  }
  return prefix.slice(-count);
}

function syntheticMeta(options: SyntheticOptions): RunMeta {
  return {
    workload: 'register',
    seed: options.seed,
    options: { nodes: 5, timeLimitS: 60, concurrency: options.concurrency, nemesis: ['kill', 'pause', 'partition'] },
    command: `traft run register --nodes 5 --time-limit 60 --nemesis kill,pause,partition --seed ${options.seed}`,
    startedAt: '2026-12-04T20:00:00.000Z',
    endedAt: '2026-12-04T20:01:05.000Z',
    versions: { traft: '0.1.0', node: 'v20' },
    nodes: [1, 2, 3, 4, 5].map((id) => ({ id, listen: `127.0.0.1:${40000 + id}`, dataDir: `/tmp/traft/n${id}`, logPath: `/tmp/traft/n${id}/server.log` })),
  };
}

/** Builds a failing linearizability result naming a late ok read, a passing set result and an Elle cycle. */
function syntheticResults(ops: Op[]): CheckResult[] {
  const read = [...ops].reverse().find((op) => op.f === 'read' && op.type === 'ok');
  if (read === undefined) throw new Error('syntheticRun produced no ok read to blame; raise clientOpCount');
  const readInvoke = [...ops].reverse().find((op) => op.process === read.process && op.type === 'invoke' && op.index < read.index)!;
  return [
    {
      checker: 'linearizable',
      valid: false,
      summary: `key ${read.key}: 1 op cannot be linearized`,
      anomalies: [
        {
          kind: 'nonlinearizable',
          explanation: `The read of key ${read.key} at op ${read.index} returned ${JSON.stringify(read.value)}, but no order of the ops before it leaves the register holding that value.`,
          opIndexes: [readInvoke.index, read.index],
          details: {
            key: read.key,
            op: readInvoke,
            completion: read,
            explanation: 'see above',
            linearizedPrefix: prefixBefore(ops, read.key!, readInvoke.index, 30),
            statesBefore: ['0', '3'],
            minimalHistory: [readInvoke, read],
            minimalHistoryComplete: true,
          },
        },
      ],
      stats: { keyCount: 8, opCount: ops.length },
    },
    { checker: 'set', valid: true, summary: 'all 10 acknowledged adds are in the final read', anomalies: [], stats: { addOkCount: 10 } },
    {
      checker: 'elle',
      valid: false,
      summary: '1 G-single anomaly',
      anomalies: [
        {
          kind: 'G-single',
          explanation: 'T1 read key 3 before T2 appended to it, but T2 read key 4 after T1 appended to it: a read skew cycle.',
          opIndexes: [10, 20],
          details: {
            cycle: {
              txns: [
                { index: 10, process: 1, value: [['r', 3, [1]], ['append', 4, 2]] },
                { index: 20, process: 2, value: [['append', 3, 5], ['r', 4, [1, 2]]] },
              ],
              edges: [
                { from: 10, to: 20, type: 'rw', why: 'T1 read key 3 without the 5 that T2 appended' },
                { from: 20, to: 10, type: 'wr', why: 'T2 read the 2 that T1 appended to key 4' },
              ],
            },
          },
        },
      ],
      notModels: ['snapshot-isolation', 'serializable'],
    } as CheckResult,
  ];
}
