// Byte encoding of PersistOp batches and Messages. Messages are UTF-8 JSON, with bitmaps in
// TailBitmap's JSON form. Batches are binary (persist-binary.ts), and JSON batches from older
// data dirs still decode. Decoding validates every field and throws CodecError naming the first
// bad one, so storage and transport can reject corrupt or foreign bytes with a clear message.
import { TailBitmap } from './bitmap.js';
import { CodecError } from './errors.js';
import { decodeBinaryBatch, encodeBinaryBatch, FORMAT_BINARY_V1, type JsonFieldDecoders } from './persist-binary.js';
import type {
  Ballot,
  ClientTag,
  ClusterConfig,
  Command,
  CommandResult,
  DedupEntry,
  HardState,
  JsonValue,
  LogRecord,
  Message,
  MessageHeader,
  MicroOp,
  MicroOpResult,
  PersistOp,
  QuorumFamily,
  Snapshot,
} from './types.js';

const encoder = new TextEncoder();
/** '[': the first byte of a JSON-encoded persist batch. */
const JSON_ARRAY_START = 0x5b;
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Encodes a batch in the binary form (persist-binary.ts), which the WAL stores. */
export function encodePersistBatch(ops: PersistOp[]): Uint8Array {
  return encodeBinaryBatch(ops);
}

/** Encodes a batch as UTF-8 JSON, the form of data dirs written before the binary form existed. */
export function encodePersistBatchJson(ops: PersistOp[]): Uint8Array {
  return encoder.encode(JSON.stringify(ops));
}

const JSON_FIELD_DECODERS: JsonFieldDecoders = { persistOp, config };

/** Decodes a batch in either form: a JSON batch starts with '[', a binary one with FORMAT_BINARY_V1. */
export function decodePersistBatch(bytes: Uint8Array): PersistOp[] {
  if (bytes.length === 0) throw new CodecError('persist batch', 'empty');
  const format = bytes[0];
  if (format === FORMAT_BINARY_V1) return decodeBinaryBatch(bytes, JSON_FIELD_DECODERS);
  if (format !== JSON_ARRAY_START) {
    throw new CodecError('persist batch', `unknown format byte 0x${format.toString(16)}: expected 0x${FORMAT_BINARY_V1.toString(16)} (binary) or '[' (JSON)`);
  }
  return array(parse(bytes, 'persist batch'), 'persist batch').map((op, k) => persistOp(op, `persist batch[${k}]`));
}

export function encodeMessage(msg: Message): Uint8Array {
  return encoder.encode(JSON.stringify(msg));
}

export function decodeMessage(bytes: Uint8Array): Message {
  return message(parse(bytes, 'message'), 'message');
}

function parse(bytes: Uint8Array, path: string): unknown {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    throw new CodecError(path, 'bytes are not valid UTF-8');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new CodecError(path, `not valid JSON (${(error as Error).message})`);
  }
}

// ---------------------------------------------------------------------------------------------
// Primitive readers

function object(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CodecError(path, `expected an object, got ${describe(value)}`);
  return value as Record<string, unknown>;
}

function array(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) throw new CodecError(path, `expected an array, got ${describe(value)}`);
  return value;
}

function integer(value: unknown, path: string, min = 0): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new CodecError(path, `expected an integer >= ${min}, got ${describe(value)}`);
  }
  return value;
}

function finite(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new CodecError(path, `expected a number, got ${describe(value)}`);
  return value;
}

function string(value: unknown, path: string): string {
  if (typeof value !== 'string') throw new CodecError(path, `expected a string, got ${describe(value)}`);
  return value;
}

function boolean(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') throw new CodecError(path, `expected a boolean, got ${describe(value)}`);
  return value;
}

function oneOf<T extends string>(value: unknown, path: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new CodecError(path, `expected one of ${allowed.join(', ')}, got ${describe(value)}`);
  }
  return value as T;
}

function describe(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) return String(value);
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

