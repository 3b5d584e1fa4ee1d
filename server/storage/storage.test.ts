import t from 'tap';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { decodeSnapshot, encodeSnapshot, loadNewestSnapshot, saveSnapshot, snapshotFileName, SnapshotCorruptionError } from './snapshot.js';
import { Storage, StorageRecoveryError } from './storage.js';
import { segmentFileName } from './wal.js';
import { TailBitmap } from '../core/bitmap.js';
import { decodePersistBatch, encodePersistBatch, encodePersistBatchJson } from '../core/codec.js';
import type { PersistOp } from '../core/types.js';

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'traft-storage-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function captureLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

const silent = pino({ level: 'silent' });
const encode = (s: string): Uint8Array => new TextEncoder().encode(s);
const decode = (b: Uint8Array): string => new TextDecoder().decode(b);
const OPTIONS = { fsync: false, groupCommitWaitMsMax: 1, segmentBytesMax: 200 };

t.test('snapshot encode and decode', async (t) => {
  const bytes = encodeSnapshot(42, encode('image'));
  const parsed = decodeSnapshot(bytes);
  t.same(parsed.ok && { index: parsed.index, image: decode(parsed.image) }, { index: 42, image: 'image' });
  const flipped = bytes.slice();
  flipped[flipped.length - 1] ^= 1;
  t.match(decodeSnapshot(flipped), { ok: false, reason: /checksum mismatch/ });
  const wrongIndex = bytes.slice();
  wrongIndex[8] ^= 1;
  t.match(decodeSnapshot(wrongIndex), { ok: false, reason: /checksum mismatch/ }, 'the index is covered by the checksum');
  t.match(decodeSnapshot(bytes.subarray(0, 10)), { ok: false, reason: /short header/ });
  t.match(decodeSnapshot(bytes.subarray(0, bytes.length - 1)), { ok: false, reason: /image is 4 bytes but the header says 5/ });
  t.match(decodeSnapshot(encode('NOTASNAPSHOT-----------------')), { ok: false, reason: /magic/ });
});

t.test('snapshot save and load newest', async (t) => {
  const dir = tempDir(t);
  t.equal(loadNewestSnapshot(dir, silent), null, 'an empty dir has no snapshot');
  await saveSnapshot(dir, 5, encode('five'), { fsync: true });
  await saveSnapshot(dir, 12, encode('twelve'), { fsync: true });
  const loaded = loadNewestSnapshot(dir, silent);
  t.equal(loaded?.index, 12);
  t.equal(loaded && decode(loaded.image), 'twelve');
  t.equal(loaded?.path, join(dir, snapshotFileName(12)));
});

t.test('snapshot leftover temp file ignored', async (t) => {
  const dir = tempDir(t);
  await saveSnapshot(dir, 5, encode('five'), { fsync: false });
  // A crash between writing the temp file and the rename leaves this behind.
  const temp = join(dir, `${snapshotFileName(9)}.tmp`);
  writeFileSync(temp, encodeSnapshot(9, encode('half')).subarray(0, 12));
  const { logger, lines } = captureLogger();
  const loaded = loadNewestSnapshot(dir, logger);
  t.equal(loaded?.index, 5, 'the renamed snapshot wins');
  t.notOk(existsSync(temp), 'the temp file is deleted');
  t.ok(lines.some((line) => line.msg === 'leftover snapshot temp file deleted' && line.file === temp));
});

t.test('snapshot corrupt newest falls back or is rejected', async (t) => {
  const dir = tempDir(t);
  await saveSnapshot(dir, 5, encode('five'), { fsync: false });
  await saveSnapshot(dir, 12, encode('twelve'), { fsync: false });
  const newest = join(dir, snapshotFileName(12));
  const bytes = readFileSync(newest);
  bytes[bytes.length - 2] ^= 0x10;
  writeFileSync(newest, bytes);
  t.equal(loadNewestSnapshot(dir, silent)?.index, 5, 'an older valid snapshot is used');

  rmSync(join(dir, snapshotFileName(5)));
  let error: unknown = null;
  try {
    loadNewestSnapshot(dir, silent);
  } catch (e) {
    error = e;
  }
  t.ok(error instanceof SnapshotCorruptionError);
  t.equal(
    (error as Error).message,
    `snapshot corrupted: ${newest}: checksum mismatch (stored 0x${bytes.readUInt32LE(20).toString(16)}, computed 0x${decodeChecksum(bytes)}); no older valid snapshot exists, refusing to start (move the data dir aside or restore it from a replica)`,
  );
});

