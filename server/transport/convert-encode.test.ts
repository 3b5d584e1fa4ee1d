// encodeLogForwardRequest against the reference path: toBinary of toWireRequest.
import t from 'tap';
import fc from 'fast-check';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { TailBitmap } from '../core/bitmap.js';
import type { LogRecord, Message } from '../core/types.js';
import { LogForwardRequestSchema } from '../../proto/gen/traft/v1/peer_pb.js';
import { encodeLogForwardRequest, fromWireRequest, toWireRequest } from './convert.js';

type LogForward = Extract<Message, { type: 'log-forward' }>;

function record(seq: number, key: string): LogRecord {
  return {
    seq,
    author: { term: 4, id: 1 },
    command: { kind: 'put', key, value: { n: seq } },
    client: seq % 2 === 0 ? { clientId: `client-${seq % 3}`, seq: seq * 2, ackedThrough: seq } : { clientId: `client-${seq % 3}`, seq: seq * 2 },
    depends: TailBitmap.of(seq - (seq % 7), seq - 1),
    overrides: TailBitmap.of(seq - (seq % 7), seq),
  };
}

function logForward(records: LogRecord[], to: number, requestId: number): LogForward {
  return {
    clusterId: 'c1',
    from: 1,
    to,
    requestId,
    type: 'log-forward',
    ballot: { term: 4, id: 1 },
    base: TailBitmap.prefix(40),
    records,
    committed: TailBitmap.of(60, 62, 65),
    floor: 12,
  };
}

/** Decodes to the core message in plain JSON form, where bitmaps compare by their members. */
function decode(bytes: Uint8Array, selfId: number): unknown {
  return plain(fromWireRequest({ method: 'logForward', request: fromBinary(LogForwardRequestSchema, bytes) }, 'c1', selfId));
}

function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

t.test('encoded LogForward decodes like the reference', async (t) => {
  const records = [record(70, 'a'), record(71, 'b'), record(200, 'a')];
  for (const message of [logForward([], 2, 5), logForward(records, 2, 6), logForward(records.slice(1), 3, 7)]) {
    const reference = toBinary(LogForwardRequestSchema, toWireRequest(message).request as never);
    const fast = encodeLogForwardRequest(message);
    t.same(decode(fast, message.to), decode(reference, message.to), `request ${message.requestId} decodes the same`);
    t.same(decode(fast, message.to), plain(message), `request ${message.requestId} round-trips to the core message`);
  }
});

t.test('cached record bytes serve every follower', async (t) => {
  const records = [record(90, 'x'), record(91, 'y')];
  const toTwo = decode(encodeLogForwardRequest(logForward(records, 2, 8)), 2) as { to: number; records: unknown };
  const toThree = decode(encodeLogForwardRequest(logForward(records, 3, 9)), 3) as { to: number; records: unknown };
  t.equal(toTwo.to, 2, 'first copy is addressed to node 2');
  t.equal(toThree.to, 3, 'second copy is addressed to node 3');
  t.same(toThree.records, plain(records), 'second copy carries the same records');
});

t.test('encoded LogForward round-trips random records', async (t) => {
  // Values up to 300 characters put record lengths on both sides of the one-byte varint limit.
  const randomRecord = fc
    .tuple(fc.integer({ min: 70, max: 5000 }), fc.string({ maxLength: 300 }), fc.boolean())
    .map(([seq, value, tagged]): LogRecord => {
      const base = record(seq, `k${seq}`);
      const withValue: LogRecord = { ...base, command: { kind: 'put', key: `k${seq}`, value } };
      if (!tagged) {
        delete withValue.client;
      }
      return withValue;
    });
  fc.assert(
    fc.property(fc.array(randomRecord, { maxLength: 6 }), fc.nat(), (records, requestId) => {
      const message = logForward(records, 2, requestId);
      const decoded = decode(encodeLogForwardRequest(message), 2);
      t.same(decoded, plain(message), `request ${requestId} with ${records.length} records round-trips`);
    }),
    { numRuns: 300, seed: 1211 },
  );
});
