// Conversion between core values (Message, LogRecord, Snapshot, ClusterConfig) and the protobuf
// messages of proto/traft/v1. Everything read from the wire is validated here, so the core only
// receives well-formed values. Any problem raises a WireError naming the field.
import assert from 'node:assert';
import { create, toBinary } from '@bufbuild/protobuf';
import { WireType } from '@bufbuild/protobuf/wire';
import { TailBitmap } from '../core/bitmap.js';
import type {
  Ballot,
  ClusterConfig,
  DedupEntry,
  LogRecord,
  Message,
  MessageHeader,
  QuorumFamily,
  Snapshot,
} from '../core/types.js';
import {
  BallotSchema,
  BitmapSchema,
  ClusterConfigSchema,
  HeaderSchema,
  MemberSchema,
  QuorumFamilySchema,
  type Ballot as WireBallot,
  type Bitmap as WireBitmap,
  type ClusterConfig as WireClusterConfig,
  type Header as WireHeader,
  type QuorumFamily as WireQuorumFamily,
} from '../../proto/gen/traft/v1/common_pb.js';
import {
  ElectReplySchema,
  ElectRequestSchema,
  FetchSnapshotReplySchema,
  FetchSnapshotRequestSchema,
  InstallSnapshotReplySchema,
  InstallSnapshotRequestSchema,
  LogForwardReplySchema,
  LogForwardRequestSchema,
  LogForwardStatus,
  LogRecordSchema,
  SnapshotSchema,
  type ElectReply,
  type ElectRequest,
  type FetchSnapshotReply,
  type FetchSnapshotRequest,
  type InstallSnapshotReply,
  type InstallSnapshotRequest,
  type LogForwardReply,
  type LogForwardRequest,
  type LogRecord as WireLogRecord,
  type Snapshot as WireSnapshot,
} from '../../proto/gen/traft/v1/peer_pb.js';
import { commandResultSchema, commandSchema, jsonValueSchema, parseJsonField, WireError } from './json-wire.js';
import { ProtoWriter, varint32Size } from './proto-writer.js';

export { WireError };

function assertNever(value: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(value)}`);
}

// ---------------------------------------------------------------------------------------------
// Scalars

/** Converts a uint64/int64 from the wire to a safe integer, or throws a WireError. */
export function toSafeNumber(value: bigint, field: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new WireError(`${field} = ${value} is outside the safe integer range`);
  }
  return Number(value);
}

function required<T>(value: T | undefined, field: string): T {
  if (value === undefined) {
    throw new WireError(`${field} is missing`);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Header, ballot, bitmap

export function toWireHeader(header: MessageHeader): WireHeader {
  return create(HeaderSchema, {
    clusterId: header.clusterId,
    fromId: header.from,
    toId: header.to,
    requestId: BigInt(header.requestId),
  });
}

/**
 * Reads a peer message header and checks it is addressed to this node in this cluster. A wrong
 * cluster id means a member of another cluster reached this port, so it is rejected outright.
 */
export function fromWireHeader(header: WireHeader | undefined, expectedClusterId: string, selfId: number): MessageHeader {
  const wire = required(header, 'header');
  if (wire.clusterId !== expectedClusterId) {
    throw new WireError(
      `header.cluster_id ${JSON.stringify(wire.clusterId)} does not match this node's cluster id ${JSON.stringify(expectedClusterId)}`,
    );
  }
  if (wire.toId !== selfId) {
    throw new WireError(`header.to_id ${wire.toId} is not this node's id ${selfId}`);
  }
  return {
    clusterId: wire.clusterId,
    from: wire.fromId,
    to: wire.toId,
    requestId: toSafeNumber(wire.requestId, 'header.request_id'),
  };
}

export function toWireBallot(ballot: Ballot): WireBallot {
  return create(BallotSchema, { term: BigInt(ballot.term), id: ballot.id });
}

export function fromWireBallot(ballot: WireBallot | undefined, field: string): Ballot {
  const wire = required(ballot, field);
  return { term: toSafeNumber(wire.term, `${field}.term`), id: wire.id };
}

function toWireOptionalBallot(ballot: Ballot | null): WireBallot | undefined {
  return ballot === null ? undefined : toWireBallot(ballot);
}

function fromWireOptionalBallot(ballot: WireBallot | undefined, field: string): Ballot | null {
  return ballot === undefined ? null : fromWireBallot(ballot, field);
}

