// The client library's Batch path against a stand-in TRaftKV server: coalescing, per-call
// deadlines, and which transport failures leave an outcome unknown.
import t, { type Test } from 'tap';
import { create } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import {
  BatchReplySchema,
  KvReplySchema,
  ReadConsistency,
  ReplyStatus,
  TRaftKV,
  type BatchReply,
  type BatchRequest,
} from '../../proto/gen/traft/v1/kv_pb.js';
import { EndpointBatcher, NotSentError } from '../../server/client/batcher.js';
import { TraftClient } from '../../server/client/client.js';
import { encodeBatchItem } from '../../server/client/wire.js';
import { addService, CallError, CHANNEL_OPTIONS } from '../../server/transport/grpc.js';
import { HeaderSchema } from '../../proto/gen/traft/v1/common_pb.js';

interface StandIn {
  address: string;
  /** Item count of every Batch request received, in arrival order. */
  batchSizes: number[];
  server: grpc.Server;
}

/** Starts a TRaftKV server whose Batch handler is `batch`; every other method is unimplemented. */
async function startStandIn(batch: (request: BatchRequest) => Promise<BatchReply>): Promise<StandIn> {
  const server = new grpc.Server(CHANNEL_OPTIONS);
  const batchSizes: number[] = [];
  const unimplemented = async (): Promise<never> => {
    throw new Error('not implemented by the stand-in server');
  };
  const handlers = new Proxy({}, {
    get: (_target, name) => {
      if (name !== 'batch') return unimplemented;
      return (request: BatchRequest) => {
        batchSizes.push(request.items.length);
        return batch(request);
      };
    },
  });
  addService(server, TRaftKV, handlers as never);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound)));
  });
  return { address: `127.0.0.1:${port}`, batchSizes, server };
}

/** Replies OK with a `done` result to every item. */
function okReplies(request: BatchRequest): BatchReply {
  const replies = request.items.map(() => create(KvReplySchema, { status: ReplyStatus.OK, resultJson: '{"kind":"done"}', lsn: 1n }));
  return create(BatchReplySchema, { replies });
}

function delayMs(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A linearizable get of key `k`, encoded once for the batcher tests. */
const GET_ITEM = encodeBatchItem({ kind: 'get', key: 'k', consistency: ReadConsistency.LINEARIZABLE }, undefined);

/** Starts a stand-in server whose Batch handler is `batch`, and a batcher on its own channel to it. */
async function batcherAgainst(t: Test, batch: (request: BatchRequest) => Promise<BatchReply>): Promise<{ standIn: StandIn; batcher: EndpointBatcher }> {
  const standIn = await startStandIn(batch);
  t.teardown(() => standIn.server.forceShutdown());
  const channel = new grpc.Client(standIn.address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
  t.teardown(() => channel.close());
  return { standIn, batcher: new EndpointBatcher(channel, () => create(HeaderSchema, {}), 16) };
}

t.test('calls in one turn share a batch', async (t) => {
  const standIn = await startStandIn(async (request) => okReplies(request));
  t.teardown(() => standIn.server.forceShutdown());
  const client = await TraftClient.connect([standIn.address], { rpcTimeoutMs: 2000 });
  t.teardown(() => client.close());

  const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => client.put(`k${i}`, i)));
  t.ok(outcomes.every((outcome) => outcome.type === 'ok'), 'every put is ok');
  t.same(standIn.batchSizes, [20], 'one Batch RPC carried all 20 puts');
});

t.test('writes carry the acked watermark', async (t) => {
  const tags: [number, number][] = [];
  const standIn = await startStandIn(async (request) => {
    for (const item of request.items) {
      const tag = item.request.case === 'put' ? item.request.value.tag : undefined;
      if (tag !== undefined) tags.push([Number(tag.seq), Number(tag.ackedThrough)]);
    }
    const hangs = request.items.some((item) => item.request.case === 'put' && item.request.value.key === 'hang');
    if (hangs) await delayMs(1_000);
    return okReplies(request);
  });
  t.teardown(() => standIn.server.forceShutdown());
  const client = await TraftClient.connect([standIn.address], { rpcTimeoutMs: 300, attemptsMax: 1 });
  t.teardown(() => client.close());

  await client.put('a', 1);
  await client.put('b', 2);
  await Promise.all([client.put('c', 3), client.put('d', 4)]);
  t.equal((await client.put('hang', 5)).type, 'info', 'the write without a reply is unknown');
  await client.put('e', 6);

  t.same(tags.slice(0, 2), [[1, 0], [2, 1]], 'each write acknowledges the ones before it');
  t.same(tags.slice(2, 4), [[3, 2], [4, 2]], 'writes in flight together acknowledge neither');
  t.same(tags.slice(4), [[5, 4], [6, 5]], 'a write that timed out is acknowledged too, since it is never resent');
});

t.test('calls wait for the batch in flight', async (t) => {
  let firstArrived: () => void = () => undefined;
  const firstArrival = new Promise<void>((resolve) => (firstArrived = resolve));
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const standIn = await startStandIn(async (request) => {
    if (standIn.batchSizes.length === 1) {
      firstArrived();
      await gate;
    }
    return okReplies(request);
  });
  t.teardown(() => standIn.server.forceShutdown());
  const client = await TraftClient.connect([standIn.address], { rpcTimeoutMs: 5000 });
  t.teardown(() => client.close());

  const first = Array.from({ length: 3 }, (_, i) => client.get(`a${i}`));
  await firstArrival;
  const second: Promise<unknown>[] = [];
  for (let i = 0; i < 4; i++) {
    second.push(client.put(`b${i}`, i));
    await delayMs(5);
  }
  release();
  await Promise.all([...first, ...second]);
  t.same(standIn.batchSizes, [3, 4], 'the four later calls left together once the first batch returned');
});

