// A seeded pseudo-random generator (xoshiro128**, seeded through splitmix32). One seed
// determines every choice the simulator makes, so a failing seed replays exactly.
import assert from 'node:assert';

const UINT32_RANGE = 4294967296;

function rotateLeft(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** Expands one 32-bit seed into a stream of well-mixed 32-bit words. */
function splitmix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export class Prng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    assert(Number.isSafeInteger(seed), `Prng seed must be a safe integer, got ${seed}`);
    // Fold the high bits in so seeds above 2^32 still give distinct streams.
    const mix = splitmix32((seed ^ Math.floor(seed / UINT32_RANGE)) >>> 0);
    this.s0 = mix();
    this.s1 = mix();
    this.s2 = mix();
    this.s3 = mix();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Returns the next 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotateLeft(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotateLeft(this.s3, 11);
    return result;
  }

  /** Returns a float in [0, 1). */
  next(): number {
    return this.nextUint32() / UINT32_RANGE;
  }

  /** Returns an integer in [0, maxExclusive). */
  int(maxExclusive: number): number {
    assert(Number.isSafeInteger(maxExclusive), `int() bound must be an integer, got ${maxExclusive}`);
    assert(maxExclusive > 0, `int() bound must be positive, got ${maxExclusive}`);
    return Math.floor(this.next() * maxExclusive);
  }

  /** Returns an integer in [min, maxInclusive]. */
  between(min: number, maxInclusive: number): number {
    assert(maxInclusive >= min, `between(${min}, ${maxInclusive}) has an empty range`);
    return min + this.int(maxInclusive - min + 1);
  }

  /** Returns true with probability `p`. */
  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    assert(items.length > 0, 'pick() needs a non-empty list');
    return items[this.int(items.length)];
  }

  /** Returns a Fisher-Yates shuffled copy. */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }

  /** Derives an independent stream, so adding draws to one component does not shift another's. */
  fork(): Prng {
    return new Prng(this.nextUint32() * 2048 + (this.nextUint32() >>> 21));
  }
}