export function toWireBitmap(bitmap: TailBitmap): WireBitmap {
  const { offset, words } = bitmap.toProto();
  return create(BitmapSchema, { offset: BigInt(offset), words });
}

/** Decodes a bitmap; a missing one is the empty set, as an unset proto3 message field means "nothing". */
export function fromWireBitmap(bitmap: WireBitmap | undefined, field: string): TailBitmap {
  if (bitmap === undefined) {
    return TailBitmap.empty();
  }
  const offset = toSafeNumber(bitmap.offset, `${field}.offset`);
  try {
    return TailBitmap.fromProto({ offset, words: bitmap.words });
  } catch (error) {
    throw new WireError(`${field} is not a valid bitmap: ${(error as Error).message}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Cluster config

function toWireFamily(family: QuorumFamily): WireQuorumFamily {
  switch (family.kind) {
    case 'threshold':
      return create(QuorumFamilySchema, {
        kind: { case: 'threshold', value: { positions: family.positions, threshold: family.threshold } },
      });
    case 'weighted':
      return create(QuorumFamilySchema, {
        kind: { case: 'weighted', value: { weights: family.weights, threshold: family.threshold } },
      });
    case 'explicit':
      return create(QuorumFamilySchema, {
        kind: { case: 'explicit', value: { quorums: family.quorums.map((positions) => ({ positions })) } },
      });
    default:
      return assertNever(family);
  }
}

function fromWireFamily(family: WireQuorumFamily, field: string): QuorumFamily {
  const kind = family.kind;
  switch (kind.case) {
    case 'threshold':
      return { kind: 'threshold', positions: [...kind.value.positions], threshold: kind.value.threshold };
    case 'weighted':
      return {
        kind: 'weighted',
        weights: kind.value.weights.map((w) => ({ position: w.position, weight: w.weight })),
        threshold: kind.value.threshold,
      };
    case 'explicit':
      return { kind: 'explicit', quorums: kind.value.quorums.map((q) => [...q.positions]) };
    case undefined:
      throw new WireError(`${field} has no kind (threshold, weighted or explicit)`);
    default:
      return assertNever(kind);
  }
}

export function toWireConfig(config: ClusterConfig): WireClusterConfig {
  return create(ClusterConfigSchema, {
    members: config.members.map((m) => create(MemberSchema, { id: m.id, addr: m.addr, position: m.position })),
    families: config.families.map(toWireFamily),
  });
}

/** Reads a config's shape; the caller checks quorum properties with validateConfig. */
export function fromWireConfig(config: WireClusterConfig | undefined, field: string): ClusterConfig {
  const wire = required(config, field);
  const members = wire.members.map((m, i) => {
    if (m.position > 63) {
      throw new WireError(`${field}.members[${i}].position ${m.position} is above 63`);
    }
    return { id: m.id, addr: m.addr, position: m.position };
  });
  const families = wire.families.map((f, i) => fromWireFamily(f, `${field}.families[${i}]`));
  return { members, families };
}

// ---------------------------------------------------------------------------------------------
// Records and snapshots

export function toWireRecord(record: LogRecord): WireLogRecord {
  return create(LogRecordSchema, {
    seq: BigInt(record.seq),
    author: toWireBallot(record.author),
    commandJson: JSON.stringify(record.command),
    client: record.client ? { clientId: record.client.clientId, seq: BigInt(record.client.seq), ackedThrough: BigInt(record.client.ackedThrough ?? 0) } : undefined,
    depends: toWireBitmap(record.depends),
    overrides: toWireBitmap(record.overrides),
  });
}

export function fromWireRecord(record: WireLogRecord, field: string): LogRecord {
  const seq = toSafeNumber(record.seq, `${field}.seq`);
  if (seq < 0) {
    throw new WireError(`${field}.seq ${seq} is negative`);
  }
  const converted: LogRecord = {
    seq,
    author: fromWireBallot(record.author, `${field}.author`),
    command: parseJsonField(commandSchema, record.commandJson, `${field}.command_json`),
    depends: fromWireBitmap(record.depends, `${field}.depends`),
    overrides: fromWireBitmap(record.overrides, `${field}.overrides`),
  };
  if (record.client !== undefined) {
    converted.client = { clientId: record.client.clientId, seq: toSafeNumber(record.client.seq, `${field}.client.seq`) };
    if (record.client.ackedThrough !== 0n) converted.client.ackedThrough = toSafeNumber(record.client.ackedThrough, `${field}.client.acked_through`);
  }
  return converted;
}

function fromWireRecords(records: WireLogRecord[], field: string): LogRecord[] {
  return records.map((r, i) => fromWireRecord(r, `${field}[${i}]`));
}

export function toWireSnapshot(snapshot: Snapshot): WireSnapshot {
  return create(SnapshotSchema, {
    floor: BigInt(snapshot.floor),
    applied: toWireBitmap(snapshot.applied),
    committed: toWireBitmap(snapshot.committed),
    config: toWireConfig(snapshot.config),
    configLsn: BigInt(snapshot.configLsn),
    kv: snapshot.kv.map(([key, value]) => ({ key, valueJson: JSON.stringify(value) })),
    dedup: snapshot.dedup.map((d) => ({ clientId: d.clientId, seq: BigInt(d.seq), resultJson: JSON.stringify(d.result) })),
    records: snapshot.records.map(toWireRecord),
  });
}

export function fromWireSnapshot(snapshot: WireSnapshot | undefined, field: string): Snapshot {
  const wire = required(snapshot, field);
  const dedup: DedupEntry[] = wire.dedup.map((d, i) => ({
    clientId: d.clientId,
    seq: toSafeNumber(d.seq, `${field}.dedup[${i}].seq`),
    result: parseJsonField(commandResultSchema, d.resultJson, `${field}.dedup[${i}].result_json`),
  }));
  return {
    floor: toSafeNumber(wire.floor, `${field}.floor`),
    applied: fromWireBitmap(wire.applied, `${field}.applied`),
    committed: fromWireBitmap(wire.committed, `${field}.committed`),
    config: fromWireConfig(wire.config, `${field}.config`),
    configLsn: toSafeNumber(wire.configLsn, `${field}.config_lsn`),
    kv: wire.kv.map((e, i) => [e.key, parseJsonField(jsonValueSchema, e.valueJson, `${field}.kv[${i}].value_json`)]),
    dedup,
    records: fromWireRecords(wire.records, `${field}.records`),
  };
}

// ---------------------------------------------------------------------------------------------
// Peer messages

/** A core request message encoded for the peer RPC that carries it. */
export type WireRequest =
  | { method: 'elect'; request: ElectRequest }
  | { method: 'logForward'; request: LogForwardRequest }
  | { method: 'installSnapshot'; request: InstallSnapshotRequest }
  | { method: 'fetchSnapshot'; request: FetchSnapshotRequest };

/** A core reply message encoded for the response of the RPC it replies to. */
export type WireReply =
  | { method: 'elect'; reply: ElectReply }
  | { method: 'logForward'; reply: LogForwardReply }
  | { method: 'installSnapshot'; reply: InstallSnapshotReply }
  | { method: 'fetchSnapshot'; reply: FetchSnapshotReply };

export type PeerMethod = WireRequest['method'];

/** Returns the RPC a request carries, or the RPC whose response a reply rides on. */
export function methodOf(message: Message): { method: PeerMethod; isReply: boolean } {
  switch (message.type) {
    case 'elect':
      return { method: 'elect', isReply: false };
    case 'elect-reply':
      return { method: 'elect', isReply: true };
    case 'log-forward':
      return { method: 'logForward', isReply: false };
    case 'log-forward-reply':
      return { method: 'logForward', isReply: true };
    case 'install-snapshot':
      return { method: 'installSnapshot', isReply: false };
    case 'install-snapshot-reply':
      return { method: 'installSnapshot', isReply: true };
    case 'fetch-snapshot':
      return { method: 'fetchSnapshot', isReply: false };
    case 'fetch-snapshot-reply':
      return { method: 'fetchSnapshot', isReply: true };
    default:
      return assertNever(message);
  }
}

export const LOG_FORWARD_STATUS_TO_WIRE = {
  ok: LogForwardStatus.OK,
  stale: LogForwardStatus.STALE,
  'need-sync': LogForwardStatus.NEED_SYNC,
  'need-snapshot': LogForwardStatus.NEED_SNAPSHOT,
} as const;

export function fromWireLogForwardStatus(status: LogForwardStatus): 'ok' | 'stale' | 'need-sync' | 'need-snapshot' {
  switch (status) {
    case LogForwardStatus.OK:
      return 'ok';
    case LogForwardStatus.STALE:
      return 'stale';
    case LogForwardStatus.NEED_SYNC:
      return 'need-sync';
    case LogForwardStatus.NEED_SNAPSHOT:
      return 'need-snapshot';
    case LogForwardStatus.UNSPECIFIED:
      throw new WireError('log-forward reply status is unspecified');
    default:
      throw new WireError(`log-forward reply status ${String(status)} is unknown`);
  }
}

/** Encodes a core request message (elect, log-forward, install-snapshot, fetch-snapshot). */
export function toWireRequest(message: Message): WireRequest {
  const header = toWireHeader(message);
  switch (message.type) {
    case 'elect':
      return {
        method: 'elect',
        request: create(ElectRequestSchema, {
          header,
          ballot: toWireBallot(message.ballot),
          committer: toWireOptionalBallot(message.committer),
          accepted: toWireBitmap(message.accepted),
          configLsn: BigInt(message.configLsn),
        }),
      };
    case 'log-forward':
      return {
        method: 'logForward',
        request: create(LogForwardRequestSchema, {
          header,
          ballot: toWireBallot(message.ballot),
          base: toWireBitmap(message.base),
          records: message.records.map(toWireRecord),
          committed: toWireBitmap(message.committed),
          floor: BigInt(message.floor),
        }),
      };
    case 'install-snapshot':
      return {
        method: 'installSnapshot',
        request: create(InstallSnapshotRequestSchema, {
          header,
          ballot: toWireBallot(message.ballot),
          snapshot: toWireSnapshot(message.snapshot),
        }),
      };
    case 'fetch-snapshot':
      return {
        method: 'fetchSnapshot',
        request: create(FetchSnapshotRequestSchema, { header, ballot: toWireBallot(message.ballot) }),
      };
    case 'elect-reply':
    case 'log-forward-reply':
    case 'install-snapshot-reply':
    case 'fetch-snapshot-reply':
      throw new Error(`toWireRequest called with the reply type ${message.type}`);
    default:
      return assertNever(message);
  }
}

/**
 * Encoded LogRecord messages by record. A leader sends each record to every follower and again
 * in heartbeats, so it is encoded once. Core records are never mutated after they are built, and
 * the WeakMap drops an entry once the core drops the record.
 */
const encodedRecords = new WeakMap<LogRecord, Uint8Array>();

/** Field number of `records` in LogForwardRequest, read from the schema rather than repeated here. */
const LOG_FORWARD_RECORDS_FIELD = ((): number => {
  const field = LogForwardRequestSchema.fields.find((f) => f.localName === 'records');
  if (field === undefined) {
    throw new Error('LogForwardRequest has no records field; regenerate proto/gen');
  }
  return field.number;
})();

function encodedRecord(record: LogRecord): Uint8Array {
  let bytes = encodedRecords.get(record);
  if (bytes === undefined) {
    bytes = encodeRecord(record);
    encodedRecords.set(record, bytes);
  }
  return bytes;
}

/**
 * Encodes a record to protobuf bytes equal in meaning to toBinary(LogRecordSchema,
 * toWireRecord(record)). Written field by field because the leader encodes every record it
 * appends, and the reflective toBinary costs several times more per record.
 */
export function encodeRecord(record: LogRecord): Uint8Array {
  const writer = new ProtoWriter();
  writer.tag(1, WireType.Varint).uint64(record.seq);
  writeBallot(writer, 2, record.author);
  writer.tag(3, WireType.LengthDelimited).string(JSON.stringify(record.command));
  if (record.client !== undefined) {
    writer.tag(4, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string(record.client.clientId).tag(2, WireType.Varint).uint64(record.client.seq);
    if (record.client.ackedThrough !== undefined && record.client.ackedThrough !== 0) writer.tag(3, WireType.Varint).uint64(record.client.ackedThrough);
    writer.join();
  }
  writeBitmap(writer, 5, record.depends);
  writeBitmap(writer, 6, record.overrides);
  return writer.finish();
}

/**
 * Writes `bitmap` as the Bitmap message field `fieldNumber`, with its words packed. A fixed64 is
 * 8 little-endian bytes, so each word is its low and then its high 32-bit half.
 */
export function writeBitmap(writer: ProtoWriter, fieldNumber: number, bitmap: TailBitmap): void {
  const { offset, words32 } = bitmap.toProtoWords32();
  writer.tag(fieldNumber, WireType.LengthDelimited).fork();
  writer.tag(1, WireType.Varint).uint64(offset);
  if (words32.length > 0) {
    writer.tag(2, WireType.LengthDelimited).packedFixed64Halves(words32);
  }
  writer.join();
}

export function writeBallot(writer: ProtoWriter, fieldNumber: number, ballot: Ballot): void {
  writer.tag(fieldNumber, WireType.LengthDelimited).fork().tag(1, WireType.Varint).uint64(ballot.term).tag(2, WireType.Varint).uint32(ballot.id).join();
}

/**
 * Encodes a LogForward request to protobuf bytes equal in meaning to toBinary of
 * toWireRequest(message): the other fields first, then each record as one more occurrence of the
 * repeated `records` field, which protobuf decoders read the same in any field order.
 */
export function encodeLogForwardRequest(message: Extract<Message, { type: 'log-forward' }>): Uint8Array {
  // LogForwardRequest: header 1, ballot 2, base 3, records 4, committed 5, floor 6.
  const writer = new ProtoWriter();
  writer.tag(1, WireType.LengthDelimited).fork();
  writer.tag(1, WireType.LengthDelimited).string(message.clusterId);
  writer.tag(2, WireType.Varint).uint32(message.from);
  writer.tag(3, WireType.Varint).uint32(message.to);
  writer.tag(4, WireType.Varint).uint64(message.requestId);
  writer.join();
  writeBallot(writer, 2, message.ballot);
  writeBitmap(writer, 3, message.base);
  writeBitmap(writer, 5, message.committed);
  writer.tag(6, WireType.Varint).uint64(message.floor);
  const head = writer.finish();

  // The records are copied once into a buffer of the exact size instead of growing the
  // writer's buffer record by record.
  const records = message.records.map(encodedRecord);
  let sizeBytes = head.length;
  for (const bytes of records) {
    sizeBytes += 1 + varint32Size(bytes.length) + bytes.length;
  }
  const out = Buffer.allocUnsafe(sizeBytes);
  out.set(head, 0);
  let pos = head.length;
  for (const bytes of records) {
    out[pos++] = RECORDS_TAG;
    pos = writeVarint32(out, pos, bytes.length);
    out.set(bytes, pos);
    pos += bytes.length;
  }
  assert(pos === sizeBytes, `LogForward encoding wrote ${pos} of ${sizeBytes} bytes`);
  return out;
}

/** The one-byte tag of the `records` field with wire type LengthDelimited. */
const RECORDS_TAG = LOG_FORWARD_RECORDS_FIELD * 8 + WireType.LengthDelimited;
assert(RECORDS_TAG < 0x80, 'the records field of LogForwardRequest needs a field number below 16');

/** Writes `value` (a uint32) as a varint at `pos` and returns the position after it. */
function writeVarint32(out: Uint8Array, pos: number, value: number): number {
  while (value >= 0x80) {
    out[pos++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  out[pos++] = value;
  return pos;
}

/** Encodes a core reply message for the response of the RPC it replies to. */
export function toWireReply(message: Message): WireReply {
  const header = toWireHeader(message);
  switch (message.type) {
    case 'elect-reply':
      return {
        method: 'elect',
        reply: create(ElectReplySchema, {
          header,
          ballot: toWireBallot(message.ballot),
          granted: message.granted,
          votedFor: toWireBallot(message.votedFor),
          committer: toWireOptionalBallot(message.committer),
          accepted: toWireBitmap(message.accepted),
          committed: toWireBitmap(message.committed),
          records: message.records.map(toWireRecord),
          snapshotOnly: toWireBitmap(message.snapshotOnly),
          omitted: toWireBitmap(message.omitted),
          configLsn: BigInt(message.configLsn),
        }),
      };
    case 'log-forward-reply':
      return {
        method: 'logForward',
        reply: create(LogForwardReplySchema, {
          header,
          ballot: toWireBallot(message.ballot),
          status: LOG_FORWARD_STATUS_TO_WIRE[message.status],
          votedFor: toWireBallot(message.votedFor),
          committer: toWireOptionalBallot(message.committer),
          accepted: toWireBitmap(message.accepted),
          committed: toWireBitmap(message.committed),
          applied: toWireBitmap(message.applied),
        }),
      };
    case 'install-snapshot-reply':
      return {
        method: 'installSnapshot',
        reply: create(InstallSnapshotReplySchema, {
          header,
          ballot: toWireBallot(message.ballot),
          installed: message.installed,
          applied: toWireBitmap(message.applied),
        }),
      };
    case 'fetch-snapshot-reply':
      return {
        method: 'fetchSnapshot',
        reply: create(FetchSnapshotReplySchema, {
          header,
          ballot: toWireBallot(message.ballot),
          snapshot: message.snapshot === null ? undefined : toWireSnapshot(message.snapshot),
        }),
      };
    case 'elect':
    case 'log-forward':
    case 'install-snapshot':
    case 'fetch-snapshot':
      throw new Error(`toWireReply called with the request type ${message.type}`);
    default:
      return assertNever(message);
  }
}

/** Decodes and validates a peer request addressed to node `selfId` of cluster `clusterId`. */
export function fromWireRequest(wire: WireRequest, clusterId: string, selfId: number): Message {
  switch (wire.method) {
    case 'elect': {
      const r = wire.request;
      return {
        ...fromWireHeader(r.header, clusterId, selfId),
        type: 'elect',
        ballot: fromWireBallot(r.ballot, 'ballot'),
        committer: fromWireOptionalBallot(r.committer, 'committer'),
        accepted: fromWireBitmap(r.accepted, 'accepted'),
        configLsn: toSafeNumber(r.configLsn, 'config_lsn'),
      };
    }
    case 'logForward': {
      const r = wire.request;
      return {
        ...fromWireHeader(r.header, clusterId, selfId),
        type: 'log-forward',
        ballot: fromWireBallot(r.ballot, 'ballot'),
        base: fromWireBitmap(r.base, 'base'),
        records: fromWireRecords(r.records, 'records'),
        committed: fromWireBitmap(r.committed, 'committed'),
        floor: toSafeNumber(r.floor, 'floor'),
      };
    }
    case 'installSnapshot': {
      const r = wire.request;
      return {
        ...fromWireHeader(r.header, clusterId, selfId),
        type: 'install-snapshot',
        ballot: fromWireBallot(r.ballot, 'ballot'),
        snapshot: fromWireSnapshot(r.snapshot, 'snapshot'),
      };
    }
    case 'fetchSnapshot': {
      const r = wire.request;
      return {
        ...fromWireHeader(r.header, clusterId, selfId),
        type: 'fetch-snapshot',
        ballot: fromWireBallot(r.ballot, 'ballot'),
      };
    }
    default:
      return assertNever(wire);
  }
}

/** Decodes and validates a peer reply addressed to node `selfId` of cluster `clusterId`. */
export function fromWireReply(wire: WireReply, clusterId: string, selfId: number): Message {
  switch (wire.method) {
    case 'elect': {
      const r = wire.reply;
      return {
        ...fromWireHeader(r.header, clusterId, selfId),
        type: 'elect-reply',
        ballot: fromWireBallot(r.ballot, 'ballot'),
        granted: r.granted,
        votedFor: fromWireBallot(r.votedFor, 'voted_for'),
        committer: fromWireOptionalBallot(r.committer, 'committer'),
        accepted: fromWireBitmap(r.accepted, 'accepted'),
        committed: fromWireBitmap(r.committed, 'committed'),
        records: fromWireRecords(r.records, 'records'),
        snapshotOnly: fromWireBitmap(r.snapshotOnly, 'snapshot_only'),
        omitted: fromWireBitmap(r.omitted, 'omitted'),
        configLsn: toSafeNumber(r.configLsn, 'config_lsn'),
      };
    }
    case 'logForward': {
      const r = wire.reply;
      return {
        ...fromWireHeader(r.header, clusterId, selfId),
        type: 'log-forward-reply',
        ballot: fromWireBallot(r.ballot, 'ballot'),
        status: fromWireLogForwardStatus(r.status),
        votedFor: fromWireBallot(r.votedFor, 'voted_for'),
        committer: fromWireOptionalBallot(r.committer, 'committer'),
        accepted: fromWireBitmap(r.accepted, 'accepted'),
        committed: fromWireBitmap(r.committed, 'committed'),
        applied: fromWireBitmap(r.applied, 'applied'),
      };
    }
    case 'installSnapshot': {
      const r = wire.reply;
      return {
        ...fromWireHeader(r.header, clusterId, selfId),
        type: 'install-snapshot-reply',
        ballot: fromWireBallot(r.ballot, 'ballot'),
        installed: r.installed,
        applied: fromWireBitmap(r.applied, 'applied'),
      };
    }
    case 'fetchSnapshot': {
      const r = wire.reply;
      return {
        ...fromWireHeader(r.header, clusterId, selfId),
        type: 'fetch-snapshot-reply',
        ballot: fromWireBallot(r.ballot, 'ballot'),
        snapshot: r.snapshot === undefined ? null : fromWireSnapshot(r.snapshot, 'snapshot'),
      };
    }
    default:
      return assertNever(wire);
  }
}
