// The hand-written Batch codec against protobuf-es's reflective toBinary and fromBinary of the
// same messages, and the hand-checked command results against the zod schema.
import t from 'tap';
import fc from 'fast-check';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { HeaderSchema } from '../../proto/gen/traft/v1/common_pb.js';
import {
  BatchItemSchema,
  BatchReplySchema,
  BatchRequestSchema,
  KvReplySchema,
  ReadConsistency,
  type BatchItem,
  type KvReply,
} from '../../proto/gen/traft/v1/kv_pb.js';
import { commandResultSchema, parseJsonField } from '../transport/json-wire.js';
import {
  decodeBatchReply,
  encodeBatchItem,
  encodeBatchRequest,
  parseCommandResult,
  ReplyDecodeError,
  type KvCall,
  type KvReplyFields,
  type WriteTagFields,
} from './wire.js';

const tag: WriteTagFields = { clientId: 'client-ü', seq: 2 ** 40 + 3, ackedThrough: 2 ** 40 };
const wireTag = { clientId: tag.clientId, seq: BigInt(tag.seq), ackedThrough: BigInt(2 ** 40) };

function expectedItem(call: KvCall, withTag: boolean): BatchItem {
  return expectedItemWithTag(call, withTag ? wireTag : undefined);
}

function expectedItemWithTag(call: KvCall, t: { clientId: string; seq: bigint; ackedThrough: bigint } | undefined): BatchItem {
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

// -------------------------------------------------------------------------------------------
// Property tests: random messages through the hand-written codec and the reflective one.

const text = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 6 }), fc.string({ unit: 'binary', maxLength: 6 }));
const randomTag = fc.record({ clientId: text, seq: fc.maxSafeNat(), ackedThrough: fc.maxSafeNat() }, { requiredKeys: ['clientId', 'seq'] });
const randomCall: fc.Arbitrary<KvCall> = fc.oneof(
  fc.record({ kind: fc.constant('put' as const), key: text, valueJson: text }),
  fc.record({ kind: fc.constant('append' as const), key: text, valueJson: text }),
  fc.record({ kind: fc.constant('delete' as const), key: text }),
  fc.record({ kind: fc.constant('cas' as const), key: text, expectedJson: text, valueJson: text }),
  fc.record({ kind: fc.constant('incr' as const), key: text, delta: fc.maxSafeInteger() }),
  fc.record({ kind: fc.constant('txn' as const), ops: fc.array(fc.record({ f: text, key: text, valueJson: text }), { maxLength: 4 }) }),
  fc.record({ kind: fc.constant('get' as const), key: text, consistency: fc.constantFrom(ReadConsistency.LINEARIZABLE, ReadConsistency.STALE) }),
);

t.test('random batch items match toBinary', async (t) => {
  fc.assert(
    fc.property(randomCall, randomTag, (call, randomTag) => {
      const withTag = call.kind !== 'get';
      const wire = { clientId: randomTag.clientId, seq: BigInt(randomTag.seq), ackedThrough: BigInt(randomTag.ackedThrough ?? 0) };
      const expected = fromBinary(BatchItemSchema, toBinary(BatchItemSchema, expectedItemWithTag(call, withTag ? wire : undefined)));
      const actual = fromBinary(BatchItemSchema, encodeBatchItem(call, withTag ? randomTag : undefined));
      t.same(actual, expected);
      return true;
    }),
    { numRuns: 500 },
  );
});

t.test('random batch request headers', async (t) => {
  const randomHeader = fc.record({
    clusterId: text,
    fromId: fc.nat({ max: 0xffffffff }),
    toId: fc.nat({ max: 0xffffffff }),
    requestId: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  });
  fc.assert(
    fc.property(randomHeader, fc.array(randomCall, { maxLength: 5 }), (fields, calls) => {
      const header = create(HeaderSchema, fields);
      const items = calls.map((call) => encodeBatchItem(call, call.kind === 'get' ? undefined : tag));
      const decoded = fromBinary(BatchRequestSchema, encodeBatchRequest(header, items));
      t.same(decoded.header, header);
      t.same(decoded.items, items.map((item) => fromBinary(BatchItemSchema, item)));
      return true;
    }),
    { numRuns: 300 },
  );
});

