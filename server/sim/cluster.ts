// The deterministic cluster simulator. One seed drives the network, the disks, the clocks, the
// clients and the fault schedule; every node runs the real TRaft core. Each processed event
// (a tick, a message delivery, a client action, a fault) is one step, and after each step the
// touched nodes are checked against the invariants.
import type { ClientOutcome, ClusterConfig, CoreUnsafeBug, Member, Message, NodeEvent, PersistOp, Ready } from '../core/types.js';
import { TraftNode } from '../core/node.js';
import { recover } from '../core/recover.js';
import { decodeMessage, decodePersistBatch, encodeMessage, encodePersistBatch } from '../core/codec.js';
import { majorityConfig } from '../core/quorum.js';
import { Prng } from './prng.js';
import { VirtualNetwork, type LinkRule } from './network.js';
import { VirtualDisk, type PersistCodec } from './disk.js';
import { deepCopy } from './copy.js';
import { SafetyChecker, type Violation } from './invariants.js';
import { viewOf } from './adapter.js';
import type { NodeView } from './view.js';
import { SimClient, DEFAULT_WORKLOAD, asCoreCommand, decide, nextCommand, retryOrGiveUp, type GeneratorState, type WorkloadOptions } from './workload.js';
import type { SimOp } from './history.js';
import { describeCommandShort } from './model.js';

export interface ClusterOptions {
  seed: number;
  /** Node ids are 0..nodeCount-1 and each id is also the node's quorum position. */
  nodeCount: number;
  /** Voters of the bootstrap config; the other nodes start as learners. Defaults to every node. */
  initialVoters?: number[];
  unsafe?: CoreUnsafeBug;
  tickMs: number;
  electionTimeoutTicks: number;
  heartbeatTicks: number;
  checkpointEveryApplied: number;
  maxRecordsPerMessage?: number;
  commitOrder?: 'out-of-order' | 'in-order';
  link: LinkRule;
  clients: number;
  workload: WorkloadOptions;
  /**
   * The copy of messages and persist batches. `codec` encodes and decodes them as the real wire
   * and disk do, which is slower but also exercises the codec. `clone` deep-copies them.
   */
  wireCopy: 'codec' | 'clone';
  /** Scripted mode: no automatic ticks, and every message waits in the network for the script. */
  scripted?: boolean;
}

export const DEFAULT_CLUSTER: Omit<ClusterOptions, 'seed'> = {
  nodeCount: 5,
  tickMs: 10,
  electionTimeoutTicks: 10,
  heartbeatTicks: 3,
  checkpointEveryApplied: 0,
  link: { lossRate: 0, duplicateRate: 0, delayMinMs: 1, delayMaxMs: 8, cut: false },
  clients: 3,
  workload: DEFAULT_WORKLOAD,
  wireCopy: 'clone',
};

/** One line of the trace kept for the report of a failing seed. */
export interface TraceEntry {
  step: number;
  timeMs: number;
  /**
   * Formatted only when a trace is printed, so tracing costs little per step.
   * NOTE: a delivered message is formatted late, so a field its receiver mutated afterwards shows the later value.
   */
  text: string | (() => string);
}

interface SimNode {
  id: number;
  node: TraftNode | null;
  disk: VirtualDisk;
  /** Clock rate relative to true time (drift); ticks arrive every tickMs / rate. */
  clockRate: number;
  nextTickMs: number;
  /** Ticks owed after a forward clock jump, delivered one per step. */
  burstTicks: number;
  restarts: number;
}

const TRACE_MAX = 40;
const READY_LOOPS_MAX = 16;

export class Cluster {
  readonly options: ClusterOptions;
  readonly random: Prng;
  readonly network: VirtualNetwork;
  readonly checker: SafetyChecker;
  readonly nodes: SimNode[] = [];
  readonly members: Member[];
  readonly bootstrap: ClusterConfig;
  readonly clients: SimClient[] = [];
  readonly history: SimOp[] = [];
  nowMs = 0;
  step = 0;
  /** Set by a script or the random driver: when false, clients issue no new ops. */
  clientsActive = true;
  private readonly faultRandom: Prng;
  private readonly clockRandom: Prng;
  private readonly clientRandom: Prng;
  private readonly coreRandom: Prng;
  private readonly trace: TraceEntry[] = [];
  private traceNext = 0;
  private nextRequestId = 1;
  /** requestId -> the client waiting on it, or the handler of a scripted or nemesis request. */
  private readonly waiters = new Map<number, { client?: SimClient; op?: SimOp; onDone?: (c: ClientOutcome) => void }>();
  private readonly generator: GeneratorState = { value: 0, lastProposed: new Map() };
  /** Completions delivered to scripts, by request id. */
  readonly outcomes = new Map<number, ClientOutcome>();
  coreErrors = 0;
  /** Check a node after every call into it, even when its Ready carried no state change. */
  checkEveryStep = false;

