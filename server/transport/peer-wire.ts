// Hand-written protobuf codecs for the LogForward RPC, the replication hot path. They read bytes
// straight into core messages and write core replies straight to bytes, with no protobuf-es
// message in between. They make the same checks with the same WireError messages as fromBinary
// followed by fromWireRequest or fromWireReply in convert.ts, and peer-wire.test.ts compares them.
//
// WireReader (wire-reader.ts) reads the bytes, so both paths reject the same malformed bytes.
import { WireType } from '@bufbuild/protobuf/wire';
import { TailBitmap } from '../core/bitmap.js';
import type { Ballot, LogRecord, Message, MessageHeader } from '../core/types.js';
import { LOG_FORWARD_STATUS_TO_WIRE, fromWireLogForwardStatus, writeBallot, writeBitmap } from './convert.js';
import { parseCommandJson } from './command-json.js';
import { ProtoWriter } from './proto-writer.js';
import { WireError } from './json-wire.js';
import { asMalformed, readClientTag, readHeader, toSafe, WireReader, type RawClientTag, type RawHeader, type Uint64 } from './wire-reader.js';

export { MalformedBytesError } from './wire-reader.js';

type LogForward = Extract<Message, { type: 'log-forward' }>;
type LogForwardReply = Extract<Message, { type: 'log-forward-reply' }>;

// ---------------------------------------------------------------------------------------------
// Raw fields, read before they are checked so that checks run in the order of convert.ts

interface RawBallot {
  term: Uint64;
  id: number;
}

interface RawBitmap {
  offset: Uint64;
  words: bigint[];
}

function readBallot(reader: WireReader, ballot: RawBallot | undefined, depth: number): RawBallot {
  const into = ballot ?? { term: 0, id: 0 };
  const end = reader.messageEnd(depth);
  while (reader.pos < end) {
    const tag = reader.nextTag();
    const fieldNo = tag >>> 3;
    const wireType: WireType = tag & 7;
    switch (fieldNo) {
      case 1:
        into.term = reader.uint64Value();
        break;
      case 2:
        into.id = reader.uint32();
        break;
      default:
        reader.skipField(fieldNo, wireType, depth);
    }
  }
  return into;
}

function readBitmap(reader: WireReader, bitmap: RawBitmap | undefined, depth: number): RawBitmap {
  const into = bitmap ?? { offset: 0, words: [] };
  const end = reader.messageEnd(depth);
  while (reader.pos < end) {
    const tag = reader.nextTag();
    const fieldNo = tag >>> 3;
    const wireType: WireType = tag & 7;
    switch (fieldNo) {
      case 1:
        into.offset = reader.uint64Value();
        break;
      case 2:
        readWords(reader, wireType, into.words);
        break;
      default:
        reader.skipField(fieldNo, wireType, depth);
    }
  }
  return into;
}

/** Reads `repeated fixed64 words`, packed (one length-delimited run) or one word per field. */
function readWords(reader: WireReader, wireType: WireType, words: bigint[]): void {
  if (wireType !== WireType.LengthDelimited) {
    words.push(reader.fixed64() as bigint);
    return;
  }
  const end = reader.uint32() + reader.pos;
  while (reader.pos < end) {
    words.push(reader.fixed64() as bigint);
  }
}

// ---------------------------------------------------------------------------------------------
// Checks, with the messages of fromWireHeader, fromWireBallot and fromWireBitmap in convert.ts

function checkHeader(header: RawHeader | undefined, expectedClusterId: string, selfId: number): MessageHeader {
  if (header === undefined) {
    throw new WireError('header is missing');
  }
  if (header.clusterId !== expectedClusterId) {
    throw new WireError(
      `header.cluster_id ${JSON.stringify(header.clusterId)} does not match this node's cluster id ${JSON.stringify(expectedClusterId)}`,
    );
  }
  if (header.toId !== selfId) {
    throw new WireError(`header.to_id ${header.toId} is not this node's id ${selfId}`);
  }
  return {
    clusterId: header.clusterId,
    from: header.fromId,
    to: header.toId,
    requestId: toSafe(header.requestId, 'header.request_id'),
  };
}

function checkBallot(ballot: RawBallot | undefined, field: string): Ballot {
  if (ballot === undefined) {
    throw new WireError(`${field} is missing`);
  }
  return { term: toSafe(ballot.term, `${field}.term`), id: ballot.id };
}

function checkOptionalBallot(ballot: RawBallot | undefined, field: string): Ballot | null {
  return ballot === undefined ? null : checkBallot(ballot, field);
}

function checkBitmap(bitmap: RawBitmap | undefined, field: string): TailBitmap {
  if (bitmap === undefined) {
    return TailBitmap.empty();
  }
  const offset = toSafe(bitmap.offset, `${field}.offset`);
  try {
    // NOTE: fromProto takes bigint words, so each word costs a bigint; a core constructor from
    // 32-bit halves would avoid that.
    return TailBitmap.fromProto({ offset, words: bitmap.words });
  } catch (error) {
    throw new WireError(`${field} is not a valid bitmap: ${(error as Error).message}`);
  }
}

