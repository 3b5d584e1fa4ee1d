// List-append histories in the shapes Jepsen writes them and in traft's own JSONL, each checked
// through `traft check` against the verdict Elle's rules give it. The Jepsen shapes include a vector
// of op maps, one map per line, `#jepsen.history.Op` records, nemesis ops with nil or map values,
// `:info` txns with nil reads and `:fail` txns with an `:error` vector. expected.tsv lists the file,
// the consistency model, the verdict and the anomaly kinds that must be reported.
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import t from 'tap';
import { runCheckCaptured as check } from '../../checker/cli/run-captured.js';
import { writeEdnHistory } from '../../checker/history/edn.js';
import { loadHistory } from '../../checker/history/load.js';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const fixtures = join(projectRoot, 'test/checker/list-append');

interface Expectation {
  file: string;
  consistency: string;
  valid: boolean;
  kinds: string[];
}

interface FileReport {
  valid: unknown;
  ops: number;
  keys: number;
  failures: Array<{ kind?: string; explanation: string }>;
  summary: string;
}

function expectations(): Expectation[] {
  const rows = readFileSync(join(fixtures, 'expected.tsv'), 'utf8').trimEnd().split('\n').slice(1);
  return rows.map((row) => {
    const [file, consistency, valid, kinds] = row.split('\t');
    return { file: file!, consistency: consistency!, valid: valid === 'true', kinds: kinds === undefined || kinds === '' ? [] : kinds.split(',') };
  });
}


t.test('recorded list-append verdicts', async (t) => {
  const rows = expectations();
  t.ok(rows.length >= 10, 'expected.tsv lists the fixtures');
  for (const row of rows) {
    const path = join(fixtures, row.file);
    const result = await check([path], { model: 'list-append', consistency: row.consistency, json: true });
    const name = `${row.file} under ${row.consistency}`;
    t.equal(result.stderr, '', `${name}: no error`);
    t.equal(result.code, row.valid ? 0 : 1, `${name}: exit code`);

    const report = (JSON.parse(result.stdout) as { files: FileReport[] }).files[0]!;
    t.equal(report.valid, row.valid, `${name}: ${report.summary}`);
    t.ok(report.keys > 0, `${name}: keys counted from the micro-ops`);
    for (const kind of row.kinds) t.match(report.summary, `${kind} (`, `${name}: reports ${kind}`);
    if (!row.valid) t.ok(report.failures.length > 0 && report.failures.every((failure) => failure.kind !== undefined), `${name}: failures carry their kind`);
  }
});

t.test('Jepsen vector history in detail', async (t) => {
  const result = await check([join(fixtures, 'valid-vector.edn')], { model: 'list-append', json: true });
  const report = (JSON.parse(result.stdout) as { files: FileReport[] }).files[0]!;
  t.equal(report.ops, 8, 'nemesis ops are not counted as client ops');
  t.equal(report.keys, 3);
  t.equal(report.valid, true, report.summary);
});

t.test('text output names kinds and keys', async (t) => {
  const result = await check([join(fixtures, 'stale-read-lines.edn')], { model: 'list-append' });
  t.equal(result.code, 1);
  t.match(result.stdout, /stale-read-lines\.edn: INVALID, 5 ops, 2 keys, checked in/);
  t.match(result.stdout, /\n {2}not strict-serializable: found G-single-realtime \(1\) in 5 txns\n/);
  t.match(result.stdout, /\n {2}- G-single-realtime cycle: T\d+ realtime-> T\d+ rw-> T\d+\. /);

  const aborted = await check([join(fixtures, 'g1a-failed-append.edn')], { model: 'list-append' });
  t.match(aborted.stdout, /\n {2}- G1a: T7 read key 4 as \[1 2\], which includes 2; T3 appended 2 but failed/);

  const serializable = await check([join(fixtures, 'stale-read-lines.edn')], { model: 'list-append', consistency: 'serializable' });
  t.equal(serializable.code, 0);
  t.match(serializable.stdout, /serializable: no anomaly ruling it out in 5 txns; also found G-single-realtime \(1\), which only rule out stronger models/);
});

t.test('EDN export keeps the verdict', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'traft-elle-edn-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const file of ['traft-run-seed7.jsonl', 'set-only-interference-key59.jsonl']) {
    const edn = join(dir, file.replace('.jsonl', '.edn'));
    await writeEdnHistory(edn, await loadHistory(join(fixtures, file)));
    t.match(await readFile(edn, 'utf8'), /:f :txn, :value \[\[:(append|r) /, `${file}: micro-ops are written as Elle keywords`);

    const fromJsonl = await check([join(fixtures, file)], { model: 'list-append', json: true });
    const fromEdn = await check([edn], { model: 'list-append', json: true });
    const verdict = (stdout: string): unknown => (JSON.parse(stdout) as { files: FileReport[] }).files[0]!.valid;
    t.equal(fromEdn.code, fromJsonl.code, `${file}: same exit code`);
    t.equal(verdict(fromEdn.stdout), verdict(fromJsonl.stdout), `${file}: same verdict`);
  }
});

const cli = join(projectRoot, 'dist/checker/cli/check-main.js');
t.test('built CLI exit codes', { skip: existsSync(cli) ? false : `${cli} is not built; run make build` }, async (t) => {
  const valid = await execa('node', [cli, 'check', join(fixtures, 'valid-vector.edn'), '--model', 'list-append'], { reject: false });
  t.equal(valid.exitCode, 0, valid.stderr);
  const invalid = await execa('node', [cli, 'check', join(fixtures, 'g1c.edn'), '--model', 'list-append', '--consistency', 'read-committed'], { reject: false });
  t.equal(invalid.exitCode, 1, invalid.stderr);
  t.match(invalid.stdout, /- G1c cycle: /);
});

t.test('set-only-interference run caught', async (t) => {
  // A recorded run against servers with the planted bug: appends to one key applied in one order
  // while reads watched, then kept in another after a kill.
  const result = await check([join(fixtures, 'set-only-interference-key59.jsonl')], { model: 'list-append', json: true });
  t.equal(result.code, 1, result.stderr);
  const report = (JSON.parse(result.stdout) as { files: FileReport[] }).files[0]!;
  t.equal(report.valid, false);
  const failure = report.failures[0];
  t.equal(failure?.kind, 'incompatible-order');
  t.match(failure?.explanation, /key 59 has no single version order: T12176 read \[1 3 2 \.\.\. 106 107 110\] \(77 elements\) but T21908 read \[1 3 2 \.\.\. 127 124 128\] \(97 elements\), and they differ at position 73/);
});
