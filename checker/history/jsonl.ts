// JSON Lines history I/O: a streaming reader that reads the file in chunks, and a batching writer.
import { open, type FileHandle } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { HistoryFormatError } from './errors.js';
import { describeSchemaError, isPlainValidOp, opSchema } from './schema.js';
import type { Op } from './types.js';

/** An op together with the 1-based line it was read from, for error messages. */
export interface LocatedOp {
  op: Op;
  line: number;
}

/** Bytes read from disk at a time; lines are parsed a chunk at a time, without one promise per line. */
const READ_CHUNK_BYTES = 1 << 20;

/**
 * Reads a JSONL history in chunks, calling `onOp` for each op with its 1-based line number, so
 * files larger than memory can be streamed. Blank lines are skipped. Throws HistoryFormatError on
 * unreadable files, invalid JSON and lines that do not match the op schema.
 */
export async function forEachJsonlOp(path: string, onOp: (op: Op, line: number) => void): Promise<void> {
  const handle = await openForReading(path);
  const decoder = new TextDecoder('utf-8');
  const buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);
  let carry = '';
  let lineNumber = 0;
  const handleLine = (raw: string): void => {
    lineNumber += 1;
    const text = raw.trim();
    if (text.length > 0) onOp(parseJsonlLine(path, lineNumber, text), lineNumber);
  };
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, READ_CHUNK_BYTES, null);
      if (bytesRead === 0) break;
      const text = carry + decoder.decode(buffer.subarray(0, bytesRead), { stream: true });
      let start = 0;
      for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n', start)) {
        handleLine(text.slice(start, end));
        start = end + 1;
      }
      carry = text.slice(start);
    }
    carry += decoder.decode();
    if (carry.length > 0) handleLine(carry);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** Reads a JSONL history, yielding each op with its line number (see forEachJsonlOp). */
export async function* readJsonlHistoryLocated(path: string): AsyncGenerator<LocatedOp> {
  const handle = await openForReading(path);
  const lines = createInterface({ input: handle.createReadStream({ encoding: 'utf8' }), crlfDelay: Infinity });
  let lineNumber = 0;
  try {
    for await (const rawLine of lines) {
      lineNumber += 1;
      const text = rawLine.trim();
      if (text.length === 0) continue;
      yield { op: parseJsonlLine(path, lineNumber, text), line: lineNumber };
    }
  } finally {
    lines.close();
    await handle.close().catch(() => undefined);
  }
}

/** Opens a regular file for reading, turning OS errors into a HistoryFormatError. */
export async function openForReading(path: string): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new HistoryFormatError(path, 0, `cannot open the file (${code}); check the path and permissions`);
  }
  const stats = await handle.stat();
  if (!stats.isFile()) {
    await handle.close();
    throw new HistoryFormatError(path, 0, 'not a regular file; pass a history file or a folder of them');
  }
  return handle;
}

/** Reads a JSONL history one line at a time (see readJsonlHistoryLocated). */
export async function* readJsonlHistory(path: string): AsyncGenerator<Op> {
  for await (const located of readJsonlHistoryLocated(path)) yield located.op;
}

function parseJsonlLine(path: string, lineNumber: number, text: string): Op {
  if (text.startsWith('[')) {
    throw new HistoryFormatError(path, lineNumber, "a JSON array is not JSONL, which has one op object per line; convert it, e.g. with jq -c '.[]' FILE");
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    const preview = text.length > 60 ? `${text.slice(0, 60)}...` : text;
    throw new HistoryFormatError(path, lineNumber, `invalid JSON ${JSON.stringify(preview)}; each line must be one JSON op object`);
  }
  if (isPlainValidOp(parsed)) return parsed;
  const result = opSchema.safeParse(parsed);
  if (!result.success) {
    throw new HistoryFormatError(path, lineNumber, `invalid op: ${describeSchemaError(result.error, parsed)}`);
  }
  return result.data as Op;
}

/** Buffered ops above this many bytes are written out without waiting for flush(). */
const BUFFER_BYTES_MAX = 1 << 20;
/** The most UTF-8 bytes one UTF-16 code unit of a JSON string can take. */
const UTF8_BYTES_PER_UNIT_MAX = 3;
const NEWLINE = 0x0a;

/**
 * Appends ops to a JSONL file in batches, so a crashed writer leaves a readable prefix:
 * every flushed batch ends with a newline.
 *
 * Each line is encoded into a Buffer as soon as it is written, so the line's string dies young.
 * Buffering the strings until the next flush kept them alive across garbage collections of the
 * young generation, and at tens of thousands of ops per second the collector spent much of its
 * time copying and promoting them.
 */
export class HistoryWriter {
  private buffer: Buffer = Buffer.allocUnsafeSlow(BUFFER_BYTES_MAX);
  private bufferBytes = 0;
  private pending: Promise<void> = Promise.resolve();
  private closed = false;

  private constructor(private readonly handle: FileHandle) {}

  /** Creates (or truncates) the file at `path`. */
  static async open(path: string): Promise<HistoryWriter> {
    return new HistoryWriter(await open(path, 'w'));
  }

  /** Buffers one op; a full buffer is written in the background. */
  write(op: Op): void {
    if (this.closed) throw new Error('HistoryWriter.write called after close()');
    const json = JSON.stringify(op);
    const bytesMax = json.length * UTF8_BYTES_PER_UNIT_MAX + 1;
    if (this.bufferBytes + bytesMax > this.buffer.length) {
      void this.flush().catch(() => undefined);
      if (bytesMax > this.buffer.length) {
        // A line longer than the buffer is queued on its own.
        this.enqueue(Buffer.from(`${json}\n`, 'utf8'));
        return;
      }
    }
    this.bufferBytes += this.buffer.write(json, this.bufferBytes, 'utf8');
    this.buffer[this.bufferBytes] = NEWLINE;
    this.bufferBytes += 1;
  }

  /** Writes every buffered op to the file; resolves once the bytes are handed to the OS. */
  flush(): Promise<void> {
    if (this.bufferBytes > 0) {
      // The file write reads the filled part later, so later lines go to a new buffer.
      const chunk = this.buffer.subarray(0, this.bufferBytes);
      this.buffer = Buffer.allocUnsafeSlow(BUFFER_BYTES_MAX);
      this.bufferBytes = 0;
      this.enqueue(chunk);
    }
    return this.pending;
  }

  /** Closes the file after the writes queued so far. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return this.pending;
    await this.flush();
    this.closed = true;
    await this.handle.close();
  }

  /** Queues `chunk` behind the writes already queued, so the file keeps the order of write(). */
  private enqueue(chunk: Buffer): void {
    this.pending = this.pending.then(async () => {
      // A write to a regular file may still write fewer bytes than asked, for example on a full disk.
      for (let offset = 0; offset < chunk.length; ) {
        const { bytesWritten } = await this.handle.write(chunk, offset, chunk.length - offset);
        if (bytesWritten === 0) throw new Error(`writing the history made no progress at byte ${offset} of a ${chunk.length}-byte batch`);
        offset += bytesWritten;
      }
    });
  }
}