/** Recomputes the checksum the loader reports for damaged bytes. */
function decodeChecksum(bytes: Uint8Array): string {
  const parsed = decodeSnapshot(bytes);
  const match = !parsed.ok ? /computed 0x([0-9a-f]+)/.exec(parsed.reason) : null;
  return match?.[1] ?? 'none';
}

t.test('storage fresh dir', async (t) => {
  const dir = tempDir(t);
  const storage = await Storage.open(dir, OPTIONS);
  t.same(storage.recovered, []);
  await storage.close();
});

t.test('storage missing data dir', async (t) => {
  const dir = join(tempDir(t), 'absent');
  await t.rejects(Storage.open(dir, OPTIONS), {
    name: 'StorageRecoveryError',
    message: `data dir ${dir} does not exist or is not a directory; create it or pass another data dir`,
  });
});

t.test('storage round trip', async (t) => {
  const dir = tempDir(t);
  const storage = await Storage.open(dir, OPTIONS);
  await Promise.all(['a', 'b', 'c'].map((s) => storage.persist(encode(s))));
  await storage.close();
  const reopened = await Storage.open(dir, OPTIONS);
  t.same(reopened.recovered.map(decode), ['a', 'b', 'c']);
  await reopened.close();
});

t.test('storage checkpoint then later batches', async (t) => {
  const dir = tempDir(t);
  const storage = await Storage.open(dir, OPTIONS);
  const writes: Promise<void>[] = [];
  for (let k = 0; k < 20; k++) writes.push(storage.persist(encode(`batch-${k}`.padEnd(40, '.'))));
  // Issued without waiting, as the driver does: batches after it must recover after the image.
  writes.push(storage.checkpoint(encode('image-after-20')));
  writes.push(storage.persist(encode('batch-20')));
  writes.push(storage.persist(encode('batch-21')));
  await Promise.all(writes);
  const segmentsBefore = readdirSync(dir).filter((name) => name.startsWith('wal-'));
  await storage.close();

  const reopened = await Storage.open(dir, OPTIONS);
  t.same(reopened.recovered.map(decode), ['image-after-20', 'batch-20', 'batch-21']);
  await reopened.close();
  t.ok(segmentsBefore.length < 10, 'segments before the checkpoint were purged');
  t.notOk(segmentsBefore.includes(segmentFileName(0)), 'the first segment is gone');
  t.same(readdirSync(dir).filter((name) => name.startsWith('snapshot-')), [snapshotFileName(20)]);
});

t.test('storage second checkpoint deletes the first', async (t) => {
  const dir = tempDir(t);
  const storage = await Storage.open(dir, OPTIONS);
  await storage.persist(encode('a'));
  await storage.checkpoint(encode('image-1'));
  await storage.persist(encode('b'));
  await storage.checkpoint(encode('image-2'));
  await storage.persist(encode('c'));
  await storage.close();
  t.same(readdirSync(dir).filter((name) => name.startsWith('snapshot-')), [snapshotFileName(3)]);
  const reopened = await Storage.open(dir, OPTIONS);
  t.same(reopened.recovered.map(decode), ['image-2', 'c']);
  await reopened.close();
});

