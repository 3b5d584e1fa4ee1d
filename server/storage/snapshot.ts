// Snapshot files: `snapshot-<16 hex digits of the index>.bin`, one image each.
//
// Layout: the 8-byte magic "TRSNAP01", the index as u64 LE, the image length as u32 LE, the
// CRC32C of (index bytes + image) as u32 LE, then the image. A snapshot is written to a `.tmp`
// file, fdatasync'ed, renamed into place and the directory fsync'ed, so a crash leaves either
// the old set of snapshots or the new one, plus at most a leftover temp file that loading deletes.
import { closeSync, fsyncSync, openSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { crc32c } from './crc32c.js';

const MAGIC = new TextEncoder().encode('TRSNAP01');
const HEADER_BYTES = MAGIC.length + 8 + 4 + 4;
const SNAPSHOT_NAME = /^snapshot-([0-9a-f]{16})\.bin$/;
const TEMP_SUFFIX = '.tmp';

export class SnapshotCorruptionError extends Error {
  override readonly name = 'SnapshotCorruptionError';
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(
      `snapshot corrupted: ${file}: ${reason}; no older valid snapshot exists, refusing to start (move the data dir aside or restore it from a replica)`,
    );
  }
}

export interface LoadedSnapshot {
  index: number;
  image: Uint8Array;
  path: string;
}

export function snapshotFileName(index: number): string {
  return `snapshot-${index.toString(16).padStart(16, '0')}.bin`;
}

function checksum(indexBytes: Uint8Array, image: Uint8Array): number {
  return crc32c(image, crc32c(indexBytes));
}

export function encodeSnapshot(index: number, image: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(HEADER_BYTES + image.length);
  const view = new DataView(bytes.buffer);
  bytes.set(MAGIC, 0);
  view.setBigUint64(MAGIC.length, BigInt(index), true);
  view.setUint32(MAGIC.length + 8, image.length, true);
  bytes.set(image, HEADER_BYTES);
  const indexBytes = bytes.subarray(MAGIC.length, MAGIC.length + 8);
  view.setUint32(MAGIC.length + 12, checksum(indexBytes, image), true);
  return bytes;
}

type SnapshotParse = { ok: true; index: number; image: Uint8Array } | { ok: false; reason: string };

export function decodeSnapshot(bytes: Uint8Array): SnapshotParse {
  if (bytes.length < HEADER_BYTES) return { ok: false, reason: `short header (${bytes.length} of ${HEADER_BYTES} bytes)` };
  if (!MAGIC.every((b, k) => bytes[k] === b)) return { ok: false, reason: 'missing TRSNAP01 magic' };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const index = view.getBigUint64(MAGIC.length, true);
  const length = view.getUint32(MAGIC.length + 8, true);
  const storedCrc = view.getUint32(MAGIC.length + 12, true);
  if (bytes.length - HEADER_BYTES !== length) {
    return { ok: false, reason: `image is ${bytes.length - HEADER_BYTES} bytes but the header says ${length}` };
  }
  if (index > BigInt(Number.MAX_SAFE_INTEGER)) return { ok: false, reason: `index ${index} is too large` };
  const image = bytes.subarray(HEADER_BYTES);
  const computedCrc = checksum(bytes.subarray(MAGIC.length, MAGIC.length + 8), image);
  if (computedCrc !== storedCrc) {
    return { ok: false, reason: `checksum mismatch (stored 0x${storedCrc.toString(16)}, computed 0x${computedCrc.toString(16)})` };
  }
  return { ok: true, index: Number(index), image: image.slice() };
}

function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes `image` as the snapshot at `index` atomically; with fsync false nothing is synced. */
export async function saveSnapshot(dir: string, index: number, image: Uint8Array, options: { fsync: boolean }): Promise<string> {
  const path = join(dir, snapshotFileName(index));
  const tempPath = path + TEMP_SUFFIX;
  const handle = await open(tempPath, 'w');
  try {
    await handle.writeFile(encodeSnapshot(index, image));
    if (options.fsync) await handle.datasync();
  } finally {
    await handle.close();
  }
  await rename(tempPath, path);
  if (options.fsync) syncDirectory(dir);
  return path;
}

function listSnapshots(dir: string): { index: number; path: string }[] {
  return readdirSync(dir)
    .map((name) => ({ name, match: SNAPSHOT_NAME.exec(name) }))
    .filter((entry): entry is { name: string; match: RegExpExecArray } => entry.match !== null)
    .map((entry) => ({ index: Number.parseInt(entry.match[1], 16), path: join(dir, entry.name) }))
    .sort((a, b) => b.index - a.index);
}

/**
 * Loads the newest valid snapshot, or returns null when there is none, and deletes leftover temp
 * files. A corrupt snapshot is skipped for an older valid one, so callers must check that the log
 * still covers the one returned. When every snapshot is corrupt, throws SnapshotCorruptionError.
 */
export function loadNewestSnapshot(dir: string, logger: Logger): LoadedSnapshot | null {
  for (const name of readdirSync(dir)) {
    if (name.startsWith('snapshot-') && name.endsWith(TEMP_SUFFIX)) {
      unlinkSync(join(dir, name));
      logger.warn({ file: join(dir, name) }, 'leftover snapshot temp file deleted');
    }
  }
  let newestCorrupt: { path: string; reason: string } | null = null;
  for (const { index, path } of listSnapshots(dir)) {
    const parsed = decodeSnapshot(new Uint8Array(readFileSync(path)));
    if (parsed.ok && parsed.index === index) return { index, image: parsed.image, path };
    const reason = parsed.ok ? `header index ${parsed.index} does not match the file name` : parsed.reason;
    logger.warn({ file: path, reason }, 'snapshot is corrupt, trying an older one');
    newestCorrupt ??= { path, reason };
  }
  if (newestCorrupt !== null) throw new SnapshotCorruptionError(newestCorrupt.path, newestCorrupt.reason);
  return null;
}

/** Deletes snapshot files with an index below `index`; returns the deleted paths. */
export function deleteSnapshotsBefore(dir: string, index: number): string[] {
  const deleted: string[] = [];
  for (const snapshot of listSnapshots(dir)) {
    if (snapshot.index >= index) continue;
    unlinkSync(snapshot.path);
    deleted.push(snapshot.path);
  }
  return deleted;
}
