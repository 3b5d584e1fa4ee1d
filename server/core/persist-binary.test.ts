// The binary persist batch form: random round trips, agreement with the JSON form, and the
// CodecError that truncated, corrupt or malformed bytes raise.
import fc from 'fast-check';
import t from 'tap';
import { TailBitmap } from './bitmap.js';
import { decodePersistBatch, encodePersistBatch, encodePersistBatchJson } from './codec.js';
import { CodecError } from './errors.js';
import { FORMAT_BINARY_V1 } from './persist-binary.js';
import { majorityConfig } from './quorum.js';
import type { Ballot, ClientTag, Command, HardState, JsonValue, LogRecord, MicroOp, PersistOp, Snapshot } from './types.js';

// ---------------------------------------------------------------------------------------------
// Arbitraries

/** Strings of any UTF-16 code units, lone surrogates included, and short ASCII ones. */
const stringArb = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 12 }).map((units) => String.fromCharCode(...units)),
  fc.string({ minLength: 64, maxLength: 100 }),
);

const safeIntegerArb = fc.oneof(
  fc.integer({ min: 0, max: 200 }),
  fc.integer({ min: -200, max: 0 }),
  fc.maxSafeInteger(),
  fc.maxSafeNat(),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2 ** 31, 2 ** 32, -(2 ** 31)),
);

const jsonArb: fc.Arbitrary<JsonValue> = fc.letrec<{ value: JsonValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    safeIntegerArb,
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    stringArb,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.array(fc.tuple(fc.oneof(stringArb, fc.constant('__proto__')), tie('value')), { maxLength: 4 }).map(toObject),
  ),
})).value;

/** Builds an object without the `__proto__` setter, as JSON.parse does. */
function toObject(entries: [string, JsonValue][]): { [key: string]: JsonValue } {
  const object: { [key: string]: JsonValue } = {};
  for (const [key, value] of entries) Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  return object;
}

/**
 * The largest position a test bitmap holds. A bitmap whose prefix covers MAX_SAFE_INTEGER itself
 * would have a prefix length of 2^53, which neither form can store.
 */
const POSITION_MAX = Number.MAX_SAFE_INTEGER - 1;

const seqArb = fc.oneof(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 2 ** 32 - 100, max: 2 ** 32 + 100 }), fc.integer({ min: POSITION_MAX - 3000, max: POSITION_MAX }));

/** Generates a bitmap near `around`: a prefix below it plus sparse or dense members above the prefix. */
function bitmapArb(around: number): fc.Arbitrary<TailBitmap> {
  return fc
    .record({
      prefixBelow: fc.integer({ min: 0, max: 700 }),
      sparse: fc.array(fc.integer({ min: 0, max: 900 }), { maxLength: 6 }),
      dense: fc.oneof(fc.constant([] as number[]), fc.array(fc.integer({ min: 0, max: 150 }), { minLength: 30, maxLength: 120 })),
    })
    .map(({ prefixBelow, sparse, dense }) => {
      const prefix = Math.max(0, around - prefixBelow);
      const bitmap = TailBitmap.prefix(prefix);
      for (const delta of [...sparse, ...dense]) bitmap.add(Math.min(POSITION_MAX, prefix + delta));
      return bitmap;
    });
}

const ballotArb: fc.Arbitrary<Ballot> = fc.record({ term: fc.oneof(fc.nat(20), fc.maxSafeNat()), id: fc.nat(64) });

const clientArb: fc.Arbitrary<ClientTag | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.record({ clientId: stringArb, seq: fc.maxSafeNat() }),
  fc.record({ clientId: stringArb, seq: fc.maxSafeNat(), ackedThrough: fc.maxSafeNat() }),
);

const config = majorityConfig([1, 2, 3].map((id) => ({ id, addr: `127.0.0.1:${4000 + id}`, position: id - 1 })));

const microOpArb: fc.Arbitrary<MicroOp> = fc.oneof(
  fc.record({ f: fc.constant('append' as const), key: stringArb, value: jsonArb }),
  fc.record({ f: fc.constant('r' as const), key: stringArb }),
);

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  fc.constant({ kind: 'noop' as const }),
  fc.record({ kind: fc.constant('put' as const), key: stringArb, value: jsonArb }),
  fc.record({ kind: fc.constant('delete' as const), key: stringArb }),
  fc.record({ kind: fc.constant('cas' as const), key: stringArb, expected: jsonArb, value: jsonArb }),
  fc.record({ kind: fc.constant('append' as const), key: stringArb, value: jsonArb }),
  fc.record({ kind: fc.constant('incr' as const), key: stringArb, delta: fc.double({ noNaN: true, noDefaultInfinity: true }) }),
  fc.record({ kind: fc.constant('txn' as const), ops: fc.array(microOpArb, { maxLength: 4 }) }),
  fc.constant({ kind: 'config' as const, config }),
);

