// The one driver loop around the TRaft core. Every input (tick, peer message, client request)
// is queued and applied to the node in one batch. Each Ready is then handled in the durability
// order the core requires: persist (and fsync) -> send -> reply to clients -> advance. Readies
// are pipelined: while one batch waits for its fsync the next is taken and written, and the WAL's
// group commit covers them with one fsync. Release (send, reply, advance) stays in Ready order.
// The one exception, which the Ready contract allows: a leader's LogForward requests leave while
// their own batch is being synced, when no Ready in flight changes the hard state.
import assert from 'node:assert';
import type { Logger } from 'pino';
import { encodePersistBatch } from './core/codec.js';
import type {
  ClientOutcome,
  ClientTag,
  ClusterConfig,
  Command,
  JsonValue,
  Message,
  NodeEvent,
  PersistOp,
  ReadConsistency,
  Ready,
} from './core/types.js';
import type { TraftNode } from './core/node.js';
import { methodOf, type PeerMethod } from './transport/convert.js';

/** The durable log the driver writes each Ready's batch to (server/storage implements it). */
export interface DurableLog {
  /**
   * Resolves once `batch` is durable. With `sync: false` the batch is written in order but starts
   * no fsync of its own, so it may be lost in a crash.
   */
  persist(batch: Uint8Array, options?: { sync?: boolean }): Promise<void>;
  /** Writes a full image; everything persisted before it may be purged once it is durable. */
  checkpoint(image: Uint8Array): Promise<void>;
}

/** Sends core request messages to peers; replies come back through Driver.deliverReply. */
export interface PeerSender {
  send(message: Message): void;
}

export interface TimedEvent {
  monotonicTimeNs: bigint;
  wallTimeMs: number;
  event: NodeEvent;
}

export interface DriverOptions {
  node: TraftNode;
  log: DurableLog;
  peers: PeerSender;
  logger: Logger;
  /** Planted bug: send messages and client replies before the batch is durable. */
  ackBeforeFsync: boolean;
  /** A client request with no completion after this long gets UNKNOWN and is forgotten. */
  clientRequestTimeoutMs: number;
  /** Called once on a failure the node cannot continue after (a failed write to the log). */
  onFatal: (error: Error) => void;
}

const STATS_LOG_INTERVAL_MS = 2_000;
/** Readies whose batches may be in flight to the WAL at once. */
const READY_PIPELINE_DEPTH_MAX = 16;

interface PendingClient {
  resolve: (outcome: ClientOutcome) => void;
  startedAtMs: number;
}

/** A peer RPC whose response waits for the reply the core produces for its request. */
interface PendingPeerReply {
  peerId: number;
  method: PeerMethod;
  requestId: number;
  resolve: (reply: Message | null) => void;
  done: boolean;
}

export class Driver {
  private readonly node: TraftNode;
  private readonly options: DriverOptions;
  private readonly logger: Logger;
  private inbox: (() => void)[] = [];
  /** Peer RPCs stepped in the batch being built; each is settled (maybe with null) with its Ready. */
  private peerWaitersNext: PendingPeerReply[] = [];
  private readonly pendingClients = new Map<number, PendingClient>();
  private nextRequestId = 1;
  /** A runOnce is queued with setImmediate. */
  private scheduled = false;
  /** Readies taken from the node and not yet released. */
  private inFlight = 0;
  private checkpointInFlight = false;
  /**
   * Readies in flight whose batch changes more than records and the Committed hint (hard state,
   * Committer switch, checkpoint). While one is in flight, every message waits for durability.
   */
  private barriersInFlight = 0;
  /** Releases Readies one after another, in the order they were taken. */
  private releaseChain: Promise<void> = Promise.resolve();
  /** Resolves once every batch handed to the log so far is durable. */
  private durableTail: Promise<void> = Promise.resolve();
  private stopped = false;
  private fatal = false;
  private readonly eventListeners = new Set<(event: TimedEvent) => void>();
  private sweepTimer: NodeJS.Timeout;
  /** Counters since the last stats log line. */
  private stats = { cycles: 0, actions: 0, persistOps: 0, messages: 0, completions: 0, persistNs: 0n };
  private lastStatsMs = Date.now();

