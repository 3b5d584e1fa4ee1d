import t from 'tap';
import fc from 'fast-check';
import { TAIL_BITS_MAX, TailBitmap } from './bitmap.js';

// A model value: a prefix length plus explicit members. Members may lie below the prefix.
interface ModelSpec {
  offset: number;
  positions: number[];
}

const LARGE_BASE = 2 ** 40 + 17; // above 2^32 and not aligned to 64

/** Prefix lengths from small unaligned ones to huge ones, so operand offsets mix freely. */
const offsetArb = fc.oneof(
  fc.constant(0),
  fc.integer({ min: 0, max: 300 }),
  fc.constantFrom(32, 63, 64, 65, 96, 127, 128, 192),
  fc.integer({ min: LARGE_BASE - 200, max: LARGE_BASE + 200 }),
);

/** Positions near the offset (both below and above it), so tails start, end and fill up. */
function specArb(): fc.Arbitrary<ModelSpec> {
  return offsetArb.chain((offset) =>
    fc.record({
      offset: fc.constant(offset),
      positions: fc.array(fc.integer({ min: Math.max(0, offset - 70), max: offset + 300 }), { maxLength: 40 }),
    }),
  );
}

/** Specs that sometimes fill whole words, to exercise compaction. */
function denseSpecArb(): fc.Arbitrary<ModelSpec> {
  return fc.oneof(
    specArb(),
    fc.record({
      offset: fc.integer({ min: 0, max: 130 }),
      positions: fc.integer({ min: 0, max: 200 }).chain((from) =>
        fc.integer({ min: 0, max: 140 }).map((length) => Array.from({ length }, (_, k) => from + k)),
      ),
    }),
  );
}

function build(spec: ModelSpec): TailBitmap {
  return TailBitmap.of(spec.offset, ...spec.positions);
}

/** The model: a Set of members plus the prefix length, since a prefix may be huge. */
class SetModel {
  constructor(
    readonly prefix: number,
    readonly members: Set<number>,
  ) {}

  static of(spec: ModelSpec): SetModel {
    return new SetModel(spec.offset, new Set(spec.positions.filter((p) => p >= spec.offset)));
  }

  has(i: number): boolean {
    return (i >= 0 && i < this.prefix) || this.members.has(i);
  }

  /** Members at or above `from`, ascending, up to `limit` (exclusive). */
  listFrom(from: number, limit: number): number[] {
    const result: number[] = [];
    for (let i = from; i < Math.min(this.prefix, limit); i++) result.push(i);
    for (const m of [...this.members].sort((a, b) => a - b)) if (m >= from && m < limit) result.push(m);
    return result;
  }
}

/** Every position a check needs to probe: both sides of each operand's prefix and tail. */
function probePoints(...specs: ModelSpec[]): number[] {
  const points = new Set<number>([0, 1, 31, 32, 63, 64, 65]);
  for (const spec of specs) {
    for (let d = -70; d <= 70; d++) if (spec.offset + d >= 0) points.add(spec.offset + d);
    for (const p of spec.positions) for (const d of [-1, 0, 1]) if (p + d >= 0) points.add(p + d);
  }
  return [...points];
}

/** Checks the bitmap has the model's members at every probe point, and is canonical. */
function matches(bitmap: TailBitmap, has: (i: number) => boolean, points: number[]): string | null {
  const violation = bitmap.canonicalViolation();
  if (violation !== null) return `not canonical: ${violation}`;
  const proto = bitmap.toProto();
  if (proto.words.length > 0 && proto.words[0] === 0xffffffffffffffffn) return 'first proto word is all ones';
  if (proto.words.length > 0 && proto.words[proto.words.length - 1] === 0n) return 'last proto word is zero';
  for (const i of points) {
    if (bitmap.has(i) !== has(i)) return `has(${i}) is ${bitmap.has(i)}, the model says ${has(i)}`;
  }
  return null;
}

const RUNS = { numRuns: 300 };

t.test('bitmap construction matches model', async (t) => {
  fc.assert(
    fc.property(denseSpecArb(), (spec) => {
      const bitmap = build(spec);
      const model = SetModel.of(spec);
      t.equal(matches(bitmap, (i) => model.has(i), probePoints(spec)), null);
      let firstMissing = spec.offset;
      while (model.has(firstMissing)) firstMissing++;
      t.equal(bitmap.offset, firstMissing, 'offset is the all-ones prefix length');
      t.equal(bitmap.firstMissing(), firstMissing);
      return true;
    }),
    RUNS,
  );
});

