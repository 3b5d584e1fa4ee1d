// Core data type and WAL benchmark: TailBitmap add/has/union on protocol-shaped sets, majority
// quorum tests, persist batch encoding (JSON and binary) and CRC32C, and WAL appends with group
// commit and fdatasync. Prints the figures and writes them to bench/results/core-data.json.
// Run: `make bench-core-data` (or `npx tsc -p tsconfig.json && node dist/bench/core-data.js`).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { TailBitmap } from '../server/core/bitmap.js';
import { decodePersistBatch, encodePersistBatch, encodePersistBatchJson } from '../server/core/codec.js';
import { isQuorum, majorityConfig } from '../server/core/quorum.js';
import type { LogRecord, PersistOp } from '../server/core/types.js';
import { crc32c } from '../server/storage/crc32c.js';
import { Wal } from '../server/storage/wal.js';

/** Targets: a hot-path bitmap call well under a microsecond, and group commit far above 1 fsync per record. */
const BITMAP_CALL_NS_MAX = 500;
const WAL_RECORDS_PER_FSYNC_MIN = 10;
/** The binary persist batch encoder must beat JSON by at least this factor to be worth its format. */
const BINARY_ENCODE_SPEEDUP_MIN = 2;

interface Figure {
  name: string;
  value: number;
  unit: string;
}

function timeNs(run: () => void): number {
  const start = process.hrtime.bigint();
  run();
  return Number(process.hrtime.bigint() - start);
}

function benchBitmap(figures: Figure[]): void {
  const count = 1_000_000;

  // Positions arrive nearly in order with a few holes, as lsns do at a follower.
  const accepted = TailBitmap.empty();
  const addNs = timeNs(() => {
    for (let i = 0; i < count; i++) accepted.add(i % 1000 === 0 ? i + 500 : i);
  });
  figures.push({ name: 'bitmap add, near-sequential', value: addNs / count, unit: 'ns/call' });

  let hits = 0;
  const hasNs = timeNs(() => {
    for (let i = 0; i < count; i++) if (accepted.has((i * 7919) % count)) hits++;
  });
  figures.push({ name: 'bitmap has, scattered', value: hasNs / count, unit: 'ns/call' });

  const a = TailBitmap.of(10_000, ...Array.from({ length: 200 }, (_, k) => 10_000 + 3 * k));
  const b = TailBitmap.of(10_050, ...Array.from({ length: 200 }, (_, k) => 10_050 + 2 * k));
  const unionCount = 100_000;
  const unionNs = timeNs(() => {
    for (let i = 0; i < unionCount; i++) a.union(b);
  });
  figures.push({ name: 'bitmap union, 600-position tails', value: unionNs / unionCount, unit: 'ns/call' });
  if (hits === 0) throw new Error('bitmap has found no members');
}

function benchQuorum(figures: Figure[]): void {
  const members = Array.from({ length: 64 }, (_, k) => ({ id: k + 1, addr: '127.0.0.1:0', position: k }));
  const config = majorityConfig(members);
  const count = 1_000_000;
  let quorums = 0;
  const ns = timeNs(() => {
    for (let i = 0; i < count; i++) if (isQuorum(config, BigInt(i) * 0x9e3779b97f4a7c15n & 0xffffffffffffffffn)) quorums++;
  });
  figures.push({ name: 'isQuorum, majority of 64', value: ns / count, unit: 'ns/call' });
  if (quorums === 0) throw new Error('no quorum found');
}

/** Builds a Ready's batch as a register workload produces it: put and cas records plus the committed hint. */
function registerBatch(recordCount: number): PersistOp[] {
  const floor = 1_000_000;
  const records: LogRecord[] = [];
  for (let k = 0; k < recordCount; k++) {
    const seq = floor + 300 + k;
    const key = `r${k % 97}`;
    records.push({
      seq,
      author: { term: 7, id: 3 },
      command: k % 3 === 0 ? { kind: 'cas', key, expected: k % 5, value: (k + 1) % 5 } : { kind: 'put', key, value: k % 5 },
      client: { clientId: `c${k % 300}`, seq: 5_000 + k, ackedThrough: 4_990 + k },
      depends: TailBitmap.of(floor, seq - 97),
      overrides: TailBitmap.of(floor, seq - 97, seq),
    });
  }
  return [
    { type: 'records', records },
    { type: 'committed', committed: TailBitmap.of(floor + 250, ...Array.from({ length: 40 }, (_, k) => floor + 260 + 3 * k)) },
  ];
}