  constructor(options: ClusterOptions) {
    this.options = options;
    this.random = new Prng(options.seed);
    this.faultRandom = this.random.fork();
    this.clockRandom = this.random.fork();
    this.clientRandom = this.random.fork();
    this.coreRandom = this.random.fork();
    const copy = options.wireCopy === 'codec' ? (m: Message) => decodeMessage(encodeMessage(m)) : (m: Message) => deepCopy(m);
    this.network = new VirtualNetwork(this.random.fork(), options.link, copy);
    this.network.holdAll = options.scripted === true;
    this.members = [];
    for (let id = 0; id < options.nodeCount; id++) this.members.push({ id, addr: `sim-node-${id}`, position: id });
    this.bootstrap = majorityConfig(this.members, options.initialVoters ?? this.members.map((m) => m.id));
    this.checker = new SafetyChecker((id) => (id >= 0 && id < options.nodeCount ? id : undefined));

    const codec: PersistCodec<any> =
      options.wireCopy === 'codec'
        ? { encode: encodePersistBatch, decode: decodePersistBatch, size: (bytes: Uint8Array) => bytes.length }
        : { encode: (ops: PersistOp[]) => deepCopy(ops), decode: (ops: PersistOp[]) => deepCopy(ops), size: () => 0 };
    for (let id = 0; id < options.nodeCount; id++) {
      const sim: SimNode = { id, node: null, disk: new VirtualDisk(codec), clockRate: 1, nextTickMs: 0, burstTicks: 0, restarts: 0 };
      this.nodes.push(sim);
      sim.nextTickMs = options.scripted === true ? Infinity : this.clockRandom.between(1, options.tickMs);
      this.start(sim);
    }
    for (let c = 0; c < options.clients; c++) {
      const client = new SimClient(`c${c}`, this.clientRandom.int(options.nodeCount));
      client.nextActionMs = this.clientRandom.between(0, 50);
      this.clients.push(client);
    }
  }

  // ---- node lifecycle ----

  private start(sim: SimNode): void {
    const ops = sim.disk.readAll();
    const restored = ops.length > 0 ? recover(ops) : undefined;
    sim.node = new TraftNode({
      id: sim.id,
      clusterId: 'sim',
      bootstrap: this.bootstrap,
      restored,
      electionTimeoutTicks: this.options.electionTimeoutTicks,
      heartbeatTicks: this.options.heartbeatTicks,
      random: () => this.coreRandom.next(),
      unsafe: this.options.unsafe,
      commitOrder: this.options.commitOrder,
      checkpointEveryApplied: this.options.checkpointEveryApplied,
      maxRecordsPerMessage: this.options.maxRecordsPerMessage,
    });
    this.checker.noteRestart(sim.id);
    this.drive(sim.id, () => {});
  }

  isUp(id: number): boolean {
    return this.nodes[id].node !== null;
  }

  crash(id: number, loseUnsynced = false): void {
    const sim = this.nodes[id];
    if (sim.node === null) return;
    sim.node = null;
    const { lostBatches } = sim.disk.crash(loseUnsynced, this.faultRandom);
    this.log(`crash n${id}${lostBatches > 0 ? ` (lost ${lostBatches} unsynced batches)` : ''}`);
  }

  restart(id: number): void {
    const sim = this.nodes[id];
    if (sim.node !== null) return;
    sim.restarts++;
    this.log(`restart n${id} from ${sim.disk.batchCount()} batches`);
    this.guard(sim, () => this.start(sim));
  }

  // ---- driving one node and checking it ----

