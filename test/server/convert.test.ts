// Round trips of every peer message through protobuf bytes, and rejection of invalid wire data.
import t from 'tap';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { TailBitmap } from '../../server/core/bitmap.js';
import type { LogRecord, Message, Snapshot } from '../../server/core/types.js';
import {
  ElectRequestSchema,
  LogRecordSchema,
  LogForwardReplySchema,
  LogForwardRequestSchema,
  LogForwardStatus,
} from '../../proto/gen/traft/v1/peer_pb.js';
import {
  encodeLogForwardRequest,
  encodeRecord,
  fromWireReply,
  fromWireRequest,
  methodOf,
  toWireReply,
  toWireRecord,
  toWireRequest,
  WireError,
  type WireReply,
  type WireRequest,
} from '../../server/transport/convert.js';
import {
  ElectReplySchema,
  FetchSnapshotReplySchema,
  FetchSnapshotRequestSchema,
  InstallSnapshotReplySchema,
  InstallSnapshotRequestSchema,
} from '../../proto/gen/traft/v1/peer_pb.js';

const header = { clusterId: 'c1', from: 2, to: 1, requestId: 77 };

const records: LogRecord[] = [
  {
    seq: 5,
    author: { term: 3, id: 2 },
    command: { kind: 'put', key: 'k', value: [1, 'two', { three: null }] },
    client: { clientId: 'client-a', seq: 9 },
    depends: TailBitmap.of(3, 70),
    overrides: TailBitmap.of(0, 5),
  },
  {
    seq: 130,
    author: { term: 3, id: 2 },
    command: {
      kind: 'config',
      config: {
        members: [
          { id: 1, addr: '127.0.0.1:1', position: 0 },
          { id: 2, addr: '127.0.0.1:2', position: 1 },
        ],
        families: [
          { kind: 'threshold', positions: [0, 1], threshold: 2 },
          { kind: 'weighted', weights: [{ position: 0, weight: 2 }], threshold: 1 },
          { kind: 'explicit', quorums: [[0], [1]] },
        ],
      },
    },
    depends: TailBitmap.prefix(130),
    overrides: TailBitmap.of(0, 130),
  },
];

const snapshot: Snapshot = {
  floor: 64,
  applied: TailBitmap.of(64, 66, 200),
  committed: TailBitmap.of(64, 66, 200, 201),
  config: { members: [{ id: 1, addr: '127.0.0.1:1', position: 0 }], families: [{ kind: 'threshold', positions: [0], threshold: 1 }] },
  configLsn: -1,
  kv: [['a', 1], ['b', ['x']]],
  dedup: [{ clientId: 'c', seq: 3, result: { kind: 'cas', swapped: false, current: 4 } }],
  records,
};

const messages: Message[] = [
  { ...header, type: 'elect', ballot: { term: 4, id: 2 }, committer: null, accepted: TailBitmap.of(10, 12), configLsn: -1 },
  { ...header, type: 'elect', ballot: { term: 4, id: 2 }, committer: { term: 3, id: 1 }, accepted: TailBitmap.empty(), configLsn: 7 },
  {
    ...header,
    type: 'elect-reply',
    ballot: { term: 4, id: 2 },
    granted: true,
    votedFor: { term: 4, id: 2 },
    committer: { term: 3, id: 1 },
    accepted: TailBitmap.of(0, 5, 130),
    committed: TailBitmap.of(0, 5),
    records,
    snapshotOnly: TailBitmap.empty(),
    omitted: TailBitmap.of(0, 900),
    configLsn: 130,
  },
  {
    ...header,
    type: 'log-forward',
    ballot: { term: 4, id: 2 },
    base: TailBitmap.prefix(64),
    records,
    committed: TailBitmap.prefix(3),
    floor: 0,
  },
  ...(['ok', 'stale', 'need-sync', 'need-snapshot'] as const).map(
    (status): Message => ({
      ...header,
      type: 'log-forward-reply',
      ballot: { term: 4, id: 2 },
      status,
      votedFor: { term: 4, id: 2 },
      committer: null,
      accepted: TailBitmap.of(1),
      committed: TailBitmap.empty(),
      applied: TailBitmap.of(0, 3),
    }),
  ),
  { ...header, type: 'install-snapshot', ballot: { term: 4, id: 2 }, snapshot },
  { ...header, type: 'install-snapshot-reply', ballot: { term: 4, id: 2 }, installed: true, applied: TailBitmap.of(64, 66) },
  { ...header, type: 'fetch-snapshot', ballot: { term: 4, id: 2 } },
  { ...header, type: 'fetch-snapshot-reply', ballot: { term: 4, id: 2 }, snapshot },
  { ...header, type: 'fetch-snapshot-reply', ballot: { term: 4, id: 2 }, snapshot: null },
];

