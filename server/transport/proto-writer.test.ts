// ProtoWriter against BinaryWriter of protobuf-es: the same calls must produce the same bytes.
import t from 'tap';
import fc from 'fast-check';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { ProtoWriter } from './proto-writer.js';

/** One write, applied to both writers; `nested` writes a length-delimited message of writes. */
type Write =
  | { kind: 'uint32'; field: number; value: number }
  | { kind: 'int32'; field: number; value: number }
  | { kind: 'uint64'; field: number; value: number | bigint }
  | { kind: 'int64'; field: number; value: number }
  | { kind: 'string'; field: number; value: string }
  | { kind: 'bytes'; field: number; value: Uint8Array }
  | { kind: 'nested'; field: number; writes: Write[] };

const field = fc.integer({ min: 1, max: 2 ** 29 - 1 });

const write: fc.Arbitrary<Write> = fc.letrec<{ write: Write }>((tie) => ({
  write: fc.oneof(
    { depthSize: 'small' },
    fc.record({ kind: fc.constant('uint32' as const), field, value: fc.nat({ max: 0xffffffff }) }),
    fc.record({ kind: fc.constant('int32' as const), field, value: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }) }),
    fc.record({
      kind: fc.constant('uint64' as const),
      field,
      value: fc.oneof(fc.maxSafeNat(), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
    }),
    fc.record({ kind: fc.constant('int64' as const), field, value: fc.maxSafeInteger() }),
    fc.record({ kind: fc.constant('string' as const), field, value: fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 50 })) }),
    fc.record({ kind: fc.constant('bytes' as const), field, value: fc.uint8Array({ maxLength: 300 }) }),
    fc.record({ kind: fc.constant('nested' as const), field, writes: fc.array(tie('write'), { maxLength: 6 }) }),
  ),
})).write;

function applyBoth(writes: Write[], reference: BinaryWriter, writer: ProtoWriter): void {
  for (const w of writes) {
    switch (w.kind) {
      case 'uint32':
        reference.tag(w.field, WireType.Varint).uint32(w.value);
        writer.tag(w.field, WireType.Varint).uint32(w.value);
        break;
      case 'int32':
        reference.tag(w.field, WireType.Varint).int32(w.value);
        writer.tag(w.field, WireType.Varint).int32(w.value);
        break;
      case 'uint64':
        reference.tag(w.field, WireType.Varint).uint64(w.value);
        writer.tag(w.field, WireType.Varint).uint64(w.value);
        break;
      case 'int64':
        reference.tag(w.field, WireType.Varint).int64(w.value);
        writer.tag(w.field, WireType.Varint).int64(w.value);
        break;
      case 'string':
        reference.tag(w.field, WireType.LengthDelimited).string(w.value);
        writer.tag(w.field, WireType.LengthDelimited).string(w.value);
        break;
      case 'bytes':
        reference.tag(w.field, WireType.LengthDelimited).bytes(w.value);
        writer.tag(w.field, WireType.LengthDelimited).bytes(w.value);
        break;
      case 'nested':
        reference.tag(w.field, WireType.LengthDelimited).fork();
        writer.tag(w.field, WireType.LengthDelimited).fork();
        applyBoth(w.writes, reference, writer);
        reference.join();
        writer.join();
        break;
    }
  }
}

t.test('writer matches BinaryWriter bytes', async (t) => {
  fc.assert(
    fc.property(fc.array(write, { maxLength: 8 }), fc.integer({ min: 1, max: 64 }), fc.boolean(), (writes, capacityBytes, scratchTaken) => {
      // While another writer uses the shared scratch buffer, this one starts small and grows.
      const holder = scratchTaken ? new ProtoWriter() : undefined;
      const reference = new BinaryWriter();
      const writer = new ProtoWriter(capacityBytes);
      applyBoth(writes, reference, writer);
      const expected = Buffer.from(reference.finish());
      const actual = Buffer.from(writer.finish());
      holder?.finish();
      if (!expected.equals(actual)) {
        t.fail(`bytes differ: ${actual.toString('hex')} instead of ${expected.toString('hex')}`);
        return false;
      }
      return true;
    }),
    { numRuns: 2000, seed: 3301 },
  );
  t.pass('every write sequence gives the same bytes');
});

t.test('packed fixed64 halves match fixed32 writes', async (t) => {
  const halves = [0xffffffff, 0, 0x12345678, 0x9abcdef0];
  const reference = new BinaryWriter();
  reference.tag(2, WireType.LengthDelimited).fork();
  for (const half of halves) reference.fixed32(half);
  reference.join();
  const writer = new ProtoWriter();
  writer.tag(2, WireType.LengthDelimited).packedFixed64Halves(halves);
  t.same(Buffer.from(writer.finish()), Buffer.from(reference.finish()), 'same packed bytes');
});

t.test('unbalanced join and finish throw', async (t) => {
  t.throws(() => new ProtoWriter().join(), /join without a fork/);
  t.throws(() => new ProtoWriter().fork().finish(), /still open/);
});

t.test('large message grows the scratch buffer', async (t) => {
  const payload = new Uint8Array(200_000).fill(7);
  const reference = new BinaryWriter();
  reference.tag(1, WireType.LengthDelimited).fork().tag(2, WireType.LengthDelimited).bytes(payload).join();
  const writer = new ProtoWriter();
  writer.tag(1, WireType.LengthDelimited).fork().tag(2, WireType.LengthDelimited).bytes(payload).join();
  t.ok(Buffer.from(writer.finish()).equals(Buffer.from(reference.finish())), 'same bytes for a 200 KB field');
  const small = new ProtoWriter();
  small.tag(3, WireType.Varint).uint32(9);
  t.same([...small.finish()], [0x18, 0x09], 'the next writer starts clean');
});
