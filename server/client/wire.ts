// Protobuf encoding of the client's Batch requests and decoding of its Batch replies, written
// field by field. Every call the client makes goes through these, and the reflective toBinary and
// fromBinary of protobuf-es allocate several objects per field, which made them the largest
// source of garbage in the bench controller. wire.test.ts checks each function against the
// reflective codec of the same message.
import type { Header } from '../../proto/gen/traft/v1/common_pb.js';
import type { ReadConsistency, ReplyStatus } from '../../proto/gen/traft/v1/kv_pb.js';
import type { CommandResult, JsonValue, MicroOpResult } from '../core/types.js';
import { commandResultSchema, parseJsonField } from '../transport/json-wire.js';

/** One key-value call, with its values already JSON text. */
export type KvCall =
  | { kind: 'put'; key: string; valueJson: string }
  | { kind: 'append'; key: string; valueJson: string }
  | { kind: 'delete'; key: string }
  | { kind: 'cas'; key: string; expectedJson: string; valueJson: string }
  | { kind: 'incr'; key: string; delta: number }
  | { kind: 'txn'; ops: { f: string; key: string; valueJson: string }[] }
  | { kind: 'get'; key: string; consistency: ReadConsistency };

/** The (client_id, seq) of a write; an empty clientId turns deduplication off. */
export interface WriteTagFields {
  clientId: string;
  seq: number;
  /** Every seq at or below it has a final outcome and is never sent again; 0 or absent for none. */
  ackedThrough?: number;
}

/** The fields of a KvReply that the client reads. The header and the lsn are skipped. */
export interface KvReplyFields {
  status: ReplyStatus;
  leaderId: number;
  leaderAddr: string;
  reason: string;
  resultJson: string;
}

/** A reply that is not a valid protobuf BatchReply. */
export class ReplyDecodeError extends Error {
  override readonly name = 'ReplyDecodeError';
}

/** Field numbers of BatchItem's `request` oneof, as in kv.proto. */
const ITEM_FIELD = { put: 1, delete: 2, cas: 3, append: 4, incr: 5, txn: 6, get: 7 } as const;
/** Field numbers shared by the write requests: header 1, tag 2, key 3. */
const TAG_FIELD = 2;
const KEY_FIELD = 3;
const BATCH_HEADER_FIELD = 1;
const BATCH_ITEMS_FIELD = 2;

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const START_GROUP = 3;
const END_GROUP = 4;
const FIXED32 = 5;

// -------------------------------------------------------------------------------------------
// Encoding. Each encoder computes the exact size first, so a message is one Buffer written once.

/** Encodes `call` as a BatchItem. `tag` is required for writes and ignored for a get. */
export function encodeBatchItem(call: KvCall, tag: WriteTagFields | undefined): Uint8Array {
  const bodyBytes = callBodyBytes(call, tag);
  const out = Buffer.allocUnsafe(1 + varintBytes(bodyBytes) + bodyBytes);
  let pos = writeKey(out, 0, ITEM_FIELD[call.kind], LENGTH_DELIMITED);
  pos = writeVarint(out, pos, bodyBytes);
  pos = writeCallBody(out, pos, call, tag);
  checkFilled(out, pos);
  return out;
}

/** Returns the size of the request message inside a BatchItem, without its key and length. */
function callBodyBytes(call: KvCall, tag: WriteTagFields | undefined): number {
  if (call.kind === 'get') {
    // GetRequest: header 1, key 2, consistency 3.
    return stringFieldBytes(call.key) + 1 + int64Bytes(call.consistency);
  }
  let bytes = tag === undefined ? 0 : messageFieldBytes(tagBodyBytes(tag));
  switch (call.kind) {
    case 'put':
    case 'append':
      bytes += stringFieldBytes(call.key) + stringFieldBytes(call.valueJson);
      return bytes;
    case 'delete':
      return bytes + stringFieldBytes(call.key);
    case 'cas':
      return bytes + stringFieldBytes(call.key) + stringFieldBytes(call.expectedJson) + stringFieldBytes(call.valueJson);
    case 'incr':
      return bytes + stringFieldBytes(call.key) + 1 + int64Bytes(call.delta);
    case 'txn':
      // TxnRequest: ops 3, each a MicroOp (f 1, key 2, value_json 3).
      for (const op of call.ops) bytes += messageFieldBytes(microOpBytes(op));
      return bytes;
    default: {
      const unexpected: never = call;
      throw new Error(`unexpected call ${JSON.stringify(unexpected)}`);
    }
  }
}

