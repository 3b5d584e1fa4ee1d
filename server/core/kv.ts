// The replicated key-value state machine and the client dedup table.
//
// Stored values are never mutated in place: append builds a new list or string. So a result or a
// snapshot may share values with the store and stays correct after later commands. Commands are
// treated as immutable too; a put stores the command's value object as is.
import assert from 'node:assert';
import type { ClientTag, Command, CommandResult, DedupEntry, JsonValue, MicroOp, MicroOpResult } from './types.js';
import { assertNever } from './command.js';

/** Structural equality of JSON values; object key order does not matter. */
export function jsonEquals(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, k) => jsonEquals(item, b[k]));
  }
  const keysA = Object.keys(a);
  if (keysA.length !== Object.keys(b).length) return false;
  return keysA.every((key) => Object.hasOwn(b, key) && jsonEquals(a[key], b[key]));
}

/** JSON text with object keys sorted, so equal values encode to equal strings. */
export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`).join(',')}}`;
}

const FNV64_OFFSET_HI = 0xcbf29ce4;
const FNV64_OFFSET_LO = 0x84222325;
const TWO_POW_32 = 2 ** 32;
const utf8 = new TextEncoder();

/**
 * FNV-1a 64 over UTF-8 bytes, as 16 hex digits. The 64-bit state is two 32-bit halves, and the
 * multiplication by the prime 2^40 + 0x1b3 is split so every intermediate stays exact in a double.
 */
export class Fnv1a64 {
  private hi = FNV64_OFFSET_HI;
  private lo = FNV64_OFFSET_LO;

  update(text: string): this {
    const bytes = utf8.encode(text);
    let hi = this.hi;
    let lo = this.lo;
    for (let k = 0; k < bytes.length; k++) {
      lo = (lo ^ bytes[k]) >>> 0;
      const loProduct = lo * 0x1b3;
      const carry = Math.floor(loProduct / TWO_POW_32);
      hi = (hi * 0x1b3 + carry + ((lo << 8) >>> 0)) % TWO_POW_32;
      lo = loProduct % TWO_POW_32;
    }
    this.hi = hi;
    this.lo = lo;
    return this;
  }

  digest(): string {
    return this.hi.toString(16).padStart(8, '0') + this.lo.toString(16).padStart(8, '0');
  }
}

/** Orders strings by UTF-16 code units, the same on every replica (unlike localeCompare). */
function compareStrings(a: string, b: string): number {
  if (a < b) return -1;
  return a > b ? 1 : 0;
}

type AppendOutcome = { ok: true; value: JsonValue } | { ok: false; error: string };

function appendValue(current: JsonValue, value: JsonValue): AppendOutcome {
  if (current === null) return { ok: true, value: [value] };
  if (Array.isArray(current)) return { ok: true, value: [...current, value] };
  if (typeof current === 'string' && typeof value === 'string') return { ok: true, value: current + value };
  return { ok: false, error: `cannot append ${JSON.stringify(value)} to ${typeof current} value` };
}

export class KvStateMachine {
  /** Absent keys are not stored; storing null deletes the key, since `get` returns null for both. */
  private readonly data = new Map<string, JsonValue>();

  execute(cmd: Command): CommandResult {
    switch (cmd.kind) {
      case 'noop':
      case 'config':
        return { kind: 'done' };
      case 'put':
        this.set(cmd.key, cmd.value);
        return { kind: 'done' };
      case 'delete':
        this.data.delete(cmd.key);
        return { kind: 'done' };
      case 'cas': {
        const current = this.get(cmd.key);
        if (!jsonEquals(current, cmd.expected)) return { kind: 'cas', swapped: false, current };
        this.set(cmd.key, cmd.value);
        return { kind: 'cas', swapped: true, current };
      }
      case 'append': {
        const next = appendValue(this.get(cmd.key), cmd.value);
        if (!next.ok) return { kind: 'error', message: `${next.error} at key ${cmd.key}` };
        this.set(cmd.key, next.value);
        return { kind: 'value', value: next.value };
      }
      case 'incr':
        return this.increment(cmd.key, cmd.delta);
      case 'txn':
        return this.executeTxn(cmd.ops);
      default:
        return assertNever(cmd);
    }
  }

  /** Returns the value at `key`, or null when the key is absent. Do not mutate the result. */
  get(key: string): JsonValue {
    return this.data.get(key) ?? null;
  }

  /** Returns the stored entries sorted by key. */
  entries(): [string, JsonValue][] {
    return [...this.data.entries()].sort(([a], [b]) => compareStrings(a, b));
  }

  size(): number {
    return this.data.size;
  }

  /** Hashes the contents: replicas with equal entries get equal hashes, whatever the insertion order. */
  hash(): string {
    const hasher = new Fnv1a64();
    for (const [key, value] of this.entries()) {
      hasher.update(JSON.stringify(key)).update('=').update(canonicalJson(value)).update(';');
    }
    return hasher.digest();
  }

  toSnapshot(): [string, JsonValue][] {
    return this.entries();
  }

