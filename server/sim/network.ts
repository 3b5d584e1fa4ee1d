// The virtual network: per directed link loss, duplication, delay (which reorders) and cuts,
// one-way cuts included. In held mode every message waits until a script delivers or drops it.
import assert from 'node:assert';
import type { Message } from '../core/types.js';
import type { Prng } from './prng.js';

export interface LinkRule {
  /** Probability that a copy is lost. */
  lossRate: number;
  /** Probability that a message is delivered twice (each copy gets its own delay). */
  duplicateRate: number;
  delayMinMs: number;
  delayMaxMs: number;
  /** A cut link loses everything sent on it and everything in flight on it. */
  cut: boolean;
}

export interface InFlight {
  /** Send order, unique per network; also breaks ties between equal delivery times. */
  id: number;
  deliverAtMs: number;
  message: Message;
}

export const RELIABLE_LINK: LinkRule = { lossRate: 0, duplicateRate: 0, delayMinMs: 1, delayMaxMs: 1, cut: false };

/** A binary min-heap of in-flight messages ordered by (deliverAtMs, id). */
class InFlightHeap {
  private items: InFlight[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): InFlight | undefined {
    return this.items[0];
  }

  push(item: InFlight): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(items[i], items[parent])) break;
      [items[i], items[parent]] = [items[parent], items[i]];
      i = parent;
    }
  }

  pop(): InFlight | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < items.length && before(items[left], items[smallest])) smallest = left;
        if (right < items.length && before(items[right], items[smallest])) smallest = right;
        if (smallest === i) break;
        [items[i], items[smallest]] = [items[smallest], items[i]];
        i = smallest;
      }
    }
    return top;
  }

  clear(): InFlight[] {
    const all = this.items;
    this.items = [];
    return all;
  }
}

function before(a: InFlight, b: InFlight): boolean {
  return a.deliverAtMs < b.deliverAtMs || (a.deliverAtMs === b.deliverAtMs && a.id < b.id);
}

export class VirtualNetwork {
  private readonly rules = new Map<string, LinkRule>();
  private readonly inFlight = new InFlightHeap();
  /** Messages waiting for a script, in send order (held mode only). */
  private held: InFlight[] = [];
  private nextId = 0;
  holdAll = false;
  sentCount = 0;
  lostCount = 0;
  duplicatedCount = 0;

  constructor(
    private readonly random: Prng,
    private defaultRule: LinkRule,
    /** Returns an independent copy, as a real wire would; the receiver must not share objects with the sender. */
    private readonly copy: (m: Message) => Message,
  ) {}

  setDefaultRule(rule: LinkRule): void {
    this.defaultRule = rule;
    this.rules.clear();
  }

  rule(from: number, to: number): LinkRule {
    return this.rules.get(`${from}>${to}`) ?? this.defaultRule;
  }

  setRule(from: number, to: number, change: Partial<LinkRule>): void {
    this.rules.set(`${from}>${to}`, { ...this.rule(from, to), ...change });
  }

  /** Cuts both directions between every pair of nodes in different groups. */
  partition(groups: number[][]): void {
    for (const a of groups) {
      for (const b of groups) {
        if (a === b) continue;
        for (const from of a) for (const to of b) this.setRule(from, to, { cut: true });
      }
    }
  }

  /** Cuts one direction only: `from` can no longer reach `to`. */
  cutOneWay(from: number, to: number): void {
    this.setRule(from, to, { cut: true });
  }

  /** Restores every link to the default rule without cuts. */
  heal(): void {
    this.rules.clear();
    this.defaultRule = { ...this.defaultRule, cut: false };
  }

  /** Clears every loss, duplication and cut, keeping only the default delay range. */
  makeReliable(): void {
    this.rules.clear();
    this.defaultRule = { ...this.defaultRule, lossRate: 0, duplicateRate: 0, cut: false };
  }

  send(message: Message, nowMs: number): void {
    this.sentCount++;
    if (this.holdAll) {
      this.held.push({ id: this.nextId++, deliverAtMs: nowMs, message: this.copy(message) });
      return;
    }
    const rule = this.rule(message.from, message.to);
    if (rule.cut) {
      this.lostCount++;
      return;
    }
    const copies = this.random.chance(rule.duplicateRate) ? 2 : 1;
    if (copies === 2) this.duplicatedCount++;
    for (let i = 0; i < copies; i++) {
      if (this.random.chance(rule.lossRate)) {
        this.lostCount++;
        continue;
      }
      const delayMs = this.random.between(rule.delayMinMs, rule.delayMaxMs);
      this.inFlight.push({ id: this.nextId++, deliverAtMs: nowMs + delayMs, message: this.copy(message) });
    }
  }

  /** Returns the delivery time of the next in-flight message, or Infinity. */
  nextDeliveryMs(): number {
    return this.inFlight.peek()?.deliverAtMs ?? Infinity;
  }

  /** Takes the next in-flight message; returns undefined when it was lost to a cut on the way. */
  popNext(): { message: Message; lost: boolean } | undefined {
    const item = this.inFlight.pop();
    if (item === undefined) return undefined;
    const lost = this.rule(item.message.from, item.message.to).cut;
    if (lost) this.lostCount++;
    return { message: item.message, lost };
  }

  inFlightCount(): number {
    return this.inFlight.size;
  }

  // ---- held mode (scripted scenarios) ----

  heldMessages(): readonly Message[] {
    return this.held.map((h) => h.message);
  }

  /** Removes and returns the held messages that match, in send order. */
  takeHeld(match: (m: Message) => boolean): Message[] {
    const taken: Message[] = [];
    const kept: InFlight[] = [];
    for (const h of this.held) {
      if (match(h.message)) taken.push(h.message);
      else kept.push(h);
    }
    this.held = kept;
    return taken;
  }

  /** Puts a copy of a message back in the held list, for scripted duplication and replay. */
  hold(message: Message): void {
    assert(this.holdAll, 'hold() is only meaningful in held mode');
    this.held.push({ id: this.nextId++, deliverAtMs: 0, message: this.copy(message) });
  }
}
