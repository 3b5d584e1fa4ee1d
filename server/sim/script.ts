// The scripted mode for named scenarios, where nothing moves unless the script moves it. Every
// message waits in the network until the script delivers, duplicates or drops it. Nodes tick only
// when the script ticks them, and client requests are sent by hand. The safety checks run after
// every scripted step.
import assert from 'node:assert';
import type { ClientOutcome, Command, CoreUnsafeBug, Message } from '../core/types.js';
import { Cluster, DEFAULT_CLUSTER, formatViolation } from './cluster.js';
import type { NodeView } from './view.js';

export type MessageMatch = (m: Message) => boolean;

/** Matches messages by type, sender and receiver; omitted fields match anything. */
export function match(type?: Message['type'], from?: number, to?: number): MessageMatch {
  return (m) => (type === undefined || m.type === type) && (from === undefined || m.from === from) && (to === undefined || m.to === to);
}

export interface ScriptOptions {
  nodeCount: number;
  unsafe?: CoreUnsafeBug;
  seed?: number;
  checkpointEveryApplied?: number;
  maxRecordsPerMessage?: number;
  /** Voters of the bootstrap config; the others start as learners. Defaults to every node. */
  initialVoters?: number[];
}

export class Script {
  readonly cluster: Cluster;
  private clientSeq = 0;

  constructor(options: ScriptOptions) {
    this.cluster = new Cluster({
      ...DEFAULT_CLUSTER,
      seed: options.seed ?? 1,
      nodeCount: options.nodeCount,
      unsafe: options.unsafe,
      clients: 0,
      scripted: true,
      checkpointEveryApplied: options.checkpointEveryApplied ?? 0,
      maxRecordsPerMessage: options.maxRecordsPerMessage,
      initialVoters: options.initialVoters,
    });
  }

  get violations(): string[] {
    return this.cluster.violations.map(formatViolation);
  }

  held(m?: MessageMatch): Message[] {
    return this.cluster.network.heldMessages().filter((x) => m === undefined || m(x));
  }

  /** Delivers the held messages that match, in send order; returns how many. */
  deliver(m: MessageMatch): number {
    const taken = this.cluster.network.takeHeld(m);
    for (const message of taken) {
      this.cluster.step++;
      this.cluster.deliver(message);
    }
    return taken.length;
  }

  /**
   * Delivers matching held messages after `edit` rewrites each one (the copy is the script's own);
   * an edit returning null drops that message. Returns how many were delivered.
   */
  deliverEdited(m: MessageMatch, edit: (message: Message) => Message | null): number {
    let delivered = 0;
    for (const message of this.cluster.network.takeHeld(m)) {
      const edited = edit(message);
      if (edited === null) continue;
      delivered++;
      this.replay(edited);
    }
    return delivered;
  }

  /** Takes matching held messages out of the network without delivering them (lost, or kept by the script for later). */
  take(m: MessageMatch): Message[] {
    return this.cluster.network.takeHeld(m);
  }

  drop(m: MessageMatch): number {
    return this.take(m).length;
  }

  /** Delivers a message the script kept, e.g. a delayed or duplicated copy. */
  replay(message: Message): void {
    this.cluster.step++;
    this.cluster.deliver(message);
  }

  /** Delivers matching messages, including the ones they cause, until none is left or `roundsMax` passes. */
  settle(m: MessageMatch = () => true, roundsMax = 50): void {
    for (let round = 0; round < roundsMax; round++) {
      if (this.deliver(m) === 0) return;
    }
  }

  tick(id: number, count = 1): void {
    for (let i = 0; i < count; i++) {
      this.cluster.step++;
      this.cluster.drive(id, (node) => node.tick());
    }
  }

  /** Ticks every live node once per round and settles the network in between. */
  run(rounds: number, m: MessageMatch = () => true): void {
    for (let r = 0; r < rounds; r++) {
      for (const sim of this.cluster.nodes) if (sim.node !== null) this.tick(sim.id);
      this.settle(m);
    }
  }

  campaign(id: number): void {
    this.cluster.step++;
    this.cluster.drive(id, (node) => node.campaign());
  }

  /** Campaigns at `id` and settles the network until it is a ready leader. */
  elect(id: number, m: MessageMatch = () => true): void {
    this.campaign(id);
    for (let round = 0; round < 20 && !this.isReadyLeader(id); round++) {
      this.settle(m);
      if (!this.isReadyLeader(id)) this.tick(id);
    }
    assert(this.isReadyLeader(id), `node ${id} did not become a ready leader; role ${this.view(id)?.role}; violations: ${this.violations.join(' | ')}`);
  }

  isReadyLeader(id: number): boolean {
    const view = this.view(id);
    return view !== null && view.role === 'leader' && view.ready;
  }

  /** Sends a client write to a node; returns the request id whose outcome lands in `outcome()`. */
  propose(id: number, command: Command, clientId = 'script'): number {
    const requestId = this.cluster.newRequestId();
    this.cluster.awaitRequest(requestId);
    this.clientSeq++;
    const seq = this.clientSeq;
    this.cluster.step++;
    this.cluster.drive(id, (node) => node.propose(requestId, command, { clientId, seq }));
    return requestId;
  }

  read(id: number, key: string): number {
    const requestId = this.cluster.newRequestId();
    this.cluster.awaitRequest(requestId);
    this.cluster.step++;
    this.cluster.drive(id, (node) => node.read(requestId, key));
    return requestId;
  }

  outcome(requestId: number): ClientOutcome | undefined {
    return this.cluster.outcomes.get(requestId);
  }

  crash(id: number, loseUnsynced = false): void {
    this.cluster.crash(id, loseUnsynced);
    // Whatever the crashed node had queued is gone with it; messages it already sent stay.
  }

  restart(id: number): void {
    this.cluster.restart(id);
  }

  view(id: number): NodeView | null {
    return this.cluster.view(id);
  }

  trace(): string[] {
    return this.cluster.recentTrace().map((e) => `step ${e.step} ${e.text}`);
  }
}
