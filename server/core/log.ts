// The replica's log: records held with content keyed by lsn, the Accepted / Committed / Applied
// bitmaps, the purge floor, and the history of config records.
//
// Accepted counts content, never coverage through Overrides: a position is in Accepted only when
// its record is held here or it is below the floor (covered by the snapshot). Committed is a
// subset of Accepted. Applied may contain uncommitted positions skipped by an applied overrider.
import assert from 'node:assert';
import { TailBitmap } from './bitmap.js';
import type { ClusterConfig, LogRecord } from './types.js';

export interface ConfigEntry {
  config: ClusterConfig;
  /** Lsn of the config record; -1 for the bootstrap config. */
  lsn: number;
}

export class RecordLog {
  readonly records = new Map<number, LogRecord>();
  accepted = TailBitmap.empty();
  committed = TailBitmap.empty();
  applied = TailBitmap.empty();
  /** Purge floor S: every position below it is applied and committed, and its record dropped. */
  floor = 0;

  /** The config in force at the floor (from the snapshot or the bootstrap). */
  private base: ConfigEntry;
  /** Lsns (>= floor) of held config records, ascending. */
  private readonly configLsns: number[] = [];
  /** Raised whenever the config records or the base config change; keys the caches below. */
  private configVersion = 0;
  private liveCache: { version: number; committedLsn: number; live: ConfigEntry[]; positions: Map<number, number> } | null = null;
  private readonly frozenCache: Partial<Record<'accepted' | 'committed' | 'applied', TailBitmap>> = {};

  constructor(
    bootstrap: ClusterConfig,
    private readonly strict: boolean,
  ) {
    this.base = { config: bootstrap, lsn: -1 };
  }

  get baseConfig(): ConfigEntry {
    return this.base;
  }

  set baseConfig(entry: ConfigEntry) {
    this.base = entry;
    this.configVersion += 1;
  }

  /**
   * A copy of Accepted, Committed or Applied that is reused until the live bitmap changes. Copies
   * go into messages and dumps, so no caller may mutate them.
   */
  frozen(name: 'accepted' | 'committed' | 'applied'): TailBitmap {
    const live = this[name];
    const cached = this.frozenCache[name];
    if (cached !== undefined && cached.equals(live)) return cached;
    const copy = live.clone();
    this.frozenCache[name] = copy;
    return copy;
  }

  holds(lsn: number): boolean {
    return this.records.has(lsn);
  }

  get(lsn: number): LogRecord | undefined {
    return this.records.get(lsn);
  }

  /**
   * Stores a record's content and adds its position to Accepted. Returns false if already held.
   * A different content at a held lsn breaks I-log-matching: an assert, unless a planted bug is
   * on (`strict` false), where the new copy replaces the old one so the simulator can observe it.
   */
  store(record: LogRecord): boolean {
    const held = this.records.get(record.seq);
    if (held !== undefined) {
      if (this.strict) {
        assertSameContent(held, record);
        return false;
      }
      if (sameAuthor(held, record)) return false;
      this.records.set(record.seq, record);
      this.rebuildConfigLsns();
      return true;
    }
    assert(record.seq >= this.floor, `record ${record.seq} is below the floor ${this.floor}`);
    this.records.set(record.seq, record);
    this.accepted.add(record.seq);
    if (record.command.kind === 'config') this.insertConfigLsn(record.seq);
    return true;
  }

  /** Drops every held record outside `keep` and rebuilds Accepted from what remains. */
  retainOnly(keep: TailBitmap): void {
    for (const lsn of [...this.records.keys()]) {
      if (!keep.has(lsn)) this.records.delete(lsn);
    }
    const accepted = TailBitmap.prefix(this.floor);
    for (const lsn of this.records.keys()) accepted.add(lsn);
    this.accepted = accepted;
    this.committed = this.committed.intersection(accepted);
    this.rebuildConfigLsns();
  }

