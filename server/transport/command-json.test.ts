// parseCommandJson against the zod reference parseJsonField(commandSchema, ...): both must accept
// the same JSON texts with equal values and reject the same texts.
import t, { type Test } from 'tap';
import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import { parseCommandJson, parseJsonValueText } from './command-json.js';
import { commandSchema, jsonValueSchema, parseJsonField, WireError } from './json-wire.js';

type Outcome = { accepted: true; value: unknown } | { accepted: false; message: string };

const FIELD = 'records[3].command_json';

function outcome(parse: () => unknown): Outcome {
  try {
    return { accepted: true, value: parse() };
  } catch (error) {
    if (error instanceof WireError) {
      return { accepted: false, message: error.message };
    }
    throw error;
  }
}

const reference = (text: string): Outcome => outcome(() => parseJsonField(commandSchema, text, FIELD));
const hand = (text: string): Outcome => outcome(() => parseCommandJson(text, FIELD));

/** Marks a field to leave out of the generated object. */
const MISSING = Symbol('missing');

/** A string that the text step replaces with a number literal beyond the double range. */
const HUGE = '\u0000huge';
const NEGATIVE_HUGE = '\u0000-huge';

function toText(value: unknown): string {
  return JSON.stringify(value)
    .replaceAll(JSON.stringify(HUGE), '1e400')
    .replaceAll(JSON.stringify(NEGATIVE_HUGE), '-1e400');
}

/** Builds an object from entries, skipping MISSING values; `__proto__` becomes an own key. */
function objectOf(entries: [string, unknown][]): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, value] of entries) {
    if (value !== MISSING) {
      Object.defineProperty(result, key, { value, enumerable: true, writable: true, configurable: true });
    }
  }
  return result;
}

const junk: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ maxLength: 4 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(HUGE),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }),
);

/** Generates a field value: usually valid, sometimes junk, sometimes missing. */
function field(valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.oneof(
    { arbitrary: valid, weight: 12 },
    { arbitrary: junk, weight: 1 },
    { arbitrary: fc.constant(MISSING), weight: 1 },
  );
}

const jsonValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string({ maxLength: 5 }),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(HUGE),
    fc.constant(NEGATIVE_HUGE),
    fc.array(tie('value'), { maxLength: 3 }),
    fc
      .array(fc.tuple(fc.oneof(fc.string({ maxLength: 3 }), fc.constant('__proto__')), tie('value')), { maxLength: 3 })
      .map((entries) => objectOf(entries)),
  ),
})).value;

const key = fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom('k1', 'k2'));
const position = fc.oneof({ arbitrary: fc.integer({ min: 0, max: 63 }), weight: 6 }, fc.integer({ min: -2, max: 66 }), fc.double());
const count = fc.oneof(
  { arbitrary: fc.nat(10), weight: 6 },
  fc.constantFrom(-1, 0.5, 2 ** 53, 2 ** 53 - 1, 0xffffffff, 0x100000000),
);

/** Extra keys that both parsers must drop. */
const extras = fc.array(fc.tuple(fc.constantFrom('extra', '__proto__', 'kind2'), jsonValue), { maxLength: 1 });