t.test('bitmap add and addRange match model', async (t) => {
  fc.assert(
    fc.property(
      denseSpecArb(),
      fc.array(fc.oneof(fc.integer({ min: 0, max: 400 }), fc.tuple(fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0, max: 200 })))),
      (spec, steps) => {
        const bitmap = build(spec);
        const model = SetModel.of(spec);
        const touched: number[] = [];
        for (const step of steps) {
          if (typeof step === 'number') {
            bitmap.add(spec.offset + step);
            model.members.add(spec.offset + step);
            touched.push(spec.offset + step);
          } else {
            const from = spec.offset + step[0];
            bitmap.addRange(from, from + step[1]);
            for (let i = from; i < from + step[1]; i++) model.members.add(i);
            touched.push(from, from + step[1]);
          }
          const problem = matches(bitmap, (i) => model.has(i), [...probePoints(spec), ...touched]);
          if (problem !== null) {
            t.fail(problem);
            return false;
          }
        }
        return true;
      },
    ),
    RUNS,
  );
});

type BinaryOp = 'union' | 'intersection' | 'difference';

const binaryCases: { op: BinaryOp; model: (a: SetModel, b: SetModel | undefined, i: number) => boolean }[] = [
  { op: 'union', model: (a, b, i) => a.has(i) || (b?.has(i) ?? false) },
  { op: 'intersection', model: (a, b, i) => a.has(i) && (b?.has(i) ?? false) },
  { op: 'difference', model: (a, b, i) => a.has(i) && !(b?.has(i) ?? false) },
];

for (const { op, model } of binaryCases) {
  t.test(`bitmap ${op} matches model`, async (t) => {
    fc.assert(
      fc.property(denseSpecArb(), fc.option(denseSpecArb(), { nil: undefined }), (specA, specB) => {
        const a = build(specA);
        const b = specB === undefined ? undefined : build(specB);
        // A non-empty difference that removes a member below a huge prefix has no prefix, so it is
        // out of range. An empty one is still returned.
        if (op === 'difference' && b !== undefined && !b.isEmpty() && a.len() > TAIL_BITS_MAX) {
          const bMin = b.positionsFrom(0).next().value as number;
          const modelA = SetModel.of(specA);
          const modelB = SetModel.of(specB as ModelSpec);
          const expectEmpty = !probePoints(specA, specB as ModelSpec).some((i) => model(modelA, modelB, i));
          if (bMin < a.offset && !expectEmpty) {
            t.throws(() => a.difference(b), RangeError);
            return true;
          }
        }
        const aBefore = a.clone();
        const bBefore = b?.clone();
        const result = a[op](b);
        const modelA = SetModel.of(specA);
        const modelB = specB === undefined ? undefined : SetModel.of(specB);
        const points = probePoints(specA, ...(specB === undefined ? [] : [specB]));
        const problem = matches(result, (i) => model(modelA, modelB, i), points);
        t.equal(problem, null, `${a.toString()} ${op} ${b?.toString()}`);
        t.ok(a.equals(aBefore), 'left operand unchanged');
        if (b !== undefined && bBefore !== undefined) t.ok(b.equals(bBefore), 'right operand unchanged');
        return problem === null;
      }),
      RUNS,
    );
  });
}

t.test('bitmap difference with huge prefix throws RangeError', async (t) => {
  const a = TailBitmap.prefix(LARGE_BASE);
  const b = TailBitmap.of(0, 0);
  t.throws(() => a.difference(b), RangeError);
  t.ok(a.difference(TailBitmap.empty()).equals(a), 'minus the empty set is the same set');
  const above = TailBitmap.prefix(LARGE_BASE + 10);
  t.ok(a.difference(above).isEmpty(), 'minus a larger prefix is empty');
  t.throws(() => above.difference(a), RangeError, 'a result without a prefix past the maximum is not built');
});

t.test('bitmap unionInPlace matches union', async (t) => {
  fc.assert(
    fc.property(fc.array(denseSpecArb(), { minLength: 1, maxLength: 6 }), (specs) => {
      const accumulated = build(specs[0]);
      let expected = build(specs[0]);
      for (const spec of specs.slice(1)) {
        const operand = build(spec);
        accumulated.unionInPlace(operand);
        expected = expected.union(operand);
        if (!accumulated.equals(expected) || accumulated.canonicalViolation() !== null) {
          t.fail(`unionInPlace gave ${accumulated.toString()}, union gave ${expected.toString()}`);
          return false;
        }
        // Adding after an in-place union must not resurrect bits from before a compaction.
        accumulated.add(spec.offset + 500);
        expected.add(spec.offset + 500);
      }
      t.ok(accumulated.equals(expected));
      return true;
    }),
    RUNS,
  );
});