t.test('queued call past its deadline is not sent', async (t) => {
  const { standIn, batcher } = await batcherAgainst(t, async (request) => {
    await delayMs(400);
    return okReplies(request);
  });

  const slow = batcher.call(GET_ITEM, Date.now() + 3000);
  await delayMs(50);
  const queued = batcher.call(GET_ITEM, Date.now() + 100);
  await t.rejects(queued, NotSentError, 'the queued call is rejected as never sent');
  const reply = await slow;
  t.equal(reply.status, ReplyStatus.OK, 'the batch in flight still completes');
  t.same(standIn.batchSizes, [1], 'the expired call never reached the server');
});

t.test('deadline in flight is unknown', async (t) => {
  const standIn = await startStandIn(async (request) => {
    await delayMs(600);
    return okReplies(request);
  });
  t.teardown(() => standIn.server.forceShutdown());
  const client = await TraftClient.connect([standIn.address], { rpcTimeoutMs: 200 });
  t.teardown(() => client.close());

  const outcome = await client.put('k', 1);
  t.equal(outcome.type, 'info', 'a put whose batch outlived its deadline may have happened');
  t.equal(standIn.batchSizes.length, 1, 'the put was sent once');
});

t.test('connection lost mid-call is unknown', async (t) => {
  let arrived: () => void = () => undefined;
  const arrival = new Promise<void>((resolve) => (arrived = resolve));
  const standIn = await startStandIn(async () => {
    arrived();
    return new Promise<BatchReply>(() => undefined);
  });
  const client = await TraftClient.connect([standIn.address], { rpcTimeoutMs: 5000, attemptsMax: 1 });
  t.teardown(() => client.close());

  const pending = client.put('k', 1);
  await arrival;
  standIn.server.forceShutdown();
  const outcome = await pending;
  t.equal(outcome.type, 'info', 'a write whose connection dropped after sending may have happened');
  t.notMatch(outcome.type === 'info' ? outcome.reason : '', /No connection established/, 'the failure is a lost connection');
});

/** Resolves with when `promise` settled (Date.now() ms) and how. */
async function settledAt<T>(promise: Promise<T>): Promise<{ atMs: number; error?: unknown }> {
  try {
    await promise;
    return { atMs: Date.now() };
  } catch (error) {
    return { atMs: Date.now(), error };
  }
}

t.test('queued calls expire at their own deadlines', async (t) => {
  const { standIn, batcher } = await batcherAgainst(t, async (request) => {
    await delayMs(600);
    return okReplies(request);
  });

  const inFlight = settledAt(batcher.call(GET_ITEM, Date.now() + 5000));
  await delayMs(50);
  // The later call has the earlier deadline, so the batcher's one timer must move forward.
  const laterDeadlineMs = Date.now() + 300;
  const later = settledAt(batcher.call(GET_ITEM, laterDeadlineMs));
  const earlierDeadlineMs = Date.now() + 100;
  const earlier = settledAt(batcher.call(GET_ITEM, earlierDeadlineMs));

  const [first, second, third] = await Promise.all([earlier, later, inFlight]);
  t.type(first.error, NotSentError, 'the call with the earlier deadline is never sent');
  t.type(second.error, NotSentError, 'the call with the later deadline is never sent');
  t.ok(first.atMs >= earlierDeadlineMs, 'the earlier call is not rejected before its deadline');
  t.ok(second.atMs >= laterDeadlineMs, 'the later call is not rejected before its deadline');
  t.ok(first.atMs < second.atMs, 'the earlier deadline expires first');
  t.equal(third.error, undefined, 'the call in flight completes');
  t.same(standIn.batchSizes, [1], 'neither expired call reached the server');
});

t.test('calls in flight expire one by one', async (t) => {
  const { standIn, batcher } = await batcherAgainst(t, async (request) => {
    await delayMs(900);
    return okReplies(request);
  });

  const startMs = Date.now();
  const outcomes = await Promise.all([settledAt(batcher.call(GET_ITEM, startMs + 450)), settledAt(batcher.call(GET_ITEM, startMs + 150)), settledAt(batcher.call(GET_ITEM, startMs + 3000))]);
  const [slow, fast, patient] = outcomes;
  t.ok(slow!.error instanceof CallError && slow!.error.code === grpc.status.DEADLINE_EXCEEDED, 'the 450 ms call times out in flight');
  t.ok(fast!.error instanceof CallError && fast!.error.code === grpc.status.DEADLINE_EXCEEDED, 'the 150 ms call times out in flight');
  t.ok(fast!.atMs >= startMs + 150 && slow!.atMs >= startMs + 450, 'no call is rejected before its deadline');
  t.ok(fast!.atMs < slow!.atMs, 'the earlier deadline expires first');
  t.equal(patient!.error, undefined, 'the call with time left gets its reply');
  t.same(standIn.batchSizes, [3], 'the three calls went out in one batch');
});

t.test('idle batcher keeps no timer', async (t) => {
  const { batcher } = await batcherAgainst(t, async (request) => okReplies(request));

  // A timer left armed for the 60 s deadline would keep a short-lived CLI process alive.
  await batcher.call(GET_ITEM, Date.now() + 60_000);
  t.equal((batcher as unknown as { deadlineTimer: unknown }).deadlineTimer, undefined, 'the deadline timer is cleared once the last call settles');
});