  constructor(options: DriverOptions) {
    this.node = options.node;
    this.options = options;
    this.logger = options.logger;
    const sweepIntervalMs = Math.max(100, Math.floor(options.clientRequestTimeoutMs / 4));
    this.sweepTimer = setInterval(() => this.expireClientRequests(), sweepIntervalMs);
    this.sweepTimer.unref();
  }

  // -------------------------------------------------------------------------------------------
  // Inputs

  tick(): void {
    this.enqueue(() => this.node.tick());
  }

  campaign(): void {
    this.enqueue(() => this.node.campaign());
  }

  /** Steps a reply that arrived in the response of one of this node's outgoing RPCs. */
  deliverReply(message: Message): void {
    this.enqueue(() => this.node.step(message));
  }

  /**
   * Steps a peer request and resolves with the reply the core produced for it once that reply
   * may be sent (after its batch is durable), or with null when the core produced none.
   */
  deliverRequest(message: Message): Promise<Message | null> {
    const { method } = methodOf(message);
    if (this.stopped || this.fatal) {
      return Promise.resolve(null);
    }
    return new Promise((resolve) => {
      const waiter: PendingPeerReply = { peerId: message.from, method, requestId: message.requestId, resolve, done: false };
      this.enqueue(() => {
        this.peerWaitersNext.push(waiter);
        this.node.step(message);
      });
    });
  }

  propose(command: Command, client: ClientTag | undefined): Promise<ClientOutcome> {
    return this.clientRequest((requestId) => this.node.propose(requestId, command, client));
  }

  read(key: string, consistency: ReadConsistency): Promise<ClientOutcome> {
    return this.clientRequest((requestId) => this.node.read(requestId, key, consistency));
  }

  changeConfig(target: ClusterConfig): Promise<ClientOutcome> {
    return this.clientRequest((requestId) => this.node.changeConfig(requestId, target));
  }