const recordArb: fc.Arbitrary<LogRecord> = seqArb.chain((seq) =>
  fc.record({ author: ballotArb, command: commandArb, client: clientArb, depends: bitmapArb(seq), overrides: bitmapArb(seq) }).map(({ author, command, client, depends, overrides }) => {
    overrides.add(seq);
    const record: LogRecord = { seq, author, command, depends, overrides };
    if (client !== undefined) record.client = client;
    return record;
  }),
);

const hardStateArb: fc.Arbitrary<HardState> = fc.record({ votedFor: ballotArb, committer: fc.option(ballotArb, { nil: null }) });

const snapshotArb: fc.Arbitrary<Snapshot> = fc.record({
  floor: fc.nat(1000),
  applied: bitmapArb(100),
  committed: bitmapArb(100),
  config: fc.constant(config),
  configLsn: fc.integer({ min: -1, max: 100 }),
  kv: fc.array(fc.tuple(stringArb, jsonArb), { maxLength: 3 }),
  dedup: fc.array(fc.record({ clientId: stringArb, seq: fc.nat(), result: fc.constant({ kind: 'done' as const }) }), { maxLength: 2 }),
  records: fc.array(recordArb, { maxLength: 2 }),
});

const opArb: fc.Arbitrary<PersistOp> = fc.oneof(
  fc.record({ type: fc.constant('hard-state' as const), hardState: hardStateArb }),
  fc.record({ type: fc.constant('records' as const), records: fc.array(recordArb, { maxLength: 5 }) }),
  fc.record({ type: fc.constant('switch' as const), committer: ballotArb, keep: bitmapArb(1000), records: fc.array(recordArb, { maxLength: 3 }) }),
  fc.record({ type: fc.constant('committed' as const), committed: seqArb.chain((seq) => bitmapArb(seq)) }),
  fc.record({ type: fc.constant('checkpoint' as const), hardState: hardStateArb, snapshot: snapshotArb }),
);

const batchArb = fc.array(opArb, { maxLength: 5 });

// ---------------------------------------------------------------------------------------------
// Comparison

/** Deep equality that compares bitmaps by members and numbers with Object.is (so -0 !== 0). */
function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof TailBitmap || b instanceof TailBitmap) return a instanceof TailBitmap && b instanceof TailBitmap && a.equals(b);
  // Values are JSON values, and JSON has no -0, so a -0 that comes back as 0 is the same value.
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return a === b;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  const recordA = a as Record<string, unknown>;
  const recordB = b as Record<string, unknown>;
  return keysA.every((key) => Object.prototype.hasOwnProperty.call(b, key) && sameValue(recordA[key], recordB[key]));
}

function describeBatch(ops: PersistOp[]): string {
  return JSON.stringify(ops).slice(0, 400);
}

// ---------------------------------------------------------------------------------------------
// Tests

t.test('binary batch round-trips', async (t) => {
  fc.assert(
    fc.property(batchArb, (ops) => {
      const bytes = encodePersistBatch(ops);
      if (bytes[0] !== FORMAT_BINARY_V1) throw new Error(`first byte ${bytes[0]} is not the binary format byte`);
      const decoded = decodePersistBatch(bytes);
      if (!sameValue(decoded, ops)) throw new Error(`decoded batch differs: ${describeBatch(decoded)}`);
    }),
    { numRuns: 400 },
  );
  t.pass('400 random batches round-trip');
});

t.test('binary and JSON forms decode alike', async (t) => {
  fc.assert(
    fc.property(batchArb, (ops) => {
      // JSON turns -0 into 0 on both sides of this comparison, so -0 needs no special case.
      const fromBinary = JSON.stringify(decodePersistBatch(encodePersistBatch(ops)));
      const fromJson = JSON.stringify(decodePersistBatch(encodePersistBatchJson(ops)));
      if (fromBinary !== fromJson) throw new Error(`forms differ:\n${fromBinary.slice(0, 400)}\n${fromJson.slice(0, 400)}`);
    }),
    { numRuns: 200 },
  );
  t.pass('200 random batches agree');
});

t.test('truncated binary batch raises CodecError', async (t) => {
  fc.assert(
    fc.property(batchArb.filter((ops) => ops.length > 0), (ops) => {
      const bytes = encodePersistBatch(ops);
      for (let length = 0; length < bytes.length; length++) {
        try {
          decodePersistBatch(bytes.subarray(0, length));
        } catch (error) {
          if (error instanceof CodecError) continue;
          throw error;
        }
        throw new Error(`a prefix of ${length} of ${bytes.length} bytes decoded without error`);
      }
    }),
    { numRuns: 100 },
  );
  t.pass('every proper prefix of 100 random batches is rejected');
});

