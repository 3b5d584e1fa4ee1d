// The client runner: a fixed number of worker threads share one generator. Each thread acts as one
// logical process at a time; an op that ends `info` retires the process, and the thread continues
// under a fresh process id (the old id plus the concurrency), so a process never has two ops open.
import type { Logger } from 'pino';
import type { Generator } from './generator.js';
import type { Random } from './random.js';
import type { HistoryRecorder } from './recorder.js';
import type { Completion, KvClient, WorkloadInstance, WorkloadOp } from '../workloads/types.js';

/** How long a thread waits on a generator that is pending without a wake-up time. */
const PENDING_POLL_MS = 10;

export interface ClientPhaseOptions {
  generator: Generator<WorkloadOp>;
  workload: WorkloadInstance;
  /** Connected clients; thread t uses clients[t % clients.length]. */
  clients: readonly KvClient[];
  concurrency: number;
  recorder: HistoryRecorder;
  random: Random;
  /** Aborting stops threads from starting new ops; ops in flight stay open in the history. */
  signal: AbortSignal;
  log: Logger;
  /** Re-issues an op that did not end `ok`, up to this many extra attempts (for final reads). */
  retriesMax?: number;
  /** Pause before a retry. */
  retryDelayMs?: number;
}

/**
 * Process ids carried over from one phase to the next, so the final phase does not reuse an id
 * whose op is still open.
 */
export class ProcessTable {
  private readonly ids: number[];

  constructor(readonly concurrency: number) {
    this.ids = Array.from({ length: concurrency }, (_, thread) => thread);
  }

  processOf(thread: number): number {
    return this.ids[thread] as number;
  }

  retire(thread: number): void {
    this.ids[thread] = (this.ids[thread] as number) + this.concurrency;
  }
}

/** Runs one phase of client ops until the generator is done or the signal aborts. */
export async function runClientPhase(options: ClientPhaseOptions, processes: ProcessTable): Promise<void> {
  let generator = options.generator;
  let wake: (() => void) | undefined;
  const wakeWaiters = (): void => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };

  const waitFor = (untilNs: number | undefined): Promise<void> => {
    const delayMs = untilNs === undefined ? PENDING_POLL_MS : Math.max(0, (untilNs - options.recorder.nowNs()) / 1e6);
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delayMs);
      const previous = wake;
      wake = () => {
        clearTimeout(timer);
        previous?.();
        resolve();
      };
    });
  };
  const onAbort = (): void => wakeWaiters();
  options.signal.addEventListener('abort', onAbort, { once: true });

  const runThread = async (thread: number): Promise<void> => {
    const client = options.clients[thread % options.clients.length] as KvClient;
    while (!options.signal.aborted) {
      const step = generator.step({ timeNs: options.recorder.nowNs(), random: options.random });
      if (step.kind === 'done') return;
      generator = step.next;
      if (step.kind === 'pending') {
        await waitFor(step.untilNs);
        continue;
      }
      await runOp(options, processes, thread, client, step.op);
      // A finished op may unblock a generator that waits on completions.
      wakeWaiters();
    }
  };

  const threads = Array.from({ length: options.concurrency }, (_, thread) => runThread(thread));
  try {
    await Promise.all(threads);
  } finally {
    options.signal.removeEventListener('abort', onAbort);
  }
}

async function runOp(options: ClientPhaseOptions, processes: ProcessTable, thread: number, client: KvClient, op: WorkloadOp): Promise<void> {
  const attemptsMax = 1 + (options.retriesMax ?? 0);
  for (let attempt = 1; attempt <= attemptsMax && !options.signal.aborted; attempt += 1) {
    const process = processes.processOf(thread);
    options.recorder.recordFields(process, 'invoke', op.f, op.key, op.value, undefined);
    let completion: Completion;
    try {
      completion = await options.workload.invoke(client, op);
    } catch (error) {
      // The workload's mapping turns operating failures into completions, so a throw is a bug in
      // the client path. It is recorded as unknown, since the call may have reached the server.
      options.log.error({ err: error, process, f: op.f, key: op.key }, 'client call threw; recording the op as info');
      completion = { type: 'info', error: `client error: ${(error as Error).message}` };
    }
    options.recorder.recordFields(process, completion.type, op.f, op.key, completion.value === undefined ? op.value : completion.value, completion.error);
    if (completion.type === 'info') processes.retire(thread);
    if (completion.type === 'ok' || attempt === attemptsMax) return;
    await new Promise((resolve) => setTimeout(resolve, options.retryDelayMs ?? 0));
  }
}
