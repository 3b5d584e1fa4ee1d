// Junk on the server port: raw bytes that are not HTTP/2, malformed protobuf on every method of
// every service, and an unknown method. Each gets an error and the server keeps serving.
import { connect } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import t from 'tap';
import { TRaftAdmin } from '../../proto/gen/traft/v1/admin_pb.js';
import { TRaftKV } from '../../proto/gen/traft/v1/kv_pb.js';
import { TRaftPeer } from '../../proto/gen/traft/v1/peer_pb.js';
import { CallError, callUnary, methodPath } from '../../server/transport/grpc.js';
import { TestCluster, within } from './cluster.js';

/** Bytes that no protobuf message parses: field 1 with wire type 7, which does not exist. */
const MALFORMED = Buffer.from([0x0f, 0xff, 0xff, 0xff]);

function callRaw(client: grpc.Client, path: string, body: Buffer, streaming: boolean): Promise<grpc.status> {
  return new Promise((resolve) => {
    const serialize = (b: Buffer) => b;
    const deserialize = (b: Buffer) => b;
    if (streaming) {
      const call = client.makeServerStreamRequest(path, serialize, deserialize, body, new grpc.Metadata(), { deadline: Date.now() + 3000 });
      call.on('data', () => undefined);
      call.on('error', (error: grpc.ServiceError) => resolve(error.code));
      call.on('end', () => resolve(grpc.status.OK));
      return;
    }
    client.makeUnaryRequest(path, serialize, deserialize, body, new grpc.Metadata(), { deadline: Date.now() + 3000 }, (error) =>
      resolve(error ? error.code : grpc.status.OK),
    );
  });
}

async function callUnaryStatus(
  client: grpc.Client,
  service: typeof TRaftPeer | typeof TRaftKV,
  method: string,
  request: object,
): Promise<string> {
  try {
    await callUnary(client, service as typeof TRaftKV, method as 'put', request as never, 3000);
    return 'OK';
  } catch (error) {
    return error instanceof CallError ? grpc.status[error.code] : String(error);
  }
}

t.test('junk on every port is rejected', async (t) => {
  const cluster = await TestCluster.start({ size: 1 });
  t.teardown(() => cluster.stop());
  await cluster.waitForLeader();
  const endpoint = cluster.endpointOf(1);
  const raw = new grpc.Client(endpoint, grpc.credentials.createInsecure());
  t.teardown(() => raw.close());

  for (const service of [TRaftPeer, TRaftKV, TRaftAdmin]) {
    for (const method of service.methods) {
      const code = await callRaw(raw, methodPath(service, method), MALFORMED, method.methodKind === 'server_streaming');
      t.equal(grpc.status[code], 'INVALID_ARGUMENT', `${service.name}.${method.name} rejects malformed protobuf`);
    }
  }

  const unknown = await callRaw(raw, '/traft.v1.TRaftKV/NoSuchMethod', Buffer.alloc(0), false);
  t.equal(grpc.status[unknown], 'UNIMPLEMENTED', 'unknown method is UNIMPLEMENTED');

  // Raw bytes that are not an HTTP/2 preface: the server closes the connection.
  const closed = await within(
    new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: cluster.spec(1).port }, () => {
        socket.write(Buffer.from('GET / HTTP/1.0\r\n\r\n\x00\x01\x02garbage\xff\xfe'.repeat(50), 'binary'));
      });
      socket.on('data', () => undefined);
      socket.on('error', () => resolve(true));
      socket.on('close', () => resolve(true));
    }),
    10_000,
    'connection with junk bytes',
  );
  t.ok(closed, 'server closes a connection that sends junk bytes');

  // Well-formed peer requests with invalid content are invalid arguments, not crashes.
  const wrongCluster = await callUnaryStatus(raw, TRaftPeer, 'elect', {
    header: { clusterId: 'another-cluster', fromId: 2, toId: 1, requestId: 1n },
    ballot: { term: 5n, id: 2 },
  });
  t.equal(wrongCluster, 'INVALID_ARGUMENT', 'elect from another cluster is rejected');
  const badBitmap = await callUnaryStatus(raw, TRaftPeer, 'logForward', {
    header: { clusterId: 'test', fromId: 2, toId: 1, requestId: 2n },
    ballot: { term: 5n, id: 2 },
    base: { offset: 3n, words: [] },
  });
  t.equal(badBitmap, 'INVALID_ARGUMENT', 'log-forward with an unaligned bitmap is rejected');
  const badCommand = await callUnaryStatus(raw, TRaftPeer, 'logForward', {
    header: { clusterId: 'test', fromId: 2, toId: 1, requestId: 3n },
    ballot: { term: 5n, id: 2 },
    records: [{ seq: 0n, author: { term: 5n, id: 2 }, commandJson: '{"kind":"explode"}' }],
  });
  t.equal(badCommand, 'INVALID_ARGUMENT', 'log-forward with an unknown command kind is rejected');
  const badValue = await callUnaryStatus(raw, TRaftKV, 'put', { key: 'k', valueJson: '{not json' });
  t.equal(badValue, 'INVALID_ARGUMENT', 'put with invalid JSON value is rejected');
  const badWatermark = await callUnaryStatus(raw, TRaftKV, 'put', { tag: { clientId: 'c', seq: 4n, ackedThrough: 4n }, key: 'k', valueJson: '1' });
  t.equal(badWatermark, 'INVALID_ARGUMENT', 'put whose acked_through is not below its seq is rejected');

  const client = await cluster.client();
  const status = await client.status(endpoint);
  t.equal(status.type, 'ok', 'server still answers status');
  t.equal((await client.put('still', 'alive')).type, 'ok', 'server still accepts writes');
  const node = cluster.nodes.get(1)!;
  t.equal(node.child.exitCode, null, 'server process is still running');
});

t.test('client request with wrong cluster id is rejected', async (t) => {
  const cluster = await TestCluster.start({ size: 1 });
  t.teardown(() => cluster.stop());
  await cluster.waitForLeader();
  const { TraftClient } = await import('../../server/client/client.js');
  const client = await TraftClient.connect(cluster.endpoints, { clusterId: 'another-cluster', rpcTimeoutMs: 2000 });
  t.teardown(() => client.close());
  const outcome = await client.put('k', 1);
  t.equal(outcome.type, 'fail', 'put is a definite failure');
  t.match(outcome.type === 'fail' ? outcome.reason : '', /cluster id "another-cluster" does not match/, 'reason names the cluster id');
});
