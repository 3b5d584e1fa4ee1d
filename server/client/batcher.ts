// Coalesces the key-value calls a client makes to one endpoint into Batch RPCs, Nagle-style. With
// no batch in flight, the queued calls leave on the next turn of the event loop. While one is in
// flight, new calls wait and leave together when it returns. A batch carries at most `itemsMax`
// calls. Every call keeps its own deadline: a call whose deadline passes while it still waits is
// rejected as never sent, and one whose batch is on the wire is rejected as timed out.
import assert from 'node:assert';
import * as grpc from '@grpc/grpc-js';
import type { Header } from '../../proto/gen/traft/v1/common_pb.js';
import { TRaftKV, type BatchReply, type KvReply } from '../../proto/gen/traft/v1/kv_pb.js';
import { CallError, callUnaryCancellable } from '../transport/grpc.js';
import { encodeBatchRequest } from './wire.js';

/** A call that never left the client: its deadline passed while it was queued, or the client closed. */
export class NotSentError extends Error {
  override readonly name = 'NotSentError';
}

interface QueuedCall {
  /** The call as an encoded BatchItem (see wire.ts). */
  item: Uint8Array;
  deadlineMs: number;
  resolve: (reply: KvReply) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout | undefined;
  /** The batch this call went out in; undefined while it waits in the queue. */
  batch: InFlightBatch | undefined;
  settled: boolean;
}

interface InFlightBatch {
  calls: QueuedCall[];
  cancel: () => void;
  /** Calls of this batch not settled yet; at 0 the RPC is cancelled, since no caller waits for it. */
  openCalls: number;
}

export class EndpointBatcher {
  private queue: QueuedCall[] = [];
  private inFlight: InFlightBatch | undefined;
  private flushScheduled = false;

  constructor(
    private readonly client: grpc.Client,
    private readonly nextHeader: () => Header,
    private readonly itemsMax: number,
  ) {
    assert(itemsMax >= 1, 'a batch carries at least one call');
  }

  /** Queues `item` and resolves with its reply. Rejects with NotSentError or a CallError. */
  call(item: Uint8Array, deadlineMs: number): Promise<KvReply> {
    return new Promise<KvReply>((resolve, reject) => {
      const queued: QueuedCall = { item, deadlineMs, resolve, reject, timer: undefined, batch: undefined, settled: false };
      queued.timer = setTimeout(() => this.expire(queued), Math.max(0, deadlineMs - Date.now()));
      this.queue.push(queued);
      this.scheduleFlush();
    });
  }

  /** Rejects every queued call as not sent and cancels the batch in flight. */
  close(): void {
    const queue = this.queue;
    this.queue = [];
    for (const queued of queue) {
      settle(queued, undefined, new NotSentError('the client is closed'));
    }
    this.inFlight?.cancel();
  }

  /**
   * Sends the queue on the next turn of the event loop, so that calls made in one turn (the
   * threads woken by one reply) share a batch.
   */
  private scheduleFlush(): void {
    if (this.flushScheduled || this.inFlight !== undefined) {
      return;
    }
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.inFlight !== undefined || this.queue.length === 0) {
      return;
    }
    const calls = this.queue.splice(0, this.itemsMax);
    let deadlineMs = 0;
    for (const queued of calls) {
      deadlineMs = Math.max(deadlineMs, queued.deadlineMs);
    }

    const batch: InFlightBatch = { calls, cancel: () => undefined, openCalls: calls.length };
    for (const queued of calls) {
      queued.batch = batch;
    }
    this.inFlight = batch;
    const request = encodeBatchRequest(this.nextHeader(), calls.map((queued) => queued.item));
    const pending = callUnaryCancellable(this.client, TRaftKV, 'batch', request, Math.max(1, deadlineMs - Date.now()));
    batch.cancel = pending.cancel;
    pending.reply.then(
      (reply) => this.finish(batch, reply, undefined),
      (error: unknown) => this.finish(batch, undefined, error as Error),
    );
  }

  private finish(batch: InFlightBatch, reply: BatchReply | undefined, error: Error | undefined): void {
    if (this.inFlight === batch) {
      this.inFlight = undefined;
    }
    if (reply !== undefined && reply.replies.length !== batch.calls.length) {
      error = new CallError(grpc.status.INTERNAL, `the server sent ${reply.replies.length} replies for a batch of ${batch.calls.length}`);
    }
    batch.calls.forEach((queued, i) => {
      settle(queued, error === undefined ? reply?.replies[i] : undefined, error);
    });
    this.scheduleFlush();
  }

  private expire(queued: QueuedCall): void {
    queued.timer = undefined;
    if (queued.settled) {
      return;
    }
    const batch = queued.batch;
    if (batch === undefined) {
      this.queue = this.queue.filter((other) => other !== queued);
      settle(queued, undefined, new NotSentError('the deadline passed before the call was sent'));
      return;
    }
    settle(queued, undefined, new CallError(grpc.status.DEADLINE_EXCEEDED, 'the deadline passed while the batch was in flight'));
    batch.openCalls -= 1;
    if (batch.openCalls === 0 && this.inFlight === batch) {
      // No caller waits for this batch any more, so free the endpoint for the calls queued behind it.
      this.inFlight = undefined;
      batch.cancel();
      this.scheduleFlush();
    }
  }
}

function settle(queued: QueuedCall, reply: KvReply | undefined, error: Error | undefined): void {
  if (queued.settled) {
    return;
  }
  queued.settled = true;
  if (queued.timer !== undefined) {
    clearTimeout(queued.timer);
    queued.timer = undefined;
  }
  if (reply !== undefined) {
    queued.resolve(reply);
    return;
  }
  queued.reject(error ?? new CallError(grpc.status.INTERNAL, 'the batch ended without a reply or an error'));
}