// ---------------------------------------------------------------------------------------------
// LogRecord

/** Reads one LogRecord and checks it in the order of fromWireRecord in convert.ts. */
function readRecord(reader: WireReader, depth: number, recordsField: string, index: number): LogRecord {
  let seq: Uint64 = 0;
  let author: RawBallot | undefined;
  let commandJson = '';
  let client: RawClientTag | undefined;
  let depends: RawBitmap | undefined;
  let overrides: RawBitmap | undefined;

  const end = reader.messageEnd(depth);
  while (reader.pos < end) {
    const tag = reader.nextTag();
    const fieldNo = tag >>> 3;
    const wireType: WireType = tag & 7;
    switch (fieldNo) {
      case 1:
        seq = reader.uint64Value();
        break;
      case 2:
        author = readBallot(reader, author, depth + 1);
        break;
      case 3:
        commandJson = reader.string(true);
        break;
      case 4:
        client = readClientTag(reader, client, depth + 1);
        break;
      case 5:
        depends = readBitmap(reader, depends, depth + 1);
        break;
      case 6:
        overrides = readBitmap(reader, overrides, depth + 1);
        break;
      default:
        reader.skipField(fieldNo, wireType, depth);
    }
  }

  const field = `${recordsField}[${index}]`;
  const record: LogRecord = {
    seq: toSafe(seq, `${field}.seq`),
    author: checkBallot(author, `${field}.author`),
    command: parseCommandJson(commandJson, `${field}.command_json`),
    depends: checkBitmap(depends, `${field}.depends`),
    overrides: checkBitmap(overrides, `${field}.overrides`),
  };
  if (client !== undefined) {
    record.client = { clientId: client.clientId, seq: toSafe(client.seq, `${field}.client.seq`) };
    if (client.ackedThrough !== 0) record.client.ackedThrough = toSafe(client.ackedThrough, `${field}.client.acked_through`);
  }
  return record;
}

// ---------------------------------------------------------------------------------------------
// LogForwardRequest

/**
 * Decodes LogForwardRequest bytes into the core `log-forward` message addressed to node `selfId`
 * of cluster `clusterId`. Throws MalformedBytesError for bytes fromBinary rejects, else a
 * WireError with the message fromWireRequest gives.
 */
export function decodeLogForwardRequest(bytes: Uint8Array, clusterId: string, selfId: number): LogForward {
  // LogForwardRequest: header 1, ballot 2, base 3, records 4, committed 5, floor 6.
  const reader = new WireReader(bytes);
  const depth = 1;
  let header: RawHeader | undefined;
  let ballot: RawBallot | undefined;
  let base: RawBitmap | undefined;
  let committed: RawBitmap | undefined;
  let floor: Uint64 = 0;
  const records: LogRecord[] = [];
  let recordCount = 0;
  // The first invalid record, reported after the header, ballot and base checks as convert.ts
  // does, and only once all bytes are known to be well-formed.
  let recordError: WireError | undefined;

  try {
    while (reader.pos < bytes.byteLength) {
      const tag = reader.nextTag();
      const fieldNo = tag >>> 3;
      const wireType: WireType = tag & 7;
      switch (fieldNo) {
        case 1:
          header = readHeader(reader, header, depth + 1);
          break;
        case 2:
          ballot = readBallot(reader, ballot, depth + 1);
          break;
        case 3:
          base = readBitmap(reader, base, depth + 1);
          break;
        case 4: {
          const index = recordCount++;
          try {
            records.push(readRecord(reader, depth + 1, 'records', index));
          } catch (error) {
            if (!(error instanceof WireError)) {
              throw error;
            }
            recordError ??= error;
          }
          break;
        }
        case 5:
          committed = readBitmap(reader, committed, depth + 1);
          break;
        case 6:
          floor = reader.uint64Value();
          break;
        default:
          reader.skipField(fieldNo, wireType, depth);
      }
    }
  } catch (error) {
    throw asMalformed(error);
  }

  // The header fields are copied one by one, because in V8 (Node 20) a spread followed by more
  // properties made this decode several times slower in wire.bench.ts.
  const checkedHeader = checkHeader(header, clusterId, selfId);
  const message: LogForward = {
    clusterId: checkedHeader.clusterId,
    from: checkedHeader.from,
    to: checkedHeader.to,
    requestId: checkedHeader.requestId,
    type: 'log-forward',
    ballot: checkBallot(ballot, 'ballot'),
    base: checkBitmap(base, 'base'),
    records,
    committed: TailBitmap.empty(),
    floor: 0,
  };
  if (recordError !== undefined) {
    throw recordError;
  }
  message.committed = checkBitmap(committed, 'committed');
  message.floor = toSafe(floor, 'floor');
  return message;
}

// ---------------------------------------------------------------------------------------------
// LogForwardResponse

