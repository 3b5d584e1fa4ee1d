import t from 'tap';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Op } from '../checker/history/types.js';
import type { StoreEntry } from './index-html.js';
import { ReportInputError, writeRunReport, writeStoreIndex } from './index.js';
import { syntheticRun } from './testing/synthetic-run.js';
import type { ReportData, RunMeta } from './types.js';

let store = '';
t.before(async () => {
  store = await mkdtemp(join(tmpdir(), 'traft-report-store-'));
});
t.teardown(async () => {
  await rm(store, { recursive: true, force: true });
});

function embedded<T>(html: string, id: string): T {
  const match = new RegExp(`<script type="application/json" id="${id}">([\\s\\S]*?)</script>`).exec(html);
  if (match === null) throw new Error(`${id} block not found`);
  return JSON.parse(match[1]) as T;
}

/** Writes a run folder; `results` false leaves results.json out, as an interrupted run does. */
async function writeRun(workload: string, runName: string, meta: RunMeta, ops: Op[], results: unknown): Promise<string> {
  const runDir = join(store, workload, runName);
  await mkdir(runDir, { recursive: true });
  await writeFile(join(runDir, 'run.json'), JSON.stringify(meta));
  await writeFile(join(runDir, 'history.jsonl'), ops.map((op) => `${JSON.stringify(op)}\n`).join(''));
  if (results !== false) await writeFile(join(runDir, 'results.json'), JSON.stringify(results));
  return runDir;
}

t.test('index: run report from a run folder', async (t) => {
  const run = syntheticRun({ clientOpCount: 300, concurrency: 3, seed: 4 });
  const runDir = await writeRun('register', '20261204T200000-4', run.meta, run.ops, { valid: false, results: run.results });
  await writeRunReport(runDir);

  const data = embedded<ReportData>(await readFile(join(runDir, 'report.html'), 'utf8'), 'report-data');
  t.equal(data.verdict, false);
  t.equal(data.counts.opCount, run.ops.length);
  t.equal(data.run.runDir, runDir);
  t.same(data.problems, []);
  t.same(data.results.map((result) => result.checker), ['linearizable', 'set', 'elle']);
  t.same((data.results[2].extra as { notModels: string[] }).notModels, ['snapshot-isolation', 'serializable'], 'extra checker fields survive');
});

t.test('index: interrupted run still gets a report', async (t) => {
  const run = syntheticRun({ clientOpCount: 100, concurrency: 2, seed: 5 });
  const runDir = await writeRun('set', '20261204T210000-5', run.meta, run.ops, false);
  // A torn last line, as a controller killed mid-write leaves.
  await writeFile(join(runDir, 'history.jsonl'), `${run.ops.map((op) => JSON.stringify(op)).join('\n')}\n{"index":99`);
  await writeRunReport(runDir);

  const data = embedded<ReportData>(await readFile(join(runDir, 'report.html'), 'utf8'), 'report-data');
  t.equal(data.verdict, 'unknown');
  t.equal(data.counts.opCount, run.ops.length);
  t.match(data.problems[0], /results\.json is missing/);
  t.match(data.problems[1], new RegExp(`history\\.jsonl:${run.ops.length + 1}: invalid JSON .*the report shows the ${run.ops.length} ops before it`));
});

t.test('index: null stats are dropped', async (t) => {
  const run = syntheticRun({ clientOpCount: 20, concurrency: 1, seed: 6 });
  const results = { valid: true, results: [{ checker: 'counter', valid: true, summary: 'ok', anomalies: [], stats: { readOkCount: 3, rate: null } }] };
  const runDir = await writeRun('counter', 'null-stats', run.meta, run.ops, results);
  await writeRunReport(runDir);
  const data = embedded<ReportData>(await readFile(join(runDir, 'report.html'), 'utf8'), 'report-data');
  t.same(data.results[0].stats, { readOkCount: 3 });
});

t.test('index: bad run folders are rejected', async (t) => {
  const empty = join(store, 'empty-run');
  await mkdir(empty, { recursive: true });
  await t.rejects(writeRunReport(empty), ReportInputError);
  await t.rejects(writeRunReport(empty), /run\.json: cannot read the file \(ENOENT\); pass a run folder written by `traft run`/);

  const badMeta = join(store, 'bad-meta');
  await mkdir(badMeta, { recursive: true });
  await writeFile(join(badMeta, 'run.json'), JSON.stringify({ workload: 'set', seed: 'seven' }));
  await t.rejects(writeRunReport(badMeta), /run\.json: invalid content, "seed": .*number/);

  await writeFile(join(badMeta, 'run.json'), '{not json');
  await t.rejects(writeRunReport(badMeta), /run\.json: invalid JSON/);

  await rm(empty, { recursive: true });
  await rm(badMeta, { recursive: true });
});

t.test('index: store index lists runs newest first', async (t) => {
  const older = syntheticRun({ clientOpCount: 20, concurrency: 2, seed: 1 });
  const newer = syntheticRun({ clientOpCount: 30, concurrency: 2, seed: 2 });
  newer.meta.startedAt = '2026-12-05T08:00:00.000Z';
  const olderDir = await writeRun('bank', 'older-1', older.meta, older.ops, { valid: true, results: [] });
  const newerDir = await writeRun('counter', 'newer-2', newer.meta, newer.ops, { valid: 'unknown', results: [] });
  await writeRunReport(newerDir);
  await mkdir(join(store, 'counter', 'broken'), { recursive: true });
  await symlink(newerDir, join(store, 'latest'));

  await writeStoreIndex(store);
  const entries = embedded<StoreEntry[]>(await readFile(join(store, 'index.html'), 'utf8'), 'index-data');
  const names = entries.map((entry) => entry.runName);
  t.equal(names.indexOf('newer-2'), 0, 'the newest run comes first');
  t.ok(names.indexOf('older-1') > 0);
  t.notOk(names.includes('latest'), 'the latest symlink is not a run');

  const newest = entries[0];
  t.same([newest.workload, newest.seed, newest.valid, newest.opCount, newest.hasReport], ['counter', 2, 'unknown', newer.ops.length, true]);
  const oldEntry = entries.find((entry) => entry.runName === 'older-1')!;
  t.same([oldEntry.valid, oldEntry.opCount, oldEntry.hasReport], [true, older.ops.length, false]);
  t.equal(olderDir, join(store, 'bank', 'older-1'));

  const broken = entries.find((entry) => entry.runName === 'broken')!;
  t.match(broken.problem, /run\.json: cannot read the file \(ENOENT\)/);
  t.equal(broken.valid, undefined);
});

t.test('index: missing store folder is rejected', async (t) => {
  await t.rejects(writeStoreIndex(join(store, 'no-such-store')), /cannot list the folder \(ENOENT\); pass the run store folder/);
});
