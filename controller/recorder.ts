// The history recorder: stamps ops with their index and monotonic time, counts outcomes, and
// writes them through a HistoryWriter that is flushed in batches, so a crash leaves a checkable prefix.
import type { HistoryWriter } from '../checker/history/jsonl.js';
import type { Op } from '../checker/history/types.js';

/** How often buffered ops are handed to the OS while a run goes. */
export const FLUSH_INTERVAL_MS = 200;

export interface OutcomeCounts {
  invoke: number;
  ok: number;
  fail: number;
  info: number;
}

export class HistoryRecorder {
  readonly counts: OutcomeCounts = { invoke: 0, ok: 0, fail: 0, info: 0 };
  private nextIndex = 0;
  private readonly startNs: bigint;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly writer: HistoryWriter) {
    this.startNs = process.hrtime.bigint();
    this.timer = setInterval(() => void this.writer.flush().catch(() => undefined), FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  /** Nanoseconds since the recorder was created, from the monotonic clock. */
  nowNs(): number {
    return Number(process.hrtime.bigint() - this.startNs);
  }

  get opCount(): number {
    return this.nextIndex;
  }

  /** Stamps and writes one op, and returns it. After close() the op is dropped: the run is over. */
  record(op: Omit<Op, 'index' | 'time'>): Op {
    return this.recordFields(op.process, op.type, op.f, op.key, op.value, op.error);
  }

  /**
   * Stamps and writes one op given field by field, like record(). The client loop calls this twice
   * per op, so it builds the op in one object literal, in the key order of the history lines.
   */
  recordFields(process: Op['process'], type: Op['type'], f: string, key: string | undefined, value: unknown, error: string | undefined): Op {
    const index = this.closed ? -1 : this.nextIndex;
    const stamped: Op = { index, time: this.nowNs(), process, type, f, key, value, error };
    if (this.closed) return stamped;
    this.nextIndex += 1;
    this.counts[type] += 1;
    this.writer.write(stamped);
    return stamped;
  }

  flush(): Promise<void> {
    return this.writer.flush();
  }

  /** Stops the flush timer, then flushes and closes the file. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.writer.close();
  }
}
