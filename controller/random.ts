// A seeded pseudo-random source (xoshiro128**), so one run seed replays the same schedule.
import assert from 'node:assert/strict';

/** Mixes a 32-bit value (splitmix32 finalizer); used to expand one seed into four words of state. */
function mix32(value: number): number {
  let z = (value + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** A deterministic random source. Two sources built from the same seed return the same sequence. */
export class Random {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    assert(Number.isSafeInteger(seed), `seed must be a safe integer, got ${seed}`);
    const low = seed >>> 0;
    const high = Math.floor(seed / 0x1_0000_0000) >>> 0;
    this.s0 = mix32(low);
    this.s1 = mix32(this.s0 ^ high);
    this.s2 = mix32(this.s1 + 1);
    this.s3 = mix32(this.s2 + 2);
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Returns the next unsigned 32-bit integer. */
  uint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Returns a float in [0, 1). */
  float(): number {
    return this.uint32() / 0x1_0000_0000;
  }

  /** Returns an integer in [0, bound). */
  int(bound: number): number {
    assert(Number.isInteger(bound) && bound > 0, `int bound must be a positive integer, got ${bound}`);
    return Math.floor(this.float() * bound);
  }

  /** Returns an integer in [low, high], both inclusive. */
  intBetween(low: number, high: number): number {
    assert(high >= low, `intBetween needs low <= high, got ${low} > ${high}`);
    return low + this.int(high - low + 1);
  }

  pick<T>(items: readonly T[]): T {
    assert(items.length > 0, 'pick needs a non-empty list');
    return items[this.int(items.length)] as T;
  }

  /** Returns a shuffled copy (Fisher-Yates). */
  shuffled<T>(items: readonly T[]): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i -= 1) {
      const j = this.int(i + 1);
      [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
    }
    return copy;
  }

  /** Derives an independent source, so adding draws in one part of a run does not shift another part. */
  fork(label: number): Random {
    return new Random((this.uint32() ^ mix32(label)) >>> 0);
  }
}
