// A set of non-negative integers (log positions) stored as an all-ones prefix plus a bit tail.
//
// Logical value: every i below the prefix length is a member; above it, membership is one bit.
// Internally the tail is a run of 32-bit words because JS bitwise operators work on 32 bits. The
// wire form (`toProto`) uses 64-bit words whose offset is a multiple of 64.
//
// Canonical form, kept after every operation: `base` is a multiple of 32, the first tail word is
// never all-ones (it is folded into the prefix) and the last tail word is never zero. So two
// bitmaps with the same members have the same fields, and `equals` compares fields.

const WORD_BITS = 32;
const ALL_ONES = 0xffffffff;

/**
 * Maximum tail length in bits (2^28, 32 MiB of words). A tail this long means a hole of 2^28
 * positions that never filled, or a `difference` whose result has no prefix; both are bugs.
 */
export const TAIL_BITS_MAX = 2 ** 28;

/** Number of members listed by `toString` before it abbreviates. */
const TO_STRING_MEMBERS_MAX = 16;

function popcount32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** Number of trailing zero bits of a non-zero 32-bit word. */
function ctz32(x: number): number {
  return 31 - Math.clz32(x & -x);
}

function checkPosition(i: number, what: string): void {
  if (!Number.isSafeInteger(i) || i < 0) {
    throw new RangeError(`invalid bitmap ${what} ${i}: expected a non-negative safe integer`);
  }
}

function checkTailBits(bits: number): void {
  if (bits > TAIL_BITS_MAX) {
    throw new RangeError(
      `bitmap tail of ${bits} bits exceeds the maximum of ${TAIL_BITS_MAX}: fill the holes below it or avoid difference() on sets with a large prefix`,
    );
  }
}

export interface TailBitmapProto {
  /** Prefix length, a multiple of 64. */
  offset: number;
  /** Tail words, LSB first: bit k of word w is position offset + 64w + k. */
  words: bigint[];
}

export interface TailBitmapJson {
  offset: number;
  /** The proto words as lower-case hex strings without a prefix. */
  words: string[];
}

export class TailBitmap {
  /** Every position below `base` is a member; `base` is a multiple of 32. */
  private base = 0;
  private buf: Uint32Array;
  /** Index in `buf` of the first tail word; leading words are dropped by moving it. */
  private head = 0;
  /** Number of tail words in use. */
  private size = 0;

  private constructor(capacityWords = 0) {
    this.buf = new Uint32Array(capacityWords);
  }

  static empty(): TailBitmap {
    return new TailBitmap();
  }

  /** Returns {0..offset-1} plus `positions`; `offset` need not be aligned. */
  static of(offset: number, ...positions: number[]): TailBitmap {
    const bitmap = TailBitmap.prefix(offset);
    for (const position of positions) bitmap.add(position);
    return bitmap;
  }

  /** Returns {0..n-1}. */
  static prefix(n: number): TailBitmap {
    checkPosition(n, 'prefix length');
    const bitmap = new TailBitmap();
    bitmap.base = n - (n % WORD_BITS);
    bitmap.addRange(bitmap.base, n);
    return bitmap;
  }

  static fromPositions(positions: Iterable<number>): TailBitmap {
    const bitmap = new TailBitmap();
    for (const position of positions) bitmap.add(position);
    return bitmap;
  }

  /** The all-ones prefix length: every position below it is a member and it is not. */
  get offset(): number {
    if (this.size === 0) return this.base;
    const first = this.buf[this.head];
    return this.base + ctz32(~first);
  }

  firstMissing(): number {
    return this.offset;
  }

  has(i: number): boolean {
    if (i < this.base) return i >= 0;
    const bit = i - this.base;
    if (bit >= this.size * WORD_BITS) return false;
    return ((this.buf[this.head + (bit >>> 5)] >>> (bit & 31)) & 1) === 1;
  }

  /** Adds `i`; a no-op below the prefix. Folds filled leading words into the prefix. */
  add(i: number): void {
    if (i < this.base) {
      checkPosition(i, 'position');
      return;
    }
    checkPosition(i, 'position');
    const bit = i - this.base;
    const wordIndex = Math.floor(bit / WORD_BITS);
    if (wordIndex >= this.size) this.growTo(wordIndex + 1);
    this.buf[this.head + wordIndex] |= 1 << (bit & 31);
    if (wordIndex === 0) this.compactHead();
  }

