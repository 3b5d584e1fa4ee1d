// Binary encoding of PersistOp batches, the form the WAL stores. It replaces UTF-8 JSON for the
// ops a busy replica writes on every Ready (records, switch, committed, hard-state), because
// encoding a record and its bitmaps as JSON takes several times the CPU and bytes of this form
// (bench/core-data.ts prints both).
//
// Layout (every integer is an unsigned LEB128 varint unless stated otherwise):
//   batch      = FORMAT_BINARY_V1 (one byte, never '[' so JSON batches stay readable), opCount, op*
//   op         = type byte, then by type:
//                0 hard-state: ballot votedFor, presence byte, [ballot committer]
//                1 records:    recordCount, record*
//                2 switch:     ballot committer, bitmap keep, recordCount, record*
//                3 committed:  bitmap
//                4 checkpoint: string holding the op's JSON (rare, and checked by the JSON decoder)
//   ballot     = term, id
//   record     = seq, ballot author, flags byte (1: client, 2: client.ackedThrough),
//                [string clientId, clientSeq, [ackedThrough]], command, bitmap depends, bitmap overrides
//   command    = kind byte, then its fields (key strings, JSON values, incr delta as float64 LE,
//                micro-ops, or a config as a JSON string)
//   bitmap     = prefix length P, tail header H = 2 * n + form, then
//                form 0 (sparse): n gaps, member(k) = member(k-1) + 1 + gap, member(-1) = P
//                form 1 (dense):  n bytes, bit j of byte i set when P + 1 + 8i + j is a member
//   string     = header H = 2 * n + form, form 0: n UTF-8 bytes, form 1: n UTF-16 LE code units
//                (only for strings with lone surrogates, which UTF-8 cannot carry)
//   JSON value = tag byte, then: null/false/true nothing, uint varint, negative int varint of -v,
//                float64 LE, string, array (count, values), object (count, (string key, value)*)
//
// Decoding checks every field, bounds every count by the bytes left, and throws CodecError naming
// the first bad field, like the JSON decoder.
import { TailBitmap } from './bitmap.js';
import { CodecError } from './errors.js';
import type { Ballot, ClientTag, ClusterConfig, Command, JsonValue, LogRecord, MicroOp, PersistOp } from './types.js';

/** First byte of a binary batch. JSON batches start with '[' (0x5b). */
export const FORMAT_BINARY_V1 = 0x01;

const OP_HARD_STATE = 0;
const OP_RECORDS = 1;
const OP_SWITCH = 2;
const OP_COMMITTED = 3;
const OP_CHECKPOINT = 4;
const OP_TYPE_NAMES = 'hard-state, records, switch, committed, checkpoint';

const COMMAND_KINDS = ['noop', 'put', 'delete', 'cas', 'append', 'incr', 'txn', 'config'] as const;
type CommandKind = (typeof COMMAND_KINDS)[number];

const FLAG_CLIENT = 1;
const FLAG_ACKED_THROUGH = 2;

const FORM_SPARSE = 0;
const FORM_DENSE = 1;

const TAG_NULL = 0;
const TAG_FALSE = 1;
const TAG_TRUE = 2;
const TAG_UINT = 3;
const TAG_NEGATIVE_INT = 4;
const TAG_FLOAT64 = 5;
const TAG_STRING = 6;
const TAG_ARRAY = 7;
const TAG_OBJECT = 8;

/** Maximum nesting of JSON values the decoder follows, so hostile bytes cannot overflow the stack. */
const JSON_DEPTH_MAX = 256;
/** A varint of up to 8 bytes carries 56 bits, enough for every safe integer. */
const VARINT_BYTES_MAX = 8;
/** Strings shorter than this are checked and copied one character at a time instead of through TextEncoder/TextDecoder. */
const SHORT_STRING_CHARS = 64;
/** The scratch buffer is dropped after a batch larger than this, so one huge checkpoint does not pin memory. */
const SCRATCH_BYTES_KEPT_MAX = 1024 * 1024;

/** JSON decoders for the fields kept as JSON inside the binary form. */
export interface JsonFieldDecoders {
  persistOp(value: unknown, path: string): PersistOp;
  config(value: unknown, path: string): ClusterConfig;
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: true });

