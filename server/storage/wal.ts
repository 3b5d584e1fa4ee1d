// A segmented write-ahead log of opaque byte records, with group commit.
//
// Layout: segment files `wal-<16 hex digits of the first record index>.log` in one directory.
// Each record is framed as [u32 LE length][u32 LE CRC32C of the body][body], where the body is
// one kind byte (0 = record, 1 = checkpoint marker) followed by the payload. A body is never empty,
// so a run of zero bytes (a file extended but never written) is never a valid frame.
//
// Durability: `append` resolves only after the record is written and, with `fsync: true`,
// fdatasync'ed. Appends queued while a write is waiting or in progress share one fdatasync
// (group commit). An append with `sync: false` starts no write of its own: it is written in
// order with the next synced batch, or after UNSYNCED_FLUSH_DELAY_MS at the latest.
//
// Recovery: a crash during a write leaves a torn record at the end of the last segment, which is
// truncated with a warning. Torn means a short header, a short body or a bad checksum, with no
// valid frame anywhere after it. A bad frame anywhere else means the log is damaged, and opening
// fails with WalCorruptionError.
import { closeSync, fsyncSync, openSync, readdirSync, readFileSync, ftruncateSync } from 'node:fs';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { pino } from 'pino';
import { crc32c } from './crc32c.js';

const HEADER_BYTES = 8;
const KIND_RECORD = 0;
const KIND_CHECKPOINT = 1;
/** Maximum record body; a larger length field in a frame is treated as damage. */
export const RECORD_BYTES_MAX = 256 * 1024 * 1024;
/** Appends flush early once this many bytes are queued, to bound memory during a slow fsync. */
const QUEUED_BYTES_MAX = 8 * 1024 * 1024;
/** The longest an append with `sync: false` waits in memory for a synced append to carry it. */
const UNSYNCED_FLUSH_DELAY_MS = 50;
const SEGMENT_NAME = /^wal-([0-9a-f]{16})\.log$/;

export class WalCorruptionError extends Error {
  override readonly name = 'WalCorruptionError';
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly reason: string,
  ) {
    super(
      `WAL corrupted: ${file} at offset ${offset}: ${reason}; refusing to start (move the data dir aside or restore it from a replica)`,
    );
  }
}

/** A write or fsync to the log failed; the log accepts no further appends. */
export class WalIoError extends Error {
  override readonly name = 'WalIoError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export interface WalOptions {
  /** A segment is closed and a new one started once it reaches this size. */
  segmentBytesMax: number;
  /**
   * How long the first queued append waits for others to share its fdatasync. With 0 the write
   * starts once the current event-loop turn ends, so appends issued in that turn share it.
   */
  groupCommitWaitMsMax: number;
  /** false skips fdatasync (tests, and the planted `ack-before-fsync` bug). */
  fsync: boolean;
  logger?: Logger;
}

export interface WalRecord {
  index: number;
  kind: 'record' | 'checkpoint';
  payload: Uint8Array;
}

export interface WalStats {
  appendCount: number;
  /** Number of write batches; each covers every append queued when it started. */
  batchCount: number;
  fsyncCount: number;
  segmentCount: number;
}

interface Segment {
  firstIndex: number;
  path: string;
  recordCount: number;
  bytes: number;
}

interface QueuedAppend {
  index: number;
  frame: Uint8Array;
  resolve: (index: number) => void;
  reject: (error: Error) => void;
}

export function segmentFileName(firstIndex: number): string {
  return `wal-${firstIndex.toString(16).padStart(16, '0')}.log`;
}

function encodeFrame(kind: number, payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(HEADER_BYTES + 1 + payload.length);
  const view = new DataView(frame.buffer);
  frame[HEADER_BYTES] = kind;
  frame.set(payload, HEADER_BYTES + 1);
  const body = frame.subarray(HEADER_BYTES);
  view.setUint32(0, body.length, true);
  view.setUint32(4, crc32c(body), true);
  return frame;
}

type FrameParse =
  | { ok: true; kind: 'record' | 'checkpoint'; payload: Uint8Array; next: number }
  | { ok: false; reason: string };