/** Any JSON value; JSON.parse output needs no further check. */
function json(value: unknown, path: string): JsonValue {
  if (value === undefined) throw new CodecError(path, 'missing');
  return value as JsonValue;
}

function bitmap(value: unknown, path: string): TailBitmap {
  try {
    return TailBitmap.fromJSON(value);
  } catch (error) {
    throw new CodecError(path, (error as Error).message);
  }
}

// ---------------------------------------------------------------------------------------------
// Protocol values

function ballot(value: unknown, path: string): Ballot {
  const o = object(value, path);
  return { term: integer(o.term, `${path}.term`), id: integer(o.id, `${path}.id`) };
}

function ballotOrNull(value: unknown, path: string): Ballot | null {
  return value === null ? null : ballot(value, path);
}

function hardState(value: unknown, path: string): HardState {
  const o = object(value, path);
  return { votedFor: ballot(o.votedFor, `${path}.votedFor`), committer: ballotOrNull(o.committer, `${path}.committer`) };
}

function family(value: unknown, path: string): QuorumFamily {
  const o = object(value, path);
  const kind = oneOf(o.kind, `${path}.kind`, ['threshold', 'weighted', 'explicit'] as const);
  switch (kind) {
    case 'threshold':
      return {
        kind,
        positions: array(o.positions, `${path}.positions`).map((p, k) => integer(p, `${path}.positions[${k}]`)),
        threshold: integer(o.threshold, `${path}.threshold`),
      };
    case 'weighted':
      return {
        kind,
        weights: array(o.weights, `${path}.weights`).map((w, k) => {
          const item = object(w, `${path}.weights[${k}]`);
          return { position: integer(item.position, `${path}.weights[${k}].position`), weight: finite(item.weight, `${path}.weights[${k}].weight`) };
        }),
        threshold: finite(o.threshold, `${path}.threshold`),
      };
    case 'explicit':
      return {
        kind,
        quorums: array(o.quorums, `${path}.quorums`).map((q, k) =>
          array(q, `${path}.quorums[${k}]`).map((p, j) => integer(p, `${path}.quorums[${k}][${j}]`)),
        ),
      };
  }
}

function config(value: unknown, path: string): ClusterConfig {
  const o = object(value, path);
  return {
    members: array(o.members, `${path}.members`).map((m, k) => {
      const item = object(m, `${path}.members[${k}]`);
      return {
        id: integer(item.id, `${path}.members[${k}].id`),
        addr: string(item.addr, `${path}.members[${k}].addr`),
        position: integer(item.position, `${path}.members[${k}].position`),
      };
    }),
    families: array(o.families, `${path}.families`).map((f, k) => family(f, `${path}.families[${k}]`)),
  };
}

function microOp(value: unknown, path: string): MicroOp {
  const o = object(value, path);
  const f = oneOf(o.f, `${path}.f`, ['append', 'r'] as const);
  const key = string(o.key, `${path}.key`);
  return f === 'append' ? { f, key, value: json(o.value, `${path}.value`) } : { f, key };
}

function command(value: unknown, path: string): Command {
  const o = object(value, path);
  const kind = oneOf(o.kind, `${path}.kind`, ['noop', 'put', 'delete', 'cas', 'append', 'incr', 'txn', 'config'] as const);
  switch (kind) {
    case 'noop':
      return { kind };
    case 'put':
    case 'append':
      return { kind, key: string(o.key, `${path}.key`), value: json(o.value, `${path}.value`) };
    case 'delete':
      return { kind, key: string(o.key, `${path}.key`) };
    case 'cas':
      return { kind, key: string(o.key, `${path}.key`), expected: json(o.expected, `${path}.expected`), value: json(o.value, `${path}.value`) };
    case 'incr':
      return { kind, key: string(o.key, `${path}.key`), delta: finite(o.delta, `${path}.delta`) };
    case 'txn':
      return { kind, ops: array(o.ops, `${path}.ops`).map((op, k) => microOp(op, `${path}.ops[${k}]`)) };
    case 'config':
      return { kind, config: config(o.config, `${path}.config`) };
  }
}