  /** Runs `action` on a live node, drains its Ready in the durability order, then checks it. */
  drive(id: number, action: (node: TraftNode) => void): void {
    const sim = this.nodes[id];
    if (sim.node === null) return;
    const node = sim.node;
    const events: NodeEvent[] = [];
    let changed = false;
    this.guard(sim, () => {
      action(node);
      for (let loop = 0; loop < READY_LOOPS_MAX && node.hasReady(); loop++) {
        const ready = node.ready();
        if (ready.persist.length > 0 || ready.events.length > 0) changed = true;
        this.handleReady(sim, node, ready, events);
      }
    });
    // Every change the checks look at (ballots, records, bitmaps, role, config) comes with a
    // persist op or an event, so a step that produced neither is not checked again.
    if (sim.node !== null && (changed || this.checkEveryStep)) this.observe(sim, events);
  }

  private handleReady(sim: SimNode, node: TraftNode, ready: Ready, events: NodeEvent[]): void {
    // 1. persist; 2. send; 3. complete client requests; 4. advance.
    sim.disk.write(ready.persist, ready.mustSync);
    for (const message of ready.messages) this.network.send(message, this.nowMs);
    for (const completion of ready.completions) this.complete(sim.id, completion.requestId, completion.outcome);
    for (const event of ready.events) {
      events.push(event);
      if (event.type === 'role') this.log(() => `n${sim.id} becomes ${event.role} at ${event.ballot.term}.${event.ballot.id}${event.ready ? ' (ready)' : ''}`);
    }
    node.advance(ready);
  }

  /** Runs `body`, turning an exception from the core into a violation and the node into a crashed one. */
  private guard(sim: SimNode, body: () => void): void {
    try {
      body();
    } catch (error) {
      this.coreErrors++;
      const message = error instanceof Error ? error.message : String(error);
      this.checker.violations.push({ invariant: 'core-assertion', nodeId: sim.id, message: `core threw: ${message}` });
      this.log(`n${sim.id} threw: ${message}`);
      sim.node = null;
    }
  }

  private observe(sim: SimNode, events: NodeEvent[]): void {
    if (sim.node === null) return;
    const before = this.checker.violations.length;
    this.checker.observe(viewOf(sim.node), events);
    for (let i = before; i < this.checker.violations.length; i++) this.log(() => `VIOLATION ${formatViolation(this.checker.violations[i])}`);
  }

  view(id: number): NodeView | null {
    const node = this.nodes[id].node;
    return node === null ? null : viewOf(node);
  }

  // ---- clients and scripted requests ----

  newRequestId(): number {
    return this.nextRequestId++;
  }

  /** Registers a handler for a request a script or the fault schedule sends itself. */
  awaitRequest(requestId: number, onDone?: (outcome: ClientOutcome) => void): void {
    this.waiters.set(requestId, {
      onDone: (outcome) => {
        this.outcomes.set(requestId, outcome);
        onDone?.(outcome);
      },
    });
  }

  private complete(nodeId: number, requestId: number, outcome: ClientOutcome): void {
    const waiter = this.waiters.get(requestId);
    if (waiter === undefined) return;
    this.waiters.delete(requestId);
    if (waiter.onDone !== undefined) waiter.onDone(outcome);
    const client = waiter.client;
    if (client === undefined || client.current !== waiter.op || client.current === null) return;
    this.log(() => `${client.clientId} <- n${nodeId} #${requestId} ${outcome.status}${outcome.status === 'ok' ? ` ${JSON.stringify(outcome.result)}` : ''}`);
    // An older attempt's reply counts only when it is ok, because the same tag makes any ok the
    // op's result. Its failure gives no information about the attempt still outstanding.
    if (client.attempt !== null && client.attempt.requestId !== requestId && outcome.status !== 'ok') return;
    client.attempt = null;
    const decision = decide(client, outcome, this.options.workload);
    if (decision.action === 'finish') {
      const op = client.current;
      if (outcome.status === 'ok') {
        op.result = outcome.result;
        op.lsn = outcome.lsn;
      }
      this.finishOp(client, decision.status);
      return;
    }
    client.targetNodeId = decision.targetNodeId ?? this.clientRandom.int(this.options.nodeCount);
    client.nextActionMs = this.nowMs + this.options.workload.retryBackoffMs;
  }