  /** Adds every position in [from, toExclusive). */
  addRange(from: number, toExclusive: number): void {
    checkPosition(from, 'range start');
    checkPosition(toExclusive, 'range end');
    const start = Math.max(from, this.base);
    if (start >= toExclusive) return;

    const firstWord = Math.floor((start - this.base) / WORD_BITS);
    const lastWord = Math.floor((toExclusive - 1 - this.base) / WORD_BITS);
    if (lastWord >= this.size) this.growTo(lastWord + 1);
    for (let w = firstWord; w <= lastWord; w++) {
      const wordStart = this.base + w * WORD_BITS;
      const lowBit = Math.max(start - wordStart, 0);
      const highBit = Math.min(toExclusive - wordStart, WORD_BITS);
      this.buf[this.head + w] |= maskBits(lowBit, highBit);
    }
    this.compactHead();
  }

  union(other?: TailBitmap): TailBitmap {
    if (other === undefined) return this.clone();
    const base = Math.max(this.base, other.base);
    const end = Math.max(this.end(), other.end());
    return TailBitmap.combine(base, end, (s) => this.wordAt(s) | other.wordAt(s));
  }

  intersection(other?: TailBitmap): TailBitmap {
    if (other === undefined) return TailBitmap.empty();
    const base = Math.min(this.base, other.base);
    const end = Math.min(this.end(), other.end());
    return TailBitmap.combine(base, Math.max(base, end), (s) => this.wordAt(s) & other.wordAt(s));
  }

  /**
   * Returns this \ other. The result has no prefix when `other` contains 0, so its tail spans
   * from 0 to this set's maximum: a RangeError is thrown when that exceeds TAIL_BITS_MAX.
   */
  difference(other?: TailBitmap): TailBitmap {
    if (other === undefined || other.isEmpty()) return this.clone();
    let base = 0;
    if (other.base === 0) {
      // Positions below other's first non-zero tail word are members exactly when they are in this set.
      let firstNonZero = 0;
      while (other.buf[other.head + firstNonZero] === 0) firstNonZero++;
      base = Math.min(this.base, firstNonZero * WORD_BITS);
    }
    const end = Math.max(base, this.end());
    const wordFor = (s: number): number => this.wordAt(s) & ~other.wordAt(s);
    if (base === 0 && other.base > 0) {
      // Every member is at or above other.base. An empty result needs no tail, so check for one
      // before building a tail that starts at 0.
      checkTailBits(end - other.base);
      let anyMember = false;
      for (let s = other.base; s < end && !anyMember; s += WORD_BITS) anyMember = wordFor(s) !== 0;
      if (!anyMember) return TailBitmap.empty();
    }
    return TailBitmap.combine(base, end, wordFor);
  }

  unionInPlace(other: TailBitmap): void {
    if (other.base > this.base) {
      const droppedWords = (other.base - this.base) / WORD_BITS;
      if (droppedWords >= this.size) {
        this.head = 0;
        this.size = 0;
      } else {
        this.head += droppedWords;
        this.size -= droppedWords;
      }
      this.base = other.base;
    }
    const otherEndWord = (other.end() - this.base) / WORD_BITS;
    if (otherEndWord > this.size) this.growTo(otherEndWord);
    const firstWord = (Math.max(other.base, this.base) - this.base) / WORD_BITS;
    for (let w = firstWord; w < otherEndWord; w++) {
      this.buf[this.head + w] |= other.wordAt(this.base + w * WORD_BITS);
    }
    this.compactHead();
  }

  /** Max member + 1, or 0 for the empty set. */
  len(): number {
    if (this.size === 0) return this.base;
    const last = this.buf[this.head + this.size - 1];
    return this.base + (this.size - 1) * WORD_BITS + (WORD_BITS - Math.clz32(last));
  }

  count(): number {
    let total = this.base;
    for (let w = 0; w < this.size; w++) total += popcount32(this.buf[this.head + w]);
    return total;
  }

  isEmpty(): boolean {
    return this.base === 0 && this.size === 0;
  }

