// The hand-written LogForward codecs against the reflective path (fromBinary/toBinary of
// protobuf-es plus fromWireRequest/fromWireReply): equal results, equal WireError messages, and
// the same malformed bytes rejected, on random and mutated messages.
import t, { type Test } from 'tap';
import fc from 'fast-check';
import { create, fromBinary, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { TailBitmap } from '../core/bitmap.js';
import type { Message } from '../core/types.js';
import {
  LogForwardRequestSchema,
  LogForwardResponseSchema,
} from '../../proto/gen/traft/v1/peer_pb.js';
import { fromWireReply, fromWireRequest, toWireReply, WireError } from './convert.js';
import {
  decodeLogForwardRequest,
  decodeLogForwardResponse,
  encodeLogForwardResponse,
  MalformedBytesError,
} from './peer-wire.js';

const CLUSTER_ID = 'c1';
const SELF_ID = 1;

type LogForwardReply = Extract<Message, { type: 'log-forward-reply' }>;

/** How a decoder treated some bytes: a value in plain JSON form, a WireError, or malformed. */
type Outcome = { kind: 'ok'; value: unknown } | { kind: 'invalid'; message: string } | { kind: 'malformed' };

function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

/** Runs `parse` (bytes to a protobuf-es message) and then `check`, as the reflective path does. */
function referenceOutcome<M>(parse: () => M, check: (message: M) => unknown): Outcome {
  let message: M;
  try {
    message = parse();
  } catch {
    return { kind: 'malformed' };
  }
  try {
    return { kind: 'ok', value: plain(check(message)) };
  } catch (error) {
    if (error instanceof WireError) {
      return { kind: 'invalid', message: error.message };
    }
    throw error;
  }
}

function handOutcome(decode: () => unknown): Outcome {
  try {
    return { kind: 'ok', value: plain(decode()) };
  } catch (error) {
    if (error instanceof MalformedBytesError) {
      return { kind: 'malformed' };
    }
    if (error instanceof WireError) {
      return { kind: 'invalid', message: error.message };
    }
    throw error;
  }
}

function requestReference(bytes: Uint8Array): Outcome {
  return referenceOutcome(
    () => fromBinary(LogForwardRequestSchema, bytes),
    (request) => fromWireRequest({ method: 'logForward', request }, CLUSTER_ID, SELF_ID),
  );
}

function requestHand(bytes: Uint8Array): Outcome {
  return handOutcome(() => decodeLogForwardRequest(bytes, CLUSTER_ID, SELF_ID));
}

function responseReference(bytes: Uint8Array): Outcome {
  return referenceOutcome(
    () => fromBinary(LogForwardResponseSchema, bytes),
    (response) => (response.reply === undefined ? null : fromWireReply({ method: 'logForward', reply: response.reply }, CLUSTER_ID, SELF_ID)),
  );
}

function responseHand(bytes: Uint8Array): Outcome {
  return handOutcome(() => decodeLogForwardResponse(bytes, CLUSTER_ID, SELF_ID));
}

// ---------------------------------------------------------------------------------------------
// Generators of wire messages, mostly valid, with the values the checks reject mixed in

const uint64 = fc.oneof(
  { arbitrary: fc.bigInt({ min: 0n, max: 1000n }), weight: 20 },
  { arbitrary: fc.constantFrom(2n ** 53n - 1n, 2n ** 53n, 2n ** 64n - 1n), weight: 1 },
);
const uint32 = fc.oneof({ arbitrary: fc.nat(5), weight: 10 }, fc.constant(0xffffffff));

const bitmap = fc.record({
  offset: fc.oneof({ arbitrary: fc.constantFrom(0n, 64n, 640n), weight: 20 }, fc.constantFrom(32n, 2n ** 60n)),
  words: fc.array(fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.constantFrom(0n, 2n ** 64n - 1n)), { maxLength: 3 }),
});
const optionalBitmap = fc.option(bitmap, { nil: undefined, freq: 4 });