/** Encodes to bytes and back, as the network does. */
function throughBytes(message: Message): Message {
  const { isReply } = methodOf(message);
  if (isReply) {
    const wire = toWireReply(message);
    const decoded = reencodeReply(wire);
    return fromWireReply(decoded, 'c1', 1);
  }
  const wire = toWireRequest(message);
  return fromWireRequest(reencodeRequest(wire), 'c1', 1);
}

function reencodeRequest(wire: WireRequest): WireRequest {
  switch (wire.method) {
    case 'elect':
      return { method: 'elect', request: fromBinary(ElectRequestSchema, toBinary(ElectRequestSchema, wire.request)) };
    case 'logForward':
      return { method: 'logForward', request: fromBinary(LogForwardRequestSchema, toBinary(LogForwardRequestSchema, wire.request)) };
    case 'installSnapshot':
      return {
        method: 'installSnapshot',
        request: fromBinary(InstallSnapshotRequestSchema, toBinary(InstallSnapshotRequestSchema, wire.request)),
      };
    case 'fetchSnapshot':
      return { method: 'fetchSnapshot', request: fromBinary(FetchSnapshotRequestSchema, toBinary(FetchSnapshotRequestSchema, wire.request)) };
  }
}

function reencodeReply(wire: WireReply): WireReply {
  switch (wire.method) {
    case 'elect':
      return { method: 'elect', reply: fromBinary(ElectReplySchema, toBinary(ElectReplySchema, wire.reply)) };
    case 'logForward':
      return { method: 'logForward', reply: fromBinary(LogForwardReplySchema, toBinary(LogForwardReplySchema, wire.reply)) };
    case 'installSnapshot':
      return { method: 'installSnapshot', reply: fromBinary(InstallSnapshotReplySchema, toBinary(InstallSnapshotReplySchema, wire.reply)) };
    case 'fetchSnapshot':
      return { method: 'fetchSnapshot', reply: fromBinary(FetchSnapshotReplySchema, toBinary(FetchSnapshotReplySchema, wire.reply)) };
  }
}

/** Plain JSON form, with bitmaps as their logical sets, for deep comparison. */
function plain(message: Message): unknown {
  return JSON.parse(
    JSON.stringify(message, (_key, value: unknown) => (value instanceof TailBitmap ? `bitmap ${value.toString()}` : value)),
  );
}

t.test('every peer message survives a round trip', async (t) => {
  for (const message of messages) {
    const back = throughBytes(message);
    t.same(plain(back), plain(message), `${message.type} round trip`);
  }
});

t.test('hand-encoded record matches toBinary', async (t) => {
  const extra: LogRecord[] = [
    // A prefix whose end is not a multiple of 64, a word of zeros and a high position.
    { seq: 2 ** 40, author: { term: 2 ** 33, id: 7 }, command: { kind: 'delete', key: '' }, depends: TailBitmap.prefix(97).union(TailBitmap.of(500)), overrides: TailBitmap.empty() },
    { seq: 0, author: { term: 0, id: 0 }, command: { kind: 'incr', key: 'ü', delta: -3 }, client: { clientId: '', seq: 0 }, depends: TailBitmap.empty(), overrides: TailBitmap.of(0) },
  ];
  for (const record of [...records, ...extra]) {
    const expected = fromBinary(LogRecordSchema, toBinary(LogRecordSchema, toWireRecord(record)));
    t.same(fromBinary(LogRecordSchema, encodeRecord(record)), expected, `record ${record.seq}`);
  }
});

