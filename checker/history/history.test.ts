import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import t, { type Test } from 'tap';
import { parseEdnHistory, writeEdnHistory } from './edn.js';
import { HistoryFormatError } from './errors.js';
import { HistoryWriter, readJsonlHistory } from './jsonl.js';
import { detectFormat, loadHistory, loadHistoryWithLines } from './load.js';
import type { Op } from './types.js';
import { validateWellFormed } from './wellformed.js';

const dir = await mkdtemp(join(tmpdir(), 'traft-history-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

let fileCounter = 0;
async function file(name: string, text: string): Promise<string> {
  fileCounter += 1;
  const path = join(dir, `${fileCounter}-${name}`);
  await writeFile(path, text);
  return path;
}

function op(index: number, process: number, type: Op['type'], f: string, value?: unknown, key = 'k'): Op {
  const result: Op = { index, time: index * 10, process, type, f, key };
  if (value !== undefined) result.value = value;
  return result;
}

async function expectFormatError(t: Test, promise: Promise<unknown>, line: number, pattern: RegExp): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  t.ok(error instanceof HistoryFormatError, 'throws HistoryFormatError');
  if (!(error instanceof HistoryFormatError)) return;
  t.equal(error.line, line, `names line ${line}`);
  t.match(error.message, pattern);
  t.notOk(error.message.includes('\n'), 'message is one line');
}

t.test('jsonl writer and reader round trip', async (t) => {
  const path = join(dir, 'roundtrip.jsonl');
  const writer = await HistoryWriter.open(path);
  const ops = [op(0, 3, 'invoke', 'cas', [1, 4]), op(1, 3, 'ok', 'cas', [1, 4]), { ...op(2, 'nemesis' as never, 'info', 'kill'), key: undefined }];
  delete ops[2]!.key;
  writer.write(ops[0]!);
  await writer.flush();
  writer.write(ops[1]!);
  writer.write(ops[2]!);
  await writer.close();
  await writer.close();

  const read: Op[] = [];
  for await (const entry of readJsonlHistory(path)) read.push(entry);
  t.same(read, ops);
});

t.test('jsonl writer flushes large batches', async (t) => {
  const path = join(dir, 'large.jsonl');
  const writer = await HistoryWriter.open(path);
  const count = 30_000;
  for (let i = 0; i < count; i += 2) {
    writer.write(op(i, 1, 'invoke', 'write', i));
    writer.write(op(i + 1, 1, 'ok', 'write', i));
  }
  await writer.close();
  const ops = await loadHistory(path);
  t.equal(ops.length, count);
  t.equal(ops[count - 1]!.index, count - 1);
});

t.test('jsonl writer output equals JSON.stringify', async (t) => {
  // Random ops are written with flushes in between. Some carry non-ASCII or lone-surrogate text,
  // and some are longer than the writer's 1 MiB buffer. The file must contain JSON.stringify of each op.
  const text = fc.oneof(fc.string({ maxLength: 8 }), fc.string({ unit: 'grapheme', maxLength: 8 }), fc.string({ unit: 'binary', maxLength: 8 }));
  const randomOp = fc.record({
    index: fc.nat(),
    time: fc.nat(),
    process: fc.oneof(fc.nat(), fc.constant('nemesis' as const)),
    type: fc.constantFrom('invoke' as const, 'ok' as const, 'fail' as const, 'info' as const),
    f: text,
    key: fc.option(text, { nil: undefined }),
    value: fc.oneof(fc.jsonValue({ maxDepth: 2 }), text, fc.nat().map((length) => 'x'.repeat(length % 3 === 0 ? 600_000 + (length % 1000) : length % 50))),
    error: fc.option(text, { nil: undefined }),
  });
  let run = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(randomOp, fc.boolean()), { maxLength: 12 }), async (entries) => {
      run += 1;
      const path = join(dir, `random-${run}.jsonl`);
      const writer = await HistoryWriter.open(path);
      for (const [entry, flush] of entries) {
        writer.write(entry as Op);
        if (flush) await writer.flush();
      }
      await writer.close();
      const expected = entries.map(([entry]) => `${JSON.stringify(entry)}\n`).join('');
      t.equal(await readFile(path, 'utf8'), expected);
      await rm(path);
    }),
    { numRuns: 60 },
  );
});