function writeCallBody(out: Buffer, start: number, call: KvCall, tag: WriteTagFields | undefined): number {
  let pos = start;
  if (call.kind === 'get') {
    pos = writeStringField(out, pos, 2, call.key);
    pos = writeKey(out, pos, 3, VARINT);
    return writeInt64(out, pos, call.consistency);
  }
  if (tag !== undefined) {
    pos = writeKey(out, pos, TAG_FIELD, LENGTH_DELIMITED);
    pos = writeVarint(out, pos, tagBodyBytes(tag));
    pos = writeStringField(out, pos, 1, tag.clientId);
    pos = writeKey(out, pos, 2, VARINT);
    pos = writeVarint(out, pos, tag.seq);
    if (tag.ackedThrough) {
      pos = writeKey(out, pos, 3, VARINT);
      pos = writeVarint(out, pos, tag.ackedThrough);
    }
  }
  switch (call.kind) {
    case 'put':
    case 'append':
      pos = writeStringField(out, pos, KEY_FIELD, call.key);
      return writeStringField(out, pos, 4, call.valueJson);
    case 'delete':
      return writeStringField(out, pos, KEY_FIELD, call.key);
    case 'cas':
      pos = writeStringField(out, pos, KEY_FIELD, call.key);
      pos = writeStringField(out, pos, 4, call.expectedJson);
      return writeStringField(out, pos, 5, call.valueJson);
    case 'incr':
      pos = writeStringField(out, pos, KEY_FIELD, call.key);
      pos = writeKey(out, pos, 4, VARINT);
      return writeInt64(out, pos, call.delta);
    case 'txn':
      for (const op of call.ops) {
        pos = writeKey(out, pos, 3, LENGTH_DELIMITED);
        pos = writeVarint(out, pos, microOpBytes(op));
        pos = writeStringField(out, pos, 1, op.f);
        pos = writeStringField(out, pos, 2, op.key);
        pos = writeStringField(out, pos, 3, op.valueJson);
      }
      return pos;
    default: {
      const unexpected: never = call;
      throw new Error(`unexpected call ${JSON.stringify(unexpected)}`);
    }
  }
}

function tagBodyBytes(tag: WriteTagFields): number {
  const ackedThroughBytes = tag.ackedThrough ? 1 + varintBytes(tag.ackedThrough) : 0;
  return stringFieldBytes(tag.clientId) + 1 + varintBytes(tag.seq) + ackedThroughBytes;
}

function microOpBytes(op: { f: string; key: string; valueJson: string }): number {
  return stringFieldBytes(op.f) + stringFieldBytes(op.key) + stringFieldBytes(op.valueJson);
}

/** The fields of a request Header. A protobuf-es Header message has them too. */
export type HeaderFields = Pick<Header, 'clusterId' | 'fromId' | 'toId' | 'requestId'>;

/** Encodes a BatchRequest from its header and items encoded by encodeBatchItem. */
export function encodeBatchRequest(header: HeaderFields, items: readonly Uint8Array[]): Buffer {
  const requestId = BigInt.asUintN(64, header.requestId);
  const headerBytes =
    stringFieldBytes(header.clusterId) + 1 + varintBytes(header.fromId) + 1 + varintBytes(header.toId) + 1 + bigVarintBytes(requestId);
  let size = messageFieldBytes(headerBytes);
  for (const item of items) size += messageFieldBytes(item.length);

  const out = Buffer.allocUnsafe(size);
  let pos = writeKey(out, 0, BATCH_HEADER_FIELD, LENGTH_DELIMITED);
  pos = writeVarint(out, pos, headerBytes);
  pos = writeStringField(out, pos, 1, header.clusterId);
  pos = writeKey(out, pos, 2, VARINT);
  pos = writeVarint(out, pos, header.fromId);
  pos = writeKey(out, pos, 3, VARINT);
  pos = writeVarint(out, pos, header.toId);
  pos = writeKey(out, pos, 4, VARINT);
  pos = writeBigVarint(out, pos, requestId);
  for (const item of items) {
    pos = writeKey(out, pos, BATCH_ITEMS_FIELD, LENGTH_DELIMITED);
    pos = writeVarint(out, pos, item.length);
    out.set(item, pos);
    pos += item.length;
  }
  checkFilled(out, pos);
  return out;
}

function checkFilled(out: Uint8Array, pos: number): void {
  if (pos !== out.length) throw new Error(`encoder bug: wrote ${pos} bytes into a message of ${out.length}`);
}

