// Codec round trips for every message and persist op type, and the errors bad bytes produce.
import t from 'tap';
import { TailBitmap } from './bitmap.js';
import { decodeMessage, decodePersistBatch, encodeMessage, encodePersistBatch, encodePersistBatchJson } from './codec.js';
import { CodecError } from './errors.js';
import { majorityConfig } from './quorum.js';
import { recover } from './recover.js';
import type { LogRecord, Message, PersistOp, Snapshot } from './types.js';

const config = majorityConfig([1, 2, 3].map((id) => ({ id, addr: `n${id}`, position: id - 1 })));
const ballot = { term: 3, id: 2 };
const record: LogRecord = {
  seq: 130,
  author: ballot,
  command: { kind: 'txn', ops: [{ f: 'append', key: 'l', value: [1, 'two', { three: null }] }, { f: 'r', key: 'm' }] },
  client: { clientId: 'c7', seq: 4 },
  depends: TailBitmap.of(100, 120),
  overrides: TailBitmap.of(100, 130),
};
const snapshot: Snapshot = {
  floor: 100,
  applied: TailBitmap.of(100, 101, 140),
  committed: TailBitmap.prefix(131),
  config,
  configLsn: -1,
  kv: [['k', { nested: [1, 2] }]],
  dedup: [{ clientId: 'c7', seq: 3, result: { kind: 'cas', swapped: false, current: 'x' } }],
  records: [record],
};
const header = { clusterId: 'c', from: 1, to: 2, requestId: 9 };

const messages: Message[] = [
  { ...header, type: 'elect', ballot, committer: null, accepted: TailBitmap.prefix(5), configLsn: -1 },
  {
    ...header,
    type: 'elect-reply',
    ballot,
    granted: true,
    votedFor: ballot,
    committer: { term: 1, id: 1 },
    accepted: TailBitmap.of(0, 3, 200),
    committed: TailBitmap.empty(),
    records: [record],
    snapshotOnly: TailBitmap.of(0, 7),
    omitted: TailBitmap.empty(),
    configLsn: 12,
  },
  { ...header, type: 'log-forward', ballot, base: TailBitmap.prefix(64), records: [record], committed: TailBitmap.prefix(10), floor: 0 },
  {
    ...header,
    type: 'log-forward-reply',
    ballot,
    status: 'need-snapshot',
    votedFor: ballot,
    committer: ballot,
    accepted: TailBitmap.prefix(3),
    committed: TailBitmap.prefix(2),
    applied: TailBitmap.prefix(1),
  },
  { ...header, type: 'install-snapshot', ballot, snapshot },
  { ...header, type: 'install-snapshot-reply', ballot, installed: true, applied: TailBitmap.prefix(100) },
  { ...header, type: 'fetch-snapshot', ballot },
  { ...header, type: 'fetch-snapshot-reply', ballot, snapshot: null },
];

t.test('every message type round-trips', async (t) => {
  for (const msg of messages) {
    const decoded = decodeMessage(encodeMessage(msg));
    t.same(JSON.parse(JSON.stringify(decoded)), JSON.parse(JSON.stringify(msg)), msg.type);
  }
  const decoded = decodeMessage(encodeMessage(messages[2])) as Extract<Message, { type: 'log-forward' }>;
  t.ok(decoded.records[0].depends.equals(record.depends), 'bitmaps decode to equal sets');
});

t.test('persist ops round-trip and replay', async (t) => {
  const ops: PersistOp[] = [
    { type: 'checkpoint', hardState: { votedFor: ballot, committer: ballot }, snapshot },
    { type: 'hard-state', hardState: { votedFor: { term: 4, id: 1 }, committer: ballot } },
    { type: 'records', records: [{ ...record, seq: 131, overrides: TailBitmap.of(100, 131) }] },
    { type: 'switch', committer: { term: 4, id: 1 }, keep: TailBitmap.prefix(131), records: [] },
    { type: 'committed', committed: TailBitmap.prefix(132) },
  ];
  const decoded = decodePersistBatch(encodePersistBatch(ops));
  t.same(JSON.parse(JSON.stringify(decoded)), JSON.parse(JSON.stringify(ops)));
  const decodedJson = decodePersistBatch(encodePersistBatchJson(ops));
  t.same(JSON.parse(JSON.stringify(decodedJson)), JSON.parse(JSON.stringify(ops)), 'the JSON form of older data dirs still decodes');
  const restored = recover(decoded);
  t.same(restored.hardState, { votedFor: { term: 4, id: 1 }, committer: { term: 4, id: 1 } });
  t.same(
    restored.records.map((r) => r.seq),
    [130],
    'the switch dropped the record outside keep',
  );
  t.equal(restored.committed.firstMissing(), 100, 'the committed hint stops where nothing is held');
  t.ok(restored.committed.has(130), 'a held record keeps its committed mark');
  t.notOk(restored.committed.has(131), 'a dropped record loses its committed mark');
  t.equal(restored.snapshot?.floor, 100);
});

t.test('bad bytes raise CodecError naming the field', async (t) => {
  const cases: { name: string; bytes: Uint8Array; path: RegExp }[] = [
    { name: 'not JSON', bytes: new TextEncoder().encode('{'), path: /^message$/ },
    { name: 'invalid UTF-8', bytes: new Uint8Array([0xff, 0xfe]), path: /^message$/ },
    { name: 'unknown type', bytes: new TextEncoder().encode(JSON.stringify({ ...header, type: 'gossip', ballot })), path: /message\.type/ },
    {
      name: 'negative term',
      bytes: new TextEncoder().encode(JSON.stringify({ ...header, type: 'fetch-snapshot', ballot: { term: -1, id: 0 } })),
      path: /message\.ballot\.term/,
    },
    {
      name: 'bad bitmap word',
      bytes: new TextEncoder().encode(JSON.stringify({ ...messages[0], accepted: { offset: 0, words: ['zz'] } })),
      path: /message\.accepted/,
    },
  ];
  for (const testCase of cases) {
    t.throws(() => decodeMessage(testCase.bytes), CodecError, testCase.name);
    try {
      decodeMessage(testCase.bytes);
    } catch (error) {
      t.match((error as CodecError).path, testCase.path, `${testCase.name}: path`);
    }
  }
  t.throws(() => decodePersistBatch(new TextEncoder().encode('[{"type":"records","records":[{"seq":1}]}]')), CodecError, 'a record without an author');
});
