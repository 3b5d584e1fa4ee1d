// A protobuf writer for the hand-written codecs of the hot RPCs. It writes into one growing
// buffer: a nested message reserves one length byte and moves its content only when the length
// needs more. BinaryWriter of protobuf-es instead allocates arrays on every fork() and join(),
// which costs about a microsecond per nested message (wire.bench.ts, Node 20).
//
// Allocating a typed array costs more than writing a small message into it. So writers share
// one scratch buffer when it is free, and finish() copies the result into a Buffer from Node's
// pool (Buffer.allocUnsafe), which allocates no new memory for small sizes.
import { WireType } from '@bufbuild/protobuf/wire';

const TWO_POW_32 = 0x1_0000_0000;

const utf8Encoder = new TextEncoder();

/** Initial size of the shared scratch buffer; it grows like any writer buffer. */
const SCRATCH_BYTES = 64 * 1024;

/** The shared scratch buffer, or null while a writer uses it. */
let scratch: Buffer | null = Buffer.allocUnsafe(SCRATCH_BYTES);

export class ProtoWriter {
  private buf: Buffer;
  private pos = 0;
  private ownsScratch: boolean;
  /** Start positions of the content of the nested messages being written. */
  private readonly forks: number[] = [];

  constructor(capacityBytes = 128) {
    if (scratch !== null) {
      this.buf = scratch;
      this.ownsScratch = true;
      scratch = null;
    } else {
      this.buf = Buffer.allocUnsafe(Math.max(capacityBytes, 64));
      this.ownsScratch = false;
    }
  }

  /** Returns a copy of the bytes written and releases the buffer; the writer is done. */
  finish(): Buffer {
    if (this.forks.length > 0) {
      throw new Error(`ProtoWriter.finish with ${this.forks.length} nested messages still open`);
    }
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    if (this.ownsScratch) {
      // A buffer grown for one large message is dropped rather than kept as scratch.
      scratch = this.buf.length <= SCRATCH_BYTES ? this.buf : Buffer.allocUnsafe(SCRATCH_BYTES);
      this.ownsScratch = false;
    }
    this.pos = 0;
    return out;
  }

  tag(fieldNo: number, wireType: WireType): this {
    return this.uint32(fieldNo * 8 + wireType);
  }

  uint32(value: number): this {
    this.reserve(5);
    let rest = value >>> 0;
    while (rest >= 0x80) {
      this.buf[this.pos++] = (rest & 0x7f) | 0x80;
      rest >>>= 7;
    }
    this.buf[this.pos++] = rest;
    return this;
  }

  /** Writes an int32 varint; a negative value takes ten bytes, as protobuf requires. */
  int32(value: number): this {
    return value >= 0 ? this.uint32(value) : this.varint64(value >>> 0, 0xffffffff);
  }

  /** Writes a uint64 varint from a non-negative safe integer or a bigint below 2^64. */
  uint64(value: number | bigint): this {
    if (typeof value === 'bigint') {
      return this.varint64(Number(value & 0xffffffffn), Number((value >> 32n) & 0xffffffffn));
    }
    return this.varint64(value >>> 0, Math.floor(value / TWO_POW_32) >>> 0);
  }

  /** Writes an int64 varint from a safe integer; a negative value is its 64-bit two's complement. */
  int64(value: number): this {
    return this.varint64(value >>> 0, Math.floor(value / TWO_POW_32) >>> 0);
  }

  string(value: string): this {
    // ASCII text, the common case, is copied char by char after a length of value.length bytes.
    const start = this.pos;
    this.uint32(value.length);
    this.reserve(value.length);
    for (let i = 0; i < value.length; i++) {
      const code = value.charCodeAt(i);
      if (code >= 0x80) {
        this.pos = start;
        return this.bytes(utf8Encoder.encode(value));
      }
      this.buf[this.pos++] = code;
    }
    return this;
  }

  bytes(value: Uint8Array): this {
    this.uint32(value.length);
    this.reserve(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
    return this;
  }

  /**
   * Writes the payload of a packed `repeated fixed64` field, each 64-bit value given as its low
   * and then its high 32-bit half, little-endian as fixed64 requires.
   */
  packedFixed64Halves(halves: readonly number[]): this {
    const length = halves.length * 4;
    this.uint32(length);
    this.reserve(length);
    for (const half of halves) {
      this.buf[this.pos++] = half;
      this.buf[this.pos++] = half >>> 8;
      this.buf[this.pos++] = half >>> 16;
      this.buf[this.pos++] = half >>> 24;
    }
    return this;
  }

  /** Starts a nested message or packed field; join() writes its length. */
  fork(): this {
    this.reserve(1);
    this.pos++;
    this.forks.push(this.pos);
    return this;
  }

  join(): this {
    const start = this.forks.pop();
    if (start === undefined) {
      throw new Error('ProtoWriter.join without a fork');
    }
    const length = this.pos - start;
    if (length < 0x80) {
      this.buf[start - 1] = length;
      return this;
    }
    // The length needs more than the one reserved byte, so the content moves right.
    const extraBytes = varint32Size(length) - 1;
    this.reserve(extraBytes);
    this.buf.copyWithin(start + extraBytes, start, this.pos);
    this.pos += extraBytes;
    let rest = length;
    let at = start - 1;
    while (rest >= 0x80) {
      this.buf[at++] = (rest & 0x7f) | 0x80;
      rest >>>= 7;
    }
    this.buf[at] = rest;
    return this;
  }

  /** Writes the 64-bit varint whose low and high 32-bit halves are `low` and `high` (unsigned). */
  private varint64(low: number, high: number): this {
    this.reserve(10);
    while (high !== 0 || low >= 0x80) {
      this.buf[this.pos++] = (low & 0x7f) | 0x80;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    this.buf[this.pos++] = low;
    return this;
  }

  private reserve(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) {
      return;
    }
    let capacity = Math.max(this.buf.length * 2, 64);
    while (capacity < this.pos + bytes) {
      capacity *= 2;
    }
    const grown = Buffer.allocUnsafe(capacity);
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }
}

/** Number of bytes of the varint encoding of a uint32. */
export function varint32Size(value: number): number {
  let size = 1;
  let rest = value >>> 0;
  while (rest >= 0x80) {
    rest >>>= 7;
    size++;
  }
  return size;
}
