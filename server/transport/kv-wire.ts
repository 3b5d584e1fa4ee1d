// Hand-written protobuf codecs for the server side of the Batch RPC, the client hot path: the
// BatchRequest is read into plain item values and the BatchReply is written from plain replies,
// with no protobuf-es message in between. The wire format is that of proto/traft/v1/kv.proto;
// kv-wire.test.ts compares both directions with fromBinary and toBinary.
import { WireType } from '@bufbuild/protobuf/wire';
import { ProtoWriter } from './proto-writer.js';
import { asMalformed, readClientTag, readHeader, WireReader, type RawHeader, type Uint64 } from './wire-reader.js';

// Plain forms of the kv.proto request messages. The protobuf-es messages of the single-op RPCs
// fit these types too, so kv-service.ts runs both through one path. A uint64 or int64 field is a
// number, or a bigint (a hand-decoded bigint is always outside the safe integer range).

export interface WriteTagFields {
  clientId: string;
  seq: Uint64;
  /** 0: the client acknowledges no seq. */
  ackedThrough: Uint64;
}

export interface PutFields {
  tag?: WriteTagFields | undefined;
  key: string;
  valueJson: string;
}

export interface DeleteFields {
  tag?: WriteTagFields | undefined;
  key: string;
}

export interface CasFields {
  tag?: WriteTagFields | undefined;
  key: string;
  expectedJson: string;
  valueJson: string;
}

export interface IncrFields {
  tag?: WriteTagFields | undefined;
  key: string;
  delta: Uint64;
}

export interface MicroOpFields {
  f: string;
  key: string;
  valueJson: string;
}

export interface TxnFields {
  tag?: WriteTagFields | undefined;
  ops: MicroOpFields[];
}

export interface GetFields {
  key: string;
  /** A ReadConsistency value. */
  consistency: number;
}

/** One key-value request of a batch, shaped like the BatchItem `request` oneof. */
export type KvItem =
  | { case: 'put'; value: PutFields }
  | { case: 'delete'; value: DeleteFields }
  | { case: 'cas'; value: CasFields }
  | { case: 'append'; value: PutFields }
  | { case: 'incr'; value: IncrFields }
  | { case: 'txn'; value: TxnFields }
  | { case: 'get'; value: GetFields };

/** A decoded BatchRequest. An item is undefined when its oneof contains no request. */
export interface BatchRequestFields {
  header: RawHeader | undefined;
  items: (KvItem | undefined)[];
}

/** A KvReply without its header, as the replies of a batch carry none. */
export interface KvReplyFields {
  /** A ReplyStatus value. */
  status: number;
  leaderId: number;
  leaderAddr: string;
  reason: string;
  resultJson: string;
  /** The log position of the write, -1 when none. */
  lsn: number;
}

/** The header a reply carries: this node, echoing the sender and request id. */
export interface ReplyHeaderFields {
  clusterId: string;
  fromId: number;
  toId: number;
  requestId: Uint64;
}

// ---------------------------------------------------------------------------------------------
// BatchRequest

/**
 * Decodes BatchRequest bytes. Throws MalformedBytesError for bytes fromBinary rejects; values
 * are checked later by kv-service.ts, as for the single-op RPCs.
 */
export function decodeBatchRequest(bytes: Uint8Array): BatchRequestFields {
  // BatchRequest: header 1, items 2.
  const reader = new WireReader(bytes);
  const request: BatchRequestFields = { header: undefined, items: [] };
  try {
    while (reader.pos < bytes.byteLength) {
      const tag = reader.nextTag();
      const fieldNo = tag >>> 3;
      const wireType: WireType = tag & 7;
      switch (fieldNo) {
        case 1:
          request.header = readHeader(reader, request.header, 2);
          break;
        case 2:
          request.items.push(readItem(reader, 2));
          break;
        default:
          reader.skipField(fieldNo, wireType, 1);
      }
    }
  } catch (error) {
    throw asMalformed(error);
  }
  return request;
}

/**
 * Reads one BatchItem. A oneof member that occurs again merges into the earlier value when it
 * is the same case and replaces it otherwise, as fromBinary does.
 */