/** A KvReply's fields, random, including values outside the enum and the int32 range. */
const randomReply = fc.record({
  status: fc.oneof(fc.constantFrom(0, 1, 2, 3, 4, 5), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })),
  leaderId: fc.nat({ max: 0xffffffff }),
  leaderAddr: text,
  reason: text,
  resultJson: text,
  lsn: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  header: fc.option(fc.record({ clusterId: text, requestId: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) }), { nil: undefined }),
});

/** Unknown fields of every wire type proto3 uses, which the decoder must skip. */
const randomUnknownFields = fc.array(
  fc.record({ field: fc.integer({ min: 8, max: 5000 }), kind: fc.constantFrom('varint', 'fixed64', 'bytes', 'fixed32'), value: fc.nat() }),
  { maxLength: 3 },
);

function unknownFieldBytes(fields: { field: number; kind: string; value: number }[]): Uint8Array {
  const writer = new BinaryWriter();
  for (const { field, kind, value } of fields) {
    if (kind === 'varint') writer.tag(field, WireType.Varint).uint64(value);
    if (kind === 'fixed64') writer.tag(field, WireType.Bit64).fixed64(value);
    if (kind === 'bytes') writer.tag(field, WireType.LengthDelimited).bytes(new Uint8Array(value % 7).fill(0x80));
    if (kind === 'fixed32') writer.tag(field, WireType.Bit32).fixed32(value % 2 ** 32);
  }
  return writer.finish();
}

/**
 * Builds BatchReply bytes whose replies carry unknown fields, and some of which are two KvReply
 * encodings in a row (protobuf merges them: the later non-default scalar wins).
 */
function batchReplyBytes(replies: { parts: KvReply[]; unknown: Uint8Array }[], header: boolean): Uint8Array {
  const writer = new BinaryWriter();
  if (header) writer.tag(1, WireType.LengthDelimited).bytes(toBinary(HeaderSchema, create(HeaderSchema, { clusterId: 'c', requestId: 7n })));
  for (const reply of replies) {
    const body = new BinaryWriter();
    for (const part of reply.parts) body.raw(toBinary(KvReplySchema, part));
    body.raw(reply.unknown);
    writer.tag(2, WireType.LengthDelimited).bytes(body.finish());
  }
  return writer.finish();
}

function readFields(reply: KvReplyFields | KvReply): KvReplyFields {
  return { status: reply.status, leaderId: reply.leaderId, leaderAddr: reply.leaderAddr, reason: reply.reason, resultJson: reply.resultJson };
}

const randomBatchReply = fc.record({
  replies: fc.array(fc.record({ parts: fc.array(randomReply, { minLength: 1, maxLength: 2 }), unknown: randomUnknownFields }), { maxLength: 6 }),
  header: fc.boolean(),
});

t.test('batch replies match fromBinary', async (t) => {
  fc.assert(
    fc.property(randomBatchReply, ({ replies, header }) => {
      const bytes = batchReplyBytes(
        replies.map((reply) => ({ parts: reply.parts.map((part) => create(KvReplySchema, part)), unknown: unknownFieldBytes(reply.unknown) })),
        header,
      );
      const expected = fromBinary(BatchReplySchema, bytes).replies.map(readFields);
      t.same(decodeBatchReply(bytes), expected);
      t.same(decodeBatchReply(Buffer.from(bytes)), expected, 'the same from a Buffer');
      return true;
    }),
    { numRuns: 300 },
  );
});