t.test('bitmap len count isEmpty match model', async (t) => {
  fc.assert(
    fc.property(denseSpecArb(), (spec) => {
      const bitmap = build(spec);
      const model = SetModel.of(spec);
      const maxMember = Math.max(model.prefix - 1, ...model.members);
      const count = model.prefix + model.members.size;
      t.equal(bitmap.len(), count === 0 ? 0 : maxMember + 1);
      t.equal(bitmap.count(), count);
      t.equal(bitmap.isEmpty(), count === 0);
      return true;
    }),
    RUNS,
  );
});

t.test('bitmap isSubsetOf and equals match model', async (t) => {
  fc.assert(
    fc.property(denseSpecArb(), denseSpecArb(), (specA, specB) => {
      const a = build(specA);
      const b = build(specB);
      const modelA = SetModel.of(specA);
      const modelB = SetModel.of(specB);
      const limit = Math.max(a.len(), b.len()) + 1;
      // Compare the models only near the data; prefixes larger than 2^20 are compared by length.
      const small = limit < 2 ** 20;
      if (small) {
        const listA = modelA.listFrom(0, limit);
        const subset = listA.every((i) => modelB.has(i));
        const equal = subset && modelB.listFrom(0, limit).every((i) => modelA.has(i));
        t.equal(a.isSubsetOf(b), subset, `${a.toString()} subset of ${b.toString()}`);
        t.equal(a.equals(b), equal, `${a.toString()} equals ${b.toString()}`);
      }
      t.ok(a.isSubsetOf(a.union(b)), 'a is a subset of a union b');
      t.ok(a.intersection(b).isSubsetOf(a), 'a intersection b is a subset of a');
      t.equal(a.equals(b), b.equals(a), 'equals is symmetric');
      return true;
    }),
    RUNS,
  );
});

t.test('bitmap equals compares the logical set', async (t) => {
  const a = TailBitmap.of(0, ...Array.from({ length: 70 }, (_, k) => k));
  const b = TailBitmap.prefix(70);
  t.ok(a.equals(b), 'added positions equal a prefix');
  t.ok(TailBitmap.of(64).equals(TailBitmap.fromProto({ offset: 0, words: [0xffffffffffffffffn, 0n, 0n] })));
  t.notOk(TailBitmap.of(64).equals(TailBitmap.of(65)));
});

t.test('bitmap positionsFrom matches model', async (t) => {
  fc.assert(
    fc.property(denseSpecArb(), fc.integer({ min: -5, max: 300 }), (spec, delta) => {
      const bitmap = build(spec);
      const model = SetModel.of(spec);
      const start = Math.max(0, spec.offset - 40 + delta);
      const limit = bitmap.len();
      const listed = [...bitmap.positionsFrom(start)];
      t.same(listed, model.listFrom(start, limit + 1));
      return true;
    }),
    RUNS,
  );
});

t.test('bitmap proto round trip', async (t) => {
  fc.assert(
    fc.property(denseSpecArb(), (spec) => {
      const bitmap = build(spec);
      const proto = bitmap.toProto();
      t.equal(proto.offset % 64, 0, 'proto offset is a multiple of 64');
      t.ok(proto.words.every((w) => w >= 0n && w < 1n << 64n), 'words are unsigned 64-bit');
      t.ok(TailBitmap.fromProto(proto).equals(bitmap), 'fromProto(toProto(x)) equals x');
      return true;
    }),
    RUNS,
  );
});

t.test('bitmap JSON round trip', async (t) => {
  fc.assert(
    fc.property(denseSpecArb(), (spec) => {
      const bitmap = build(spec);
      const text = JSON.stringify(bitmap);
      const back = TailBitmap.fromJSON(JSON.parse(text));
      t.ok(back.equals(bitmap), `${bitmap.toString()} survives JSON`);
      return true;
    }),
    RUNS,
  );
});

t.test('bitmap proto layout is LSB first', async (t) => {
  const bitmap = TailBitmap.of(64, 64, 66, 130);
  t.same(bitmap.toProto(), { offset: 64, words: [0b101n, 0b100n] }, 'members [0,65), 66 and 130');
  const sparse = TailBitmap.of(0, 1, 64 + 3);
  t.same(sparse.toProto(), { offset: 0, words: [0b10n, 0b1000n] });
  const unaligned = TailBitmap.prefix(40);
  t.same(unaligned.toProto(), { offset: 0, words: [(1n << 40n) - 1n] });
  t.same(TailBitmap.prefix(96).toProto(), { offset: 64, words: [0xffffffffn] });
  t.same(TailBitmap.empty().toProto(), { offset: 0, words: [] });
});