  isSubsetOf(other: TailBitmap): boolean {
    if (this.offset > other.offset) return false;
    // Now this.base <= other.base (see the canonical form), so the loop walks only this tail.
    for (let s = this.base; s < this.end(); s += WORD_BITS) {
      if ((this.wordAt(s) & ~other.wordAt(s)) !== 0) return false;
    }
    return true;
  }

  equals(other: TailBitmap): boolean {
    if (this.base !== other.base || this.size !== other.size) return false;
    for (let w = 0; w < this.size; w++) {
      if (this.buf[this.head + w] !== other.buf[other.head + w]) return false;
    }
    return true;
  }

  clone(): TailBitmap {
    const copy = new TailBitmap(this.size);
    copy.base = this.base;
    copy.size = this.size;
    copy.buf.set(this.buf.subarray(this.head, this.head + this.size));
    return copy;
  }

  /** Yields members >= start in ascending order; prefix members are yielded one by one. */
  *positionsFrom(start = 0): Generator<number> {
    let i = Math.max(start, 0);
    for (; i < this.base; i++) yield i;
    const startBit = i - this.base;
    for (let w = Math.floor(startBit / WORD_BITS); w < this.size; w++) {
      const wordStart = this.base + w * WORD_BITS;
      let word = this.buf[this.head + w];
      if (i > wordStart) word &= ~maskBits(0, i - wordStart);
      while (word !== 0) {
        const bit = ctz32(word);
        yield wordStart + bit;
        word &= word - 1;
      }
    }
  }

  toProto(): TailBitmapProto {
    const { offset, words32 } = this.toProtoWords32();
    const words: bigint[] = [];
    for (let k = 0; k < words32.length; k += 2) {
      words.push(BigInt(words32[k]) | (BigInt(words32[k + 1]) << 32n));
    }
    return { offset, words };
  }

  /**
   * Returns the wire form with each 64-bit word as two unsigned 32-bit halves, low half first,
   * so an encoder can write the words without BigInt arithmetic.
   */
  toProtoWords32(): { offset: number; words32: number[] } {
    const words32: number[] = [];
    let offset = this.base;
    if (this.base % 64 !== 0) {
      // Start one 32-bit word earlier with an all-ones word, which covers prefix members.
      offset -= WORD_BITS;
      words32.push(ALL_ONES);
    }
    for (let w = 0; w < this.size; w++) words32.push(this.buf[this.head + w] >>> 0);
    if (words32.length % 2 === 1) words32.push(0);
    return { offset, words32 };
  }

  /** Builds a bitmap from the wire form; throws RangeError on a non-aligned offset or bad words. */
  static fromProto(proto: { offset: number; words: readonly bigint[] }): TailBitmap {
    const { offset, words } = proto;
    if (!Number.isSafeInteger(offset) || offset < 0 || offset % 64 !== 0) {
      throw new RangeError(`invalid bitmap offset ${String(offset)}: expected a non-negative multiple of 64`);
    }
    if (!Array.isArray(words)) {
      throw new RangeError('invalid bitmap words: expected an array of 64-bit unsigned integers');
    }
    checkTailBits(words.length * 64);
    const bitmap = new TailBitmap(words.length * 2);
    bitmap.base = offset;
    bitmap.size = words.length * 2;
    for (let k = 0; k < words.length; k++) {
      const word = words[k];
      if (typeof word !== 'bigint' || word < 0n || word >= 1n << 64n) {
        throw new RangeError(`invalid bitmap word ${String(word)} at index ${k}: expected an unsigned 64-bit integer`);
      }
      bitmap.buf[2 * k] = Number(word & 0xffffffffn);
      bitmap.buf[2 * k + 1] = Number(word >> 32n);
    }
    bitmap.trimTail();
    bitmap.compactHead();
    return bitmap;
  }

  toJSON(): TailBitmapJson {
    const proto = this.toProto();
    return { offset: proto.offset, words: proto.words.map((word) => word.toString(16)) };
  }