// ---------------------------------------------------------------------------------------------
// Encoding

class ByteWriter {
  bytes = new Uint8Array(64 * 1024);
  view = new DataView(this.bytes.buffer);
  pos = 0;

  reset(): void {
    if (this.bytes.length > SCRATCH_BYTES_KEPT_MAX) {
      this.bytes = new Uint8Array(64 * 1024);
      this.view = new DataView(this.bytes.buffer);
    }
    this.pos = 0;
  }

  ensure(byteCount: number): void {
    if (this.pos + byteCount <= this.bytes.length) return;
    const next = new Uint8Array(Math.max(this.bytes.length * 2, this.pos + byteCount));
    next.set(this.bytes.subarray(0, this.pos));
    this.bytes = next;
    this.view = new DataView(next.buffer);
  }

  u8(value: number): void {
    this.ensure(1);
    this.bytes[this.pos++] = value;
  }

  /** Writes a non-negative safe integer. Callers pass values the core produced, so a bad one is a bug. */
  varint(value: number): void {
    if (!(value >= 0 && value <= Number.MAX_SAFE_INTEGER && Number.isInteger(value))) {
      throw new RangeError(`cannot encode ${value} as a varint: expected a non-negative safe integer`);
    }
    this.ensure(VARINT_BYTES_MAX);
    const bytes = this.bytes;
    let pos = this.pos;
    let rest = value;
    while (rest > 0x7fffffff) {
      bytes[pos++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    while (rest > 0x7f) {
      bytes[pos++] = (rest & 0x7f) | 0x80;
      rest >>>= 7;
    }
    bytes[pos++] = rest;
    this.pos = pos;
  }

  float64(value: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, value, true);
    this.pos += 8;
  }

  string(text: string): void {
    const length = text.length;
    if (length < SHORT_STRING_CHARS && this.maybeAscii(text)) return;
    if (!isWellFormed(text)) {
      this.varint(length * 2 + 1);
      this.ensure(length * 2);
      for (let k = 0; k < length; k++) this.view.setUint16(this.pos + 2 * k, text.charCodeAt(k), true);
      this.pos += length * 2;
      return;
    }
    this.utf8(text);
  }

  /**
   * Writes JSON.stringify output as a string. Since ES2019, JSON.stringify escapes lone surrogates,
   * so its output is well-formed and needs no scan for them.
   */
  jsonText(text: string): void {
    this.utf8(text);
  }

  /** Writes a well-formed string in string form 0 (UTF-8). */
  private utf8(text: string): void {
    // Reserve room for the longest length prefix, encode, then close the gap the prefix did not use.
    // UTF-8 takes at most 3 bytes per UTF-16 code unit. Ensuring room for the longest varint too
    // means the length write below cannot move the buffer.
    const bytesMax = text.length * 3;
    const prefixBytesMax = varintSize(bytesMax * 2);
    this.ensure(VARINT_BYTES_MAX + bytesMax);
    const start = this.pos + prefixBytesMax;
    const { written } = textEncoder.encodeInto(text, this.bytes.subarray(start, start + bytesMax));
    const prefixBytes = varintSize(written * 2);
    this.varint(written * 2);
    if (prefixBytes < prefixBytesMax) this.bytes.copyWithin(this.pos, start, start + written);
    this.pos += written;
  }

  /** Writes `text` when every character is ASCII and returns true; writes nothing otherwise. */
  private maybeAscii(text: string): boolean {
    const length = text.length;
    for (let k = 0; k < length; k++) if (text.charCodeAt(k) >= 0x80) return false;
    this.varint(length * 2);
    this.ensure(length);
    const bytes = this.bytes;
    const pos = this.pos;
    for (let k = 0; k < length; k++) bytes[pos + k] = text.charCodeAt(k);
    this.pos = pos + length;
    return true;
  }

  finish(): Uint8Array {
    return this.bytes.slice(0, this.pos);
  }
}

function varintSize(value: number): number {
  let size = 1;
  for (let rest = value; rest >= 0x80; rest = Math.floor(rest / 0x80)) size++;
  return size;
}

/** True unless `text` contains a lone surrogate, which UTF-8 cannot represent. */
function isWellFormed(text: string): boolean {
  for (let k = 0; k < text.length; k++) {
    const unit = text.charCodeAt(k);
    if (unit < 0xd800 || unit > 0xdfff) continue;
    if (unit >= 0xdc00) return false;
    const next = text.charCodeAt(k + 1);
    if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
    k++;
  }
  return true;
}

/** Reused between calls: encoding is synchronous, so no two batches share it at once. */
const scratch = new ByteWriter();
/** Reused member list for bitmap encoding. */
const members: number[] = [];

/** Encodes `ops` in the binary form; throws RangeError on a value the format cannot carry. */
export function encodeBinaryBatch(ops: readonly PersistOp[]): Uint8Array {
  const writer = scratch;
  writer.reset();
  writer.u8(FORMAT_BINARY_V1);
  writer.varint(ops.length);
  for (const op of ops) writeOp(writer, op);
  return writer.finish();
}

function writeOp(writer: ByteWriter, op: PersistOp): void {
  switch (op.type) {
    case 'hard-state':
      writer.u8(OP_HARD_STATE);
      writeBallot(writer, op.hardState.votedFor);
      writeOptionalBallot(writer, op.hardState.committer);
      return;
    case 'records':
      writer.u8(OP_RECORDS);
      writeRecords(writer, op.records);
      return;
    case 'switch':
      writer.u8(OP_SWITCH);
      writeBallot(writer, op.committer);
      writeBitmap(writer, op.keep);
      writeRecords(writer, op.records);
      return;
    case 'committed':
      writer.u8(OP_COMMITTED);
      writeBitmap(writer, op.committed);
      return;
    case 'checkpoint':
      writer.u8(OP_CHECKPOINT);
      writer.jsonText(JSON.stringify(op));
      return;
    default:
      return assertNever(op);
  }
}

function writeBallot(writer: ByteWriter, ballot: Ballot): void {
  writer.varint(ballot.term);
  writer.varint(ballot.id);
}

function writeOptionalBallot(writer: ByteWriter, ballot: Ballot | null): void {
  if (ballot === null) {
    writer.u8(0);
    return;
  }
  writer.u8(1);
  writeBallot(writer, ballot);
}

function writeRecords(writer: ByteWriter, records: readonly LogRecord[]): void {
  writer.varint(records.length);
  for (const record of records) writeRecord(writer, record);
}

function writeRecord(writer: ByteWriter, record: LogRecord): void {
  writer.varint(record.seq);
  writeBallot(writer, record.author);
  const client = record.client;
  if (client === undefined) {
    writer.u8(0);
  } else {
    const hasAckedThrough = client.ackedThrough !== undefined;
    writer.u8(FLAG_CLIENT | (hasAckedThrough ? FLAG_ACKED_THROUGH : 0));
    writer.string(client.clientId);
    writer.varint(client.seq);
    if (hasAckedThrough) writer.varint(client.ackedThrough as number);
  }
  writeCommand(writer, record.command);
  writeBitmap(writer, record.depends);
  writeBitmap(writer, record.overrides);
}

function writeCommand(writer: ByteWriter, command: Command): void {
  switch (command.kind) {
    case 'noop':
      writer.u8(0);
      return;
    case 'put':
      writer.u8(1);
      writer.string(command.key);
      writeJson(writer, command.value);
      return;
    case 'delete':
      writer.u8(2);
      writer.string(command.key);
      return;
    case 'cas':
      writer.u8(3);
      writer.string(command.key);
      writeJson(writer, command.expected);
      writeJson(writer, command.value);
      return;
    case 'append':
      writer.u8(4);
      writer.string(command.key);
      writeJson(writer, command.value);
      return;
    case 'incr':
      writer.u8(5);
      writer.string(command.key);
      writer.float64(command.delta);
      return;
    case 'txn':
      writer.u8(6);
      writer.varint(command.ops.length);
      for (const op of command.ops) writeMicroOp(writer, op);
      return;
    case 'config':
      writer.u8(7);
      writer.jsonText(JSON.stringify(command.config));
      return;
    default:
      return assertNever(command);
  }
}

function writeMicroOp(writer: ByteWriter, op: MicroOp): void {
  if (op.f === 'append') {
    writer.u8(0);
    writer.string(op.key);
    writeJson(writer, op.value);
    return;
  }
  writer.u8(1);
  writer.string(op.key);
}

/**
 * Writes a JSON value as JSON.stringify would see it: non-finite numbers become null, and object
 * properties whose value is undefined, a function or a symbol are left out.
 */
function writeJson(writer: ByteWriter, value: JsonValue): void {
  switch (typeof value) {
    case 'string':
      writer.u8(TAG_STRING);
      writer.string(value);
      return;
    case 'number':
      writeNumber(writer, value);
      return;
    case 'boolean':
      writer.u8(value ? TAG_TRUE : TAG_FALSE);
      return;
    case 'object':
      if (value === null) writer.u8(TAG_NULL);
      else if (Array.isArray(value)) writeJsonArray(writer, value);
      else writeJsonObject(writer, value);
      return;
    default:
      throw new RangeError(`cannot encode a ${typeof value} as a JSON value`);
  }
}

function writeNumber(writer: ByteWriter, value: number): void {
  if (Number.isSafeInteger(value) && !Object.is(value, -0)) {
    writer.u8(value >= 0 ? TAG_UINT : TAG_NEGATIVE_INT);
    writer.varint(Math.abs(value));
    return;
  }
  if (Number.isFinite(value)) {
    writer.u8(TAG_FLOAT64);
    writer.float64(value);
    return;
  }
  writer.u8(TAG_NULL);
}

function writeJsonArray(writer: ByteWriter, items: JsonValue[]): void {
  writer.u8(TAG_ARRAY);
  writer.varint(items.length);
  for (const item of items) {
    if (isSkippedByJson(item)) writer.u8(TAG_NULL);
    else writeJson(writer, item);
  }
}

function writeJsonObject(writer: ByteWriter, object: { [key: string]: JsonValue }): void {
  const keys = Object.keys(object).filter((key) => !isSkippedByJson(object[key]));
  writer.u8(TAG_OBJECT);
  writer.varint(keys.length);
  for (const key of keys) {
    writer.string(key);
    writeJson(writer, object[key]);
  }
}

function isSkippedByJson(value: unknown): boolean {
  return value === undefined || typeof value === 'function' || typeof value === 'symbol';
}

/**
 * Writes a bitmap as its prefix length and the members above it, in the sparse or the dense form,
 * whichever is shorter. Record bitmaps are mostly a prefix plus a few members, so sparse wins there.
 */
function writeBitmap(writer: ByteWriter, bitmap: TailBitmap): void {
  const prefix = bitmap.offset;
  collectTailMembers(bitmap, prefix);
  writer.varint(prefix);
  const count = members.length;
  if (count === 0) {
    writer.varint(FORM_SPARSE);
    return;
  }

  let sparseBytes = 0;
  let previous = prefix;
  for (let k = 0; k < count; k++) {
    sparseBytes += varintSize(members[k] - previous - 1);
    previous = members[k];
  }
  const denseBytes = Math.ceil((members[count - 1] - prefix) / 8);

  if (sparseBytes <= denseBytes) {
    writer.varint(count * 2 + FORM_SPARSE);
    previous = prefix;
    for (let k = 0; k < count; k++) {
      writer.varint(members[k] - previous - 1);
      previous = members[k];
    }
    return;
  }
  writer.varint(denseBytes * 2 + FORM_DENSE);
  writer.ensure(denseBytes);
  const bytes = writer.bytes;
  const start = writer.pos;
  bytes.fill(0, start, start + denseBytes);
  for (let k = 0; k < count; k++) {
    const bit = members[k] - prefix - 1;
    bytes[start + (bit >>> 3)] |= 1 << (bit & 7);
  }
  writer.pos = start + denseBytes;
}

/** Fills `members` with the bitmap's members above `prefix`, in ascending order. */
function collectTailMembers(bitmap: TailBitmap, prefix: number): void {
  members.length = 0;
  const { offset, words32 } = bitmap.toProtoWords32();
  const firstBit = prefix + 1 - offset;
  for (let w = Math.floor(firstBit / 32); w < words32.length; w++) {
    let word = words32[w];
    const wordStart = w * 32;
    if (firstBit > wordStart) word &= ~((1 << (firstBit - wordStart)) - 1);
    while (word !== 0) {
      const low = word & -word;
      members.push(offset + wordStart + 31 - Math.clz32(low));
      word ^= low;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding

class ByteReader {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  pos = 1;
  /** Index of the op and the record being read, or -1. Errors use them to name the field. */
  opIndex = -1;
  recordIndex = -1;
  recordListName = 'records';

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  /** Formats the path of `field` in the op and record being read. */
  path(field: string): string {
    let path = 'persist batch';
    if (this.opIndex >= 0) path += `[${this.opIndex}]`;
    if (this.recordIndex >= 0) path += `.${this.recordListName}[${this.recordIndex}]`;
    return field === '' ? path : `${path}.${field}`;
  }

  fail(field: string, reason: string): never {
    throw new CodecError(this.path(field), reason);
  }

  u8(field: string): number {
    if (this.pos >= this.bytes.length) this.fail(field, `truncated at byte ${this.pos}`);
    return this.bytes[this.pos++];
  }

  varint(field: string): number {
    const bytes = this.bytes;
    if (this.pos < bytes.length && bytes[this.pos] < 0x80) return bytes[this.pos++];
    let value = 0;
    let scale = 1;
    for (let k = 0; k < VARINT_BYTES_MAX; k++) {
      if (this.pos >= bytes.length) this.fail(field, `truncated at byte ${this.pos}`);
      const byte = bytes[this.pos++];
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (value > Number.MAX_SAFE_INTEGER) this.fail(field, `integer ${value} is above ${Number.MAX_SAFE_INTEGER}`);
        return value;
      }
      scale *= 0x80;
    }
    return this.fail(field, `varint longer than ${VARINT_BYTES_MAX} bytes at byte ${this.pos}`);
  }

  /** Reads a count of items that each take at least one byte, so it cannot exceed the bytes left. */
  count(field: string): number {
    const count = this.varint(field);
    if (count > this.remaining) this.fail(field, `count ${count} exceeds the ${this.remaining} bytes left`);
    return count;
  }

  float64(field: string): number {
    if (this.remaining < 8) this.fail(field, `truncated at byte ${this.pos}`);
    const value = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return value;
  }

  string(field: string): string {
    const header = this.varint(field);
    const length = Math.floor(header / 2);
    const utf16 = header % 2 === 1;
    const byteCount = utf16 ? length * 2 : length;
    if (byteCount > this.remaining) this.fail(field, `string of ${byteCount} bytes exceeds the ${this.remaining} bytes left`);
    const start = this.pos;
    this.pos += byteCount;
    if (utf16) {
      let text = '';
      for (let k = 0; k < length; k++) text += String.fromCharCode(this.view.getUint16(start + 2 * k, true));
      return text;
    }
    if (length < SHORT_STRING_CHARS) {
      const ascii = asciiString(this.bytes, start, length);
      if (ascii !== null) return ascii;
    }
    try {
      return textDecoder.decode(this.bytes.subarray(start, start + length));
    } catch {
      return this.fail(field, 'bytes are not valid UTF-8');
    }
  }
}

function asciiString(bytes: Uint8Array, start: number, length: number): string | null {
  let text = '';
  for (let k = 0; k < length; k++) {
    const byte = bytes[start + k];
    if (byte >= 0x80) return null;
    text += String.fromCharCode(byte);
  }
  return text;
}

/**
 * Decodes a batch written by encodeBinaryBatch, whose first byte is FORMAT_BINARY_V1. The fields
 * kept as JSON inside are checked with `json`.
 */
export function decodeBinaryBatch(bytes: Uint8Array, json: JsonFieldDecoders): PersistOp[] {
  const reader = new ByteReader(bytes);
  const opCount = reader.count('');
  const ops: PersistOp[] = [];
  for (let k = 0; k < opCount; k++) {
    reader.opIndex = k;
    ops.push(readOp(reader, json));
  }
  reader.opIndex = -1;
  if (reader.remaining !== 0) reader.fail('', `${reader.remaining} bytes left after the last op`);
  return ops;
}

function readOp(reader: ByteReader, json: JsonFieldDecoders): PersistOp {
  const type = reader.u8('type');
  switch (type) {
    case OP_HARD_STATE: {
      const votedFor = readBallot(reader, 'hardState.votedFor');
      const committer = readOptionalBallot(reader, 'hardState.committer');
      return { type: 'hard-state', hardState: { votedFor, committer } };
    }
    case OP_RECORDS:
      return { type: 'records', records: readRecords(reader, 'records', json) };
    case OP_SWITCH: {
      const committer = readBallot(reader, 'committer');
      const keep = readBitmap(reader, 'keep');
      return { type: 'switch', committer, keep, records: readRecords(reader, 'records', json) };
    }
    case OP_COMMITTED:
      return { type: 'committed', committed: readBitmap(reader, 'committed') };
    case OP_CHECKPOINT: {
      const op = json.persistOp(readJsonText(reader, ''), reader.path(''));
      if (op.type !== 'checkpoint') reader.fail('type', `expected checkpoint inside a checkpoint op, got ${op.type}`);
      return op;
    }
    default:
      return reader.fail('type', `expected an op type 0 to 4 (${OP_TYPE_NAMES}), got ${type}`);
  }
}

/** Reads a string holding JSON and parses it. */
function readJsonText(reader: ByteReader, field: string): unknown {
  const text = reader.string(field);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    return reader.fail(field, `not valid JSON (${(error as Error).message})`);
  }
}

function readBallot(reader: ByteReader, field: string): Ballot {
  const term = reader.varint(`${field}.term`);
  const id = reader.varint(`${field}.id`);
  return { term, id };
}

function readOptionalBallot(reader: ByteReader, field: string): Ballot | null {
  const present = reader.u8(field);
  if (present === 0) return null;
  if (present !== 1) reader.fail(field, `expected a presence byte 0 or 1, got ${present}`);
  return readBallot(reader, field);
}

function readRecords(reader: ByteReader, listName: string, json: JsonFieldDecoders): LogRecord[] {
  const count = reader.count(listName);
  const records: LogRecord[] = [];
  reader.recordListName = listName;
  for (let k = 0; k < count; k++) {
    reader.recordIndex = k;
    records.push(readRecord(reader, json));
  }
  reader.recordIndex = -1;
  return records;
}

function readRecord(reader: ByteReader, json: JsonFieldDecoders): LogRecord {
  const seq = reader.varint('seq');
  const author = readBallot(reader, 'author');
  const flags = reader.u8('client');
  if ((flags & ~(FLAG_CLIENT | FLAG_ACKED_THROUGH)) !== 0 || flags === FLAG_ACKED_THROUGH) {
    reader.fail('client', `invalid presence flags ${flags}`);
  }
  let client: ClientTag | undefined;
  if ((flags & FLAG_CLIENT) !== 0) {
    client = { clientId: reader.string('client.clientId'), seq: reader.varint('client.seq') };
    if ((flags & FLAG_ACKED_THROUGH) !== 0) client.ackedThrough = reader.varint('client.ackedThrough');
  }
  const command = readCommand(reader, json);
  const depends = readBitmap(reader, 'depends');
  const overrides = readBitmap(reader, 'overrides');
  if (!overrides.has(seq)) reader.fail('overrides', `does not contain the record's own lsn ${seq}`);

  const record: LogRecord = { seq, author, command, depends, overrides };
  if (client !== undefined) record.client = client;
  return record;
}

function readCommand(reader: ByteReader, json: JsonFieldDecoders): Command {
  const code = reader.u8('command.kind');
  const kind: CommandKind | undefined = COMMAND_KINDS[code];
  switch (kind) {
    case 'noop':
      return { kind };
    case 'put':
    case 'append':
      return { kind, key: reader.string('command.key'), value: readJson(reader, 'command.value', 0) };
    case 'delete':
      return { kind, key: reader.string('command.key') };
    case 'cas': {
      const key = reader.string('command.key');
      const expected = readJson(reader, 'command.expected', 0);
      return { kind, key, expected, value: readJson(reader, 'command.value', 0) };
    }
    case 'incr': {
      const key = reader.string('command.key');
      const delta = reader.float64('command.delta');
      if (!Number.isFinite(delta)) reader.fail('command.delta', `expected a finite number, got ${delta}`);
      return { kind, key, delta };
    }
    case 'txn': {
      const count = reader.count('command.ops');
      const ops: MicroOp[] = [];
      for (let k = 0; k < count; k++) ops.push(readMicroOp(reader, `command.ops[${k}]`));
      return { kind, ops };
    }
    case 'config':
      return { kind, config: json.config(readJsonText(reader, 'command.config'), reader.path('command.config')) };
    case undefined:
      return reader.fail('command.kind', `expected a command kind 0 to ${COMMAND_KINDS.length - 1} (${COMMAND_KINDS.join(', ')}), got ${code}`);
    default:
      return assertNever(kind);
  }
}

function readMicroOp(reader: ByteReader, field: string): MicroOp {
  const f = reader.u8(`${field}.f`);
  if (f === 0) return { f: 'append', key: reader.string(`${field}.key`), value: readJson(reader, `${field}.value`, 0) };
  if (f === 1) return { f: 'r', key: reader.string(`${field}.key`) };
  return reader.fail(`${field}.f`, `expected 0 (append) or 1 (r), got ${f}`);
}

function readJson(reader: ByteReader, field: string, depth: number): JsonValue {
  if (depth > JSON_DEPTH_MAX) reader.fail(field, `JSON value nested deeper than ${JSON_DEPTH_MAX}`);
  const tag = reader.u8(field);
  switch (tag) {
    case TAG_NULL:
      return null;
    case TAG_FALSE:
      return false;
    case TAG_TRUE:
      return true;
    case TAG_UINT:
      return reader.varint(field);
    case TAG_NEGATIVE_INT: {
      const magnitude = reader.varint(field);
      if (magnitude === 0) reader.fail(field, 'negative integer of magnitude 0');
      return -magnitude;
    }
    case TAG_FLOAT64: {
      const value = reader.float64(field);
      if (!Number.isFinite(value)) reader.fail(field, `expected a finite number, got ${value}`);
      return value;
    }
    case TAG_STRING:
      return reader.string(field);
    case TAG_ARRAY: {
      const count = reader.count(field);
      const items: JsonValue[] = [];
      for (let k = 0; k < count; k++) items.push(readJson(reader, field, depth + 1));
      return items;
    }
    case TAG_OBJECT: {
      const count = reader.count(field);
      const object: { [key: string]: JsonValue } = {};
      for (let k = 0; k < count; k++) {
        const key = reader.string(field);
        const value = readJson(reader, field, depth + 1);
        // A plain assignment to "__proto__" would replace the prototype instead of adding a key.
        Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
      }
      return object;
    }
    default:
      return reader.fail(field, `expected a JSON value tag 0 to ${TAG_OBJECT}, got ${tag}`);
  }
}

function readBitmap(reader: ByteReader, field: string): TailBitmap {
  const prefix = reader.varint(field);
  const header = reader.varint(field);
  const form = header % 2;
  const count = Math.floor(header / 2);
  if (count > reader.remaining) reader.fail(field, `tail of ${count} items exceeds the ${reader.remaining} bytes left`);
  try {
    const bitmap = TailBitmap.prefix(prefix);
    if (form === FORM_SPARSE) {
      let member = prefix;
      for (let k = 0; k < count; k++) {
        member += reader.varint(field) + 1;
        if (member > Number.MAX_SAFE_INTEGER) reader.fail(field, `member ${member} is above ${Number.MAX_SAFE_INTEGER}`);
        bitmap.add(member);
      }
      return bitmap;
    }
    const bytes = reader.bytes;
    const start = reader.pos;
    reader.pos += count;
    for (let i = 0; i < count; i++) {
      let byte = bytes[start + i];
      while (byte !== 0) {
        const low = byte & -byte;
        bitmap.add(prefix + 1 + 8 * i + (31 - Math.clz32(low)));
        byte ^= low;
      }
    }
    return bitmap;
  } catch (error) {
    if (error instanceof RangeError) return reader.fail(field, error.message);
    throw error;
  }
}

function assertNever(value: never): never {
  throw new Error(`unexpected value ${JSON.stringify(value)}`);
}