function clientTag(value: unknown, path: string): ClientTag {
  const o = object(value, path);
  const tag: ClientTag = { clientId: string(o.clientId, `${path}.clientId`), seq: integer(o.seq, `${path}.seq`) };
  if (o.ackedThrough !== undefined) tag.ackedThrough = integer(o.ackedThrough, `${path}.ackedThrough`);
  return tag;
}

function record(value: unknown, path: string): LogRecord {
  const o = object(value, path);
  const result: LogRecord = {
    seq: integer(o.seq, `${path}.seq`),
    author: ballot(o.author, `${path}.author`),
    command: command(o.command, `${path}.command`),
    depends: bitmap(o.depends, `${path}.depends`),
    overrides: bitmap(o.overrides, `${path}.overrides`),
  };
  if (o.client !== undefined) result.client = clientTag(o.client, `${path}.client`);
  if (!result.overrides.has(result.seq)) throw new CodecError(`${path}.overrides`, `does not contain the record's own lsn ${result.seq}`);
  return result;
}

function records(value: unknown, path: string): LogRecord[] {
  return array(value, path).map((r, k) => record(r, `${path}[${k}]`));
}

function microOpResult(value: unknown, path: string): MicroOpResult {
  const o = object(value, path);
  const f = oneOf(o.f, `${path}.f`, ['append', 'r'] as const);
  return { f, key: string(o.key, `${path}.key`), value: json(o.value, `${path}.value`) };
}

function commandResult(value: unknown, path: string): CommandResult {
  const o = object(value, path);
  const kind = oneOf(o.kind, `${path}.kind`, ['done', 'cas', 'value', 'txn', 'error'] as const);
  switch (kind) {
    case 'done':
      return { kind };
    case 'cas':
      return { kind, swapped: boolean(o.swapped, `${path}.swapped`), current: json(o.current, `${path}.current`) };
    case 'value':
      return { kind, value: json(o.value, `${path}.value`) };
    case 'txn':
      return { kind, ops: array(o.ops, `${path}.ops`).map((op, k) => microOpResult(op, `${path}.ops[${k}]`)) };
    case 'error':
      return { kind, message: string(o.message, `${path}.message`) };
  }
}

function dedupEntry(value: unknown, path: string): DedupEntry {
  const o = object(value, path);
  return { clientId: string(o.clientId, `${path}.clientId`), seq: integer(o.seq, `${path}.seq`), result: commandResult(o.result, `${path}.result`) };
}

function snapshot(value: unknown, path: string): Snapshot {
  const o = object(value, path);
  return {
    floor: integer(o.floor, `${path}.floor`),
    applied: bitmap(o.applied, `${path}.applied`),
    committed: bitmap(o.committed, `${path}.committed`),
    config: config(o.config, `${path}.config`),
    configLsn: integer(o.configLsn, `${path}.configLsn`, -1),
    kv: array(o.kv, `${path}.kv`).map((entry, k) => {
      const pair = array(entry, `${path}.kv[${k}]`);
      if (pair.length !== 2) throw new CodecError(`${path}.kv[${k}]`, `expected a [key, value] pair, got ${pair.length} items`);
      return [string(pair[0], `${path}.kv[${k}][0]`), json(pair[1], `${path}.kv[${k}][1]`)] as [string, JsonValue];
    }),
    dedup: array(o.dedup, `${path}.dedup`).map((entry, k) => dedupEntry(entry, `${path}.dedup[${k}]`)),
    records: records(o.records, `${path}.records`),
  };
}