const ballot = fc.record({ term: uint64, id: uint32 });
const requiredBallot = fc.option(ballot, { nil: undefined, freq: 30 });

const header = fc.option(
  fc.record({
    clusterId: fc.oneof({ arbitrary: fc.constant(CLUSTER_ID), weight: 30 }, fc.constantFrom('c2', '')),
    fromId: uint32,
    toId: fc.oneof({ arbitrary: fc.constant(SELF_ID), weight: 30 }, fc.constant(2)),
    requestId: uint64,
  }),
  { nil: undefined, freq: 30 },
);

const commandJson = fc.oneof(
  { arbitrary: fc.constantFrom('{"kind":"put","key":"k","value":[1,{"a":null}]}', '{"kind":"noop"}', '{"kind":"incr","key":"x","delta":2}'), weight: 30 },
  fc.constantFrom('{"kind":"zap"}', 'not json', '', '{"kind":"put","key":1,"value":2}'),
);

const record = fc.record(
  {
    seq: uint64,
    author: requiredBallot,
    commandJson,
    client: fc.option(fc.record({ clientId: fc.string({ maxLength: 3 }), seq: uint64, ackedThrough: uint64 }, { requiredKeys: ['clientId', 'seq'] }), { nil: undefined }),
    depends: optionalBitmap,
    overrides: optionalBitmap,
  },
  { requiredKeys: ['seq', 'commandJson'] },
);

const requestInit = fc.record(
  {
    header,
    ballot: requiredBallot,
    base: optionalBitmap,
    records: fc.array(record, { maxLength: 3 }),
    committed: optionalBitmap,
    floor: uint64,
  },
  { requiredKeys: ['records', 'floor'] },
);

const requestBytes = requestInit.map((init) =>
  toBinary(LogForwardRequestSchema, create(LogForwardRequestSchema, init as MessageInitShape<typeof LogForwardRequestSchema>)),
);

const replyInit = fc.record(
  {
    header,
    ballot: requiredBallot,
    status: fc.oneof({ arbitrary: fc.integer({ min: 1, max: 4 }), weight: 20 }, fc.constantFrom(0, 5, -1)),
    votedFor: requiredBallot,
    committer: fc.option(ballot, { nil: undefined }),
    accepted: optionalBitmap,
    committed: optionalBitmap,
    applied: optionalBitmap,
  },
  { requiredKeys: ['status'] },
);

const responseBytes = fc.option(replyInit, { nil: undefined, freq: 20 }).map((reply) =>
  toBinary(LogForwardResponseSchema, create(LogForwardResponseSchema, { reply } as MessageInitShape<typeof LogForwardResponseSchema>)),
);

/** One edit of the bytes: set a byte, cut the tail, or insert bytes. */
type Mutation = { kind: 'set'; at: number; value: number } | { kind: 'cut'; at: number } | { kind: 'insert'; at: number; bytes: number[] };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 4 }) }),
);

function mutate(bytes: Uint8Array, mutations: Mutation[]): Uint8Array {
  let result = [...bytes];
  for (const edit of mutations) {
    const at = result.length === 0 ? 0 : edit.at % (result.length + 1);
    switch (edit.kind) {
      case 'set':
        if (at < result.length) result[at] = edit.value;
        break;
      case 'cut':
        result = result.slice(0, at);
        break;
      case 'insert':
        result.splice(at, 0, ...edit.bytes);
        break;
    }
  }
  return new Uint8Array(result);
}

/**
 * Cuts a command validation message after its path: the hand parser words the reason itself
 * (command-json.test.ts checks it against zod), while every other message must be identical.
 */
function comparable(outcome: Outcome): Outcome {
  if (outcome.kind !== 'invalid') {
    return outcome;
  }
  return { kind: 'invalid', message: outcome.message.replace(/(command_json is invalid( at \S+)?): .*$/, '$1') };
}

