// The hand-written Batch encoders against protobuf-es's reflective toBinary of the same messages.
import t from 'tap';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { HeaderSchema } from '../../proto/gen/traft/v1/common_pb.js';
import { BatchItemSchema, BatchRequestSchema, ReadConsistency, type BatchItem } from '../../proto/gen/traft/v1/kv_pb.js';
import { encodeBatchItem, encodeBatchRequest, type KvCall, type WriteTagFields } from './wire.js';

const tag: WriteTagFields = { clientId: 'client-ü', seq: 2 ** 40 + 3 };
const wireTag = { clientId: tag.clientId, seq: BigInt(tag.seq) };

function expectedItem(call: KvCall, withTag: boolean): BatchItem {
  const t = withTag ? wireTag : undefined;
  switch (call.kind) {
    case 'put':
      return create(BatchItemSchema, { request: { case: 'put', value: { tag: t, key: call.key, valueJson: call.valueJson } } });
    case 'append':
      return create(BatchItemSchema, { request: { case: 'append', value: { tag: t, key: call.key, valueJson: call.valueJson } } });
    case 'delete':
      return create(BatchItemSchema, { request: { case: 'delete', value: { tag: t, key: call.key } } });
    case 'cas':
      return create(BatchItemSchema, { request: { case: 'cas', value: { tag: t, key: call.key, expectedJson: call.expectedJson, valueJson: call.valueJson } } });
    case 'incr':
      return create(BatchItemSchema, { request: { case: 'incr', value: { tag: t, key: call.key, delta: BigInt(call.delta) } } });
    case 'txn':
      return create(BatchItemSchema, { request: { case: 'txn', value: { tag: t, ops: call.ops } } });
    case 'get':
      return create(BatchItemSchema, { request: { case: 'get', value: { key: call.key, consistency: call.consistency } } });
  }
}

const calls: KvCall[] = [
  { kind: 'put', key: 'k1', valueJson: '[1,2]' },
  { kind: 'put', key: '', valueJson: 'null' },
  { kind: 'append', key: 'list', valueJson: '7' },
  { kind: 'delete', key: 'gone' },
  { kind: 'cas', key: 'r3', expectedJson: 'null', valueJson: '4' },
  { kind: 'incr', key: 'n', delta: -5 },
  { kind: 'incr', key: 'n', delta: 2 ** 53 - 1 },
  { kind: 'txn', ops: [{ f: 'append', key: 'a', valueJson: '1' }, { f: 'r', key: 'b', valueJson: '' }] },
  { kind: 'txn', ops: [] },
  { kind: 'get', key: 'k1', consistency: ReadConsistency.LINEARIZABLE },
  { kind: 'get', key: 'k2', consistency: ReadConsistency.STALE },
];

t.test('batch items match toBinary', async (t) => {
  for (const call of calls) {
    const withTag = call.kind !== 'get';
    const expected = fromBinary(BatchItemSchema, toBinary(BatchItemSchema, expectedItem(call, withTag)));
    const actual = fromBinary(BatchItemSchema, encodeBatchItem(call, withTag ? tag : undefined));
    t.same(actual, expected, `${call.kind} ${JSON.stringify(call)}`);
  }
});

t.test('batch request carries header and items', async (t) => {
  const header = create(HeaderSchema, { clusterId: 'c1', fromId: 0, toId: 3, requestId: 99n });
  const items = calls.map((call) => encodeBatchItem(call, call.kind === 'get' ? undefined : tag));
  const decoded = fromBinary(BatchRequestSchema, encodeBatchRequest(header, items));
  t.same(decoded.header, header, 'header');
  t.equal(decoded.items.length, calls.length, 'item count');
  decoded.items.forEach((item, i) => {
    t.same(item, fromBinary(BatchItemSchema, items[i]!), `item ${i}`);
  });
});