  /** Parses the `toJSON` form; throws RangeError naming the bad field. */
  static fromJSON(json: unknown): TailBitmap {
    if (typeof json !== 'object' || json === null) {
      throw new RangeError(`invalid bitmap JSON ${JSON.stringify(json)}: expected {offset, words}`);
    }
    const { offset, words } = json as { offset?: unknown; words?: unknown };
    if (typeof offset !== 'number') {
      throw new RangeError(`invalid bitmap offset ${JSON.stringify(offset)}: expected a number`);
    }
    if (!Array.isArray(words)) {
      throw new RangeError(`invalid bitmap words ${JSON.stringify(words)}: expected an array of hex strings`);
    }
    const parsed = words.map((word, k) => {
      if (typeof word !== 'string' || !/^[0-9a-fA-F]{1,16}$/.test(word)) {
        throw new RangeError(`invalid bitmap word ${JSON.stringify(word)} at index ${k}: expected 1 to 16 hex digits`);
      }
      return BigInt(`0x${word}`);
    });
    return TailBitmap.fromProto({ offset, words: parsed });
  }

  /** Formats the set as, for example, "[0,128)+{130,140}". */
  toString(): string {
    const prefixLength = this.offset;
    const members: string[] = [];
    let more = 0;
    for (const position of this.positionsFrom(prefixLength)) {
      if (members.length < TO_STRING_MEMBERS_MAX) members.push(String(position));
      else more++;
    }
    if (more > 0) members.push(`...+${more} more`);

    const tail = `{${members.join(',')}}`;
    if (prefixLength === 0) return tail;
    if (members.length === 0) return `[0,${prefixLength})`;
    return `[0,${prefixLength})+${tail}`;
  }

  /** Describes how the fields break the canonical form, or returns null; for tests and dumps. */
  canonicalViolation(): string | null {
    if (this.base % WORD_BITS !== 0) return `base ${this.base} is not a multiple of ${WORD_BITS}`;
    if (this.head + this.size > this.buf.length) return 'tail runs past the buffer';
    if (this.size > 0 && this.buf[this.head] === ALL_ONES) return 'first tail word is all ones';
    if (this.size > 0 && this.buf[this.head + this.size - 1] === 0) return 'last tail word is zero';
    return null;
  }

  // ----- internals

  /** End of the tail: no member is >= end. */
  private end(): number {
    return this.base + this.size * WORD_BITS;
  }

  /** Returns the 32-bit word for positions [s, s+32), where s is a multiple of 32. */
  private wordAt(s: number): number {
    if (s < this.base) return ALL_ONES;
    const w = (s - this.base) / WORD_BITS;
    if (w >= this.size) return 0;
    return this.buf[this.head + w];
  }

  private growTo(sizeWords: number): void {
    checkTailBits(sizeWords * WORD_BITS);
    if (this.head + sizeWords > this.buf.length) {
      const capacity = Math.max(8, sizeWords * 2);
      const next = new Uint32Array(capacity);
      next.set(this.buf.subarray(this.head, this.head + this.size));
      this.buf = next;
      this.head = 0;
    } else {
      // Words past `size` may hold stale bits from before a compaction moved `head`.
      this.buf.fill(0, this.head + this.size, this.head + sizeWords);
    }
    this.size = sizeWords;
  }

  private compactHead(): void {
    while (this.size > 0 && this.buf[this.head] === ALL_ONES) {
      this.head++;
      this.size--;
      this.base += WORD_BITS;
    }
    if (this.size === 0) this.head = 0;
  }

  private trimTail(): void {
    while (this.size > 0 && this.buf[this.head + this.size - 1] === 0) this.size--;
    if (this.size === 0) this.head = 0;
  }

  /** Builds the bitmap whose words in [base, end) are `wordFor(s)` and whose prefix is [0, base). */
  private static combine(base: number, end: number, wordFor: (s: number) => number): TailBitmap {
    const sizeWords = (end - base) / WORD_BITS;
    checkTailBits(sizeWords * WORD_BITS);
    const bitmap = new TailBitmap(sizeWords);
    bitmap.base = base;
    bitmap.size = sizeWords;
    for (let w = 0; w < sizeWords; w++) bitmap.buf[w] = wordFor(base + w * WORD_BITS) >>> 0;
    bitmap.trimTail();
    bitmap.compactHead();
    return bitmap;
  }
}

/** Returns a 32-bit mask with bits [low, high) set, 0 <= low <= high <= 32. */
function maskBits(low: number, high: number): number {
  if (high <= low) return 0;
  const upper = high === WORD_BITS ? ALL_ONES : (1 << high) - 1;
  const lower = (1 << low) - 1;
  return (upper & ~lower) >>> 0;
}