t.test('storage crash between snapshot and marker', async (t) => {
  const dir = tempDir(t);
  const storage = await Storage.open(dir, OPTIONS);
  await storage.persist(encode('a'));
  await storage.persist(encode('b'));
  await storage.close();
  // The snapshot for index 2 is durable, but the marker never reached the WAL.
  await saveSnapshot(dir, 2, encode('image-at-2'), { fsync: false });
  const reopened = await Storage.open(dir, OPTIONS);
  t.same(reopened.recovered.map(decode), ['image-at-2'], 'records below the snapshot are covered by it');
  await reopened.persist(encode('c'));
  await reopened.close();
  const again = await Storage.open(dir, OPTIONS);
  t.same(again.recovered.map(decode), ['image-at-2', 'c']);
  await again.close();
});

t.test('storage missing snapshot after purge is rejected', async (t) => {
  const dir = tempDir(t);
  const storage = await Storage.open(dir, OPTIONS);
  for (let k = 0; k < 10; k++) await storage.persist(encode(`batch-${k}`.padEnd(40, '.')));
  await storage.checkpoint(encode('image'));
  await storage.persist(encode('after'));
  await storage.close();
  rmSync(join(dir, snapshotFileName(10)));
  await t.rejects(Storage.open(dir, OPTIONS), {
    name: 'StorageRecoveryError',
    message: `snapshot ${snapshotFileName(10)} in ${dir} is missing or corrupt but the WAL was purged up to it; refusing to start (move the data dir aside or restore it from a replica)`,
  });
  t.ok(StorageRecoveryError);
});

t.test('storage corrupt wal is rejected', async (t) => {
  const dir = tempDir(t);
  const storage = await Storage.open(dir, OPTIONS);
  for (let k = 0; k < 3; k++) await storage.persist(encode(`batch-${k}`));
  await storage.close();
  const path = join(dir, segmentFileName(0));
  const bytes = readFileSync(path);
  bytes[10] ^= 0x40;
  writeFileSync(path, bytes);
  await t.rejects(Storage.open(dir, OPTIONS), { name: 'WalCorruptionError', message: /^WAL corrupted: .* at offset 0: checksum mismatch/ });
});

t.test('storage logs with the given pino logger', async (t) => {
  const dir = tempDir(t);
  const { logger, lines } = captureLogger();
  const storage = await Storage.open(dir, { ...OPTIONS, logger });
  await storage.persist(encode('a'));
  await storage.checkpoint(encode('image'));
  await storage.close();
  t.ok(lines.some((line) => line.msg === 'storage recovered'));
  t.ok(lines.some((line) => line.msg === 'checkpoint written' && line.index === 1));
});

t.test('data dir with JSON and binary batches reopens', async (t) => {
  const dir = tempDir(t);
  const record = (seq: number): PersistOp => ({
    type: 'records',
    records: [{ seq, author: { term: 1, id: 1 }, command: { kind: 'put', key: 'k', value: seq }, depends: TailBitmap.prefix(seq), overrides: TailBitmap.of(seq, seq) }],
  });
  // A data dir written before the binary form contains JSON batches, and the upgraded server appends binary ones.
  const older = await Storage.open(dir, { ...OPTIONS, segmentBytesMax: 64 * 1024 });
  await older.persist(encodePersistBatchJson([record(0), { type: 'committed', committed: TailBitmap.prefix(1) }]));
  await older.persist(encodePersistBatchJson([record(1)]));
  await older.close();
  const newer = await Storage.open(dir, { ...OPTIONS, segmentBytesMax: 64 * 1024 });
  await newer.persist(encodePersistBatch([record(2), { type: 'hard-state', hardState: { votedFor: { term: 2, id: 3 }, committer: null } }]));
  await newer.close();

  const reopened = await Storage.open(dir, { ...OPTIONS, segmentBytesMax: 64 * 1024 });
  t.teardown(() => reopened.close());
  const ops = reopened.recovered.flatMap((batch) => decodePersistBatch(batch));
  t.same(
    ops.map((op) => op.type),
    ['records', 'committed', 'records', 'records', 'hard-state'],
  );
  t.same(
    ops.flatMap((op) => (op.type === 'records' ? op.records.map((r) => r.seq) : [])),
    [0, 1, 2],
  );
});