function readItem(reader: WireReader, depth: number): KvItem | undefined {
  // BatchItem oneof request: put 1, delete 2, cas 3, append 4, incr 5, txn 6, get 7.
  let item: KvItem | undefined;
  const end = reader.messageEnd(depth);
  while (reader.pos < end) {
    const tag = reader.nextTag();
    const fieldNo = tag >>> 3;
    const wireType: WireType = tag & 7;
    const inner = depth + 1;
    switch (fieldNo) {
      case 1:
        item = { case: 'put', value: readPut(reader, item?.case === 'put' ? item.value : undefined, inner) };
        break;
      case 2:
        item = { case: 'delete', value: readDelete(reader, item?.case === 'delete' ? item.value : undefined, inner) };
        break;
      case 3:
        item = { case: 'cas', value: readCas(reader, item?.case === 'cas' ? item.value : undefined, inner) };
        break;
      case 4:
        item = { case: 'append', value: readPut(reader, item?.case === 'append' ? item.value : undefined, inner) };
        break;
      case 5:
        item = { case: 'incr', value: readIncr(reader, item?.case === 'incr' ? item.value : undefined, inner) };
        break;
      case 6:
        item = { case: 'txn', value: readTxn(reader, item?.case === 'txn' ? item.value : undefined, inner) };
        break;
      case 7:
        item = { case: 'get', value: readGet(reader, item?.case === 'get' ? item.value : undefined, inner) };
        break;
      default:
        reader.skipField(fieldNo, wireType, depth);
    }
  }
  return item;
}

// The header of an embedded request is ignored, but it is read like any message field so that
// malformed bytes inside it are rejected as fromBinary rejects them.

/** Reads a PutRequest or an AppendRequest, which share one layout: header 1, tag 2, key 3, value_json 4. */
function readPut(reader: WireReader, put: PutFields | undefined, depth: number): PutFields {
  const into: PutFields = put ?? { tag: undefined, key: '', valueJson: '' };
  const end = reader.messageEnd(depth);
  while (reader.pos < end) {
    const tag = reader.nextTag();
    const fieldNo = tag >>> 3;
    const wireType: WireType = tag & 7;
    switch (fieldNo) {
      case 1:
        readHeader(reader, undefined, depth + 1);
        break;
      case 2:
        into.tag = readClientTag(reader, into.tag, depth + 1);
        break;
      case 3:
        into.key = reader.string(true);
        break;
      case 4:
        into.valueJson = reader.string(true);
        break;
      default:
        reader.skipField(fieldNo, wireType, depth);
    }
  }
  return into;
}

function readDelete(reader: WireReader, request: DeleteFields | undefined, depth: number): DeleteFields {
  // DeleteRequest: header 1, tag 2, key 3.
  const into: DeleteFields = request ?? { tag: undefined, key: '' };
  const end = reader.messageEnd(depth);
  while (reader.pos < end) {
    const tag = reader.nextTag();
    const fieldNo = tag >>> 3;
    const wireType: WireType = tag & 7;
    switch (fieldNo) {
      case 1:
        readHeader(reader, undefined, depth + 1);
        break;
      case 2:
        into.tag = readClientTag(reader, into.tag, depth + 1);
        break;
      case 3:
        into.key = reader.string(true);
        break;
      default:
        reader.skipField(fieldNo, wireType, depth);
    }
  }
  return into;
}

function readCas(reader: WireReader, request: CasFields | undefined, depth: number): CasFields {
  // CasRequest: header 1, tag 2, key 3, expected_json 4, value_json 5.
  const into: CasFields = request ?? { tag: undefined, key: '', expectedJson: '', valueJson: '' };
  const end = reader.messageEnd(depth);
  while (reader.pos < end) {
    const tag = reader.nextTag();
    const fieldNo = tag >>> 3;
    const wireType: WireType = tag & 7;
    switch (fieldNo) {
      case 1:
        readHeader(reader, undefined, depth + 1);
        break;
      case 2:
        into.tag = readClientTag(reader, into.tag, depth + 1);
        break;
      case 3:
        into.key = reader.string(true);
        break;
      case 4:
        into.expectedJson = reader.string(true);
        break;
      case 5:
        into.valueJson = reader.string(true);
        break;
      default:
        reader.skipField(fieldNo, wireType, depth);
    }
  }
  return into;
}

function readIncr(reader: WireReader, request: IncrFields | undefined, depth: number): IncrFields {
  // IncrRequest: header 1, tag 2, key 3, delta 4 (int64).
  const into: IncrFields = request ?? { tag: undefined, key: '', delta: 0 };
  const end = reader.messageEnd(depth);
  while (reader.pos < end) {
    const tag = reader.nextTag();
    const fieldNo = tag >>> 3;
    const wireType: WireType = tag & 7;
    switch (fieldNo) {
      case 1:
        readHeader(reader, undefined, depth + 1);
        break;
      case 2:
        into.tag = readClientTag(reader, into.tag, depth + 1);
        break;
      case 3:
        into.key = reader.string(true);
        break;
      case 4:
        into.delta = reader.int64Value();
        break;
      default:
        reader.skipField(fieldNo, wireType, depth);
    }
  }
  return into;
}

