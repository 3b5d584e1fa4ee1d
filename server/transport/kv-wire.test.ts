// The hand-written Batch codecs against protobuf-es: decodeBatchRequest must read what fromBinary
// reads and reject the same malformed bytes, and encodeBatchReply must write what toBinary means.
import t, { type Test } from 'tap';
import fc from 'fast-check';
import { create, equals, fromBinary, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { BatchReplySchema, BatchRequestSchema, type BatchRequest } from '../../proto/gen/traft/v1/kv_pb.js';
import { decodeBatchRequest, encodeBatchReply, type BatchRequestFields, type KvItem, type KvReplyFields } from './kv-wire.js';
import { MalformedBytesError } from './wire-reader.js';

type Outcome = { kind: 'ok'; value: string } | { kind: 'malformed' };

/** Converts a uint64/int64 to the hand decoder's form: a number when safe, else a bigint. */
function asUint64(value: bigint): number | bigint {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(value) : value;
}

/** Serializes decoded fields with bigints marked, so that 5 and 5n differ. */
function serialize(fields: BatchRequestFields): string {
  return JSON.stringify(fields, (_key, value: unknown) => (typeof value === 'bigint' ? `${value}n` : value));
}

/** The plain fields of a protobuf-es BatchRequest, in the shape decodeBatchRequest returns. */
function fieldsOf(request: BatchRequest): BatchRequestFields {
  const header = request.header && {
    clusterId: request.header.clusterId,
    fromId: request.header.fromId,
    toId: request.header.toId,
    requestId: asUint64(request.header.requestId),
  };
  const tagOf = (tag: { clientId: string; seq: bigint; ackedThrough: bigint } | undefined) =>
    tag && { clientId: tag.clientId, seq: asUint64(tag.seq), ackedThrough: asUint64(tag.ackedThrough) };
  const items = request.items.map((item): KvItem | undefined => {
    const r = item.request;
    switch (r.case) {
      case undefined:
        return undefined;
      case 'put':
      case 'append':
        return { case: r.case, value: { tag: tagOf(r.value.tag), key: r.value.key, valueJson: r.value.valueJson } };
      case 'delete':
        return { case: r.case, value: { tag: tagOf(r.value.tag), key: r.value.key } };
      case 'cas':
        return {
          case: r.case,
          value: { tag: tagOf(r.value.tag), key: r.value.key, expectedJson: r.value.expectedJson, valueJson: r.value.valueJson },
        };
      case 'incr':
        return { case: r.case, value: { tag: tagOf(r.value.tag), key: r.value.key, delta: asUint64(r.value.delta) } };
      case 'txn':
        return {
          case: r.case,
          value: { tag: tagOf(r.value.tag), ops: r.value.ops.map((op) => ({ f: op.f, key: op.key, valueJson: op.valueJson })) },
        };
      case 'get':
        return { case: r.case, value: { key: r.value.key, consistency: r.value.consistency } };
      default: {
        const unexpected: never = r;
        throw new Error(`unexpected case ${JSON.stringify(unexpected)}`);
      }
    }
  });
  return { header, items };
}

function reference(bytes: Uint8Array): Outcome {
  try {
    return { kind: 'ok', value: serialize(fieldsOf(fromBinary(BatchRequestSchema, bytes))) };
  } catch {
    return { kind: 'malformed' };
  }
}

function hand(bytes: Uint8Array): Outcome {
  let fields: BatchRequestFields;
  try {
    fields = decodeBatchRequest(bytes);
  } catch (error) {
    if (error instanceof MalformedBytesError) {
      return { kind: 'malformed' };
    }
    throw error;
  }
  const reordered: BatchRequestFields = {
    header: fields.header && { clusterId: fields.header.clusterId, fromId: fields.header.fromId, toId: fields.header.toId, requestId: fields.header.requestId },
    items: fields.items.map((item) => reorderItem(item)),
  };
  return { kind: 'ok', value: serialize(reordered) };
}

/** Rebuilds an item with its keys in the order fieldsOf writes them. */
function reorderItem(item: KvItem | undefined): KvItem | undefined {
  if (item === undefined) {
    return undefined;
  }
  const tag =
    'tag' in item.value && item.value.tag
      ? { clientId: item.value.tag.clientId, seq: item.value.tag.seq, ackedThrough: item.value.tag.ackedThrough }
      : undefined;
  switch (item.case) {
    case 'put':
    case 'append':
      return { case: item.case, value: { tag, key: item.value.key, valueJson: item.value.valueJson } };
    case 'delete':
      return { case: item.case, value: { tag, key: item.value.key } };
    case 'cas':
      return { case: item.case, value: { tag, key: item.value.key, expectedJson: item.value.expectedJson, valueJson: item.value.valueJson } };
    case 'incr':
      return { case: item.case, value: { tag, key: item.value.key, delta: item.value.delta } };
    case 'txn':
      return { case: item.case, value: { tag, ops: item.value.ops.map((op) => ({ f: op.f, key: op.key, valueJson: op.valueJson })) } };
    case 'get':
      return { case: item.case, value: { key: item.value.key, consistency: item.value.consistency } };
    default: {
      const unexpected: never = item;
      throw new Error(`unexpected item ${JSON.stringify(unexpected)}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Generators

const uint64 = fc.oneof({ arbitrary: fc.bigInt({ min: 0n, max: 1000n }), weight: 10 }, fc.constantFrom(2n ** 53n - 1n, 2n ** 53n, 2n ** 64n - 1n));
const int64 = fc.oneof(
  { arbitrary: fc.bigInt({ min: -1000n, max: 1000n }), weight: 10 },
  fc.constantFrom(-(2n ** 53n) + 1n, -(2n ** 53n), 2n ** 53n, -(2n ** 63n), 2n ** 63n - 1n),
);
const text = fc.string({ maxLength: 6 });
const header = fc.option(fc.record({ clusterId: text, fromId: fc.nat(), toId: fc.nat(), requestId: uint64 }), { nil: undefined });
const tag = fc.option(fc.record({ clientId: text, seq: uint64, ackedThrough: uint64 }), { nil: undefined });

const request = fc.oneof(
  fc.record({ case: fc.constant('put' as const), value: fc.record({ header, tag, key: text, valueJson: text }) }),
  fc.record({ case: fc.constant('append' as const), value: fc.record({ header, tag, key: text, valueJson: text }) }),
  fc.record({ case: fc.constant('delete' as const), value: fc.record({ header, tag, key: text }) }),
  fc.record({ case: fc.constant('cas' as const), value: fc.record({ header, tag, key: text, expectedJson: text, valueJson: text }) }),
  fc.record({ case: fc.constant('incr' as const), value: fc.record({ header, tag, key: text, delta: int64 }) }),
  fc.record({
    case: fc.constant('txn' as const),
    value: fc.record({ header, tag, ops: fc.array(fc.record({ f: fc.constantFrom('append', 'r', 'x'), key: text, valueJson: text }), { maxLength: 3 }) }),
  }),
  fc.record({ case: fc.constant('get' as const), value: fc.record({ header, key: text, consistency: fc.integer({ min: -1, max: 3 }) }) }),
  fc.constant({ case: undefined }),
);

const requestBytes = fc
  .record({ header, items: fc.array(fc.record({ request }), { maxLength: 4 }) })
  .map((init) => toBinary(BatchRequestSchema, create(BatchRequestSchema, init as MessageInitShape<typeof BatchRequestSchema>)));

type Mutation = { kind: 'set'; at: number; value: number } | { kind: 'cut'; at: number } | { kind: 'insert'; at: number; bytes: number[] };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 4 }) }),
);

function mutate(bytes: Uint8Array, mutations: Mutation[]): Uint8Array {
  let result = [...bytes];
  for (const edit of mutations) {
    const at = edit.at % (result.length + 1);
    if (edit.kind === 'set' && at < result.length) result[at] = edit.value;
    if (edit.kind === 'cut') result = result.slice(0, at);
    if (edit.kind === 'insert') result.splice(at, 0, ...edit.bytes);
  }
  return new Uint8Array(result);
}

function checkSame(t: Test, bytes: Uint8Array, counts: Record<string, number>): boolean {
  const expected = reference(bytes);
  const actual = hand(bytes);
  counts[expected.kind] = (counts[expected.kind] ?? 0) + 1;
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    t.fail(`hand decoder differs from fromBinary on ${Buffer.from(bytes).toString('hex')}`, { expected, actual });
    return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Tests

t.test('batch decoder matches fromBinary on random requests', async (t) => {
  const counts: Record<string, number> = {};
  fc.assert(fc.property(requestBytes, (bytes) => checkSame(t, bytes, counts)), { numRuns: 3000, seed: 2205 });
  t.equal(counts['ok'], 3000, 'every generated request decodes');
});

t.test('batch decoder matches fromBinary on mutated bytes', async (t) => {
  const counts: Record<string, number> = {};
  fc.assert(
    fc.property(requestBytes, fc.array(mutation, { minLength: 1, maxLength: 3 }), (bytes, mutations) => checkSame(t, mutate(bytes, mutations), counts)),
    { numRuns: 5000, seed: 2206 },
  );
  t.ok((counts['ok'] ?? 0) >= 100, `mutated bytes that still decode are exercised (${counts['ok'] ?? 0})`);
  t.ok((counts['malformed'] ?? 0) >= 100, `malformed bytes are exercised (${counts['malformed'] ?? 0})`);
});

t.test('oneof member replaces another and merges with itself', async (t) => {
  // items[0]: put {key "a"} then delete {key "b"}; items[1]: put {key "a"} then put {value_json "1"}.
  const bytes = new Uint8Array([
    0x12, 0x0a, 0x0a, 0x03, 0x1a, 0x01, 0x61, 0x12, 0x03, 0x1a, 0x01, 0x62,
    0x12, 0x0a, 0x0a, 0x03, 0x1a, 0x01, 0x61, 0x0a, 0x03, 0x22, 0x01, 0x31,
  ]);
  const decoded = decodeBatchRequest(bytes);
  t.same(decoded.items[0], { case: 'delete', value: { tag: undefined, key: 'b' } }, 'a different case replaces the first');
  t.same(decoded.items[1], { case: 'put', value: { tag: undefined, key: 'a', valueJson: '1' } }, 'the same case merges');
  t.equal(hand(bytes).kind, 'ok', 'bytes decode');
  t.same(hand(bytes), reference(bytes), 'fromBinary agrees');
});

const replyFields: fc.Arbitrary<KvReplyFields> = fc.record({
  status: fc.integer({ min: 0, max: 5 }),
  leaderId: fc.oneof(fc.constant(0), fc.nat()),
  leaderAddr: fc.oneof(fc.constant(''), text),
  reason: fc.oneof(fc.constant(''), text),
  resultJson: fc.oneof(fc.constant(''), text),
  lsn: fc.oneof(fc.constant(-1), fc.constant(0), fc.nat(), fc.constant(Number.MAX_SAFE_INTEGER)),
});

t.test('batch reply encoder matches toBinary', async (t) => {
  fc.assert(
    fc.property(
      fc.record({ clusterId: text, fromId: fc.nat(), toId: fc.nat(), requestId: fc.oneof(fc.nat(), fc.constant(2n ** 64n - 1n)) }),
      fc.array(replyFields, { maxLength: 4 }),
      (header, replies) => {
        const expected = create(BatchReplySchema, {
          header: { ...header, requestId: BigInt(header.requestId) },
          replies: replies.map((reply) => ({ ...reply, lsn: BigInt(reply.lsn) })),
        });
        const bytes = encodeBatchReply(header, replies);
        const decoded = fromBinary(BatchReplySchema, bytes);
        if (!equals(BatchReplySchema, decoded, expected)) {
          t.fail('decoded reply differs from the expected message', { header, replies });
          return false;
        }
        if (Buffer.compare(Buffer.from(bytes), Buffer.from(toBinary(BatchReplySchema, expected))) !== 0) {
          t.fail('encoded bytes differ from toBinary', { header, replies });
          return false;
        }
        return true;
      },
    ),
    { numRuns: 2000, seed: 2207 },
  );
  t.pass('every reply encodes like toBinary');
});