t.test('jsonl reader reports bad lines', async (t) => {
  const good = JSON.stringify(op(0, 1, 'invoke', 'read', null));
  await expectFormatError(t, loadHistory(await file('a.jsonl', `${good}\n{not json\n`)), 2, /:2: invalid JSON/);
  await expectFormatError(
    t,
    loadHistory(await file('b.jsonl', `${good}\n\n${JSON.stringify({ ...op(1, 1, 'ok', 'read', 1), type: 'done' })}\n`)),
    3,
    /invalid op: "type" is "done": Invalid option/,
  );
  await expectFormatError(t, loadHistory(await file('c.jsonl', `${JSON.stringify({ index: 0, time: 0, type: 'invoke', f: 'read' })}\n`)), 1, /"process" is missing/);
  await expectFormatError(t, loadHistory(join(dir, 'missing.jsonl')), 0, /cannot open the file \(ENOENT\)/);
  await expectFormatError(t, loadHistory(await file('d.json', `[${good}]\n`)), 1, /a JSON array is not JSONL/);
  await expectFormatError(t, loadHistory(await file('e.json', `[\n ${good}\n]\n`)), 1, /a JSON array is not JSONL/);
  await expectFormatError(t, loadHistory(dir, 'jsonl'), 0, /not a regular file/);
});

t.test('binary files are rejected', async (t) => {
  const bytes = Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x00, 0x01, 0x0a, 0x80, 0x81]);
  const cases: Array<[string, string | undefined]> = [
    ['x.jsonl', undefined],
    ['x.log', undefined],
    ['x.edn', undefined],
    ['x.bin', undefined],
    ['y.txt', 'jepsen-log'],
  ];
  for (const [name, format] of cases) {
    const path = join(dir, name);
    await writeFile(path, bytes);
    await expectFormatError(t, loadHistory(path, format as never), 0, /contains binary data, not UTF-8 text/);
  }
  const nul = await file('nul.log', 'INFO  jepsen.util - 0\t:invoke\t:read\tnil\u0000\n');
  await expectFormatError(t, loadHistory(nul), 0, /contains binary data/);
  // A multi-byte character cut by the end of the sampled head is still text.
  const cut = await file('cut.jsonl', `${JSON.stringify({ ...op(0, 1, 'invoke', 'write'), value: 'é'.repeat(3000) })}\n${JSON.stringify({ ...op(1, 1, 'ok', 'write'), value: 1 })}\n`);
  t.equal((await loadHistory(cut)).length, 2);
});

t.test('well-formedness errors name the line', async (t) => {
  const lines = (ops: Op[]): string => ops.map((entry) => JSON.stringify(entry)).join('\n');
  const cases: Array<[string, Op[], number, RegExp]> = [
    ['invoke before completing', [op(0, 1, 'invoke', 'read'), op(1, 1, 'invoke', 'write', 2)], 2, /process 1 invokes write before its read from line 1 completed/],
    ['completion without invoke', [op(0, 1, 'invoke', 'read'), op(1, 2, 'ok', 'read', 1)], 2, /ok read of process 2 has no matching invoke/],
    ['time backwards', [op(0, 1, 'invoke', 'read'), { ...op(1, 1, 'ok', 'read', 1), time: 5 }], 2, /time goes backwards from 0 to 5|time goes backwards/],
    ['index not increasing', [op(3, 1, 'invoke', 'read'), op(3, 1, 'ok', 'read', 1)], 2, /index 3 does not increase/],
    ['function mismatch', [op(0, 1, 'invoke', 'read'), op(1, 1, 'ok', 'write', 1)], 2, /completes write but invoked read at line 1/],
  ];
  // The "time backwards" case needs a previous time above the next one.
  cases[2]![1][0]!.time = 50;
  for (const [name, ops, line, pattern] of cases) {
    t.test(name, async (t) => {
      await expectFormatError(t, loadHistory(await file('w.jsonl', lines(ops))), line, pattern);
    });
  }
});

t.test('validateWellFormed without lines names the op', async (t) => {
  t.throws(() => validateWellFormed([op(0, 1, 'ok', 'read', 1)]), /<history>: ok read of process 1 has no matching invoke/);
  t.throws(() => validateWellFormed([{ ...op(0, 1, 'invoke', 'read'), type: 'begin' as never }]), /unknown op type "begin"/);
  t.doesNotThrow(() => validateWellFormed([op(0, 1, 'invoke', 'read'), { index: 1, time: 10, process: 'nemesis', type: 'info', f: 'kill' }, op(2, 1, 'info', 'read')]));
});