function persistOp(value: unknown, path: string): PersistOp {
  const o = object(value, path);
  const type = oneOf(o.type, `${path}.type`, ['hard-state', 'records', 'switch', 'committed', 'checkpoint'] as const);
  switch (type) {
    case 'hard-state':
      return { type, hardState: hardState(o.hardState, `${path}.hardState`) };
    case 'records':
      return { type, records: records(o.records, `${path}.records`) };
    case 'switch':
      return { type, committer: ballot(o.committer, `${path}.committer`), keep: bitmap(o.keep, `${path}.keep`), records: records(o.records, `${path}.records`) };
    case 'committed':
      return { type, committed: bitmap(o.committed, `${path}.committed`) };
    case 'checkpoint':
      return { type, hardState: hardState(o.hardState, `${path}.hardState`), snapshot: snapshot(o.snapshot, `${path}.snapshot`) };
  }
}

const MESSAGE_TYPES = [
  'elect',
  'elect-reply',
  'log-forward',
  'log-forward-reply',
  'install-snapshot',
  'install-snapshot-reply',
  'fetch-snapshot',
  'fetch-snapshot-reply',
] as const;

function message(value: unknown, path: string): Message {
  const o = object(value, path);
  const header: MessageHeader = {
    clusterId: string(o.clusterId, `${path}.clusterId`),
    from: integer(o.from, `${path}.from`),
    to: integer(o.to, `${path}.to`),
    requestId: integer(o.requestId, `${path}.requestId`),
  };
  const type = oneOf(o.type, `${path}.type`, MESSAGE_TYPES);
  const b = ballot(o.ballot, `${path}.ballot`);
  switch (type) {
    case 'elect':
      return {
        ...header,
        type,
        ballot: b,
        committer: ballotOrNull(o.committer, `${path}.committer`),
        accepted: bitmap(o.accepted, `${path}.accepted`),
        configLsn: integer(o.configLsn, `${path}.configLsn`, -1),
      };
    case 'elect-reply':
      return {
        ...header,
        type,
        ballot: b,
        granted: boolean(o.granted, `${path}.granted`),
        votedFor: ballot(o.votedFor, `${path}.votedFor`),
        committer: ballotOrNull(o.committer, `${path}.committer`),
        accepted: bitmap(o.accepted, `${path}.accepted`),
        committed: bitmap(o.committed, `${path}.committed`),
        records: records(o.records, `${path}.records`),
        snapshotOnly: bitmap(o.snapshotOnly, `${path}.snapshotOnly`),
        omitted: bitmap(o.omitted, `${path}.omitted`),
        configLsn: integer(o.configLsn, `${path}.configLsn`, -1),
      };
    case 'log-forward':
      return {
        ...header,
        type,
        ballot: b,
        base: bitmap(o.base, `${path}.base`),
        records: records(o.records, `${path}.records`),
        committed: bitmap(o.committed, `${path}.committed`),
        floor: integer(o.floor, `${path}.floor`),
      };
    case 'log-forward-reply':
      return {
        ...header,
        type,
        ballot: b,
        status: oneOf(o.status, `${path}.status`, ['ok', 'stale', 'need-sync', 'need-snapshot'] as const),
        votedFor: ballot(o.votedFor, `${path}.votedFor`),
        committer: ballotOrNull(o.committer, `${path}.committer`),
        accepted: bitmap(o.accepted, `${path}.accepted`),
        committed: bitmap(o.committed, `${path}.committed`),
        applied: bitmap(o.applied, `${path}.applied`),
      };
    case 'install-snapshot':
      return { ...header, type, ballot: b, snapshot: snapshot(o.snapshot, `${path}.snapshot`) };
    case 'install-snapshot-reply':
      return { ...header, type, ballot: b, installed: boolean(o.installed, `${path}.installed`), applied: bitmap(o.applied, `${path}.applied`) };
    case 'fetch-snapshot':
      return { ...header, type, ballot: b };
    case 'fetch-snapshot-reply':
      return { ...header, type, ballot: b, snapshot: o.snapshot === null ? null : snapshot(o.snapshot, `${path}.snapshot`) };
  }
}
