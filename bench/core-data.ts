// Core data type and WAL benchmark: TailBitmap add/has/union on protocol-shaped sets, majority
// quorum tests, and WAL appends with group commit and fdatasync. Prints the figures and writes
// them to bench/results/core-data.json.
// Run: `make bench-core-data` (or `npx tsc -p tsconfig.json && node dist/bench/core-data.js`).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { TailBitmap } from '../server/core/bitmap.js';
import { isQuorum, majorityConfig } from '../server/core/quorum.js';
import { Wal } from '../server/storage/wal.js';

/** Targets: a hot-path bitmap call well under a microsecond, and group commit far above 1 fsync per record. */
const BITMAP_CALL_NS_MAX = 500;
const WAL_RECORDS_PER_FSYNC_MIN = 10;

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
  const { recordsPerFsync } = await benchWal(figures);

  for (const figure of figures) console.log(`${figure.name.padEnd(40)} ${figure.value.toFixed(1).padStart(12)} ${figure.unit}`);
  const bitmapWorstNs = Math.max(...figures.filter((f) => f.name.startsWith('bitmap add') || f.name.startsWith('bitmap has')).map((f) => f.value));
  const withinTargets = bitmapWorstNs <= BITMAP_CALL_NS_MAX && recordsPerFsync >= WAL_RECORDS_PER_FSYNC_MIN;
  console.log(withinTargets ? 'within targets' : 'OUTSIDE TARGETS');

  await mkdir('bench/results', { recursive: true });
  const machine = { cpuModel: cpus()[0]?.model ?? 'unknown', cpuCount: cpus().length, node: process.version };
  await writeFile(
    'bench/results/core-data.json',
    `${JSON.stringify({ machine, targets: { BITMAP_CALL_NS_MAX, WAL_RECORDS_PER_FSYNC_MIN }, withinTargets, figures }, null, 2)}\n`,
  );
  process.exitCode = withinTargets ? 0 : 1;
}

await main();