t.test('bitmap fromProto rejects bad input', async (t) => {
  t.throws(() => TailBitmap.fromProto({ offset: 32, words: [] }), RangeError, 'unaligned offset');
  t.throws(() => TailBitmap.fromProto({ offset: -64, words: [] }), RangeError, 'negative offset');
  t.throws(() => TailBitmap.fromProto({ offset: 1.5, words: [] }), RangeError, 'fractional offset');
  t.throws(() => TailBitmap.fromProto({ offset: 0, words: [-1n] }), RangeError, 'negative word');
  t.throws(() => TailBitmap.fromProto({ offset: 0, words: [1n << 64n] }), RangeError, 'word above 64 bits');
  t.throws(() => TailBitmap.fromProto({ offset: 0, words: [1 as unknown as bigint] }), RangeError, 'number word');
  t.throws(() => TailBitmap.fromJSON({ offset: 0, words: ['xyz'] }), RangeError, 'non-hex word');
  t.throws(() => TailBitmap.fromJSON({ offset: 0, words: ['1'.repeat(17)] }), RangeError, 'too many digits');
  t.throws(() => TailBitmap.fromJSON({ offset: '0', words: [] }), RangeError, 'string offset');
  t.throws(() => TailBitmap.fromJSON(null), RangeError, 'null');
  t.throws(() => TailBitmap.fromJSON({ offset: 0 }), RangeError, 'missing words');
  t.ok(TailBitmap.fromProto({ offset: 64, words: [0n, 0n] }).equals(TailBitmap.prefix(64)), 'trailing zero words accepted');
});

t.test('bitmap rejects invalid positions', async (t) => {
  const bitmap = TailBitmap.empty();
  t.throws(() => bitmap.add(-1), RangeError);
  t.throws(() => bitmap.add(1.5), RangeError);
  t.throws(() => bitmap.add(2 ** 53), RangeError);
  t.throws(() => TailBitmap.prefix(-3), RangeError);
  t.throws(() => bitmap.add(TAIL_BITS_MAX + 10), RangeError, 'a tail past the maximum');
  t.equal(bitmap.has(-1), false);
  t.ok(bitmap.isEmpty(), 'failed adds left the set empty');
});

t.test('bitmap large offsets', async (t) => {
  const base = 2 ** 52 + 3;
  const bitmap = TailBitmap.of(base, base + 1, base + 100);
  t.equal(bitmap.offset, base);
  t.ok(bitmap.has(base - 1));
  t.notOk(bitmap.has(base));
  t.ok(bitmap.has(base + 100));
  t.equal(bitmap.len(), base + 101);
  t.equal(bitmap.count(), base + 2);
  bitmap.add(base);
  t.equal(bitmap.offset, base + 2);
  t.ok(TailBitmap.fromProto(bitmap.toProto()).equals(bitmap));
  t.equal(bitmap.toString(), `[0,${base + 2})+{${base + 100}}`);
});

t.test('bitmap toString', async (t) => {
  t.equal(TailBitmap.empty().toString(), '{}');
  t.equal(TailBitmap.prefix(128).toString(), '[0,128)');
  t.equal(TailBitmap.of(128, 130, 140).toString(), '[0,128)+{130,140}');
  t.equal(TailBitmap.of(0, 5).toString(), '{5}');
  const many = TailBitmap.fromPositions(Array.from({ length: 20 }, (_, k) => 2 * k + 1));
  t.match(many.toString(), /^\{1,3,5,.*,\.\.\.\+4 more\}$/);
});

t.test('bitmap clone is independent', async (t) => {
  const a = TailBitmap.of(10, 20);
  const b = a.clone();
  b.add(30);
  t.notOk(a.has(30));
  t.ok(b.has(30));
});

t.test('bitmap add and has speed', async (t) => {
  // Prints a figure for a look; the timing target lives in bench/, not in this assertion.
  const bitmap = TailBitmap.empty();
  const count = 200_000;
  const startNs = process.hrtime.bigint();
  for (let i = 0; i < count; i++) bitmap.add(i % 2 === 0 ? i : count + i);
  let hits = 0;
  for (let i = 0; i < count; i++) if (bitmap.has(i)) hits++;
  const elapsedNs = Number(process.hrtime.bigint() - startNs);
  t.comment(`add+has: ${(elapsedNs / (2 * count)).toFixed(1)} ns per call`);
  t.equal(hits, count / 2);
});