  private finishOp(client: SimClient, status: 'ok' | 'fail' | 'unknown'): void {
    const op = client.current;
    if (op === null) return;
    op.status = status;
    op.completeMs = status === 'unknown' ? Infinity : this.step;
    client.current = null;
    client.attempt = null;
    client.uncertain = false;
    client.attempts = 0;
    client.nextActionMs = this.nowMs + this.clientRandom.between(this.options.workload.thinkMinMs, this.options.workload.thinkMaxMs);
  }

  /** Runs one client action: starts a new op, sends the next attempt, or times out the current one. */
  private clientAct(client: SimClient): void {
    const workload = this.options.workload;
    if (client.attempt !== null) {
      // The deadline passed with no reply: the attempt may or may not have taken effect.
      this.log(`${client.clientId} timeout #${client.attempt.requestId} at n${client.attempt.nodeId}`);
      client.attempt = null;
      if (client.tagged) client.uncertain = true;
      const decision = retryOrGiveUp(client, workload, null);
      if (decision.action === 'finish') {
        this.finishOp(client, decision.status);
        return;
      }
      client.targetNodeId = this.clientRandom.int(this.options.nodeCount);
    }
    if (client.current === null) {
      if (!this.clientsActive) {
        client.nextActionMs = Infinity;
        return;
      }
      client.seq++;
      const command = nextCommand(this.clientRandom, workload, this.generator);
      const op: SimOp = { id: this.history.length, clientId: client.clientId, command, invokeMs: this.step, completeMs: Infinity, status: 'pending' };
      this.history.push(op);
      client.current = op;
    }
    this.sendAttempt(client);
  }

  private sendAttempt(client: SimClient): void {
    const op = client.current;
    if (op === null) return;
    client.attempts++;
    const nodeId = client.targetNodeId;
    const requestId = this.newRequestId();
    client.attempt = { requestId, nodeId, deadlineMs: this.nowMs + this.options.workload.requestTimeoutMs };
    client.nextActionMs = client.attempt.deadlineMs;
    this.waiters.set(requestId, { client, op });
    const seq = client.seq;
    this.log(() => `${client.clientId} -> n${nodeId} #${requestId} seq ${seq} ${op.command.kind === 'read' ? `read ${op.command.key}` : describeCommandShort(op.command)}`);

    if (!this.isUp(nodeId)) {
      this.refuseConnection(client, requestId);
      return;
    }

    const command = asCoreCommand(op.command);
    if (command === null) {
      const key = op.command.kind === 'read' ? op.command.key : '';
      this.drive(nodeId, (node) => node.read(requestId, key));
      return;
    }
    const tag = { clientId: client.clientId, seq };
    this.drive(nodeId, (node) => node.propose(requestId, command, tag));
  }

  /** Handles an attempt sent to a down node: nothing was sent, so it certainly had no effect. */
  private refuseConnection(client: SimClient, requestId: number): void {
    this.waiters.delete(requestId);
    client.attempt = null;
    const decision = retryOrGiveUp(client, this.options.workload, null);
    if (decision.action === 'finish') {
      this.finishOp(client, decision.status);
      return;
    }
    client.targetNodeId = this.clientRandom.int(this.options.nodeCount);
    client.nextActionMs = this.nowMs + this.options.workload.retryBackoffMs;
  }

  /** Ends every op still pending: a write that may have been sent becomes unknown. */
  closeHistory(): void {
    for (const client of this.clients) {
      if (client.current === null) continue;
      const sent = client.uncertain || client.attempt !== null;
      this.finishOp(client, client.tagged && sent ? 'unknown' : 'fail');
    }
  }

  // ---- time and events ----

  setClockRate(id: number, rate: number): void {
    this.nodes[id].clockRate = rate;
  }

  /** Moves a node's clock: forward owes ticks at once, backward delays the next tick. */
  jumpClock(id: number, deltaMs: number): void {
    const sim = this.nodes[id];
    if (deltaMs >= 0) sim.burstTicks += Math.floor(deltaMs / this.options.tickMs);
    else sim.nextTickMs += -deltaMs;
    this.log(`clock n${id} jumps ${deltaMs} ms`);
  }

  private tickInterval(sim: SimNode): number {
    return this.options.tickMs / sim.clockRate;
  }