function benchPersistCodec(figures: Figure[]): { binaryEncodeUs: number; jsonEncodeUs: number } {
  const batch = registerBatch(256);
  const rounds = 2_000;
  const forms = [
    { name: 'json', encode: encodePersistBatchJson },
    { name: 'binary', encode: encodePersistBatch },
  ];
  const encodeUs: Record<string, number> = {};
  for (const form of forms) {
    let bytes = form.encode(batch);
    const encodeNs = timeNs(() => {
      for (let i = 0; i < rounds; i++) bytes = form.encode(batch);
    });
    let decodedCount = 0;
    const decodeNs = timeNs(() => {
      for (let i = 0; i < rounds; i++) decodedCount += decodePersistBatch(bytes).length;
    });
    if (decodedCount !== rounds * batch.length) throw new Error(`${form.name} decode returned ${decodedCount} ops`);
    encodeUs[form.name] = encodeNs / rounds / 1000;
    figures.push({ name: `${form.name} encode, 256-record batch`, value: encodeUs[form.name], unit: 'us/batch' });
    figures.push({ name: `${form.name} decode, 256-record batch`, value: decodeNs / rounds / 1000, unit: 'us/batch' });
    figures.push({ name: `${form.name} size, 256-record batch`, value: bytes.length, unit: 'bytes' });
  }

  const block = Uint8Array.from({ length: 64 * 1024 }, (_, k) => (k * 131) & 0xff);
  const crcRounds = 2_000;
  const expectedCrc = crc32c(block);
  let mismatches = 0;
  const crcNs = timeNs(() => {
    for (let i = 0; i < crcRounds; i++) if (crc32c(block) !== expectedCrc) mismatches++;
  });
  figures.push({ name: 'crc32c, 64 KiB blocks', value: (block.length * crcRounds) / (crcNs / 1e9) / 2 ** 20, unit: 'MiB/s' });
  if (mismatches > 0) throw new Error(`crc32c returned ${mismatches} different values for the same block`);
  return { binaryEncodeUs: encodeUs.binary, jsonEncodeUs: encodeUs.json };
}

async function benchWal(figures: Figure[]): Promise<{ recordsPerFsync: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'traft-bench-wal-'));
  try {
    const { wal } = await Wal.open(dir, { segmentBytesMax: 64 * 1024 * 1024, groupCommitWaitMsMax: 1, fsync: true });
    const payload = new Uint8Array(256);
    const recordCount = 20_000;
    const concurrency = 64;
    let next = 0;
    const start = process.hrtime.bigint();
    // Each of `concurrency` writers appends and waits, as client requests do.
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < recordCount) {
          next++;
          await wal.append(payload);
        }
      }),
    );
    const elapsedNs = Number(process.hrtime.bigint() - start);
    const stats = wal.stats();
    await wal.close();
    figures.push({ name: 'wal appends, 256 B, 64 writers', value: recordCount / (elapsedNs / 1e9), unit: 'records/s' });
    figures.push({ name: 'wal fdatasync calls', value: stats.fsyncCount, unit: 'calls' });
    const recordsPerFsync = recordCount / Math.max(1, stats.fsyncCount);
    figures.push({ name: 'wal records per fdatasync', value: recordsPerFsync, unit: 'records' });
    return { recordsPerFsync };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const figures: Figure[] = [];
  benchBitmap(figures);
  benchQuorum(figures);
  const { binaryEncodeUs, jsonEncodeUs } = benchPersistCodec(figures);
  const { recordsPerFsync } = await benchWal(figures);

  for (const figure of figures) console.log(`${figure.name.padEnd(40)} ${figure.value.toFixed(1).padStart(12)} ${figure.unit}`);
  const bitmapWorstNs = Math.max(...figures.filter((f) => f.name.startsWith('bitmap add') || f.name.startsWith('bitmap has')).map((f) => f.value));
  const withinTargets =
    bitmapWorstNs <= BITMAP_CALL_NS_MAX && recordsPerFsync >= WAL_RECORDS_PER_FSYNC_MIN && binaryEncodeUs * BINARY_ENCODE_SPEEDUP_MIN <= jsonEncodeUs;
  console.log(withinTargets ? 'within targets' : 'OUTSIDE TARGETS');

  await mkdir('bench/results', { recursive: true });
  const machine = { cpuModel: cpus()[0]?.model ?? 'unknown', cpuCount: cpus().length, node: process.version };
  await writeFile(
    'bench/results/core-data.json',
    `${JSON.stringify({ machine, targets: { BITMAP_CALL_NS_MAX, WAL_RECORDS_PER_FSYNC_MIN, BINARY_ENCODE_SPEEDUP_MIN }, withinTargets, figures }, null, 2)}\n`,
  );
  process.exitCode = withinTargets ? 0 : 1;
}

await main();
