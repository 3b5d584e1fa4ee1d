// The run store: folder names, the latest link, and run.json validation.
import { mkdir, mkdtemp, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { UsageError } from '../../controller/errors.js';
import { createRunDir, readRunMeta, runStamp, storeDirOf, updateLatest, writeRunMeta } from '../../controller/store.js';
import { formatStatus } from '../../controller/status.js';

async function tempStore(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'traft-store-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

t.test('run folder name', async (t) => {
  t.equal(runStamp(new Date('2026-12-04T20:42:51.123Z')), '20261204T204251');
  const store = await tempStore(t);
  const startedAt = new Date('2026-12-04T20:42:51Z');
  const first = await createRunDir(store, 'register', 7, startedAt);
  const second = await createRunDir(store, 'register', 7, startedAt);
  t.equal(first, path.join(store, 'register', '20261204T204251-7'));
  t.equal(second, `${first}-2`, 'a second run in the same second gets a suffix');
  t.equal(storeDirOf(first), path.resolve(store));
});

t.test('latest follows the newest run', async (t) => {
  const store = await tempStore(t);
  const first = await createRunDir(store, 'set', 1, new Date('2026-01-01T00:00:00Z'));
  await updateLatest(store, first);
  t.equal(await readlink(path.join(store, 'latest')), path.join('set', '20260101T000000-1'));
  const second = await createRunDir(store, 'bank', 2, new Date('2026-01-01T00:00:05Z'));
  await updateLatest(store, second);
  t.equal(await readlink(path.join(store, 'latest')), path.join('bank', '20260101T000005-2'), 'the link is replaced');
});

t.test('run.json round-trips', async (t) => {
  const store = await tempStore(t);
  const runDir = await createRunDir(store, 'counter', 3, new Date());
  const meta = {
    workload: 'counter',
    seed: 3,
    options: { nodes: 3 },
    command: 'traft run counter --seed 3',
    startedAt: new Date().toISOString(),
    versions: { traft: '0.1.0' },
    nodes: [{ id: 1, listen: '127.0.0.1:1234', dataDir: '/tmp/d', logPath: '/tmp/l' }],
    runDir,
  };
  await writeRunMeta(runDir, meta);
  t.same(await readRunMeta(runDir), meta);
});

t.test('run.json problems are usage errors', async (t) => {
  const store = await tempStore(t);
  await t.rejects(readRunMeta(path.join(store, 'missing')), UsageError, 'missing folder');
  await t.rejects(readRunMeta(path.join(store, 'missing')), /cannot read .*run\.json \(ENOENT\)/);

  const broken = path.join(store, 'broken');
  await mkdir(broken);
  await writeFile(path.join(broken, 'run.json'), '{not json');
  await t.rejects(readRunMeta(broken), /invalid JSON in .*run\.json/);

  const wrong = path.join(store, 'wrong');
  await mkdir(wrong);
  await writeFile(path.join(wrong, 'run.json'), JSON.stringify({ workload: 'set', seed: 'x' }));
  await t.rejects(readRunMeta(wrong), /field "seed"/);
});

t.test('status line', async (t) => {
  const line = formatStatus({
    phase: () => 'main',
    elapsedNs: () => 12.4e9,
    limitS: 60,
    counts: () => ({ invoke: 10, ok: 7, fail: 1, info: 2 }),
    faults: () => ({ killed: [2], paused: [], partition: { shape: 'halves', cuts: [[1, 3]], groups: [[1, 2], [3]] } }),
  });
  t.equal(line, '[main] 12/60s  ok 7  fail 1  info 2  | killed 2; partition halves 1,2|3');
});
