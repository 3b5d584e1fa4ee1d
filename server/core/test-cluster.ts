// A tiny in-memory cluster for the core's table tests: a FIFO message queue, per-node durable op
// lists, link cuts, crash and restart through recover(). It follows the Ready contract: persist,
// then send, then complete, then advance. The seeded simulator lives elsewhere; this harness only
// drives hand-built schedules.
import { decodeMessage, decodePersistBatch, encodeMessage, encodePersistBatch } from './codec.js';
import { majorityConfig } from './quorum.js';
import { recover } from './recover.js';
import { TraftNode, type NodeOptions } from './node.js';
import type { ClientOutcome, ClusterConfig, CoreUnsafeBug, Message, NodeEvent, PersistOp } from './types.js';

/** mulberry32: a small seeded generator of numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface TestClusterOptions {
  size: number;
  /** Ids of the voters; the others are learners. Default: every node. */
  voters?: number[];
  unsafe?: CoreUnsafeBug;
  checkpointEveryApplied?: number;
  maxRecordsPerMessage?: number;
  commitOrder?: NodeOptions['commitOrder'];
  /** Encode and decode every message and persist batch, to exercise the codec. */
  roundTrip?: boolean;
  seed?: number;
}

export const ELECTION_TICKS = 10;
export const HEARTBEAT_TICKS = 2;

export class TestCluster {
  readonly config: ClusterConfig;
  readonly nodes = new Map<number, TraftNode>();
  readonly disks = new Map<number, PersistOp[]>();
  readonly outcomes = new Map<number, ClientOutcome>();
  readonly events = new Map<number, NodeEvent[]>();
  queue: Message[] = [];
  /** Directed links that drop messages, as "from->to". */
  readonly cut = new Set<string>();
  /** Messages matching this predicate are dropped (for targeted loss). */
  dropIf: (msg: Message) => boolean = () => false;
  /** Applied to each message at delivery, e.g. to strip records from a LogForward. */
  rewrite: (msg: Message) => Message = (msg) => msg;
  private readonly opts: TestClusterOptions;
  private readonly random: () => number;
  private nextRequestId = 1;

  constructor(opts: TestClusterOptions) {
    this.opts = opts;
    this.random = seededRandom(opts.seed ?? 1);
    const members = Array.from({ length: opts.size }, (_, k) => ({ id: k + 1, addr: `node-${k + 1}`, position: k }));
    this.config = majorityConfig(members, opts.voters);
    for (const member of members) {
      this.disks.set(member.id, []);
      this.events.set(member.id, []);
      this.start(member.id);
    }
  }

  node(id: number): TraftNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`node ${id} is down`);
    return node;
  }

  private start(id: number): void {
    const ops = this.disks.get(id) ?? [];
    const node = new TraftNode({
      id,
      clusterId: 'test',
      bootstrap: this.config,
      restored: ops.length > 0 ? recover(ops) : undefined,
      electionTimeoutTicks: ELECTION_TICKS,
      heartbeatTicks: HEARTBEAT_TICKS,
      random: this.random,
      unsafe: this.opts.unsafe,
      checkpointEveryApplied: this.opts.checkpointEveryApplied,
      maxRecordsPerMessage: this.opts.maxRecordsPerMessage,
      commitOrder: this.opts.commitOrder,
    });
    this.nodes.set(id, node);
    this.process(id);
  }

  /** Handles every pending Ready of a node in the contract's order. */
  process(id: number): void {
    const node = this.nodes.get(id);
    if (node === undefined) return;
    while (node.hasReady()) {
      const ready = node.ready();
      const disk = this.disks.get(id) as PersistOp[];
      const persisted = this.opts.roundTrip === true ? decodePersistBatch(encodePersistBatch(ready.persist)) : ready.persist;
      disk.push(...persisted);
      for (const msg of ready.messages) this.queue.push(this.opts.roundTrip === true ? decodeMessage(encodeMessage(msg)) : msg);
      for (const completion of ready.completions) this.outcomes.set(completion.requestId, completion.outcome);
      (this.events.get(id) as NodeEvent[]).push(...ready.events);
      node.advance(ready);
    }
  }

  /** Delivers queued messages (and the ones they cause) until the queue is empty or `max` ran. */
  deliverAll(max = 10_000): number {
    let delivered = 0;
    while (this.queue.length > 0 && delivered < max) {
      const msg = this.queue.shift() as Message;
      if (!this.deliverable(msg)) continue;
      this.node(msg.to).step(this.rewrite(msg));
      this.process(msg.to);
      delivered++;
    }
    return delivered;
  }

  private deliverable(msg: Message): boolean {
    if (!this.nodes.has(msg.to) || !this.nodes.has(msg.from)) return false;
    if (this.cut.has(`${msg.from}->${msg.to}`)) return false;
    return !this.dropIf(msg);
  }

  /** Removes queued messages matching `predicate` and returns them (to replay later). */
  take(predicate: (msg: Message) => boolean): Message[] {
    const taken = this.queue.filter(predicate);
    this.queue = this.queue.filter((msg) => !predicate(msg));
    return taken;
  }

  /** Ticks every live node `count` times, delivering messages after each round. */
  tick(count = 1): void {
    for (let round = 0; round < count; round++) {
      for (const [id, node] of this.nodes) {
        node.tick();
        this.process(id);
      }
      this.deliverAll();
    }
  }

  /** Ticks one node `count` times, delivering messages after each tick. */
  tickNode(id: number, count = 1): void {
    for (let round = 0; round < count; round++) {
      this.node(id).tick();
      this.process(id);
      this.deliverAll();
    }
  }

  campaign(id: number): void {
    this.node(id).campaign();
    this.process(id);
    this.deliverAll();
  }

  isolate(id: number): void {
    for (const other of this.nodes.keys()) {
      if (other === id) continue;
      this.cut.add(`${id}->${other}`);
      this.cut.add(`${other}->${id}`);
    }
  }

  heal(): void {
    this.cut.clear();
    this.dropIf = () => false;
    this.rewrite = (msg) => msg;
  }

  crash(id: number): void {
    this.nodes.delete(id);
    this.queue = this.queue.filter((msg) => msg.to !== id && msg.from !== id);
  }

  restart(id: number): void {
    this.start(id);
  }

  /** Proposes through `id` and returns the request id; the outcome lands in `outcomes`. */
  propose(id: number, command: Parameters<TraftNode['propose']>[1], client?: Parameters<TraftNode['propose']>[2]): number {
    const requestId = this.nextRequestId++;
    this.node(id).propose(requestId, command, client);
    this.process(id);
    return requestId;
  }

  read(id: number, key: string): number {
    const requestId = this.nextRequestId++;
    this.node(id).read(requestId, key);
    this.process(id);
    return requestId;
  }

  changeConfig(id: number, target: ClusterConfig): number {
    const requestId = this.nextRequestId++;
    this.node(id).changeConfig(requestId, target);
    this.process(id);
    return requestId;
  }

  /** Returns the id of the ready leader with the highest term, or null. */
  leader(): number | null {
    let best: number | null = null;
    let bestTerm = -1;
    for (const [id, node] of this.nodes) {
      const status = node.status();
      if (status.role === 'leader' && status.ready && status.ballot.term > bestTerm) {
        best = id;
        bestTerm = status.ballot.term;
      }
    }
    return best;
  }
}
