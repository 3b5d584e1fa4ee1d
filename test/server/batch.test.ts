// The Batch RPC on a real one-node server. Every item gets its own reply in item order, and an
// invalid item is rejected alone. Writes and reads in one batch see each other's effects in
// item order, because the node executes them in that order.
import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import { BatchReplySchema, ReadConsistency, ReplyStatus, TRaftKV } from '../../proto/gen/traft/v1/kv_pb.js';
import { create } from '@bufbuild/protobuf';
import { HeaderSchema } from '../../proto/gen/traft/v1/common_pb.js';
import { encodeBatchItem, encodeBatchRequest } from '../../server/client/wire.js';
import { CHANNEL_OPTIONS, callUnaryCancellable } from '../../server/transport/grpc.js';
import { TestCluster } from './cluster.js';

t.test('batch replies per item', async (t) => {
  const cluster = await TestCluster.start({ size: 1 });
  t.teardown(() => cluster.stop());
  await cluster.waitForLeader();
  const channel = new grpc.Client(cluster.endpointOf(1), grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
  t.teardown(() => channel.close());

  const tag = (seq: number) => ({ clientId: 'batch-test', seq });
  const items = [
    encodeBatchItem({ kind: 'put', key: 'a', valueJson: '1' }, tag(1)),
    encodeBatchItem({ kind: 'put', key: 'b', valueJson: '{not json' }, tag(2)),
    encodeBatchItem({ kind: 'cas', key: 'a', expectedJson: '1', valueJson: '2' }, tag(3)),
    encodeBatchItem({ kind: 'put', key: 'a', valueJson: '1' }, tag(1)),
    encodeBatchItem({ kind: 'get', key: 'b', consistency: ReadConsistency.LINEARIZABLE }, undefined),
  ];
  const request = encodeBatchRequest(create(HeaderSchema, { requestId: 1n }), items);
  const reply = await callUnaryCancellable(channel, TRaftKV, 'batch', request, 5000).reply;
  t.equal(reply.$typeName, BatchReplySchema.typeName, 'a BatchReply');
  t.equal(reply.replies.length, items.length, 'one reply per item');

  const [put, invalid, cas, retry, get] = reply.replies;
  t.equal(put?.status, ReplyStatus.OK, 'the put is ok');
  t.equal(invalid?.status, ReplyStatus.REJECTED, 'the item with invalid JSON is rejected');
  t.match(invalid?.reason ?? '', /items\[1\].*value_json/, 'the rejection names the item and the field');
  t.equal(cas?.status, ReplyStatus.OK, 'the cas after the put in the same batch is ok');
  t.match(cas?.resultJson ?? '', /"swapped":true/, 'the cas saw the put of the same batch');
  t.equal(retry?.status, ReplyStatus.OK, 'a repeated (clientId, seq) is ok');
  t.equal(get?.status, ReplyStatus.OK, 'the read is ok');
  t.match(get?.resultJson ?? '', /"value":null/, 'the rejected put had no effect');

  const client = await cluster.client();
  const value = await client.get('a');
  t.same(value, { type: 'ok', value: 2, result: { kind: 'value', value: 2 } }, 'the retried put did not apply twice');
});