t.test('edn vector with comments and multi-line maps', async (t) => {
  const text = [
    '; a Jepsen history',
    '[{:type :invoke, :f :write, :value 3, :process 0, :time 100, :index 0}',
    ' {:type :ok,',
    '  :f :write, :value 3, :process 0, :time 200, :index 1} ; done',
    ' {:type :invoke, :f :read, :value nil, :process 1, :time 300, :index 2}',
    ' #jepsen.history.Op{:type :ok, :f :read, :value 3, :process 1, :time 400, :index 3, :note "a } in a string"}',
    ' {:type :info, :f :start, :value nil, :process :nemesis, :time 500, :index 4}]',
  ].join('\n');
  const path = await file('h.edn', text);
  const loaded = await loadHistoryWithLines(path);
  t.equal(loaded.format, 'edn');
  t.same(loaded.lines, [2, 3, 5, 6, 7]);
  t.same(loaded.ops[1], { index: 1, time: 200, process: 0, type: 'ok', f: 'write', value: 3, key: '0' });
  t.same(loaded.ops[3]!.value, 3);
  t.equal(loaded.ops[4]!.process, 'nemesis');
});

t.test('edn list and bare map sequence', async (t) => {
  const list = parseEdnHistory('x.edn', '({:type :invoke :f :read :process 0}\n{:type :ok :f :read :value 1 :process 0})');
  t.same(
    list.map((entry) => [entry.op.index, entry.op.time, entry.op.value]),
    [
      [0, 0, undefined],
      [1, 1, 1],
    ],
  );
  const bare = parseEdnHistory('x.txt', '{:process 0, :type :invoke, :f :append, :key "4", :value "x 0 1 y"}\n{:process 0, :type :ok, :f :append, :key "4", :value "x 0 1 y"}\n');
  t.equal(bare.length, 2);
  t.equal(bare[0]!.op.key, '4');
  t.equal(bare[1]!.line, 2);
});

t.test('edn independent tuples become keys', async (t) => {
  const located = parseEdnHistory(
    'i.edn',
    '[{:type :invoke :f :cas :value [7 [1 2]] :process 0}\n {:type :fail :f :cas :value [7 [1 2]] :process 0}\n {:type :invoke :f :read :value [8 nil] :process 1}\n {:type :ok :f :read :value [8 5] :process 1}]',
  );
  t.same(
    located.map((entry) => [entry.op.key, entry.op.value]),
    [
      ['7', [1, 2]],
      ['7', [1, 2]],
      ['8', null],
      ['8', 5],
    ],
  );
  const plain = parseEdnHistory('p.edn', '[{:type :invoke :f :cas :value [1 2] :process 0} {:type :invoke :f :read :value nil :process 1}]');
  t.same(plain[0]!.op.value, [1, 2], 'a plain cas pair is not a tuple');
  t.equal(plain[0]!.op.key, '0', 'ops without a key use key "0"');
});

t.test('edn errors name the line', async (t) => {
  t.throws(() => parseEdnHistory('e.edn', '[{:type :invoke :f :read :process 0}\n {:type :done :f :read :process 0}]'), /e\.edn:2: unknown op type "done"/);
  t.throws(() => parseEdnHistory('e.edn', '[{:type :invoke :f :read :process 0}\n {:type :ok :f :read'), /^e\.edn:2: "\{" is never closed; the EDN file is truncated/);
  // A map missing its "}" swallows the maps after it, so the error names the line where it opens.
  const unclosedMap = '{:process 0, :type :invoke, :f :write, :value 1\n{:process 0, :type :ok, :f :write, :value 1}\n';
  t.throws(() => parseEdnHistory('u.edn', unclosedMap), /^u\.edn:1: "\{" is never closed/);
  t.throws(() => parseEdnHistory('v.edn', '[{:process 0, :type :invoke, :f :read}\n'), /^v\.edn:1: "\[" is never closed/);
  t.throws(() => parseEdnHistory('e.edn', '[{:type :invoke :f :read :process 0}\n [1 2]]'), /e\.edn:2: expected an op map/);
  t.throws(() => parseEdnHistory('e.edn', '[{:type :invoke :f :read :process "x"}]'), /invalid :process "x"/);
});

