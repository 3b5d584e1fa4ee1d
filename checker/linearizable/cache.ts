// The memo of explored search configurations: (set of linearized ops, model state) pairs.
// An open-addressing hash table whose keys are stored in flat typed arrays, so adding an entry
// allocates nothing except when a table doubles.

const EMPTY = 0;

export class ConfigurationCache {
  private slots: Int32Array;
  private hashes: Int32Array;
  private stateIds: Int32Array;
  private bits: Uint32Array;
  private mask: number;
  count = 0;

  constructor(private readonly words: number, capacityLog2 = 10) {
    const capacity = 1 << capacityLog2;
    this.slots = new Int32Array(capacity * 2);
    this.mask = capacity * 2 - 1;
    this.hashes = new Int32Array(capacity);
    this.stateIds = new Int32Array(capacity);
    this.bits = new Uint32Array(capacity * Math.max(words, 1));
  }

  /** Bytes held by the tables: the figure checked against the memory limit. */
  get bytes(): number {
    return this.slots.byteLength + this.hashes.byteLength + this.stateIds.byteLength + this.bits.byteLength;
  }

  /** Adds the configuration; returns false when it was already present. */
  add(set: Uint32Array, setHash: number, stateId: number): boolean {
    const hash = mix(setHash ^ Math.imul(stateId + 1, 0x9e3779b1));
    const words = this.words;
    let slot = hash & this.mask;
    for (;;) {
      const entry = this.slots[slot]!;
      if (entry === EMPTY) break;
      const index = entry - 1;
      if (this.hashes[index] === hash && this.stateIds[index] === stateId && this.sameSet(index, set)) return false;
      slot = (slot + 1) & this.mask;
    }

    if (this.count === this.hashes.length) {
      this.growEntries();
    }
    const index = this.count;
    this.count += 1;
    this.hashes[index] = hash;
    this.stateIds[index] = stateId;
    this.bits.set(set.subarray(0, words), index * words);
    this.slots[slot] = index + 1;
    if (this.count * 2 > this.slots.length) this.growSlots();
    return true;
  }

  private sameSet(index: number, set: Uint32Array): boolean {
    const words = this.words;
    const base = index * words;
    for (let w = 0; w < words; w += 1) {
      if (this.bits[base + w] !== set[w]) return false;
    }
    return true;
  }

  private growEntries(): void {
    const capacity = this.hashes.length * 2;
    const hashes = new Int32Array(capacity);
    hashes.set(this.hashes);
    this.hashes = hashes;
    const stateIds = new Int32Array(capacity);
    stateIds.set(this.stateIds);
    this.stateIds = stateIds;
    const bits = new Uint32Array(capacity * Math.max(this.words, 1));
    bits.set(this.bits);
    this.bits = bits;
  }

  private growSlots(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    for (let index = 0; index < this.count; index += 1) {
      let slot = this.hashes[index]! & mask;
      while (slots[slot] !== EMPTY) slot = (slot + 1) & mask;
      slots[slot] = index + 1;
    }
    this.slots = slots;
    this.mask = mask;
  }
}

/** Spreads the bits of a 32-bit hash over the table, with the MurmurHash3 finaliser. */
function mix(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

/**
 * Configurations whose whole subtree was searched without success, indexed by their determinate
 * ops and model state. A failed configuration E rules out any configuration C with the same
 * determinate ops and state whose linearized indeterminate ops include E's. Indeterminate ops have
 * no return entry, so every candidate op of C was also a candidate of E, and C cannot succeed either.
 */
export class FailedConfigurations {
  private readonly byKey = new Map<number, number[]>();
  private pool: Uint32Array;
  private count = 0;

  constructor(
    private readonly words: number,
    private readonly determinateMask: Uint32Array,
  ) {
    this.pool = new Uint32Array(1024 * Math.max(words, 1));
  }

  get bytes(): number {
    // Map entries and their arrays cost roughly 64 bytes each (an estimate for V8).
    return this.pool.byteLength + this.byKey.size * 64 + this.count * 8;
  }

  add(set: Uint32Array, determinateHash: number, stateId: number): void {
    const key = mix(determinateHash ^ Math.imul(stateId + 1, 0x9e3779b1));
    const words = this.words;
    if ((this.count + 1) * words > this.pool.length) {
      const pool = new Uint32Array(this.pool.length * 2);
      pool.set(this.pool);
      this.pool = pool;
    }
    const offset = this.count * words;
    this.pool.set(set.subarray(0, words), offset);
    this.count += 1;
    let offsets = this.byKey.get(key);
    if (offsets === undefined) {
      offsets = [];
      this.byKey.set(key, offsets);
    }
    offsets.push(offset, stateId);
  }

  /** True when a failed configuration with the same state and determinate ops is a subset of `set`. */
  dominates(set: Uint32Array, determinateHash: number, stateId: number): boolean {
    const offsets = this.byKey.get(mix(determinateHash ^ Math.imul(stateId + 1, 0x9e3779b1)));
    if (offsets === undefined) return false;
    const words = this.words;
    const mask = this.determinateMask;
    const pool = this.pool;
    outer: for (let i = 0; i < offsets.length; i += 2) {
      if (offsets[i + 1] !== stateId) continue;
      const base = offsets[i]!;
      for (let w = 0; w < words; w += 1) {
        const failed = pool[base + w]!;
        const current = set[w]!;
        // The failed set must be a subset, and the two must agree on determinate ops.
        if ((failed & ~current) !== 0 || ((current ^ failed) & mask[w]!) !== 0) continue outer;
      }
      return true;
    }
    return false;
  }
}