t.test('truncated batch reply is rejected', async (t) => {
  fc.assert(
    fc.property(randomBatchReply, fc.nat(), ({ replies, header }, cut) => {
      const bytes = batchReplyBytes(
        replies.map((reply) => ({ parts: reply.parts.map((part) => create(KvReplySchema, part)), unknown: unknownFieldBytes(reply.unknown) })),
        header,
      );
      fc.pre(bytes.length > 0);
      const truncated = bytes.subarray(0, cut % bytes.length);
      let reflectiveFailed = false;
      try {
        fromBinary(BatchReplySchema, truncated);
      } catch {
        reflectiveFailed = true;
      }
      if (reflectiveFailed) t.throws(() => decodeBatchReply(truncated), ReplyDecodeError);
      else t.same(decodeBatchReply(truncated), fromBinary(BatchReplySchema, truncated).replies.map(readFields));
      return true;
    }),
    { numRuns: 300 },
  );
});

t.test('invalid wire type is rejected', async (t) => {
  // Field 2, wire type 7, which protobuf does not define.
  t.throws(() => decodeBatchReply(Uint8Array.of(0x17)), ReplyDecodeError);
  t.throws(() => decodeBatchReply(Uint8Array.of(0x12, 0x02, 0x10)), ReplyDecodeError, 'a reply longer than the message');
  t.throws(() => decodeBatchReply(Uint8Array.of(0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01)), ReplyDecodeError, 'a varint of eleven bytes');
});

/** Plain results, results with extra keys, and shapes the schema rejects. */
const jsonValue = fc.jsonValue({ maxDepth: 2 });
const resultCandidate = fc.oneof(
  fc.constant({ kind: 'done' }),
  fc.record({ kind: fc.constant('done'), extra: jsonValue }),
  fc.record({ kind: fc.constant('value'), value: jsonValue }),
  fc.record({ kind: fc.constant('value') }),
  fc.record({ kind: fc.constant('cas'), swapped: fc.oneof(fc.boolean(), jsonValue), current: jsonValue }, { requiredKeys: ['kind', 'swapped'] }),
  fc.record({ kind: fc.constant('error'), message: fc.oneof(fc.string(), jsonValue) }),
  fc.record({
    kind: fc.constant('txn'),
    ops: fc.oneof(
      fc.array(fc.record({ f: fc.constantFrom('append', 'r', 'x'), key: fc.oneof(fc.string(), fc.integer()), value: jsonValue, extra: jsonValue }, { requiredKeys: ['f', 'key'] })),
      jsonValue,
    ),
  }),
  fc.record({ kind: fc.oneof(fc.string(), jsonValue) }),
  jsonValue,
);

function outcomeOf(parse: () => unknown): { value?: unknown; error?: string } {
  try {
    return { value: parse() };
  } catch (error) {
    return { error: `${(error as Error).name}: ${(error as Error).message}` };
  }
}

t.test('results match the zod schema', async (t) => {
  fc.assert(
    fc.property(resultCandidate, (candidate) => {
      const json = JSON.stringify(candidate) ?? 'undefined';
      t.same(outcomeOf(() => parseCommandResult(json)), outcomeOf(() => parseJsonField(commandResultSchema, json, 'result_json')), json);
      return true;
    }),
    { numRuns: 1000 },
  );
  t.same(outcomeOf(() => parseCommandResult('{"kind":')), outcomeOf(() => parseJsonField(commandResultSchema, '{"kind":', 'result_json')), 'invalid JSON');
});

t.test('__proto__ keys dropped like zod', async (t) => {
  for (const text of ['{"kind":"value","value":{"__proto__":true,"a":1}}', '{"kind":"value","value":[{"\\u005f_proto__":{"x":1}}]}']) {
    t.same(parseCommandResult(text), parseJsonField(commandResultSchema, text, 'result_json'), text);
  }
  t.same(parseCommandResult('{"kind":"value","value":{"__proto__":true,"a":1}}'), { kind: 'value', value: { a: 1 } }, 'the key is gone');
});
