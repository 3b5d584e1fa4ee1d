// A virtual disk per node. It stores each Ready's persist batch encoded, as a real write-ahead
// log would, so later mutation of core objects cannot change what is "on disk". A batch written
// with mustSync=false stays unsynced until a later synced batch; a crash may lose a suffix of the
// unsynced batches, as a page cache would.
import type { PersistOp } from '../core/types.js';
import type { Prng } from './prng.js';

/** The stored form of a batch: encoded bytes (the real format) or a deep copy (faster). */
export interface PersistCodec<Stored = unknown> {
  encode(ops: PersistOp[]): Stored;
  decode(stored: Stored): PersistOp[];
  /** Size in bytes, for the statistics; 0 when unknown. */
  size(stored: Stored): number;
}

interface StoredBatch {
  stored: unknown;
  hasCheckpoint: boolean;
}

export class VirtualDisk {
  /** Durable batches, oldest first, starting at the latest durable checkpoint. */
  private synced: StoredBatch[] = [];
  /** Batches written without fsync since the last synced batch, oldest first. */
  private unsynced: StoredBatch[] = [];
  batchesWritten = 0;
  bytesWritten = 0;

  constructor(private readonly codec: PersistCodec<any>) {}

  write(ops: PersistOp[], mustSync: boolean): void {
    if (ops.length === 0) return;
    const stored = this.codec.encode(ops);
    this.batchesWritten++;
    this.bytesWritten += this.codec.size(stored);
    this.unsynced.push({ stored, hasCheckpoint: ops.some((op) => op.type === 'checkpoint') });
    if (mustSync) this.sync();
  }

  /** Makes every written batch durable, then purges what precedes the latest durable checkpoint. */
  private sync(): void {
    this.synced.push(...this.unsynced);
    this.unsynced = [];
    let last = -1;
    for (let i = this.synced.length - 1; i >= 0; i--) {
      if (this.synced[i].hasCheckpoint) {
        last = i;
        break;
      }
    }
    if (last > 0) this.synced = this.synced.slice(last);
  }

  /**
   * Simulates a power loss. Without `loseUnsynced` the page cache happens to be flushed. With it,
   * a non-empty suffix of the unsynced batches is lost (each batch is atomic, so none is torn).
   */
  crash(loseUnsynced: boolean, random: Prng): { lostBatches: number } {
    let lostBatches = 0;
    if (loseUnsynced && this.unsynced.length > 0) {
      lostBatches = random.between(1, this.unsynced.length);
      this.unsynced = this.unsynced.slice(0, this.unsynced.length - lostBatches);
    }
    this.sync();
    return { lostBatches };
  }

  /** Returns every op that survives on disk, in write order, for `recover()`. */
  readAll(): PersistOp[] {
    const ops: PersistOp[] = [];
    for (const batch of this.synced) ops.push(...this.codec.decode(batch.stored));
    for (const batch of this.unsynced) ops.push(...this.codec.decode(batch.stored));
    return ops;
  }

  batchCount(): number {
    return this.synced.length + this.unsynced.length;
  }
}