  /** Drops records below `newFloor`; the config in force there becomes the base config. */
  purgeBelow(newFloor: number): void {
    assert(newFloor >= this.floor, `floor moves back from ${this.floor} to ${newFloor}`);
    const baseCandidate = this.configAtOrBelow(newFloor - 1);
    if (baseCandidate !== null) this.baseConfig = baseCandidate;
    for (const lsn of [...this.records.keys()]) {
      if (lsn < newFloor) this.records.delete(lsn);
    }
    this.floor = newFloor;
    this.accepted.addRange(0, newFloor);
    this.committed.addRange(0, newFloor);
    this.rebuildConfigLsns();
  }

  /** Returns the effective config: the latest config record held, else the base config. */
  latestConfig(): ConfigEntry {
    const lsn = this.configLsns[this.configLsns.length - 1];
    if (lsn === undefined) return this.baseConfig;
    return this.entryAt(lsn);
  }

  /** Returns the latest config whose record is committed; the base config counts as committed. */
  committedConfig(): ConfigEntry {
    for (let k = this.configLsns.length - 1; k >= 0; k--) {
      const lsn = this.configLsns[k];
      if (this.committed.has(lsn)) return this.entryAt(lsn);
    }
    return this.baseConfig;
  }

  /** Returns every config from the latest committed one onward, oldest first (the configs that may be live). */
  liveConfigs(): ConfigEntry[] {
    return this.liveState().live;
  }

  /** Position of each member of a live config; the newest config wins. */
  livePositions(): Map<number, number> {
    return this.liveState().positions;
  }

  private liveState(): { live: ConfigEntry[]; positions: Map<number, number> } {
    const committed = this.committedConfig();
    const cache = this.liveCache;
    if (cache !== null && cache.version === this.configVersion && cache.committedLsn === committed.lsn) return cache;
    const live = [committed];
    for (const lsn of this.configLsns) {
      if (lsn > committed.lsn) live.push(this.entryAt(lsn));
    }
    const positions = new Map<number, number>();
    for (const entry of live) {
      for (const member of entry.config.members) positions.set(member.id, member.position);
    }
    this.liveCache = { version: this.configVersion, committedLsn: committed.lsn, live, positions };
    return this.liveCache;
  }

  /** True when a config record above the latest committed one is held. */
  hasPendingConfig(): boolean {
    return this.latestConfig().lsn !== this.committedConfig().lsn;
  }

  private configAtOrBelow(lsn: number): ConfigEntry | null {
    for (let k = this.configLsns.length - 1; k >= 0; k--) {
      if (this.configLsns[k] <= lsn) return this.entryAt(this.configLsns[k]);
    }
    return null;
  }

  private entryAt(lsn: number): ConfigEntry {
    const record = this.records.get(lsn);
    assert(record !== undefined && record.command.kind === 'config', `no config record at ${lsn}`);
    return { config: record.command.config, lsn };
  }

  private insertConfigLsn(lsn: number): void {
    this.configVersion += 1;
    let k = this.configLsns.length;
    while (k > 0 && this.configLsns[k - 1] > lsn) k--;
    this.configLsns.splice(k, 0, lsn);
  }

  private rebuildConfigLsns(): void {
    this.configVersion += 1;
    this.configLsns.length = 0;
    for (const [lsn, record] of this.records) {
      if (record.command.kind === 'config') this.configLsns.push(lsn);
    }
    this.configLsns.sort((a, b) => a - b);
  }
}

function sameAuthor(a: LogRecord, b: LogRecord): boolean {
  return a.author.term === b.author.term && a.author.id === b.author.id;
}

/** Asserts two copies of one lsn carry the same content: (author, seq, command). */
export function assertSameContent(a: LogRecord, b: LogRecord): void {
  assert(a.seq === b.seq, `records at different lsns ${a.seq} and ${b.seq} compared`);
  assert(
    sameAuthor(a, b),
    `two contents at lsn ${a.seq}: authors ${a.author.term}.${a.author.id} and ${b.author.term}.${b.author.id}`,
  );
}