function checkSame(t: Test, expected: Outcome, actual: Outcome, bytes: Uint8Array, counts: Record<string, number>): boolean {
  counts[expected.kind] = (counts[expected.kind] ?? 0) + 1;
  if (JSON.stringify(comparable(actual)) !== JSON.stringify(comparable(expected))) {
    t.fail(`hand decoder differs from the reference on ${Buffer.from(bytes).toString('hex')}`, { expected, actual });
    return false;
  }
  return true;
}

function checkCounts(t: Test, counts: Record<string, number>, kinds: string[]): void {
  for (const kind of kinds) {
    t.ok((counts[kind] ?? 0) >= 50, `${kind} outcomes are exercised (${counts[kind] ?? 0})`);
  }
}

// ---------------------------------------------------------------------------------------------
// LogForwardRequest

t.test('request decoder matches reference on random messages', async (t) => {
  const counts: Record<string, number> = {};
  fc.assert(
    fc.property(requestBytes, (bytes) => checkSame(t, requestReference(bytes), requestHand(bytes), bytes, counts)),
    { numRuns: 3000, seed: 1205 },
  );
  checkCounts(t, counts, ['ok', 'invalid']);
});

t.test('request decoder matches reference on mutated bytes', async (t) => {
  const counts: Record<string, number> = {};
  fc.assert(
    fc.property(requestBytes, fc.array(mutation, { minLength: 1, maxLength: 3 }), (bytes, mutations) => {
      const mutated = mutate(bytes, mutations);
      return checkSame(t, requestReference(mutated), requestHand(mutated), mutated, counts);
    }),
    { numRuns: 5000, seed: 1206 },
  );
  checkCounts(t, counts, ['ok', 'invalid', 'malformed']);
});

t.test('request decoder skips unknown fields', async (t) => {
  const init = {
    header: { clusterId: CLUSTER_ID, fromId: 2, toId: SELF_ID, requestId: 9n },
    ballot: { term: 3n, id: 2 },
    records: [{ seq: 5n, author: { term: 3n, id: 2 }, commandJson: '{"kind":"noop"}' }],
  };
  const bytes = toBinary(LogForwardRequestSchema, create(LogForwardRequestSchema, init));
  // Field 99 varint 1, field 98 fixed32, field 97 group holding a varint, field 96 bytes "ab".
  const unknown = [0x98, 0x06, 0x01, 0x95, 0x06, 1, 2, 3, 4, 0x8b, 0x06, 0x08, 0x07, 0x8c, 0x06, 0x82, 0x06, 0x02, 0x61, 0x62];
  const extended = new Uint8Array([...unknown, ...bytes, ...unknown]);
  const plainResult = requestHand(bytes);
  t.equal(plainResult.kind, 'ok', 'message without unknown fields decodes');
  t.same(requestHand(extended), plainResult, 'unknown fields change nothing');
  t.same(requestReference(extended), plainResult, 'the reference agrees');
});

