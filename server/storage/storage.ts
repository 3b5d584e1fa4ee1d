// The durable store the server writes core batches to: a WAL plus snapshot files in one data dir.
//
// A checkpoint at WAL index S writes `snapshot-S.bin`, whose image covers every record below S,
// then appends a WAL checkpoint marker whose payload is S, then purges WAL segments and older
// snapshots wholly before S. Recovery loads the newest valid snapshot and replays the WAL records
// at or above its index. The snapshot is durable before the marker is written, so a marker always
// names a snapshot that existed. A marker newer than every valid snapshot therefore means lost data.
import { existsSync, statSync } from 'node:fs';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { deleteSnapshotsBefore, loadNewestSnapshot, saveSnapshot, snapshotFileName } from './snapshot.js';
import { Wal, type WalRecord } from './wal.js';

export interface StorageOptions {
  /** WAL segment size before rollover; 64 MiB by default. */
  segmentBytesMax?: number;
  /** How long a write waits for others to share its fsync; 0 (the end of the event-loop turn) by default. */
  groupCommitWaitMsMax?: number;
  /** false skips every fsync (tests, and the planted `ack-before-fsync` bug). */
  fsync?: boolean;
  logger?: Logger;
}

/** The data dir cannot be recovered: the WAL and the snapshots disagree. */
export class StorageRecoveryError extends Error {
  override readonly name = 'StorageRecoveryError';
}

const SEGMENT_BYTES_DEFAULT = 64 * 1024 * 1024;
const GROUP_COMMIT_WAIT_MS_DEFAULT = 0;

function encodeIndex(index: number): Uint8Array {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(index), true);
  return bytes;
}

function decodeIndex(bytes: Uint8Array): number | null {
  if (bytes.length !== 8) return null;
  const value = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : null;
}

export class Storage {
  /** The checkpoint image first, if any, then every later batch in order. */
  readonly recovered: Uint8Array[];
  private readonly dir: string;
  private readonly wal: Wal;
  private readonly fsync: boolean;
  private readonly logger: Logger;
  /** Set while a checkpoint runs; persists issued meanwhile wait for it, in call order. */
  private barrier: Promise<void> | null = null;

  private constructor(dir: string, wal: Wal, recovered: Uint8Array[], fsync: boolean, logger: Logger) {
    this.dir = dir;
    this.wal = wal;
    this.recovered = recovered;
    this.fsync = fsync;
    this.logger = logger;
  }

  static async open(dataDir: string, options: StorageOptions = {}): Promise<Storage> {
    const logger = options.logger ?? pino({ level: 'silent' });
    const fsync = options.fsync ?? true;
    if (!existsSync(dataDir) || !statSync(dataDir).isDirectory()) {
      throw new StorageRecoveryError(`data dir ${dataDir} does not exist or is not a directory; create it or pass another data dir`);
    }
    const snapshot = loadNewestSnapshot(dataDir, logger);
    const { wal, records } = await Wal.open(dataDir, {
      segmentBytesMax: options.segmentBytesMax ?? SEGMENT_BYTES_DEFAULT,
      groupCommitWaitMsMax: options.groupCommitWaitMsMax ?? GROUP_COMMIT_WAIT_MS_DEFAULT,
      fsync,
      logger,
    });
    try {
      const recovered = Storage.combine(dataDir, snapshot?.index ?? null, snapshot?.image ?? null, records);
      logger.info({ dataDir, snapshotIndex: snapshot?.index ?? null, recoveredCount: recovered.length }, 'storage recovered');
      return new Storage(dataDir, wal, recovered, fsync, logger);
    } catch (error) {
      await wal.close();
      throw error;
    }
  }

  /** Joins the snapshot and the WAL records, checking that together they cover every record. */
  private static combine(dir: string, snapshotIndex: number | null, image: Uint8Array | null, records: WalRecord[]): Uint8Array[] {
    const marker = records[0]?.kind === 'checkpoint' ? records[0] : null;
    if (marker !== null) {
      const coveredIndex = decodeIndex(marker.payload);
      if (coveredIndex === null) {
        throw new StorageRecoveryError(`WAL checkpoint marker at record ${marker.index} in ${dir} is invalid; refusing to start (move the data dir aside or restore it from a replica)`);
      }
      if (snapshotIndex === null || snapshotIndex < coveredIndex) {
        throw new StorageRecoveryError(
          `snapshot ${snapshotFileName(coveredIndex)} in ${dir} is missing or corrupt but the WAL was purged up to it; refusing to start (move the data dir aside or restore it from a replica)`,
        );
      }
    }
    const firstIndex = records[0]?.index ?? null;
    if (snapshotIndex !== null && marker === null && firstIndex !== null && firstIndex > snapshotIndex) {
      throw new StorageRecoveryError(`WAL records ${snapshotIndex} to ${firstIndex - 1} in ${dir} are missing; refusing to start (move the data dir aside or restore it from a replica)`);
    }
    const from = snapshotIndex ?? 0;
    const batches = records.filter((r) => r.kind === 'record' && r.index >= from).map((r) => r.payload);
    return image === null ? batches : [image, ...batches];
  }

  /**
   * Resolves once `batch` is durable. Batches become durable, and are recovered, in call order.
   * A batch with `sync: false` starts no fsync of its own (see Wal.append), so use it only for
   * data that is safe to lose in a crash.
   */
  persist(batch: Uint8Array, options: { sync?: boolean } = {}): Promise<void> {
    if (this.barrier === null) return this.wal.append(batch, options).then(() => undefined);
    return this.barrier.then(() => this.wal.append(batch, options)).then(() => undefined);
  }

  /**
   * Writes a snapshot of `image`, which must reflect every batch persisted before this call,
   * then lets the WAL drop what it covers. Persists issued during a checkpoint wait for it.
   */
  checkpoint(image: Uint8Array): Promise<void> {
    const previous = this.barrier ?? Promise.resolve();
    const run = previous.then(() => this.writeCheckpoint(image));
    const barrier = run.catch(() => undefined);
    this.barrier = barrier;
    void barrier.then(() => {
      if (this.barrier === barrier) this.barrier = null;
    });
    return run;
  }

  private async writeCheckpoint(image: Uint8Array): Promise<void> {
    const index = this.wal.nextIndex;
    const path = await saveSnapshot(this.dir, index, image, { fsync: this.fsync });
    await this.wal.appendCheckpoint(encodeIndex(index));
    const purged = await this.wal.purgeBefore(index);
    const deleted = deleteSnapshotsBefore(this.dir, index);
    this.logger.info({ file: path, index, imageBytes: image.length, purgedSegmentCount: purged.length, deletedSnapshotCount: deleted.length }, 'checkpoint written');
  }

  stats(): ReturnType<Wal['stats']> {
    return this.wal.stats();
  }

  async close(): Promise<void> {
    if (this.barrier !== null) await this.barrier;
    await this.wal.close();
  }
}
