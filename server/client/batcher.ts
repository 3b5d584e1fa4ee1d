// Coalesces the key-value calls a client makes to one endpoint into Batch RPCs, Nagle-style. With
// no batch in flight, the queued calls leave on the next turn of the event loop. While one is in
// flight, new calls wait and leave together when it returns. A batch carries at most `itemsMax`
// calls. Every call keeps its own deadline: a call whose deadline passes while it still waits is
// rejected as never sent, and one whose batch is on the wire is rejected as timed out.
//
// One timer per batcher enforces the deadlines. It is armed for the earliest deadline among the
// open calls, and when it fires it expires every call that is due and re-arms for the next one.
// A timer per call cost a Timeout object and a closure that lived as long as the call, which
// the garbage collector had to copy and promote for every op.
import assert from 'node:assert';
import * as grpc from '@grpc/grpc-js';
import { TRaftKV } from '../../proto/gen/traft/v1/kv_pb.js';
import { CallError, methodPath } from '../transport/grpc.js';
import { decodeBatchReply, encodeBatchRequest, type HeaderFields, type KvReplyFields } from './wire.js';

/** The gRPC path of TRaftKV.Batch. */
const BATCH_PATH = methodPath(TRaftKV, TRaftKV.method.batch);

/** A call that never left the client: its deadline passed while it was queued, or the client closed. */
export class NotSentError extends Error {
  override readonly name = 'NotSentError';
}

interface QueuedCall {
  /** The call as an encoded BatchItem (see wire.ts). */
  item: Uint8Array;
  deadlineMs: number;
  resolve: (reply: KvReplyFields) => void;
  reject: (error: Error) => void;
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
  private deadlineTimer: NodeJS.Timeout | undefined;
  /** When `deadlineTimer` fires, in Date.now() milliseconds. */
  private deadlineTimerAtMs = 0;

  constructor(
    private readonly client: grpc.Client,
    private readonly nextHeader: () => HeaderFields,
    private readonly itemsMax: number,
  ) {
    assert(itemsMax >= 1, 'a batch carries at least one call');
  }

  /** Queues `item` and resolves with its reply. Rejects with NotSentError or a CallError. */
  call(item: Uint8Array, deadlineMs: number): Promise<KvReplyFields> {
    return new Promise<KvReplyFields>((resolve, reject) => {
      this.queue.push({ item, deadlineMs, resolve, reject, batch: undefined, settled: false });
      if (this.deadlineTimer === undefined || deadlineMs < this.deadlineTimerAtMs) this.armDeadlineTimer(deadlineMs);
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
    this.stopDeadlineTimerWhenIdle();
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
    // The call is made here rather than through transport/grpc.ts so that the reply is decoded by
    // the hand-written decodeBatchReply instead of protobuf-es's reflective fromBinary.
    const call = this.client.makeUnaryRequest(
      BATCH_PATH,
      identity,
      decodeBatchReply,
      request,
      new grpc.Metadata(),
      { deadline: Math.max(Date.now() + 1, deadlineMs) },
      (error, replies) => {
        if (error) {
          this.finish(batch, undefined, new CallError(error.code, `${BATCH_PATH} failed: ${error.details || error.message}`));
          return;
        }
        this.finish(batch, replies, undefined);
      },
    );
    batch.cancel = () => call.cancel();
  }

  private finish(batch: InFlightBatch, replies: KvReplyFields[] | undefined, error: Error | undefined): void {
    if (this.inFlight === batch) {
      this.inFlight = undefined;
    }
    if (replies !== undefined && replies.length !== batch.calls.length) {
      error = new CallError(grpc.status.INTERNAL, `the server sent ${replies.length} replies for a batch of ${batch.calls.length}`);
    }
    batch.calls.forEach((queued, i) => {
      settle(queued, error === undefined ? replies?.[i] : undefined, error);
    });
    this.stopDeadlineTimerWhenIdle();
    this.scheduleFlush();
  }

  /** Clears the deadline timer once no call is open, so an idle batcher keeps no timer alive. */
  private stopDeadlineTimerWhenIdle(): void {
    if (this.deadlineTimer === undefined || this.queue.length > 0 || this.inFlight !== undefined) return;
    clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
  }

  private armDeadlineTimer(atMs: number): void {
    if (this.deadlineTimer !== undefined) clearTimeout(this.deadlineTimer);
    this.deadlineTimerAtMs = atMs;
    this.deadlineTimer = setTimeout(() => this.expireDue(), Math.max(0, atMs - Date.now()));
  }

  /** Expires every open call whose deadline has passed, then re-arms the timer for the earliest one left. */
  private expireDue(): void {
    this.deadlineTimer = undefined;
    const nowMs = Date.now();
    let nextDeadlineMs = Infinity;

    const waiting: QueuedCall[] = [];
    for (const queued of this.queue) {
      if (queued.deadlineMs > nowMs) {
        waiting.push(queued);
        nextDeadlineMs = Math.min(nextDeadlineMs, queued.deadlineMs);
        continue;
      }
      settle(queued, undefined, new NotSentError('the deadline passed before the call was sent'));
    }
    this.queue = waiting;

    const batch = this.inFlight;
    if (batch !== undefined) {
      for (const queued of batch.calls) {
        if (queued.settled) continue;
        if (queued.deadlineMs > nowMs) {
          nextDeadlineMs = Math.min(nextDeadlineMs, queued.deadlineMs);
          continue;
        }
        settle(queued, undefined, new CallError(grpc.status.DEADLINE_EXCEEDED, 'the deadline passed while the batch was in flight'));
        batch.openCalls -= 1;
      }
      if (batch.openCalls === 0) {
        // No caller waits for this batch any more, so free the endpoint for the calls queued behind it.
        this.inFlight = undefined;
        batch.cancel();
        this.scheduleFlush();
      }
    }

    if (nextDeadlineMs !== Infinity) this.armDeadlineTimer(nextDeadlineMs);
  }
}

function identity(request: Buffer): Buffer {
  return request;
}

function settle(queued: QueuedCall, reply: KvReplyFields | undefined, error: Error | undefined): void {
  if (queued.settled) {
    return;
  }
  queued.settled = true;
  if (reply !== undefined) {
    queued.resolve(reply);
    return;
  }
  queued.reject(error ?? new CallError(grpc.status.INTERNAL, 'the batch ended without a reply or an error'));
}