t.test('request checks report like convert.ts', async (t) => {
  const base = {
    header: { clusterId: CLUSTER_ID, fromId: 2, toId: SELF_ID, requestId: 9n },
    ballot: { term: 3n, id: 2 },
  };
  const cases: [string, MessageInitShape<typeof LogForwardRequestSchema>, RegExp][] = [
    ['no header', { ballot: base.ballot }, /^header is missing$/],
    ['wrong cluster', { ...base, header: { ...base.header, clusterId: 'c9' } }, /^header\.cluster_id "c9" does not match/],
    ['wrong receiver', { ...base, header: { ...base.header, toId: 4 } }, /^header\.to_id 4 is not this node's id 1$/],
    ['huge floor', { ...base, floor: 2n ** 60n }, /^floor = 1152921504606846976 is outside the safe integer range$/],
    ['unaligned base', { ...base, base: { offset: 32n } }, /^base is not a valid bitmap: invalid bitmap offset 32/],
    [
      'bad second record',
      { ...base, records: [{ author: base.ballot, commandJson: '{"kind":"noop"}' }, { author: base.ballot, commandJson: '{"kind":"x"}' }] },
      /^records\[1\]\.command_json is invalid at kind/,
    ],
    ['record without author', { ...base, records: [{ commandJson: '{"kind":"noop"}' }] }, /^records\[0\]\.author is missing$/],
  ];
  for (const [name, init, message] of cases) {
    const bytes = toBinary(LogForwardRequestSchema, create(LogForwardRequestSchema, init));
    const actual = requestHand(bytes);
    t.equal(actual.kind, 'invalid', `${name} is rejected`);
    t.match(actual.kind === 'invalid' ? actual.message : '', message, `${name} message`);
    t.same(comparable(actual), comparable(requestReference(bytes)), `${name} matches the reference`);
  }
});

t.test('invalid UTF-8 in a string is malformed', async (t) => {
  // header { cluster_id: 0xff }
  const bytes = new Uint8Array([0x0a, 0x03, 0x0a, 0x01, 0xff]);
  t.same(requestHand(bytes), { kind: 'malformed' }, 'hand decoder rejects the bytes');
  t.same(requestReference(bytes), { kind: 'malformed' }, 'the reference rejects them too');
});

// ---------------------------------------------------------------------------------------------
// LogForwardResponse

const coreBallot = fc.record({ term: fc.nat(1000), id: fc.nat(5) });
const coreBitmap = fc
  .tuple(fc.nat(300), fc.array(fc.nat(500), { maxLength: 5 }))
  .map(([prefix, positions]) => TailBitmap.of(prefix, ...positions));

const coreReply: fc.Arbitrary<LogForwardReply> = fc.record({
  clusterId: fc.constant(CLUSTER_ID),
  from: fc.nat(5),
  to: fc.constant(SELF_ID),
  requestId: fc.nat(),
  type: fc.constant('log-forward-reply' as const),
  ballot: coreBallot,
  status: fc.constantFrom('ok' as const, 'stale' as const, 'need-sync' as const, 'need-snapshot' as const),
  votedFor: coreBallot,
  committer: fc.option(coreBallot, { nil: null }),
  accepted: coreBitmap,
  committed: coreBitmap,
  applied: coreBitmap,
});

t.test('encoded response decodes like the reference', async (t) => {
  fc.assert(
    fc.property(coreReply, (reply) => {
      const fast = encodeLogForwardResponse(reply);
      const reference = toBinary(LogForwardResponseSchema, create(LogForwardResponseSchema, { reply: toWireReply(reply).reply as never }));
      const expected: Outcome = { kind: 'ok', value: plain(reply) };
      return (
        checkSame(t, expected, responseReference(fast), fast, {}) &&
        checkSame(t, expected, responseHand(fast), fast, {}) &&
        checkSame(t, expected, responseHand(reference), reference, {})
      );
    }),
    { numRuns: 1000, seed: 1207 },
  );
  t.equal(encodeLogForwardResponse(null).length, 0, 'no reply is an empty response');
  t.same(responseHand(encodeLogForwardResponse(null)), { kind: 'ok', value: null }, 'empty response decodes to no reply');
});

t.test('response decoder matches reference on random messages', async (t) => {
  const counts: Record<string, number> = {};
  fc.assert(
    fc.property(responseBytes, (bytes) => checkSame(t, responseReference(bytes), responseHand(bytes), bytes, counts)),
    { numRuns: 3000, seed: 1208 },
  );
  checkCounts(t, counts, ['ok', 'invalid']);
});

t.test('response decoder matches reference on mutated bytes', async (t) => {
  const counts: Record<string, number> = {};
  fc.assert(
    fc.property(responseBytes, fc.array(mutation, { minLength: 1, maxLength: 3 }), (bytes, mutations) => {
      const mutated = mutate(bytes, mutations);
      return checkSame(t, responseReference(mutated), responseHand(mutated), mutated, counts);
    }),
    { numRuns: 5000, seed: 1209 },
  );
  checkCounts(t, counts, ['ok', 'invalid', 'malformed']);
});