t.test('edn export reads back the same ops', async (t) => {
  const ops: Op[] = [
    op(0, 3, 'invoke', 'cas', [1, 4]),
    { ...op(1, 3, 'fail', 'cas', [1, 4]), error: 'mismatch' },
    op(2, 4, 'invoke', 'read', null),
    op(3, 4, 'ok', 'read', 'a "quoted" value'),
    { index: 4, time: 40, process: 'nemesis', type: 'info', f: 'kill', value: { nodes: [1, 2] } },
  ];
  const path = join(dir, 'export.edn');
  await writeEdnHistory(path, ops);
  const back = await loadHistory(path);
  t.same(back, ops);
});

t.test('jepsen log lines', async (t) => {
  const text = [
    'INFO  jepsen.util - 0\t:invoke\t:read\tnil',
    'some log noise that is ignored',
    'INFO  jepsen.util - 1\t:invoke\t:cas\t[3 4]',
    'INFO  jepsen.util - 0\t:fail\t:read\t:timed-out',
    'INFO  jepsen.util - 1\t:fail\t:cas\t[3 4]',
    'INFO  jepsen.util - 2\t:invoke\t:write\t4',
    'INFO  jepsen.util - 2\t:info\t:write\t:timed-out',
    'INFO  jepsen.util - 5\t:invoke\t:read\tnil',
    'INFO  jepsen.util - 5\t:ok\t:read\t4',
  ].join('\n');
  const path = await file('j.log', text);
  t.equal(await detectFormat(path), 'jepsen-log');
  const loaded = await loadHistoryWithLines(path);
  t.same(loaded.lines, [1, 3, 4, 5, 6, 7, 8, 9]);
  const [, , timedOutRead, failedCas, , infoWrite, , okRead] = loaded.ops;
  t.same([timedOutRead!.type, timedOutRead!.error, timedOutRead!.value], ['info', 'timed-out', null], ':fail :read :timed-out is indeterminate');
  t.same([failedCas!.type, failedCas!.value], ['fail', [3, 4]]);
  t.same([infoWrite!.type, infoWrite!.value, infoWrite!.error], ['info', 4, 'timed-out']);
  t.same([okRead!.key, okRead!.value], ['0', 4]);
});

t.test('format detection by content', async (t) => {
  t.equal(await detectFormat(await file('a.txt', '{"index":0,"time":0,"process":0,"type":"invoke","f":"read"}\n')), 'jsonl');
  t.equal(await detectFormat(await file('b.txt', '; comment\n{:process 0, :type :invoke, :f :get}\n')), 'edn');
  t.equal(await detectFormat(await file('c.txt', 'INFO  jepsen.util - 0\t:invoke\t:read\tnil\n')), 'jepsen-log');
  await expectFormatError(t, detectFormat(await file('d.txt', 'hello\n')), 0, /pass --format/);
});

t.test('fast op check agrees with opSchema', async (t) => {
  const { isPlainValidOp, opSchema } = await import('./schema.js');
  const field = fc.oneof(
    fc.constant(undefined),
    fc.constant(null),
    fc.integer({ min: -2, max: 5 }),
    fc.double({ noNaN: true, min: -1, max: 10 }),
    fc.constantFrom('invoke', 'ok', 'fail', 'info', 'nemesis', '', 'read', 'k'),
    fc.array(fc.integer(), { maxLength: 2 }),
  );
  fc.assert(
    fc.property(
      fc.record(
        { index: field, time: field, process: field, type: field, f: field, key: field, value: field, error: field, extra: field },
        { requiredKeys: [] },
      ),
      (candidate) => {
        // The fast check may reject what zod accepts (extra fields), but never accept what zod rejects.
        if (isPlainValidOp(candidate)) return opSchema.safeParse(candidate).success;
        return true;
      },
    ),
    { numRuns: 3000, seed: 5 },
  );
  t.ok(isPlainValidOp({ index: 0, time: 0, process: 'nemesis', type: 'info', f: 'kill' }));
  t.notOk(isPlainValidOp({ index: 0, time: 0, process: 1, type: 'info', f: 'kill', extra: 1 }), 'extra fields go to zod');
});
