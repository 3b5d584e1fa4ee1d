import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import type { Op } from '../history/types.js';
import type { CheckCliOptions } from './check.js';
import { runCheckCaptured as run } from './run-captured.js';

const dir = await mkdtemp(join(tmpdir(), 'traft-check-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const corpus = resolve(dirname(fileURLToPath(import.meta.url)), '../..', '../shared/corpus');


function jsonl(ops: Array<Omit<Op, 'index' | 'time'>>): string {
  return ops.map((op, index) => JSON.stringify({ index, time: index * 100, ...op })).join('\n');
}

const validOps = jsonl([
  { process: 0, type: 'invoke', f: 'write', key: 'a', value: 1 },
  { process: 0, type: 'ok', f: 'write', key: 'a', value: 1 },
  { process: 1, type: 'invoke', f: 'read', key: 'a', value: null },
  { process: 1, type: 'ok', f: 'read', key: 'a', value: 1 },
]);
const invalidOps = jsonl([
  { process: 0, type: 'invoke', f: 'write', key: 'a', value: 1 },
  { process: 0, type: 'ok', f: 'write', key: 'a', value: 1 },
  { process: 1, type: 'invoke', f: 'read', key: 'a', value: null },
  { process: 1, type: 'ok', f: 'read', key: 'a', value: 2 },
]);
const failedCasOps = jsonl([
  { process: 0, type: 'invoke', f: 'cas', key: 'a', value: [null, 1] },
  { process: 0, type: 'fail', f: 'cas', key: 'a', value: [null, 1] },
]);

t.test('check exit codes and text output', async (t) => {
  const valid = join(dir, 'valid.jsonl');
  const invalid = join(dir, 'invalid.jsonl');
  await writeFile(valid, validOps);
  await writeFile(invalid, invalidOps);

  const ok = await run([valid]);
  t.equal(ok.code, 0);
  t.match(ok.stdout, /valid\.jsonl: valid, 2 ops, 1 keys/);

  const bad = await run([invalid]);
  t.equal(bad.code, 1);
  t.match(bad.stdout, /INVALID/);
  t.match(bad.stdout, /process 1's read returning 2 \(op 2\) cannot take effect/);

  const both = await run([valid, invalid]);
  t.equal(both.code, 1);
  t.match(both.stdout, /2 files: 1 valid, 1 invalid, 0 unknown/);
});

t.test('check --json report', async (t) => {
  const folder = join(dir, 'folder');
  await mkdir(folder);
  await writeFile(join(folder, 'a.jsonl'), validOps);
  await writeFile(join(folder, 'b.jsonl'), invalidOps);
  await writeFile(join(folder, 'notes.md'), 'not a history');
  const result = await run([folder], { json: true });
  t.equal(result.code, 1);
  const report = JSON.parse(result.stdout) as { files: Array<Record<string, unknown>>; checkMsTotal: number };
  t.equal(report.files.length, 2, 'the folder is expanded to its history files');
  t.same(
    report.files.map((file) => [file['file'], file['valid'], file['ops'], file['keys']]),
    [
      [join(folder, 'a.jsonl'), true, 2, 1],
      [join(folder, 'b.jsonl'), false, 2, 1],
    ],
  );
  t.type(report.files[0]!['checkMs'], 'number');
  t.type(report.checkMsTotal, 'number');
  t.equal((report.files[1]!['failures'] as unknown[]).length, 1);
});

t.test('check --cas-fail and format defaults', async (t) => {
  const path = join(dir, 'cas.jsonl');
  await writeFile(path, failedCasOps);
  t.equal((await run([path])).code, 1, 'informative by default for JSONL: the register held nil, so the cas could not fail');
  t.equal((await run([path], { casFail: 'not-happened' })).code, 0);
  const edn = join(dir, 'cas.edn');
  await writeFile(edn, '[{:process 0 :type :invoke :f :cas :value [nil 1]}\n {:process 0 :type :fail :f :cas :value [nil 1]}]');
  t.equal((await run([edn])).code, 0, 'not-happened by default for EDN');
  t.equal((await run([edn], { casFail: 'informative' })).code, 1);
});

t.test('check unknown verdict exits 2', async (t) => {
  const lines: Array<Omit<Op, 'index' | 'time'>> = [];
  for (let p = 0; p < 14; p += 1) lines.push({ process: p, type: 'invoke', f: 'write', key: 'a', value: p });
  for (let p = 14; p < 28; p += 1) lines.push({ process: p, type: 'invoke', f: 'read', key: 'a', value: null });
  for (let p = 0; p < 14; p += 1) lines.push({ process: p, type: 'ok', f: 'write', key: 'a', value: p });
  for (let p = 14; p < 28; p += 1) lines.push({ process: p, type: 'ok', f: 'read', key: 'a', value: p === 27 ? 99 : p - 14 });
  const path = join(dir, 'hard.jsonl');
  await writeFile(path, jsonl(lines));
  const result = await run([path], { timeLimit: '0.001' });
  t.equal(result.code, 2);
  t.match(result.stdout, /UNKNOWN/);
  t.match(result.stdout, /time limit reached/);
});

t.test('check bad input exits 64 with one line', async (t) => {
  const malformed = join(dir, 'malformed.jsonl');
  await writeFile(malformed, `${validOps}\n{"index":9,"time":900,"process":1,"type":"ok","f":"read","key":"a","value":1}\n`);
  const cases: Array<[string, string[], CheckCliOptions, RegExp]> = [
    ['completion without invoke', [malformed], {}, /malformed\.jsonl:5: ok read of process 1 has no matching invoke/],
    ['missing file', [join(dir, 'nope.jsonl')], {}, /cannot read .*nope\.jsonl \(ENOENT\)/],
    ['bad model', [malformed], { model: 'graph' }, /unknown --model "graph"/],
    ['bad time limit', [malformed], { timeLimit: '-1' }, /invalid --time-limit "-1"; give a positive number of seconds/],
    ['bad initial', [malformed], { initial: '{oops' }, /invalid --initial/],
    ['bad cas-fail', [malformed], { casFail: 'maybe' }, /unknown --cas-fail "maybe"/],
    ['consistency without list-append', [malformed], { consistency: 'serializable' }, /--consistency applies only to --model list-append, not cas-register; add --model list-append or drop --consistency/],
    ['empty file', [join(dir, 'empty.jsonl')], {}, /empty\.jsonl: contains no ops \(read as jsonl\); pass a history with at least one op/],
    ['log without op lines', [join(dir, 'noise.log')], {}, /noise\.log: contains no Jepsen op lines/],
    ['binary file', [join(dir, 'binary.log')], {}, /binary\.log: contains binary data, not UTF-8 text/],
    ['unsupported op', [join(dir, 'valid.jsonl')], { model: 'queue' }, /op 0: f "write" is not enqueue or dequeue for the queue model/],
  ];
  await writeFile(join(dir, 'valid.jsonl'), validOps);
  await writeFile(join(dir, 'empty.jsonl'), '\n');
  await writeFile(join(dir, 'noise.log'), 'INFO  jepsen.core - Run complete\n');
  await writeFile(join(dir, 'binary.log'), Buffer.from([0x00, 0xff, 0x13, 0x37, 0xc0]));
  for (const [name, files, options, pattern] of cases) {
    const result = await run(files, options);
    t.equal(result.code, 64, `${name}: exit 64`);
    t.match(result.stderr, pattern, `${name}: message`);
    t.equal(result.stderr.trim().split('\n').length, 1, `${name}: one line`);
    t.notMatch(result.stderr, /\n\s+at /, `${name}: no stack trace`);
  }
});

t.test('check list-append dispatch', async (t) => {
  const path = join(dir, 'append.jsonl');
  await writeFile(
    path,
    jsonl([
      { process: 0, type: 'invoke', f: 'txn', value: [['append', 'x', 1]] },
      { process: 0, type: 'ok', f: 'txn', value: [['append', 'x', 1]] },
      { process: 1, type: 'invoke', f: 'txn', value: [['r', 'x', null]] },
      { process: 1, type: 'ok', f: 'txn', value: [['r', 'x', [1]]] },
    ]),
  );
  const result = await run([path], { model: 'list-append', consistency: 'serializable', json: true });
  t.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout) as { files: Array<{ valid: unknown }> };
  t.equal(report.files[0]?.valid, true);
});

t.test('check corpus folder', { skip: existsSync(join(corpus, 'jepsen-etcd')) ? false : `corpus folder ${corpus} is absent` }, async (t) => {
  const result = await run([join(corpus, 'jepsen-etcd')], { json: true });
  t.equal(result.code, 1);
  const report = JSON.parse(result.stdout) as { files: Array<{ valid: unknown }> };
  t.equal(report.files.length, 70);
  t.equal(report.files.filter((file) => file.valid === true).length, 14);
});