/** Returns the UTF-8 size of `text`, which is its length when every unit is ASCII (keys and JSON numbers are). */
function utf8Bytes(text: string): number {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) >= 0x80) return Buffer.byteLength(text, 'utf8');
  }
  return text.length;
}

/** Field numbers here are below 16, so every key is one byte. */
function writeKey(out: Uint8Array, pos: number, field: number, wireType: number): number {
  out[pos] = (field << 3) | wireType;
  return pos + 1;
}

function stringFieldBytes(text: string): number {
  return messageFieldBytes(utf8Bytes(text));
}

/** Returns the size of a length-delimited field whose content is `contentBytes` long, key included. */
function messageFieldBytes(contentBytes: number): number {
  return 1 + varintBytes(contentBytes) + contentBytes;
}

function writeStringField(out: Buffer, start: number, field: number, text: string): number {
  const bytes = utf8Bytes(text);
  let pos = writeKey(out, start, field, LENGTH_DELIMITED);
  pos = writeVarint(out, pos, bytes);
  if (bytes === text.length) {
    for (let i = 0; i < bytes; i++) out[pos + i] = text.charCodeAt(i);
  } else {
    out.write(text, pos, bytes, 'utf8');
  }
  return pos + bytes;
}

/** Returns the varint size of a non-negative safe integer. */
function varintBytes(value: number): number {
  let bytes = 1;
  for (let rest = value; rest >= 0x80; rest = Math.floor(rest / 0x80)) bytes += 1;
  return bytes;
}

/** Writes a non-negative safe integer as a varint. */
function writeVarint(out: Uint8Array, start: number, value: number): number {
  let pos = start;
  let rest = value;
  while (rest >= 0x80) {
    out[pos++] = (rest % 0x80) | 0x80;
    rest = Math.floor(rest / 0x80);
  }
  out[pos++] = rest;
  return pos;
}

/** Returns the size of an int64 or int32 varint. A negative value takes ten bytes (two's complement). */
function int64Bytes(value: number): number {
  return value >= 0 ? varintBytes(value) : bigVarintBytes(BigInt.asUintN(64, BigInt(value)));
}

function writeInt64(out: Uint8Array, pos: number, value: number): number {
  return value >= 0 ? writeVarint(out, pos, value) : writeBigVarint(out, pos, BigInt.asUintN(64, BigInt(value)));
}

function bigVarintBytes(value: bigint): number {
  let bytes = 1;
  for (let rest = value; rest >= 0x80n; rest >>= 7n) bytes += 1;
  return bytes;
}

function writeBigVarint(out: Uint8Array, start: number, value: bigint): number {
  let pos = start;
  let rest = value;
  while (rest >= 0x80n) {
    out[pos++] = Number(rest & 0x7fn) | 0x80;
    rest >>= 7n;
  }
  out[pos++] = Number(rest);
  return pos;
}

// -------------------------------------------------------------------------------------------
// Decoding. The decoder follows protobuf's rules for the fields it reads. Fields may come in any
// order, and the last value of a repeated scalar wins. An int32, uint32 or enum field keeps the
// low 32 bits of its varint. Unknown fields are skipped by wire type.

/** Decodes the replies of a BatchReply, in order. Throws ReplyDecodeError on malformed bytes. */
export function decodeBatchReply(bytes: Uint8Array): KvReplyFields[] {
  const reader = new Reader(bytes);
  const replies: KvReplyFields[] = [];
  while (reader.pos < bytes.length) {
    const key = reader.uint32();
    if (key >>> 3 === BATCH_ITEMS_FIELD && (key & 7) === LENGTH_DELIMITED) {
      const end = reader.lengthEnd();
      replies.push(decodeKvReply(reader, end));
      continue;
    }
    reader.skip(key);
  }
  return replies;
}

function decodeKvReply(reader: Reader, end: number): KvReplyFields {
  const reply: KvReplyFields = { status: 0, leaderId: 0, leaderAddr: '', reason: '', resultJson: '' };
  while (reader.pos < end) {
    const key = reader.uint32();
    const field = key >>> 3;
    const wireType = key & 7;
    if (field === 2 && wireType === VARINT) {
      reply.status = reader.uint32() | 0;
    } else if (field === 3 && wireType === VARINT) {
      reply.leaderId = reader.uint32();
    } else if (field === 4 && wireType === LENGTH_DELIMITED) {
      reply.leaderAddr = reader.string();
    } else if (field === 5 && wireType === LENGTH_DELIMITED) {
      reply.reason = reader.string();
    } else if (field === 6 && wireType === LENGTH_DELIMITED) {
      reply.resultJson = reader.string();
    } else {
      reader.skip(key);
    }
  }
  if (reader.pos !== end) throw new ReplyDecodeError('a KvReply field runs past the end of its message');
  return reply;
}