  static fromSnapshot(entries: Iterable<[string, JsonValue]>): KvStateMachine {
    const machine = new KvStateMachine();
    for (const [key, value] of entries) {
      assert(typeof key === 'string', `snapshot key ${String(key)} is not a string`);
      machine.set(key, value);
    }
    return machine;
  }

  private set(key: string, value: JsonValue): void {
    if (value === null) this.data.delete(key);
    else this.data.set(key, value);
  }

  private increment(key: string, delta: number): CommandResult {
    if (!Number.isFinite(delta)) return { kind: 'error', message: `invalid incr delta ${delta} at key ${key}: expected a finite number` };
    const current = this.get(key);
    if (current !== null && typeof current !== 'number') {
      return { kind: 'error', message: `cannot incr ${typeof current} value at key ${key}` };
    }
    const next = (current ?? 0) + delta;
    this.set(key, next);
    return { kind: 'value', value: next };
  }

  /** Runs the micro-ops in order, all or nothing: a failed append leaves the store unchanged. */
  private executeTxn(ops: MicroOp[]): CommandResult {
    const written = new Map<string, JsonValue>();
    const read = (key: string): JsonValue => (written.has(key) ? (written.get(key) as JsonValue) : this.get(key));
    const results: MicroOpResult[] = [];
    for (const op of ops) {
      switch (op.f) {
        case 'r':
          results.push({ f: 'r', key: op.key, value: read(op.key) });
          break;
        case 'append': {
          const next = appendValue(read(op.key), op.value);
          if (!next.ok) return { kind: 'error', message: `${next.error} at key ${op.key}` };
          written.set(op.key, next.value);
          results.push({ f: 'append', key: op.key, value: op.value });
          break;
        }
        default:
          return assertNever(op);
      }
    }
    for (const [key, value] of written) this.set(key, value);
    return { kind: 'txn', ops: results };
  }
}

// ---------------------------------------------------------------------------------------------
// Client dedup

export interface DedupWatermark {
  clientId: string;
  /** Every seq <= watermark has been acknowledged by the client and is never recorded again. */
  watermark: number;
}

interface ClientResults {
  watermark: number;
  results: Map<number, CommandResult>;
}

/**
 * Results of executed client requests, per client, for exactly-once retries. The leader consults
 * it before appending; apply only records results. A per-client watermark, raised by `gc`, drops
 * entries at or below it and blocks inserting them again, so record and gc commute.
 */
export class DedupTable {
  private readonly clients = new Map<string, ClientResults>();

  lookup(tag: ClientTag): CommandResult | undefined {
    return this.clients.get(tag.clientId)?.results.get(tag.seq);
  }

  /** True when `tag` is at or below the client's watermark: its result was dropped. */
  isBelowWatermark(tag: ClientTag): boolean {
    const client = this.clients.get(tag.clientId);
    return client !== undefined && tag.seq <= client.watermark;
  }

  /** Stores a result; returns false and stores nothing when the seq is at or below the watermark. */
  record(tag: ClientTag, result: CommandResult): boolean {
    const client = this.clientFor(tag.clientId);
    if (tag.seq <= client.watermark) return false;
    client.results.set(tag.seq, result);
    return true;
  }

  /** Raises the client's watermark (it never goes down) and drops the entries at or below it. */
  gc(clientId: string, watermark: number): void {
    const client = this.clientFor(clientId);
    if (watermark <= client.watermark) return;
    client.watermark = watermark;
    for (const seq of client.results.keys()) {
      if (seq <= watermark) client.results.delete(seq);
    }
  }

  /** Returns every stored result, sorted by client and seq. */
  entries(): DedupEntry[] {
    const entries: DedupEntry[] = [];
    for (const clientId of [...this.clients.keys()].sort()) {
      const client = this.clients.get(clientId) as ClientResults;
      for (const seq of [...client.results.keys()].sort((a, b) => a - b)) {
        entries.push({ clientId, seq, result: client.results.get(seq) as CommandResult });
      }
    }
    return entries;
  }

  /** Returns the raised watermarks, sorted by client. */
  watermarks(): DedupWatermark[] {
    return [...this.clients.entries()]
      .filter(([, client]) => client.watermark > Number.NEGATIVE_INFINITY)
      .sort(([a], [b]) => compareStrings(a, b))
      .map(([clientId, client]) => ({ clientId, watermark: client.watermark }));
  }

  /** Hashes the entries and watermarks, for comparing replicas. */
  hash(): string {
    return new Fnv1a64().update(JSON.stringify(this.entries())).update(JSON.stringify(this.watermarks())).digest();
  }

  static restore(entries: Iterable<DedupEntry>, watermarks: Iterable<DedupWatermark> = []): DedupTable {
    const table = new DedupTable();
    for (const { clientId, watermark } of watermarks) table.gc(clientId, watermark);
    for (const { clientId, seq, result } of entries) table.record({ clientId, seq }, result);
    return table;
  }

  private clientFor(clientId: string): ClientResults {
    let client = this.clients.get(clientId);
    if (client === undefined) {
      client = { watermark: Number.NEGATIVE_INFINITY, results: new Map() };
      this.clients.set(clientId, client);
    }
    return client;
  }
}