/**
 * Encodes the LogForwardResponse that carries `reply`, or an empty response when there is none,
 * equal in meaning to toBinary of the response built from toWireReply(reply).
 */
export function encodeLogForwardResponse(reply: LogForwardReply | null): Uint8Array {
  const writer = new ProtoWriter();
  if (reply === null) {
    return writer.finish();
  }
  // LogForwardResponse: reply 1. LogForwardReply: header 1, ballot 2, status 3, voted_for 4,
  // committer 5, accepted 6, committed 7, applied 8.
  writer.tag(1, WireType.LengthDelimited).fork();
  writer.tag(1, WireType.LengthDelimited).fork();
  writer.tag(1, WireType.LengthDelimited).string(reply.clusterId);
  writer.tag(2, WireType.Varint).uint32(reply.from);
  writer.tag(3, WireType.Varint).uint32(reply.to);
  writer.tag(4, WireType.Varint).uint64(reply.requestId);
  writer.join();
  writeBallot(writer, 2, reply.ballot);
  writer.tag(3, WireType.Varint).int32(LOG_FORWARD_STATUS_TO_WIRE[reply.status]);
  writeBallot(writer, 4, reply.votedFor);
  if (reply.committer !== null) {
    writeBallot(writer, 5, reply.committer);
  }
  writeBitmap(writer, 6, reply.accepted);
  writeBitmap(writer, 7, reply.committed);
  writeBitmap(writer, 8, reply.applied);
  writer.join();
  return writer.finish();
}

interface RawLogForwardReply {
  header: RawHeader | undefined;
  ballot: RawBallot | undefined;
  status: number;
  votedFor: RawBallot | undefined;
  committer: RawBallot | undefined;
  accepted: RawBitmap | undefined;
  committed: RawBitmap | undefined;
  applied: RawBitmap | undefined;
}

/**
 * Decodes LogForwardResponse bytes into the core `log-forward-reply` it carries, addressed to
 * node `selfId` of cluster `clusterId`, or null when it carries none. Throws MalformedBytesError
 * for bytes fromBinary rejects, else a WireError with the message fromWireReply gives.
 */
export function decodeLogForwardResponse(bytes: Uint8Array, clusterId: string, selfId: number): LogForwardReply | null {
  const reader = new WireReader(bytes);
  let raw: RawLogForwardReply | undefined;
  try {
    while (reader.pos < bytes.byteLength) {
      const tag = reader.nextTag();
      const fieldNo = tag >>> 3;
      const wireType: WireType = tag & 7;
      if (fieldNo === 1) {
        raw = readLogForwardReply(reader, raw, 2);
      } else {
        reader.skipField(fieldNo, wireType, 1);
      }
    }
  } catch (error) {
    throw asMalformed(error);
  }
  if (raw === undefined) {
    return null;
  }
  const checkedHeader = checkHeader(raw.header, clusterId, selfId);
  return {
    clusterId: checkedHeader.clusterId,
    from: checkedHeader.from,
    to: checkedHeader.to,
    requestId: checkedHeader.requestId,
    type: 'log-forward-reply',
    ballot: checkBallot(raw.ballot, 'ballot'),
    status: fromWireLogForwardStatus(raw.status),
    votedFor: checkBallot(raw.votedFor, 'voted_for'),
    committer: checkOptionalBallot(raw.committer, 'committer'),
    accepted: checkBitmap(raw.accepted, 'accepted'),
    committed: checkBitmap(raw.committed, 'committed'),
    applied: checkBitmap(raw.applied, 'applied'),
  };
}

function readLogForwardReply(reader: WireReader, reply: RawLogForwardReply | undefined, depth: number): RawLogForwardReply {
  const into: RawLogForwardReply = reply ?? {
    header: undefined,
    ballot: undefined,
    status: 0,
    votedFor: undefined,
    committer: undefined,
    accepted: undefined,
    committed: undefined,
    applied: undefined,
  };
  const end = reader.messageEnd(depth);
  while (reader.pos < end) {
    const tag = reader.nextTag();
    const fieldNo = tag >>> 3;
    const wireType: WireType = tag & 7;
    switch (fieldNo) {
      case 1:
        into.header = readHeader(reader, into.header, depth + 1);
        break;
      case 2:
        into.ballot = readBallot(reader, into.ballot, depth + 1);
        break;
      case 3:
        into.status = reader.int32();
        break;
      case 4:
        into.votedFor = readBallot(reader, into.votedFor, depth + 1);
        break;
      case 5:
        into.committer = readBallot(reader, into.committer, depth + 1);
        break;
      case 6:
        into.accepted = readBitmap(reader, into.accepted, depth + 1);
        break;
      case 7:
        into.committed = readBitmap(reader, into.committed, depth + 1);
        break;
      case 8:
        into.applied = readBitmap(reader, into.applied, depth + 1);
        break;
      default:
        reader.skipField(fieldNo, wireType, depth);
    }
  }
  return into;
}