  /** Processes the next timed event (tick, delivery or client action) no later than `limitMs`; returns false when there is none. */
  runNext(limitMs = Infinity): boolean {
    let bestMs = this.network.nextDeliveryMs();
    let kind: 'deliver' | 'tick' | 'client' | 'burst' = 'deliver';
    let index = -1;
    for (const sim of this.nodes) {
      if (sim.burstTicks > 0 && sim.node !== null) {
        bestMs = this.nowMs;
        kind = 'burst';
        index = sim.id;
        break;
      }
      if (sim.nextTickMs < bestMs) {
        bestMs = sim.nextTickMs;
        kind = 'tick';
        index = sim.id;
      }
    }
    if (kind !== 'burst') {
      for (let c = 0; c < this.clients.length; c++) {
        if (this.clients[c].nextActionMs < bestMs) {
          bestMs = this.clients[c].nextActionMs;
          kind = 'client';
          index = c;
        }
      }
    }
    if (bestMs === Infinity || bestMs > limitMs) return false;
    this.nowMs = Math.max(this.nowMs, bestMs);
    this.step++;
    switch (kind) {
      case 'deliver':
        this.deliverNext();
        break;
      case 'tick': {
        const sim = this.nodes[index];
        sim.nextTickMs += this.tickInterval(sim);
        this.drive(index, (node) => node.tick());
        break;
      }
      case 'burst':
        this.nodes[index].burstTicks--;
        this.drive(index, (node) => node.tick());
        break;
      case 'client':
        this.clientAct(this.clients[index]);
        break;
    }
    return true;
  }

  private deliverNext(): void {
    const next = this.network.popNext();
    if (next === undefined || next.lost) return;
    this.deliver(next.message);
  }

  /** Hands one message to its receiver; a down receiver loses it. */
  deliver(message: Message): void {
    if (!this.isUp(message.to)) return;
    this.log(() => `deliver ${describeMessage(message)}`);
    this.drive(message.to, (node) => node.step(message));
  }

  // ---- trace ----

  log(text: string | (() => string)): void {
    const entry = { step: this.step, timeMs: Math.round(this.nowMs), text };
    if (this.trace.length < TRACE_MAX) this.trace.push(entry);
    else {
      this.trace[this.traceNext] = entry;
      this.traceNext = (this.traceNext + 1) % TRACE_MAX;
    }
  }

  /** Returns the last trace entries, oldest first, formatted. */
  recentTrace(): { step: number; timeMs: number; text: string }[] {
    const ordered = [...this.trace.slice(this.traceNext), ...this.trace.slice(0, this.traceNext)];
    return ordered.map((e) => ({ step: e.step, timeMs: e.timeMs, text: typeof e.text === 'string' ? e.text : e.text() }));
  }

  get violations(): readonly Violation[] {
    return this.checker.violations;
  }
}

export function formatViolation(v: Violation): string {
  return `${v.invariant}${v.nodeId === null ? '' : ` at n${v.nodeId}`}: ${v.message}`;
}

export function describeMessage(m: Message): string {
  const head = `${m.type} ${m.from}->${m.to} #${m.requestId}`;
  switch (m.type) {
    case 'elect':
      return `${head} ballot ${m.ballot.term}.${m.ballot.id} accepted ${m.accepted.toString()}`;
    case 'elect-reply':
      return `${head} ballot ${m.ballot.term}.${m.ballot.id} granted=${m.granted} records=${m.records.map((r) => r.seq).join(',')}`;
    case 'log-forward':
      return `${head} ballot ${m.ballot.term}.${m.ballot.id} base ${m.base.toString()} records=${m.records.map((r) => r.seq).join(',')} committed ${m.committed.toString()}`;
    case 'log-forward-reply':
      return `${head} ballot ${m.ballot.term}.${m.ballot.id} ${m.status} accepted ${m.accepted.toString()}`;
    case 'install-snapshot':
      return `${head} ballot ${m.ballot.term}.${m.ballot.id} floor ${m.snapshot.floor}`;
    case 'install-snapshot-reply':
      return `${head} installed=${m.installed}`;
    case 'fetch-snapshot':
      return `${head} ballot ${m.ballot.term}.${m.ballot.id}`;
    case 'fetch-snapshot-reply':
      return `${head} ${m.snapshot === null ? 'none' : `floor ${m.snapshot.floor}`}`;
  }
}