function parseFrame(bytes: Uint8Array, offset: number): FrameParse {
  const remaining = bytes.length - offset;
  if (remaining < HEADER_BYTES) return { ok: false, reason: `short header (${remaining} of ${HEADER_BYTES} bytes)` };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(offset, true);
  const storedCrc = view.getUint32(offset + 4, true);
  if (length === 0 || length > RECORD_BYTES_MAX) return { ok: false, reason: `invalid record length ${length}` };
  if (length > remaining - HEADER_BYTES) {
    return { ok: false, reason: `short record (${remaining - HEADER_BYTES} of ${length} bytes)` };
  }
  const body = bytes.subarray(offset + HEADER_BYTES, offset + HEADER_BYTES + length);
  const computedCrc = crc32c(body);
  if (computedCrc !== storedCrc) {
    return {
      ok: false,
      reason: `checksum mismatch (stored 0x${storedCrc.toString(16)}, computed 0x${computedCrc.toString(16)})`,
    };
  }
  const kind = body[0];
  if (kind !== KIND_RECORD && kind !== KIND_CHECKPOINT) return { ok: false, reason: `unknown record kind ${kind}` };
  return {
    ok: true,
    kind: kind === KIND_RECORD ? 'record' : 'checkpoint',
    payload: body.slice(1),
    next: offset + HEADER_BYTES + length,
  };
}

/** True when a valid frame starts anywhere after `offset`: the damage is then not a torn tail. */
function hasValidFrameAfter(bytes: Uint8Array, offset: number): boolean {
  for (let p = offset + 1; p + HEADER_BYTES < bytes.length; p++) {
    if (parseFrame(bytes, p).ok) return true;
  }
  return false;
}

function validateOptions(options: WalOptions): void {
  if (!Number.isSafeInteger(options.segmentBytesMax) || options.segmentBytesMax < 1) {
    throw new RangeError(`invalid segmentBytesMax ${options.segmentBytesMax}: expected a positive integer of bytes`);
  }
  if (!Number.isFinite(options.groupCommitWaitMsMax) || options.groupCommitWaitMsMax < 0) {
    throw new RangeError(`invalid groupCommitWaitMsMax ${options.groupCommitWaitMsMax}: expected milliseconds >= 0`);
  }
}

export class Wal {
  private readonly dir: string;
  private readonly options: WalOptions;
  private readonly logger: Logger;
  private readonly segments: Segment[];
  private handle: FileHandle | null = null;
  private nextIndexValue: number;
  private lastCheckpointIndex: number | null;

  private queue: QueuedAppend[] = [];
  private queuedBytes = 0;
  private flushTimer: NodeJS.Timeout | null = null;
  private flushImmediate: NodeJS.Immediate | null = null;
  /** Queued appends that wait for a flush (sync: true); unsynced ones alone only arm `unsyncedTimer`. */
  private queuedSynced = 0;
  private unsyncedTimer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private failure: Error | null = null;
  private closed = false;
  private readonly counters = { appendCount: 0, batchCount: 0, fsyncCount: 0 };

  private constructor(dir: string, options: WalOptions, logger: Logger, segments: Segment[], lastCheckpointIndex: number | null) {
    this.dir = dir;
    this.options = options;
    this.logger = logger;
    this.segments = segments;
    const last = segments[segments.length - 1];
    this.nextIndexValue = last === undefined ? 0 : last.firstIndex + last.recordCount;
    this.lastCheckpointIndex = lastCheckpointIndex;
  }

  /**
   * Opens (or creates) the log in `dir` and returns it with the recovered records: the last
   * checkpoint marker and every record after it, or every record when there is no marker.
   */
  static async open(dir: string, options: WalOptions): Promise<{ wal: Wal; records: WalRecord[] }> {
    validateOptions(options);
    const logger = options.logger ?? pino({ level: 'silent' });
    const segments: Segment[] = [];
    const records: WalRecord[] = [];
    let lastCheckpointIndex: number | null = null;

    const names = readdirSync(dir)
      .map((name) => ({ name, match: SEGMENT_NAME.exec(name) }))
      .filter((entry): entry is { name: string; match: RegExpExecArray } => entry.match !== null)
      .map((entry) => ({ name: entry.name, firstIndex: Number.parseInt(entry.match[1], 16) }))
      .sort((a, b) => a.firstIndex - b.firstIndex);

    for (const [k, { name, firstIndex }] of names.entries()) {
      const path = join(dir, name);
      const previous = segments[segments.length - 1];
      if (previous !== undefined && previous.firstIndex + previous.recordCount !== firstIndex) {
        throw new WalCorruptionError(
          path,
          0,
          `segment starts at record ${firstIndex} but the previous segment ends before record ${previous.firstIndex + previous.recordCount}`,
        );
      }
      const isLast = k === names.length - 1;
      const segment = Wal.readSegment(path, firstIndex, isLast, logger, (record) => {
        if (record.kind === 'checkpoint') {
          records.length = 0;
          lastCheckpointIndex = record.index;
        }
        records.push(record);
      });
      segments.push(segment);
    }

    const wal = new Wal(dir, options, logger, segments, lastCheckpointIndex);
    if (segments.length === 0) await wal.startSegment(0);
    else wal.handle = await open(segments[segments.length - 1].path, 'a');
    logger.info({ dir, segmentCount: wal.segments.length, nextIndex: wal.nextIndexValue, recoveredCount: records.length }, 'WAL opened');
    return { wal, records };
  }