t.test('corrupt binary batch raises only CodecError', async (t) => {
  const corruptArb = batchArb
    .filter((ops) => ops.length > 0)
    .chain((ops) => {
      const bytes = encodePersistBatch(ops);
      return fc.tuple(fc.constant(bytes), fc.array(fc.tuple(fc.integer({ min: 1, max: bytes.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }));
    });
  let rejected = 0;
  fc.assert(
    fc.property(corruptArb, ([bytes, edits]) => {
      const corrupt = bytes.slice();
      for (const [index, value] of edits) corrupt[index] = value;
      try {
        decodePersistBatch(corrupt);
      } catch (error) {
        if (!(error instanceof CodecError)) throw error;
        rejected++;
      }
    }),
    { numRuns: 400 },
  );
  t.ok(rejected > 0, `some corrupt batches are rejected (${rejected} of 400)`);
});

t.test('trailing bytes raise CodecError', async (t) => {
  const bytes = encodePersistBatch([{ type: 'committed', committed: TailBitmap.prefix(10) }]);
  const longer = new Uint8Array(bytes.length + 1);
  longer.set(bytes);
  t.throws(() => decodePersistBatch(longer), CodecError);
});

const baseRecord: LogRecord = {
  seq: 130,
  author: { term: 3, id: 2 },
  command: { kind: 'put', key: 'k', value: 1 },
  client: { clientId: 'c7', seq: 4 },
  depends: TailBitmap.of(100, 120),
  overrides: TailBitmap.of(100, 130),
};

/** Encodes a one-record batch, then lets `edit` change its bytes. */
function editedRecordBatch(record: LogRecord, edit: (bytes: Uint8Array) => void = () => {}): Uint8Array {
  const bytes = encodePersistBatch([{ type: 'records', records: [record] }]);
  edit(bytes);
  return bytes;
}

t.test('malformed binary batch names the field', async (t) => {
  const withoutClient: LogRecord = { ...baseRecord };
  delete withoutClient.client;
  // Byte offsets of the base record: [format, opCount, type, recordCount, seq(2), term, id, flags, ...]
  const cases: { name: string; bytes: Uint8Array; path: string }[] = [
    { name: 'empty bytes', bytes: new Uint8Array(0), path: 'persist batch' },
    { name: 'unknown format byte', bytes: new Uint8Array([0x7f, 0]), path: 'persist batch' },
    { name: 'unknown op type', bytes: new Uint8Array([FORMAT_BINARY_V1, 1, 9]), path: 'persist batch[0].type' },
    { name: 'overrides without own seq', bytes: editedRecordBatch({ ...baseRecord, overrides: TailBitmap.of(100, 131) }), path: 'persist batch[0].records[0].overrides' },
    { name: 'unknown client flags', bytes: editedRecordBatch(baseRecord, (bytes) => (bytes[8] = 0x40)), path: 'persist batch[0].records[0].client' },
    { name: 'invalid UTF-8 client id', bytes: editedRecordBatch(baseRecord, (bytes) => (bytes[10] = 0xff)), path: 'persist batch[0].records[0].client.clientId' },
    { name: 'unknown command kind', bytes: editedRecordBatch(withoutClient, (bytes) => (bytes[9] = 42)), path: 'persist batch[0].records[0].command.kind' },
    {
      name: 'record count above the bytes left',
      bytes: new Uint8Array([FORMAT_BINARY_V1, 1, 1, 0x7f]),
      path: 'persist batch[0].records',
    },
    {
      name: 'varint above the safe integers',
      bytes: new Uint8Array([FORMAT_BINARY_V1, 1, 1, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]),
      path: 'persist batch[0].records[0].seq',
    },
    {
      name: 'bitmap tail above the maximum',
      bytes: new Uint8Array([FORMAT_BINARY_V1, 1, 3, 0, 2, 0xff, 0xff, 0xff, 0xff, 0x0f]),
      path: 'persist batch[0].committed',
    },
  ];

  for (const testCase of cases) {
    t.throws(() => decodePersistBatch(testCase.bytes), CodecError, testCase.name);
    try {
      decodePersistBatch(testCase.bytes);
    } catch (error) {
      t.equal((error as CodecError).path, testCase.path, `${testCase.name}: path`);
    }
  }
});

t.test('register record stays compact', async (t) => {
  const batch: PersistOp[] = [{ type: 'records', records: [baseRecord] }];
  const binaryBytes = encodePersistBatch(batch).length;
  const jsonBytes = encodePersistBatchJson(batch).length;
  t.ok(binaryBytes * 4 < jsonBytes, `binary ${binaryBytes} B is under a quarter of JSON ${jsonBytes} B`);
});

t.test('dense bitmap form round-trips', async (t) => {
  const committed = TailBitmap.prefix(64);
  for (let k = 65; k < 400; k += 2) committed.add(k);
  const bytes = encodePersistBatch([{ type: 'committed', committed }]);
  t.ok(bytes.length < 60, `half-full 335-bit tail takes ${bytes.length} B`);
  const [op] = decodePersistBatch(bytes);
  t.ok(op.type === 'committed' && op.committed.equals(committed), 'members equal');
});
