import t from 'tap';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { crc32c } from './crc32c.js';
import { segmentFileName, Wal, WalCorruptionError, type WalOptions } from './wal.js';

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'traft-wal-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A pino logger whose JSON lines are collected for assertions. */
function captureLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

const OPTIONS: WalOptions = { segmentBytesMax: 1 << 20, groupCommitWaitMsMax: 1, fsync: false };

function payload(k: number, bytes = 20): Uint8Array {
  return new TextEncoder().encode(`record-${k}-`.padEnd(bytes, 'x'));
}

function text(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

async function writeRecords(dir: string, count: number, options: Partial<WalOptions> = {}): Promise<void> {
  const { wal } = await Wal.open(dir, { ...OPTIONS, ...options });
  await Promise.all(Array.from({ length: count }, (_, k) => wal.append(payload(k))));
  await wal.close();
}

/** Frame size of payload(k): 8 header bytes, 1 kind byte, 20 payload bytes. */
const FRAME_BYTES = 8 + 1 + 20;

t.test('crc32c check value', async (t) => {
  t.equal(crc32c(new TextEncoder().encode('123456789')), 0xe3069283);
  t.equal(crc32c(new Uint8Array(0)), 0);
  const whole = crc32c(new TextEncoder().encode('hello world'));
  const pieces = crc32c(new TextEncoder().encode(' world'), crc32c(new TextEncoder().encode('hello')));
  t.equal(pieces, whole, 'checksums continue across pieces');
});

t.test('wal fresh dir', async (t) => {
  const dir = tempDir(t);
  const { wal, records } = await Wal.open(dir, OPTIONS);
  t.same(records, []);
  t.equal(wal.nextIndex, 0);
  t.same(readdirSync(dir), [segmentFileName(0)]);
  t.equal(segmentFileName(0), 'wal-0000000000000000.log');
  await wal.close();
});

t.test('wal round trip', async (t) => {
  const dir = tempDir(t);
  const { wal } = await Wal.open(dir, OPTIONS);
  const indexes = await Promise.all(Array.from({ length: 10 }, (_, k) => wal.append(payload(k))));
  t.same(indexes, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'indexes follow call order');
  await wal.close();
  await t.rejects(wal.append(payload(99)), /closed/, 'append after close is rejected');

  const reopened = await Wal.open(dir, OPTIONS);
  t.same(reopened.records.map((r) => r.index), indexes);
  t.same(reopened.records.map((r) => text(r.payload)), indexes.map((k) => text(payload(k))));
  t.ok(reopened.records.every((r) => r.kind === 'record'));
  t.equal(reopened.wal.nextIndex, 10);
  t.equal(await reopened.wal.append(payload(10)), 10, 'appends continue after the recovered records');
  await reopened.wal.close();
});

t.test('wal group commit shares one fsync', async (t) => {
  const dir = tempDir(t);
  const { wal } = await Wal.open(dir, { ...OPTIONS, fsync: true, groupCommitWaitMsMax: 2 });
  await Promise.all(Array.from({ length: 200 }, (_, k) => wal.append(payload(k))));
  t.equal(wal.stats().appendCount, 200);
  t.equal(wal.stats().batchCount, 1, 'appends issued together form one batch');
  t.equal(wal.stats().fsyncCount, 1, 'one fdatasync covers the batch');

  for (let k = 0; k < 3; k++) await wal.append(payload(200 + k));
  t.equal(wal.stats().fsyncCount, 4, 'appends awaited one by one sync one by one');
  await wal.close();

  const nosync = await Wal.open(dir, { ...OPTIONS, fsync: false });
  await nosync.wal.append(payload(0));
  t.equal(nosync.wal.stats().fsyncCount, 0, 'fsync false never syncs');
  await nosync.wal.close();
});

t.test('wal zero wait batches one turn', async (t) => {
  const dir = tempDir(t);
  const { wal } = await Wal.open(dir, { ...OPTIONS, fsync: true, groupCommitWaitMsMax: 0 });
  await Promise.all(Array.from({ length: 50 }, (_, k) => wal.append(payload(k))));
  t.equal(wal.stats().batchCount, 1, 'appends issued in one turn form one batch');
  t.equal(wal.stats().fsyncCount, 1, 'one fdatasync covers them');

  const first = wal.append(payload(50));
  await new Promise((resolve) => setImmediate(resolve));
  const during = Array.from({ length: 10 }, (_, k) => wal.append(payload(51 + k)));
  await Promise.all([first, ...during]);
  t.equal(wal.stats().batchCount, 3, 'appends issued during a write form the next batch');
  t.equal(wal.stats().fsyncCount, 3, 'the next batch shares one fdatasync');
  await wal.close();

  const reopened = await Wal.open(dir, OPTIONS);
  t.same(reopened.records.map((r) => r.index), Array.from({ length: 61 }, (_, k) => k), 'every record is recovered in order');
  await reopened.wal.close();
});

t.test('wal unsynced append rides along', async (t) => {
  const dir = tempDir(t);
  const { wal } = await Wal.open(dir, { ...OPTIONS, fsync: true, groupCommitWaitMsMax: 0 });
  const hint = wal.append(payload(0), { sync: false });
  await new Promise((resolve) => setTimeout(resolve, 10));
  t.equal(wal.stats().batchCount, 0, 'an unsynced append alone starts no write at once');

  const synced = wal.append(payload(1));
  t.same(await Promise.all([hint, synced]), [0, 1], 'both resolve with their indexes');
  t.equal(wal.stats().batchCount, 1, 'the synced append carries the unsynced one');
  t.equal(wal.stats().fsyncCount, 1, 'one fdatasync covers both');

  const late = wal.append(payload(2), { sync: false });
  t.equal(await late, 2, 'an unsynced append alone is written after a delay');
  t.equal(wal.stats().batchCount, 2, 'the delayed write is one batch');
  await wal.close();

  const reopened = await Wal.open(dir, OPTIONS);
  t.same(reopened.records.map((r) => text(r.payload)), [0, 1, 2].map((k) => text(payload(k))), 'records are recovered in call order');
  await reopened.wal.close();
});

t.test('wal segment rollover', async (t) => {
  const dir = tempDir(t);
  // Three frames fit in a segment of 100 bytes.
  await writeRecords(dir, 10, { segmentBytesMax: 100 });
  const files = readdirSync(dir).sort();
  t.same(files, [0, 3, 6, 9].map(segmentFileName), 'each segment is named by its first index');
  for (const file of files.slice(0, 3)) t.equal(statSync(join(dir, file)).size, 3 * FRAME_BYTES, file);

  const { wal, records } = await Wal.open(dir, { ...OPTIONS, segmentBytesMax: 100 });
  t.same(records.map((r) => r.index), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  t.equal(wal.stats().segmentCount, 4);
  await wal.append(payload(10));
  await wal.append(payload(11));
  await wal.append(payload(12));
  t.equal(wal.stats().segmentCount, 5, 'the last segment filled and rolled over');
  await wal.close();

  const oversized = await Wal.open(dir, { ...OPTIONS, segmentBytesMax: 100 });
  await oversized.wal.append(new Uint8Array(500));
  await oversized.wal.close();
  const again = await Wal.open(dir, { ...OPTIONS, segmentBytesMax: 100 });
  t.equal(again.records.length, 14, 'a record larger than a segment gets a segment of its own');
  t.equal(again.records[13].payload.length, 500);
  await again.wal.close();
});

t.test('wal torn tail truncated and logged', async (t) => {
  const cases: { name: string; damage: (path: string) => void; kept: number }[] = [
    { name: 'truncated mid-payload', damage: (path) => truncateSync(path, 4 * FRAME_BYTES + 15), kept: 4 },
    { name: 'truncated mid-header', damage: (path) => truncateSync(path, 4 * FRAME_BYTES + 3), kept: 4 },
    { name: 'garbage appended', damage: (path) => appendFileSync(path, Buffer.from('garbage after the last record')), kept: 5 },
    { name: 'zeros appended', damage: (path) => appendFileSync(path, Buffer.alloc(4096)), kept: 5 },
    {
      name: 'last record checksum bad',
      damage: (path) => {
        const bytes = readFileSync(path);
        bytes[bytes.length - 1] ^= 0xff;
        writeFileSync(path, bytes);
      },
      kept: 4,
    },
  ];
  for (const { name, damage, kept } of cases) {
    const dir = tempDir(t);
    await writeRecords(dir, 5);
    const path = join(dir, segmentFileName(0));
    damage(path);
    const { logger, lines } = captureLogger();
    const { wal, records } = await Wal.open(dir, { ...OPTIONS, logger });
    t.equal(records.length, kept, `${name}: records kept`);
    const warning = lines.find((line) => line.msg === 'WAL torn tail truncated');
    t.ok(warning, `${name}: warning logged`);
    t.equal(warning?.file, path, `${name}: warning names the file`);
    t.equal(warning?.offset, kept * FRAME_BYTES, `${name}: warning names the offset`);
    t.equal(statSync(path).size, kept * FRAME_BYTES, `${name}: file truncated`);
    t.equal(await wal.append(payload(kept)), kept, `${name}: appends continue`);
    await wal.close();
    const reopened = await Wal.open(dir, OPTIONS);
    t.equal(reopened.records.length, kept + 1, `${name}: reopened cleanly`);
    await reopened.wal.close();
  }
});

t.test('wal flipped byte in the middle is rejected', async (t) => {
  const dir = tempDir(t);
  await writeRecords(dir, 5);
  const path = join(dir, segmentFileName(0));
  const bytes = readFileSync(path);
  bytes[2 * FRAME_BYTES + 12] ^= 0x01; // inside the payload of record 2
  writeFileSync(path, bytes);
  const error = await Wal.open(dir, OPTIONS).then(
    () => null,
    (e: unknown) => e,
  );
  t.ok(error instanceof WalCorruptionError, 'a WalCorruptionError');
  const message = (error as Error).message;
  t.match(
    message,
    new RegExp(
      `^WAL corrupted: ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} at offset ${2 * FRAME_BYTES}: checksum mismatch \\(stored 0x[0-9a-f]+, computed 0x[0-9a-f]+\\); refusing to start \\(move the data dir aside or restore it from a replica\\)$`,
    ),
  );
  t.notOk(message.includes('\n'), 'the message is one line');
  t.equal(statSync(path).size, 5 * FRAME_BYTES, 'nothing was truncated');
});

t.test('wal damaged length in the middle is rejected', async (t) => {
  const dir = tempDir(t);
  await writeRecords(dir, 5);
  const path = join(dir, segmentFileName(0));
  const bytes = readFileSync(path);
  bytes[FRAME_BYTES + 2] = 0x7f; // the length of record 1 now runs past the end of the file
  writeFileSync(path, bytes);
  await t.rejects(Wal.open(dir, OPTIONS), { name: 'WalCorruptionError', offset: FRAME_BYTES });
});

t.test('wal damage in an older segment is rejected', async (t) => {
  const dir = tempDir(t);
  await writeRecords(dir, 6, { segmentBytesMax: 100 });
  const first = join(dir, segmentFileName(0));
  truncateSync(first, 2 * FRAME_BYTES + 5);
  await t.rejects(Wal.open(dir, { ...OPTIONS, segmentBytesMax: 100 }), { name: 'WalCorruptionError', file: first, offset: 2 * FRAME_BYTES });
});

t.test('wal missing segment is rejected', async (t) => {
  const dir = tempDir(t);
  await writeRecords(dir, 9, { segmentBytesMax: 100 });
  rmSync(join(dir, segmentFileName(3)));
  await t.rejects(Wal.open(dir, { ...OPTIONS, segmentBytesMax: 100 }), {
    name: 'WalCorruptionError',
    message: /segment starts at record 6 but the previous segment ends before record 3/,
  });
});

t.test('wal checkpoint and purge', async (t) => {
  const dir = tempDir(t);
  const options = { ...OPTIONS, segmentBytesMax: 100 };
  const { wal } = await Wal.open(dir, options);
  for (let k = 0; k < 7; k++) await wal.append(payload(k));
  t.same(await wal.purgeBefore(7), [], 'nothing is purged before a checkpoint exists');

  const checkpointIndex = await wal.appendCheckpoint(new TextEncoder().encode('image'));
  t.equal(checkpointIndex, 7);
  for (let k = 8; k < 11; k++) await wal.append(payload(k));
  // Segments: [0,3) [3,6) [6,9) [9,..). Purging before 7 deletes the two segments wholly below it.
  const deleted = await wal.purgeBefore(7);
  t.same(deleted, [0, 3].map((i) => join(dir, segmentFileName(i))));
  t.same(readdirSync(dir).sort(), [6, 9].map(segmentFileName));
  t.same(await wal.purgeBefore(100), [], 'never past the last checkpoint');
  await wal.close();

  const { wal: reopened, records } = await Wal.open(dir, options);
  t.same(records.map((r) => [r.index, r.kind]), [
    [7, 'checkpoint'],
    [8, 'record'],
    [9, 'record'],
    [10, 'record'],
  ]);
  t.equal(text(records[0].payload), 'image');
  t.equal(reopened.checkpointIndex, 7);
  t.equal(reopened.nextIndex, 11);
  await reopened.close();
});

t.test('wal rejects invalid options', async (t) => {
  const dir = tempDir(t);
  await t.rejects(Wal.open(dir, { ...OPTIONS, segmentBytesMax: 0 }), { name: 'RangeError', message: /invalid segmentBytesMax 0/ });
  await t.rejects(Wal.open(dir, { ...OPTIONS, groupCommitWaitMsMax: -1 }), { name: 'RangeError', message: /invalid groupCommitWaitMsMax -1/ });
});
