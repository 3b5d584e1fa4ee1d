// Protobuf encoding of the client's Batch requests, written field by field. The client encodes
// every call it makes, and the reflective toBinary of protobuf-es costs several times more per
// call than these writes. wire.test.ts checks each encoder against toBinary of the same message.
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import type { Header } from '../../proto/gen/traft/v1/common_pb.js';
import type { ReadConsistency } from '../../proto/gen/traft/v1/kv_pb.js';

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
}

/** Field numbers of BatchItem's `request` oneof, as in kv.proto. */
const ITEM_FIELD = { put: 1, delete: 2, cas: 3, append: 4, incr: 5, txn: 6, get: 7 } as const;
/** Field numbers shared by the write requests: header 1, tag 2, key 3. */
const TAG_FIELD = 2;
const KEY_FIELD = 3;
const BATCH_HEADER_FIELD = 1;
const BATCH_ITEMS_FIELD = 2;

/** Encodes `call` as a BatchItem. `tag` is required for writes and ignored for a get. */
export function encodeBatchItem(call: KvCall, tag: WriteTagFields | undefined): Uint8Array {
  const writer = new BinaryWriter();
  writer.tag(ITEM_FIELD[call.kind], WireType.LengthDelimited).fork();
  if (call.kind === 'get') {
    // GetRequest: header 1, key 2, consistency 3.
    writer.tag(2, WireType.LengthDelimited).string(call.key);
    writer.tag(3, WireType.Varint).int32(call.consistency);
    return writer.join().finish();
  }
  if (tag !== undefined) {
    writer.tag(TAG_FIELD, WireType.LengthDelimited).fork();
    writer.tag(1, WireType.LengthDelimited).string(tag.clientId);
    writer.tag(2, WireType.Varint).uint64(tag.seq);
    writer.join();
  }
  writeCallFields(writer, call);
  return writer.join().finish();
}

function writeCallFields(writer: BinaryWriter, call: Exclude<KvCall, { kind: 'get' }>): void {
  switch (call.kind) {
    case 'put':
    case 'append':
      writer.tag(KEY_FIELD, WireType.LengthDelimited).string(call.key);
      writer.tag(4, WireType.LengthDelimited).string(call.valueJson);
      return;
    case 'delete':
      writer.tag(KEY_FIELD, WireType.LengthDelimited).string(call.key);
      return;
    case 'cas':
      writer.tag(KEY_FIELD, WireType.LengthDelimited).string(call.key);
      writer.tag(4, WireType.LengthDelimited).string(call.expectedJson);
      writer.tag(5, WireType.LengthDelimited).string(call.valueJson);
      return;
    case 'incr':
      writer.tag(KEY_FIELD, WireType.LengthDelimited).string(call.key);
      writer.tag(4, WireType.Varint).int64(call.delta);
      return;
    case 'txn':
      // TxnRequest: ops 3, each a MicroOp (f 1, key 2, value_json 3).
      for (const op of call.ops) {
        writer.tag(3, WireType.LengthDelimited).fork();
        writer.tag(1, WireType.LengthDelimited).string(op.f);
        writer.tag(2, WireType.LengthDelimited).string(op.key);
        writer.tag(3, WireType.LengthDelimited).string(op.valueJson);
        writer.join();
      }
      return;
    default: {
      const unexpected: never = call;
      throw new Error(`unexpected call ${JSON.stringify(unexpected)}`);
    }
  }
}

/** Encodes a BatchRequest from its header and items encoded by encodeBatchItem. */
export function encodeBatchRequest(header: Header, items: readonly Uint8Array[]): Uint8Array {
  const writer = new BinaryWriter();
  writer.tag(BATCH_HEADER_FIELD, WireType.LengthDelimited).fork();
  writer.tag(1, WireType.LengthDelimited).string(header.clusterId);
  writer.tag(2, WireType.Varint).uint32(header.fromId);
  writer.tag(3, WireType.Varint).uint32(header.toId);
  writer.tag(4, WireType.Varint).uint64(header.requestId);
  writer.join();
  for (const item of items) {
    writer.tag(BATCH_ITEMS_FIELD, WireType.LengthDelimited).bytes(item);
  }
  return writer.finish();
}