function command(kind: string, fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<unknown> {
  const names = Object.keys(fields);
  return fc
    .tuple(field(fc.constant(kind)), fc.tuple(...names.map((name) => field(fields[name] as fc.Arbitrary<unknown>))), extras)
    .map(([kindValue, values, extra]) =>
      objectOf([['kind', kindValue], ...names.map((name, i): [string, unknown] => [name, values[i]]), ...(extra as [string, unknown][])]),
    );
}

const microOp = fc.oneof(
  fc.tuple(field(fc.constant('append')), field(key), field(jsonValue)).map(([f, k, v]) => objectOf([['f', f], ['key', k], ['value', v]])),
  fc.tuple(field(fc.constant('r')), field(key)).map(([f, k]) => objectOf([['f', f], ['key', k]])),
);

const member = fc
  .tuple(field(count), field(fc.string({ maxLength: 4 })), field(position))
  .map(([id, addr, p]) => objectOf([['id', id], ['addr', addr], ['position', p]]));

const family = fc.oneof(
  fc
    .tuple(field(fc.constant('threshold')), field(fc.array(position, { maxLength: 3 })), field(count))
    .map(([kind, positions, threshold]) => objectOf([['kind', kind], ['positions', positions], ['threshold', threshold]])),
  fc
    .tuple(
      field(fc.constant('weighted')),
      field(fc.array(fc.tuple(field(position), field(count)).map(([p, w]) => objectOf([['position', p], ['weight', w]])), { maxLength: 2 })),
      field(count),
    )
    .map(([kind, weights, threshold]) => objectOf([['kind', kind], ['weights', weights], ['threshold', threshold]])),
  fc
    .tuple(field(fc.constant('explicit')), field(fc.array(fc.array(position, { maxLength: 2 }), { maxLength: 2 })))
    .map(([kind, quorums]) => objectOf([['kind', kind], ['quorums', quorums]])),
);

const config = fc
  .tuple(field(fc.array(member, { maxLength: 3 })), field(fc.array(family, { maxLength: 2 })))
  .map(([members, families]) => objectOf([['members', members], ['families', families]]));

const commandValue: fc.Arbitrary<unknown> = fc.oneof(
  command('noop', {}),
  command('put', { key, value: jsonValue }),
  command('delete', { key }),
  command('cas', { key, expected: jsonValue, value: jsonValue }),
  command('append', { key, value: jsonValue }),
  command('incr', { key, delta: fc.oneof(fc.double(), fc.integer(), fc.constant(HUGE)) }),
  command('txn', { ops: fc.array(microOp, { maxLength: 3 }) }),
  command('config', { config }),
  jsonValue,
);

function assertSameOutcome(t: Test, text: string, parsers = { reference, hand }): boolean {
  const expected = parsers.reference(text);
  const actual = parsers.hand(text);
  if (expected.accepted !== actual.accepted) {
    t.fail(`accepted ${String(actual.accepted)}, the reference ${String(expected.accepted)}: ${text}`, { expected, actual });
    return false;
  }
  if (expected.accepted && actual.accepted && !isDeepStrictEqual(actual.value, expected.value)) {
    t.fail(`accepted value differs from the reference: ${text}`, { expected: expected.value, actual: actual.value });
    return false;
  }
  return true;
}

t.test('hand parser matches zod on random commands', async (t) => {
  let accepted = 0;
  let rejected = 0;
  fc.assert(
    fc.property(commandValue, (value) => {
      const text = toText(value);
      if (reference(text).accepted) accepted++;
      else rejected++;
      return assertSameOutcome(t, text);
    }),
    { numRuns: 4000, seed: 20261205 },
  );
  t.ok(accepted > 500, `accepts many generated commands (${accepted})`);
  t.ok(rejected > 500, `rejects many generated commands (${rejected})`);
});

t.test('hand parser matches zod on arbitrary JSON text', async (t) => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.json()), (text) => assertSameOutcome(t, text)),
    { numRuns: 1000, seed: 7 },
  );
  t.pass('every text gets the same outcome');
});

t.test('invalid JSON text gets the reference message', async (t) => {
  for (const text of ['', '{"kind":', 'x'.repeat(200)]) {
    t.same(hand(text), reference(text), `message for ${JSON.stringify(text.slice(0, 10))}`);
  }
});

t.test('rejections name the field and path', async (t) => {
  const cases: [string, RegExp][] = [
    ['{"kind":"put","key":3,"value":1}', /^records\[3\]\.command_json is invalid at key: expected a string, received the number 3$/],
    ['{"kind":"put","key":"k"}', /is invalid at value: expected a JSON value, received nothing$/],
    ['{"kind":"zap"}', /is invalid at kind: expected one of noop, put/],
    ['[1]', /is invalid: expected an object, received an array$/],
    ['{"kind":"put","key":"k","value":[1,{"a":1e400}]}', /is invalid at value\.1\.a: expected a finite number, received the number Infinity$/],
    ['{"kind":"incr","key":"k","delta":"1"}', /is invalid at delta: expected a finite number, received a string$/],
    ['{"kind":"txn","ops":[{"f":"w","key":"k"}]}', /is invalid at ops\.0\.f: expected one of append, r/],
    [
      '{"kind":"config","config":{"members":[{"id":1,"addr":"a","position":64}],"families":[]}}',
      /is invalid at config\.members\.0\.position: expected an integer in \[0, 63\], received the number 64$/,
    ],
  ];
  for (const [text, message] of cases) {
    const result = hand(text);
    t.equal(result.accepted, false, `${text} is rejected`);
    t.match(result.accepted ? '' : result.message, message, `${text} names the path`);
    t.equal(reference(text).accepted, false, `${text} is rejected by the reference`);
  }
});

t.test('__proto__ keys are dropped like zod drops them', async (t) => {
  const text = '{"kind":"put","key":"k","value":{"__proto__":{"x":1},"a":[{"__proto__":2}]}}';
  const result = hand(text);
  t.ok(result.accepted, 'command is accepted');
  t.same(result.accepted ? result.value : undefined, { kind: 'put', key: 'k', value: { a: [{}] } }, 'own __proto__ keys are gone');
  t.ok(isDeepStrictEqual(result, reference(text)), 'value equals the reference');
});

t.test('JSON value parser matches zod', async (t) => {
  const parsers = {
    reference: (text: string) => outcome(() => parseJsonField(jsonValueSchema, text, FIELD)),
    hand: (text: string) => outcome(() => parseJsonValueText(text, FIELD)),
  };
  let rejected = 0;
  fc.assert(
    fc.property(fc.oneof(jsonValue.map(toText), fc.string({ maxLength: 6 })), (text) => {
      if (!parsers.reference(text).accepted) rejected++;
      return assertSameOutcome(t, text, parsers);
    }),
    { numRuns: 3000, seed: 1210 },
  );
  t.ok(rejected > 100, `rejects many generated values (${rejected})`);
  t.match(parsers.hand('[1e400]'), { accepted: false, message: /^records\[3\]\.command_json is invalid at 0: expected a finite number/ }, 'names the path');
});
