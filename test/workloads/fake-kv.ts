// An in-memory key-value store with the client library's interface, for driving workloads
// without servers. Every call takes effect atomically at one instant inside a random delay, so
// concurrent calls overlap like real RPCs. A planted fault makes it violate a guarantee on purpose.
import { isDeepStrictEqual } from 'node:util';
import type { JsonValue, MicroOp } from '../../server/core/types.js';
import type { KvClient, KvOutcome } from '../../workloads/types.js';
import { Random } from '../../controller/random.js';

export type FakeFault =
  /** Acknowledges every 7th write without applying it. */
  | 'lose-writes'
  /** Returns, for every 5th read, the value from before the last change of that key. */
  | 'stale-reads'
  /** Applies only the first micro-op of every 4th txn. */
  | 'partial-txns'
  /** Reports every 6th write as info, after applying it or not at random. */
  | 'indeterminate-writes';

export class FakeKv implements KvClient {
  private readonly data = new Map<string, JsonValue>();
  private readonly previous = new Map<string, JsonValue | undefined>();
  private readonly random: Random;
  private writes = 0;
  private reads = 0;
  private txns = 0;

  constructor(seed: number, private readonly fault?: FakeFault, private readonly delayMsMax = 2) {
    this.random = new Random(seed);
  }

  async get(key: string): Promise<KvOutcome> {
    await this.delay();
    this.reads += 1;
    if (this.fault === 'stale-reads' && this.reads % 5 === 0 && this.previous.has(key)) {
      return { type: 'ok', value: this.previous.get(key) ?? null };
    }
    return { type: 'ok', value: this.data.get(key) ?? null };
  }

  put(key: string, value: JsonValue): Promise<KvOutcome> {
    return this.write(key, () => value);
  }

  async cas(key: string, expected: JsonValue, value: JsonValue): Promise<KvOutcome> {
    await this.delay();
    const current = this.data.get(key) ?? null;
    if (!isDeepStrictEqual(current, expected)) return { type: 'fail', reason: 'cas-mismatch', value: current };
    this.set(key, value);
    return { type: 'ok', result: { kind: 'cas', swapped: true, current: value } };
  }

  append(key: string, value: JsonValue): Promise<KvOutcome> {
    return this.write(key, (current) => [...(Array.isArray(current) ? current : []), value]);
  }

  incr(key: string, delta: number): Promise<KvOutcome> {
    return this.write(key, (current) => (typeof current === 'number' ? current : 0) + delta);
  }

  async txn(ops: MicroOp[]): Promise<KvOutcome> {
    await this.delay();
    this.txns += 1;
    const partial = this.fault === 'partial-txns' && this.txns % 4 === 0;
    const results = ops.map((op, position) => {
      if (op.f === 'r') return { f: 'r' as const, key: op.key, value: this.data.get(op.key) ?? null };
      if (!partial || position === 0) {
        const current = this.data.get(op.key);
        this.set(op.key, [...(Array.isArray(current) ? current : []), op.value]);
      }
      return { f: 'append' as const, key: op.key, value: op.value };
    });
    return { type: 'ok', value: results as unknown as JsonValue, result: { kind: 'txn', ops: results } };
  }

  private async write(key: string, update: (current: JsonValue | undefined) => JsonValue): Promise<KvOutcome> {
    await this.delay();
    this.writes += 1;
    if (this.fault === 'lose-writes' && this.writes % 7 === 0) return { type: 'ok', result: { kind: 'done' } };
    if (this.fault === 'indeterminate-writes' && this.writes % 6 === 0) {
      if (this.random.int(2) === 0) this.set(key, update(this.data.get(key)));
      return { type: 'info', reason: 'timed out' };
    }
    this.set(key, update(this.data.get(key)));
    return { type: 'ok', result: { kind: 'done' } };
  }

  private set(key: string, value: JsonValue): void {
    this.previous.set(key, this.data.get(key));
    this.data.set(key, value);
  }

  private delay(): Promise<void> {
    if (this.delayMsMax === 0) return new Promise((resolve) => setImmediate(resolve));
    const delayMs = this.random.float() * this.delayMsMax;
    return new Promise((resolve) => setTimeout(resolve, delayMs));
  }
}