  /** Reads one segment, truncating a torn tail when it is the last one. */
  private static readSegment(
    path: string,
    firstIndex: number,
    isLast: boolean,
    logger: Logger,
    onRecord: (record: WalRecord) => void,
  ): Segment {
    const bytes = new Uint8Array(readFileSync(path));
    let offset = 0;
    let recordCount = 0;
    while (offset < bytes.length) {
      const parsed = parseFrame(bytes, offset);
      if (!parsed.ok) {
        if (!isLast || hasValidFrameAfter(bytes, offset)) throw new WalCorruptionError(path, offset, parsed.reason);
        logger.warn({ file: path, offset, droppedBytes: bytes.length - offset, reason: parsed.reason }, 'WAL torn tail truncated');
        const fd = openSync(path, 'r+');
        try {
          ftruncateSync(fd, offset);
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
        break;
      }
      onRecord({ index: firstIndex + recordCount, kind: parsed.kind, payload: parsed.payload });
      recordCount++;
      offset = parsed.next;
    }
    return { firstIndex, path, recordCount, bytes: offset };
  }

  /** The index the next append will get. */
  get nextIndex(): number {
    return this.nextIndexValue;
  }

  /** Index of the last checkpoint marker written or recovered, or null. */
  get checkpointIndex(): number | null {
    return this.lastCheckpointIndex;
  }

  /**
   * Appends a record; resolves with its index once it is durable (written, and synced if fsync).
   * With `sync: false` the record is queued in order but starts no write: it goes out with the
   * next synced append, or within UNSYNCED_FLUSH_DELAY_MS, so only records that are safe to lose
   * in a crash should use it.
   */
  append(payload: Uint8Array, options: { sync?: boolean } = {}): Promise<number> {
    return this.enqueue(KIND_RECORD, payload, options.sync ?? true);
  }

  /** Appends a checkpoint marker; once it is durable, segments before it may be purged. */
  async appendCheckpoint(payload: Uint8Array): Promise<number> {
    const index = await this.enqueue(KIND_CHECKPOINT, payload, true);
    if (this.lastCheckpointIndex === null || index > this.lastCheckpointIndex) this.lastCheckpointIndex = index;
    return index;
  }

  /**
   * Deletes every segment whose records all lie below `index` and below the last durable
   * checkpoint marker (so recovery still finds the marker). The current segment is never deleted.
   * Returns the deleted file paths.
   */
  async purgeBefore(index: number): Promise<string[]> {
    const limit = Math.min(index, this.lastCheckpointIndex ?? 0);
    const deleted: string[] = [];
    while (this.segments.length > 1) {
      const oldest = this.segments[0];
      if (this.segments[1].firstIndex > limit) break;
      await unlink(oldest.path);
      this.segments.shift();
      deleted.push(oldest.path);
    }
    if (deleted.length > 0) {
      this.syncDirectory();
      this.logger.info({ deletedCount: deleted.length, before: limit }, 'WAL segments purged');
    }
    return deleted;
  }

  stats(): WalStats {
    return { ...this.counters, segmentCount: this.segments.length };
  }

  /** Waits for queued appends, then closes the segment file; later appends are rejected. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cancelScheduledFlush();
    if (this.unsyncedTimer !== null) {
      clearTimeout(this.unsyncedTimer);
      this.unsyncedTimer = null;
    }
    while (this.flushing !== null || this.queue.length > 0) {
      if (this.flushing !== null) await this.flushing;
      else await this.flush();
    }
    await this.handle?.close();
    this.handle = null;
    this.logger.info({ dir: this.dir, nextIndex: this.nextIndexValue }, 'WAL closed');
  }

  // ----- writing

  private enqueue(kind: number, payload: Uint8Array, sync: boolean): Promise<number> {
    if (this.closed) return Promise.reject(new WalIoError(`WAL in ${this.dir} is closed`));
    if (this.failure !== null) return Promise.reject(this.failure);
    if (payload.length + 1 > RECORD_BYTES_MAX) {
      return Promise.reject(new RangeError(`WAL record of ${payload.length} bytes exceeds the maximum of ${RECORD_BYTES_MAX - 1}`));
    }
    const frame = encodeFrame(kind, payload);
    const index = this.nextIndexValue++;
    this.counters.appendCount++;
    return new Promise<number>((resolve, reject) => {
      this.queue.push({ index, frame, resolve, reject });
      this.queuedBytes += frame.length;
      if (sync) this.queuedSynced++;
      if (sync || this.queuedBytes >= QUEUED_BYTES_MAX) this.scheduleFlush();
      else this.scheduleUnsyncedFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushing !== null || this.flushTimer !== null || this.flushImmediate !== null) return;
    if (this.queuedBytes >= QUEUED_BYTES_MAX) {
      void this.flush();
      return;
    }
    if (this.options.groupCommitWaitMsMax === 0) {
      this.flushImmediate = setImmediate(() => {
        this.flushImmediate = null;
        void this.flush();
      });
      return;
    }
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      void this.flush();
    }, this.options.groupCommitWaitMsMax);
  }

  private scheduleUnsyncedFlush(): void {
    if (this.unsyncedTimer !== null) return;
    this.unsyncedTimer = setTimeout(() => {
      this.unsyncedTimer = null;
      if (this.queue.length > 0 && !this.closed) this.scheduleFlush();
    }, UNSYNCED_FLUSH_DELAY_MS);
  }

  private cancelScheduledFlush(): void {
    if (this.flushTimer !== null) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    if (this.flushImmediate !== null) {
      clearImmediate(this.flushImmediate);
      this.flushImmediate = null;
    }
  }

  /** Writes every queued frame, syncs once, then settles the batch's promises. */
  private flush(): Promise<void> {
    // This flush takes the whole queue, so a flush still scheduled would find nothing to write.
    this.cancelScheduledFlush();
    const batch = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    this.queuedSynced = 0;
    const run = this.writeBatch(batch).then(
      () => {
        for (const item of batch) item.resolve(item.index);
      },
      (error: unknown) => {
        this.failure = new WalIoError(`WAL write in ${this.dir} failed: ${(error as Error).message}; restart the server to recover from the log`, { cause: error });
        this.logger.error({ err: error, dir: this.dir, batchSize: batch.length }, 'WAL write failed');
        for (const item of [...batch, ...this.queue]) item.reject(this.failure);
        this.queue = [];
        this.queuedSynced = 0;
      },
    );
    this.flushing = run.finally(() => {
      this.flushing = null;
      if (this.queuedSynced > 0 && !this.closed) this.scheduleFlush();
      else if (this.queue.length > 0 && !this.closed) this.scheduleUnsyncedFlush();
    });
    return this.flushing;
  }

  private async writeBatch(batch: QueuedAppend[]): Promise<void> {
    if (batch.length === 0) return;
    this.counters.batchCount++;
    let pending: Uint8Array[] = [];
    let pendingBytes = 0;
    for (const item of batch) {
      const current = this.segments[this.segments.length - 1];
      if (current.bytes + pendingBytes > 0 && current.bytes + pendingBytes + item.frame.length > this.options.segmentBytesMax) {
        await this.writeFrames(pending, pendingBytes);
        await this.sync();
        await this.handle?.close();
        await this.startSegment(item.index);
        pending = [];
        pendingBytes = 0;
      }
      pending.push(item.frame);
      pendingBytes += item.frame.length;
      this.segments[this.segments.length - 1].recordCount++;
    }
    await this.writeFrames(pending, pendingBytes);
    await this.sync();
  }

  private async writeFrames(frames: Uint8Array[], bytes: number): Promise<void> {
    if (frames.length === 0) return;
    const handle = this.requireHandle();
    let written = 0;
    let chunk = frames;
    // writev may write less than asked; continue with the unwritten remainder.
    while (written < bytes) {
      const result = await handle.writev(chunk);
      written += result.bytesWritten;
      if (written < bytes) chunk = [Buffer.concat(frames).subarray(written)];
    }
    this.segments[this.segments.length - 1].bytes += bytes;
  }

  private async sync(): Promise<void> {
    if (!this.options.fsync) return;
    await this.requireHandle().datasync();
    this.counters.fsyncCount++;
  }

  private async startSegment(firstIndex: number): Promise<void> {
    const path = join(this.dir, segmentFileName(firstIndex));
    this.handle = await open(path, 'a');
    this.segments.push({ firstIndex, path, recordCount: 0, bytes: 0 });
    // The new file's directory entry must be durable before records in it are acknowledged.
    this.syncDirectory();
    this.logger.debug({ file: path }, 'WAL segment started');
  }

  private syncDirectory(): void {
    if (!this.options.fsync) return;
    const fd = openSync(this.dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  private requireHandle(): FileHandle {
    if (this.handle === null) throw new WalIoError(`WAL in ${this.dir} has no open segment`);
    return this.handle;
  }
}