  /** Subscribes to node events (role changes, commits, applies, snapshots); returns the unsubscribe. */
  onEvent(listener: (event: TimedEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  kvGet(key: string): JsonValue {
    return this.node.kvGet(key);
  }

  /** Stops taking inputs and completes every pending client request with UNKNOWN. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.sweepTimer);
    for (const [requestId, pending] of this.pendingClients) {
      pending.resolve({ status: 'unknown', reason: 'the server is shutting down' });
      this.pendingClients.delete(requestId);
    }
  }

  // -------------------------------------------------------------------------------------------
  // The loop

  private clientRequest(submit: (requestId: number) => void): Promise<ClientOutcome> {
    if (this.stopped || this.fatal) {
      return Promise.resolve({ status: 'unknown', reason: 'the server is shutting down' });
    }
    const requestId = this.nextRequestId++;
    return new Promise((resolve) => {
      this.pendingClients.set(requestId, { resolve, startedAtMs: Date.now() });
      this.enqueue(() => submit(requestId));
    });
  }

  private enqueue(action: () => void): void {
    if (this.stopped || this.fatal) {
      return;
    }
    this.inbox.push(action);
    this.schedule();
  }

  private schedule(): void {
    if (!this.scheduled && !this.fatal) {
      this.scheduled = true;
      setImmediate(() => this.runOnce());
    }
  }

  /**
   * Applies queued inputs, takes the node's Ready and hands it to the pipeline. Readies are
   * pipelined: the next one is taken while earlier batches are still being made durable, and
   * each is released (sent, answered, advanced) strictly in order once durable. The WAL makes
   * batches durable in call order, so a released batch never depends on a later one.
   */
  private runOnce(): void {
    this.scheduled = false;
    if (this.fatal) {
      return;
    }
    try {
      const actions = this.inbox;
      this.inbox = [];
      this.stats.cycles += 1;
      this.stats.actions += actions.length;
      for (const action of actions) {
        action();
      }
      const waiters = this.peerWaitersNext;
      this.peerWaitersNext = [];

      if (this.node.hasReady() && this.canTakeReady()) {
        this.pipeline(this.node.ready(), waiters);
      } else if (this.node.hasReady()) {
        // The pipeline is full: the replies for these requests will be in a later Ready.
        this.peerWaitersNext = [...waiters, ...this.peerWaitersNext];
      } else {
        for (const waiter of waiters) {
          settleWaiter(waiter, null);
        }
      }
    } catch (error) {
      this.fail(error as Error);
      return;
    }
    if (this.inbox.length > 0 || (this.node.hasReady() && this.canTakeReady())) {
      this.schedule();
    }
  }

  /** Bounds the pipeline, and blocks new Readies while a checkpoint is being written. */
  private canTakeReady(): boolean {
    return this.inFlight === 0 || (this.inFlight < READY_PIPELINE_DEPTH_MAX && !this.checkpointInFlight);
  }

  private pipeline(ready: Ready, waiters: PendingPeerReply[]): void {
    this.inFlight += 1;
    this.stats.persistOps += ready.persist.length;
    this.stats.messages += ready.messages.length;
    this.stats.completions += ready.completions.length;
    const startNs = process.hrtime.bigint();

    // A checkpoint image must cover every batch written before it, so its write waits until
    // the earlier batches are durable, and no new Ready is taken until it is done.
    const hasCheckpoint = ready.persist.some((op) => op.type === 'checkpoint');
    this.checkpointInFlight ||= hasCheckpoint;
    const isBarrier = ready.persist.some((op) => op.type !== 'records' && op.type !== 'committed');
    if (isBarrier) {
      this.barriersInFlight += 1;
    }
    const durable = hasCheckpoint
      ? this.durableTail.then(() => this.persistWithCheckpoint(ready.persist))
      : this.persist(ready.persist, ready.mustSync);
    this.durableTail = durable.catch(() => undefined);

    // LogForward requests go out in parallel with this batch's fsync (see Ready in core/types.ts):
    // the leader counts its own copy only after advance(), and replies, votes and client
    // completions still wait. Ready order per follower is kept, because no later Ready sends
    // early while an earlier one holds its messages back.
    const forwardsSent = !this.options.ackBeforeFsync && this.barriersInFlight === 0;
    if (forwardsSent) {
      this.sendForwards(ready);
    }
    if (this.options.ackBeforeFsync) {
      // Planted bug: the node takes the batch as durable at once, so messages and replies leave
      // before it is, and a crash can lose a vote or a write that a peer or a client already saw.
      this.release(ready, waiters, false);
      this.node.advance(ready);
      this.inFlight -= 1;
    }
    this.releaseChain = this.releaseChain
      .then(() => durable)
      .then(() => {
        if (this.fatal) {
          return;
        }
        if (!this.options.ackBeforeFsync) {
          this.release(ready, waiters, forwardsSent);
          this.node.advance(ready);
          this.inFlight -= 1;
        }
        if (isBarrier) {
          this.barriersInFlight -= 1;
        }
        if (hasCheckpoint) {
          this.checkpointInFlight = false;
        }
        this.stats.persistNs += process.hrtime.bigint() - startNs;
        this.maybeLogStats();
        this.schedule();
      })
      .catch((error: unknown) => this.fail(error as Error));
  }

  /** Logs the loop's counters at debug level every few seconds, for tuning. */
  private maybeLogStats(): void {
    const nowMs = Date.now();
    if (nowMs - this.lastStatsMs < STATS_LOG_INTERVAL_MS || !this.logger.isLevelEnabled('debug')) {
      return;
    }
    const { cycles, actions, persistOps, messages, completions, persistNs } = this.stats;
    this.logger.debug(
      { intervalMs: nowMs - this.lastStatsMs, cycles, actions, persistOps, messages, completions, readyMs: Number(persistNs / 1_000_000n) },
      'driver stats',
    );
    this.stats = { cycles: 0, actions: 0, persistOps: 0, messages: 0, completions: 0, persistNs: 0n };
    this.lastStatsMs = nowMs;
  }

  /**
   * Writes a Ready's ops (no checkpoint among them) as one storage call, issued now so that
   * batches reach the WAL in Ready order, and resolves when they are durable. A batch that need
   * not be synced (only the Committed hint, which is safe to lose) resolves at once and starts
   * no fsync: it is written in order with the next synced batch.
   */
  private persist(ops: PersistOp[], mustSync: boolean): Promise<void> {
    if (ops.length === 0) {
      return Promise.resolve();
    }
    const written = this.options.log.persist(encodePersistBatch(ops), { sync: mustSync });
    if (mustSync) {
      return written;
    }
    written.catch((error: unknown) => this.fail(error as Error));
    return Promise.resolve();
  }

  private async persistWithCheckpoint(ops: PersistOp[]): Promise<void> {
    let run: PersistOp[] = [];
    for (const op of ops) {
      if (op.type !== 'checkpoint') {
        run.push(op);
        continue;
      }
      if (run.length > 0) {
        await this.options.log.persist(encodePersistBatch(run));
        run = [];
      }
      await this.options.log.checkpoint(encodePersistBatch([op]));
    }
    if (run.length > 0) {
      await this.options.log.persist(encodePersistBatch(run));
    }
  }

  /** Sends the Ready's LogForward requests. */
  private sendForwards(ready: Ready): void {
    for (const message of ready.messages) {
      if (message.type === 'log-forward') {
        this.options.peers.send(message);
      }
    }
  }

  /**
   * Sends messages, replies to peer RPCs and client requests, and publishes events. With
   * `forwardsSent` the LogForward requests already left through sendForwards.
   */
  private release(ready: Ready, waiters: PendingPeerReply[], forwardsSent: boolean): void {
    for (const message of ready.messages) {
      const { isReply } = methodOf(message);
      if (!isReply) {
        if (!(forwardsSent && message.type === 'log-forward')) {
          this.options.peers.send(message);
        }
        continue;
      }
      const waiter = findWaiter(waiters, message);
      if (waiter) {
        settleWaiter(waiter, message);
      } else {
        this.logger.debug({ type: message.type, to: message.to, requestId: message.requestId }, 'reply has no waiting RPC; dropped');
      }
    }

    for (const completion of ready.completions) {
      const pending = this.pendingClients.get(completion.requestId);
      if (pending) {
        this.pendingClients.delete(completion.requestId);
        pending.resolve(completion.outcome);
      }
    }

    this.publishEvents(ready.events);
  }

  private publishEvents(events: NodeEvent[]): void {
    if (events.length === 0) {
      return;
    }
    const monotonicTimeNs = process.hrtime.bigint();
    const wallTimeMs = Date.now();
    for (const event of events) {
      if (event.type === 'role') {
        this.logger.info({ role: event.role, ballot: event.ballot, ready: event.ready }, 'role changed');
      } else if (event.type === 'snapshot') {
        this.logger.info({ floor: event.floor, installed: event.installed }, 'snapshot');
      } else if (event.type === 'apply' && event.command.kind === 'config') {
        this.logger.info({ seq: event.seq, config: event.command.config }, 'config applied');
      }
      for (const listener of this.eventListeners) {
        listener({ monotonicTimeNs, wallTimeMs, event });
      }
    }
  }

  private expireClientRequests(): void {
    const cutoffMs = Date.now() - this.options.clientRequestTimeoutMs;
    for (const [requestId, pending] of this.pendingClients) {
      // Map iteration follows insertion order, which is start order.
      if (pending.startedAtMs > cutoffMs) {
        break;
      }
      this.pendingClients.delete(requestId);
      pending.resolve({ status: 'unknown', reason: `no outcome within ${this.options.clientRequestTimeoutMs} ms` });
    }
  }

  private fail(error: Error): void {
    if (this.fatal) {
      return;
    }
    this.fatal = true;
    this.logger.fatal({ err: error }, 'driver failed; stopping');
    for (const [requestId, pending] of this.pendingClients) {
      pending.resolve({ status: 'unknown', reason: 'the server failed' });
      this.pendingClients.delete(requestId);
    }
    this.options.onFatal(error);
  }
}

/**
 * Finds the RPC that `reply` answers: the same peer and method, preferring an equal request id.
 * The fallback by order covers a core that numbers its replies independently.
 */
function findWaiter(waiters: PendingPeerReply[], reply: Message): PendingPeerReply | undefined {
  const { method } = methodOf(reply);
  let fallback: PendingPeerReply | undefined;
  for (const waiter of waiters) {
    if (waiter.done || waiter.peerId !== reply.to || waiter.method !== method) {
      continue;
    }
    if (waiter.requestId === reply.requestId) {
      return waiter;
    }
    fallback ??= waiter;
  }
  return fallback;
}

function settleWaiter(waiter: PendingPeerReply, reply: Message | null): void {
  if (waiter.done) {
    return;
  }
  assert(reply === null || reply.to === waiter.peerId, 'a reply goes to the peer that sent the request');
  waiter.done = true;
  waiter.resolve(reply);
}
