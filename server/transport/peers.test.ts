// PeerChannels against a real gRPC server on loopback: snapshot calls to one peer never overlap.
import { create } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import t from 'tap';
import { TailBitmap } from '../core/bitmap.js';
import { majorityConfig } from '../core/quorum.js';
import type { Message } from '../core/types.js';
import {
  ElectResponseSchema,
  FetchSnapshotResponseSchema,
  InstallSnapshotResponseSchema,
  LogForwardResponseSchema,
  TRaftPeer,
} from '../../proto/gen/traft/v1/peer_pb.js';
import { addService, CHANNEL_OPTIONS } from './grpc.js';
import { PeerChannels } from './peers.js';

const CLUSTER_ID = 'peers-test';

function snapshotMessage(requestId: number): Message {
  const config = majorityConfig([
    { id: 1, addr: 'a', position: 0 },
    { id: 2, addr: 'b', position: 1 },
    { id: 3, addr: 'c', position: 2 },
  ]);
  return {
    type: 'install-snapshot',
    clusterId: CLUSTER_ID,
    from: 1,
    to: 2,
    requestId,
    ballot: { term: 1, id: 1 },
    snapshot: {
      floor: 0,
      applied: TailBitmap.empty(),
      committed: TailBitmap.empty(),
      config,
      configLsn: -1,
      kv: [['k', 1]],
      dedup: [],
      records: [],
    },
  };
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadlineMs = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadlineMs) await new Promise((resolve) => setTimeout(resolve, 10));
  return condition();
}

t.test('second snapshot waits for the first', async (t) => {
  let received = 0;
  let release: (() => void) | undefined;
  const server = new grpc.Server(CHANNEL_OPTIONS);
  addService(server, TRaftPeer, {
    elect: async () => create(ElectResponseSchema, {}),
    logForward: async () => create(LogForwardResponseSchema, {}),
    installSnapshot: async () => {
      received += 1;
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      return create(InstallSnapshotResponseSchema, {});
    },
    fetchSnapshot: async () => create(FetchSnapshotResponseSchema, {}),
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound)));
  });
  const peers = new PeerChannels({
    selfId: 1,
    clusterId: CLUSTER_ID,
    rpcTimeoutMs: 5_000,
    inFlightPerPeerMax: 16,
    addressOf: (id) => (id === 2 ? `127.0.0.1:${port}` : undefined),
    onReply: () => undefined,
    logger: pino({ level: 'silent' }),
  });
  t.teardown(() => {
    release?.();
    peers.close();
    server.forceShutdown();
  });

  peers.send(snapshotMessage(1));
  t.ok(await waitUntil(() => received === 1, 5_000), 'the first snapshot arrives');
  peers.send(snapshotMessage(2));
  await new Promise((resolve) => setTimeout(resolve, 200));
  t.equal(received, 1, 'a second snapshot is not sent while the first is in flight');

  release?.();
  // The reply to the first snapshot may take a while on a loaded machine, and a snapshot sent
  // before it arrives is dropped, so send again until one gets through.
  let requestId = 3;
  t.ok(
    await waitUntil(() => {
      if (received < 2) peers.send(snapshotMessage(requestId++));
      return received >= 2;
    }, 5_000),
    'a snapshot goes out once the first is answered',
  );
});