function readTxn(reader: WireReader, request: TxnFields | undefined, depth: number): TxnFields {
  // TxnRequest: header 1, tag 2, ops 3.
  const into: TxnFields = request ?? { tag: undefined, ops: [] };
  const end = reader.messageEnd(depth);
  while (reader.pos < end) {
    const tag = reader.nextTag();
    const fieldNo = tag >>> 3;
    const wireType: WireType = tag & 7;
    switch (fieldNo) {
      case 1:
        readHeader(reader, undefined, depth + 1);
        break;
      case 2:
        into.tag = readClientTag(reader, into.tag, depth + 1);
        break;
      case 3:
        into.ops.push(readMicroOp(reader, depth + 1));
        break;
      default:
        reader.skipField(fieldNo, wireType, depth);
    }
  }
  return into;
}

function readMicroOp(reader: WireReader, depth: number): MicroOpFields {
  // MicroOp: f 1, key 2, value_json 3.
  const into: MicroOpFields = { f: '', key: '', valueJson: '' };
  const end = reader.messageEnd(depth);
  while (reader.pos < end) {
    const tag = reader.nextTag();
    const fieldNo = tag >>> 3;
    const wireType: WireType = tag & 7;
    switch (fieldNo) {
      case 1:
        into.f = reader.string(true);
        break;
      case 2:
        into.key = reader.string(true);
        break;
      case 3:
        into.valueJson = reader.string(true);
        break;
      default:
        reader.skipField(fieldNo, wireType, depth);
    }
  }
  return into;
}

function readGet(reader: WireReader, request: GetFields | undefined, depth: number): GetFields {
  // GetRequest: header 1, key 2, consistency 3 (enum).
  const into: GetFields = request ?? { key: '', consistency: 0 };
  const end = reader.messageEnd(depth);
  while (reader.pos < end) {
    const tag = reader.nextTag();
    const fieldNo = tag >>> 3;
    const wireType: WireType = tag & 7;
    switch (fieldNo) {
      case 1:
        readHeader(reader, undefined, depth + 1);
        break;
      case 2:
        into.key = reader.string(true);
        break;
      case 3:
        into.consistency = reader.int32();
        break;
      default:
        reader.skipField(fieldNo, wireType, depth);
    }
  }
  return into;
}

// ---------------------------------------------------------------------------------------------
// BatchReply

/** Encodes a BatchReply to the bytes toBinary writes for the protobuf-es message with these fields. */
export function encodeBatchReply(header: ReplyHeaderFields, replies: readonly KvReplyFields[]): Uint8Array {
  // BatchReply: header 1, replies 2. Header: cluster_id 1, from_id 2, to_id 3, request_id 4.
  // Fields at their zero value are left out, as toBinary does for proto3 scalars, so the bytes
  // equal those of toBinary.
  const writer = new ProtoWriter(256);
  writer.tag(1, WireType.LengthDelimited).fork();
  if (header.clusterId !== '') {
    writer.tag(1, WireType.LengthDelimited).string(header.clusterId);
  }
  if (header.fromId !== 0) {
    writer.tag(2, WireType.Varint).uint32(header.fromId);
  }
  if (header.toId !== 0) {
    writer.tag(3, WireType.Varint).uint32(header.toId);
  }
  if (header.requestId !== 0 && header.requestId !== 0n) {
    writer.tag(4, WireType.Varint).uint64(header.requestId);
  }
  writer.join();
  for (const reply of replies) {
    writer.tag(2, WireType.LengthDelimited).fork();
    writeKvReply(writer, reply);
    writer.join();
  }
  return writer.finish();
}

function writeKvReply(writer: ProtoWriter, reply: KvReplyFields): void {
  // KvReply: status 2, leader_id 3, leader_addr 4, reason 5, result_json 6, lsn 7 (int64).
  if (reply.status !== 0) {
    writer.tag(2, WireType.Varint).int32(reply.status);
  }
  if (reply.leaderId !== 0) {
    writer.tag(3, WireType.Varint).uint32(reply.leaderId);
  }
  if (reply.leaderAddr !== '') {
    writer.tag(4, WireType.LengthDelimited).string(reply.leaderAddr);
  }
  if (reply.reason !== '') {
    writer.tag(5, WireType.LengthDelimited).string(reply.reason);
  }
  if (reply.resultJson !== '') {
    writer.tag(6, WireType.LengthDelimited).string(reply.resultJson);
  }
  if (reply.lsn !== 0) {
    writer.tag(7, WireType.Varint).int64(reply.lsn);
  }
}
