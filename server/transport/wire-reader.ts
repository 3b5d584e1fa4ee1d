// A protobuf reader for the hand-written codecs of the hot RPCs (peer-wire.ts, kv-wire.ts). It
// reads bytes the way fromBinary of @bufbuild/protobuf 2.13 does, so a hand-written decoder and
// the reflective one accept and reject the same bytes. The decoders follow fromBinary's rules:
// a known field is read by its declared type whatever its wire type, and a nested message ends
// once the reader passes its length. A singular message field that occurs twice is merged, and
// unknown fields are skipped.
import { BinaryReader, type WireType } from '@bufbuild/protobuf/wire';
import { WireError } from './json-wire.js';

/** Bytes that are not a valid protobuf encoding of the expected message. */
export class MalformedBytesError extends Error {
  override readonly name = 'MalformedBytesError';
}

/** Nesting depth limit of fromBinary's default read options, which also bounds skipped groups. */
const RECURSION_LIMIT = 100;

/** Largest high 32-bit half of a uint64 that is still a safe integer (2^53 - 1 >> 32). */
const SAFE_HIGH_MAX = 0x1fffff;

/**
 * A uint64 or int64 from the wire: a number when it is a safe integer, otherwise the bigint
 * that the range check reports.
 */
export type Uint64 = number | bigint;

export class WireReader extends BinaryReader {
  /**
   * Reads a tag like `tag()` and returns it as fieldNo * 8 + wireType, so `tag >>> 3` is the
   * field number and `tag & 7` the wire type. A one-byte tag (fields 1 to 15) is read without
   * allocating the pair that `tag()` returns.
   */
  nextTag(): number {
    const first = this.buf[this.pos];
    if (first !== undefined && first >= 8 && first < 0x80 && (first & 7) <= 5) {
      this.pos++;
      return first;
    }
    const [fieldNo, wireType] = this.tag();
    return fieldNo * 8 + wireType;
  }

  /** Reads a uint64 varint without allocating a bigint for safe values. */
  uint64Value(): Uint64 {
    const first = this.buf[this.pos];
    if (first !== undefined && first < 0x80) {
      this.pos++;
      return first;
    }
    const [low, high] = this.varint64();
    return this.uint64From(low, high);
  }

  /** Reads an int64 varint without allocating a bigint for safe values. */
  int64Value(): Uint64 {
    const [low, high] = this.varint64();
    if (high >= 0) {
      return this.uint64From(low, high);
    }
    // Two's complement: the value is high * 2^32 + low, exact as a double down to -2^53.
    if (high >= -(SAFE_HIGH_MAX + 1)) {
      const value = high * 0x1_0000_0000 + (low >>> 0);
      if (value >= Number.MIN_SAFE_INTEGER) {
        return value;
      }
    }
    return BigInt.asIntN(64, (BigInt(high >>> 0) << 32n) | BigInt(low >>> 0));
  }

  private uint64From(low: number, high: number): Uint64 {
    const highUnsigned = high >>> 0;
    if (highUnsigned <= SAFE_HIGH_MAX) {
      return highUnsigned * 0x1_0000_0000 + (low >>> 0);
    }
    return (BigInt(highUnsigned) << 32n) | BigInt(low >>> 0);
  }

  /** Reads the length of a nested message and returns the position where it ends. */
  messageEnd(depth: number): number {
    if (depth > RECURSION_LIMIT) {
      throw new MalformedBytesError(`maximum recursion depth of ${RECURSION_LIMIT} reached`);
    }
    return this.uint32() + this.pos;
  }

  skipField(fieldNo: number, wireType: WireType, depth: number): void {
    this.skip(wireType, fieldNo, RECURSION_LIMIT - depth);
  }
}

/** Converts a Uint64 to a number, or throws the WireError of convert.ts toSafeNumber. */
export function toSafe(value: Uint64, field: string): number {
  if (typeof value === 'bigint') {
    throw new WireError(`${field} = ${value} is outside the safe integer range`);
  }
  return value;
}

export interface RawHeader {
  clusterId: string;
  fromId: number;
  toId: number;
  requestId: Uint64;
}

export function readHeader(reader: WireReader, header: RawHeader | undefined, depth: number): RawHeader {
  const into = header ?? { clusterId: '', fromId: 0, toId: 0, requestId: 0 };
  const end = reader.messageEnd(depth);
  while (reader.pos < end) {
    const tag = reader.nextTag();
    const fieldNo = tag >>> 3;
    const wireType: WireType = tag & 7;
    switch (fieldNo) {
      case 1:
        into.clusterId = reader.string(true);
        break;
      case 2:
        into.fromId = reader.uint32();
        break;
      case 3:
        into.toId = reader.uint32();
        break;
      case 4:
        into.requestId = reader.uint64Value();
        break;
      default:
        reader.skipField(fieldNo, wireType, depth);
    }
  }
  return into;
}

/**
 * A message of a client id (field 1), a sequence number (field 2) and an acknowledged-through
 * watermark (field 3, 0 when absent): WriteTag and ClientTag.
 */
export interface RawClientTag {
  clientId: string;
  seq: Uint64;
  ackedThrough: Uint64;
}

/** Reads a WriteTag or ClientTag, merged into the fields of an earlier occurrence. */
export function readClientTag(reader: WireReader, earlier: RawClientTag | undefined, depth: number): RawClientTag {
  const into: RawClientTag = earlier ?? { clientId: '', seq: 0, ackedThrough: 0 };
  const end = reader.messageEnd(depth);
  while (reader.pos < end) {
    const tag = reader.nextTag();
    const fieldNo = tag >>> 3;
    const wireType: WireType = tag & 7;
    switch (fieldNo) {
      case 1:
        into.clientId = reader.string(true);
        break;
      case 2:
        into.seq = reader.uint64Value();
        break;
      case 3:
        into.ackedThrough = reader.uint64Value();
        break;
      default:
        reader.skipField(fieldNo, wireType, depth);
    }
  }
  return into;
}

/** Returns `error` unchanged when it is a WireError or MalformedBytesError, else as MalformedBytesError. */
export function asMalformed(error: unknown): Error {
  if (error instanceof WireError || error instanceof MalformedBytesError) {
    return error;
  }
  return new MalformedBytesError(error instanceof Error ? error.message : String(error));
}