class Reader {
  pos = 0;
  private readonly buffer: Buffer;

  constructor(private readonly bytes: Uint8Array) {
    this.buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Reads a varint of up to ten bytes and returns its low 32 bits, unsigned. */
  uint32(): number {
    let value = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      if (this.pos >= this.bytes.length) throw new ReplyDecodeError('a varint runs past the end of the message');
      const byte = this.bytes[this.pos++] as number;
      if (shift < 32) value |= (byte & 0x7f) << shift;
      if (byte < 0x80) return value >>> 0;
    }
    throw new ReplyDecodeError('a varint is longer than ten bytes');
  }

  /** Reads a length prefix and returns where the delimited content ends. */
  lengthEnd(): number {
    const length = this.uint32();
    const end = this.pos + length;
    if (end > this.bytes.length) throw new ReplyDecodeError('a length-delimited field runs past the end of the message');
    return end;
  }

  /** Reads a string the way protobuf-es 2.13 does, with a TextDecoder that drops a leading byte order mark. */
  string(): string {
    const end = this.lengthEnd();
    let text = this.buffer.toString('utf8', this.pos, end);
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    this.pos = end;
    return text;
  }

  /** Skips the value of the field whose key is `key`. */
  skip(key: number): void {
    switch (key & 7) {
      case VARINT:
        this.uint32();
        return;
      case FIXED64:
        this.advance(8);
        return;
      case LENGTH_DELIMITED:
        this.pos = this.lengthEnd();
        return;
      case FIXED32:
        this.advance(4);
        return;
      case START_GROUP:
      case END_GROUP:
        // The server never sends a group, because proto3 messages have none.
        throw new ReplyDecodeError(`unsupported group wire type in field ${key >>> 3}`);
      default:
        throw new ReplyDecodeError(`invalid wire type ${key & 7} in field ${key >>> 3}`);
    }
  }

  private advance(bytes: number): void {
    if (this.pos + bytes > this.bytes.length) throw new ReplyDecodeError('a fixed-size field runs past the end of the message');
    this.pos += bytes;
  }
}

// -------------------------------------------------------------------------------------------
// Command results

/**
 * Parses a reply's result_json into a CommandResult. A result of the usual shape is checked by
 * hand. Anything else goes through the zod schema, which returns the same value or throws the
 * WireError that names the problem.
 */
export function parseCommandResult(text: string): CommandResult {
  // zod drops own `__proto__` keys, which JSON.parse keeps. Text that could hold such a key spells
  // "proto" or uses a \u escape, so it takes the zod path and both paths return equal values.
  const mayHoldProtoKey = text.includes('proto') || text.includes('\\u');
  let raw: unknown;
  try {
    raw = mayHoldProtoKey ? undefined : JSON.parse(text);
  } catch {
    raw = undefined;
  }
  const result = raw === undefined ? undefined : plainCommandResult(raw);
  return result ?? parseJsonField(commandResultSchema, text, 'result_json');
}

/**
 * Returns `raw` as a CommandResult with only the schema's keys, or undefined when it does not have
 * exactly the shape commandResultSchema accepts. JSON.parse output is always a valid JsonValue, so
 * values need no further check.
 */
function plainCommandResult(raw: unknown): CommandResult | undefined {
  if (!isRecord(raw)) return undefined;
  switch (raw.kind) {
    case 'done':
      return { kind: 'done' };
    case 'value':
      return 'value' in raw ? { kind: 'value', value: raw.value as JsonValue } : undefined;
    case 'cas':
      if (typeof raw.swapped !== 'boolean' || !('current' in raw)) return undefined;
      return { kind: 'cas', swapped: raw.swapped, current: raw.current as JsonValue };
    case 'error':
      return typeof raw.message === 'string' ? { kind: 'error', message: raw.message } : undefined;
    case 'txn':
      return plainTxnResult(raw.ops);
    default:
      return undefined;
  }
}

function plainTxnResult(ops: unknown): CommandResult | undefined {
  if (!Array.isArray(ops)) return undefined;
  const results: MicroOpResult[] = [];
  for (const op of ops) {
    if (!isRecord(op) || (op.f !== 'append' && op.f !== 'r') || typeof op.key !== 'string' || !('value' in op)) return undefined;
    results.push({ f: op.f, key: op.key, value: op.value as JsonValue });
  }
  return { kind: 'txn', ops: results };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