t.test('hand-encoded log-forward matches toBinary', async (t) => {
  let checked = 0;
  for (const message of messages) {
    if (message.type !== 'log-forward') continue;
    const wire = toWireRequest(message);
    if (wire.method !== 'logForward') continue;
    const expected = fromBinary(LogForwardRequestSchema, toBinary(LogForwardRequestSchema, wire.request));
    t.same(fromBinary(LogForwardRequestSchema, encodeLogForwardRequest(message)), expected, `log-forward with ${message.records.length} records`);
    checked += 1;
  }
  t.ok(checked > 0, 'the message table holds a log-forward');
});

t.test('wrong cluster id is rejected', async (t) => {
  const wire = toWireRequest(messages[0]!);
  t.throws(() => fromWireRequest(wire, 'other-cluster', 1), WireError);
  t.throws(() => fromWireRequest(wire, 'other-cluster', 1), /cluster_id "c1" does not match/);
});

t.test('wrong receiver is rejected', async (t) => {
  const wire = toWireRequest(messages[0]!);
  t.throws(() => fromWireRequest(wire, 'c1', 3), /to_id 1 is not this node's id 3/);
});

t.test('missing header and ballot are rejected', async (t) => {
  t.throws(() => fromWireRequest({ method: 'elect', request: create(ElectRequestSchema, {}) }, 'c1', 1), /header is missing/);
  const noBallot = create(ElectRequestSchema, { header: { clusterId: 'c1', fromId: 2, toId: 1, requestId: 1n } });
  t.throws(() => fromWireRequest({ method: 'elect', request: noBallot }, 'c1', 1), /ballot is missing/);
});

t.test('unaligned bitmap offset is rejected', async (t) => {
  const request = create(ElectRequestSchema, {
    header: { clusterId: 'c1', fromId: 2, toId: 1, requestId: 1n },
    ballot: { term: 1n, id: 2 },
    accepted: { offset: 3n, words: [] },
  });
  t.throws(() => fromWireRequest({ method: 'elect', request }, 'c1', 1), /accepted is not a valid bitmap/);
});

t.test('term beyond safe integers is rejected', async (t) => {
  const request = create(ElectRequestSchema, {
    header: { clusterId: 'c1', fromId: 2, toId: 1, requestId: 1n },
    ballot: { term: 2n ** 60n, id: 2 },
  });
  t.throws(() => fromWireRequest({ method: 'elect', request }, 'c1', 1), /ballot.term = \d+ is outside the safe integer range/);
});

t.test('invalid command json is rejected', async (t) => {
  const wire = toWireRequest(messages[3]!);
  if (wire.method !== 'logForward') {
    throw new Error('expected a log-forward request');
  }
  wire.request.records[0]!.commandJson = '{"kind":"put","key":5}';
  t.throws(() => fromWireRequest(wire, 'c1', 1), /records\[0\].command_json is invalid at key/);
  wire.request.records[0]!.commandJson = 'not json';
  t.throws(() => fromWireRequest(wire, 'c1', 1), /records\[0\].command_json is not valid JSON text/);
});

t.test('unspecified log-forward status is rejected', async (t) => {
  const reply = create(LogForwardReplySchema, {
    header: { clusterId: 'c1', fromId: 2, toId: 1, requestId: 1n },
    ballot: { term: 1n, id: 2 },
    votedFor: { term: 1n, id: 2 },
    status: LogForwardStatus.UNSPECIFIED,
  });
  t.throws(() => fromWireReply({ method: 'logForward', reply }, 'c1', 1), /status is unspecified/);
});
