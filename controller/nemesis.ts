// Fault injection: a seeded schedule of faults (a generator) and the executor that applies them to
// the cluster and records each one in the history as a `nemesis` op with its targets.
//
// History encoding: process "nemesis", f kill|restart|pause|resume|partition|heal, an invoke followed
// by an info with the same f, value {targets: node ids, mode?, durationMs?, shape?, cuts?, groups?}.
// A leader pause records durationMs and its own resume.
import type { Logger } from 'pino';
import type { Cluster } from './cluster.js';
import type { Generator } from './generator.js';
import { PARTITION_SHAPES, planPartition, type PartitionPlan, type PartitionShape } from './partition.js';
import { Random } from './random.js';
import type { HistoryRecorder } from './recorder.js';

export const NEMESIS_FAMILIES = ['kill', 'pause', 'partition'] as const;
export type NemesisFamily = (typeof NEMESIS_FAMILIES)[number];

export const NEMESIS_DESCRIPTIONS: Record<NemesisFamily, string> = {
  kill: 'kill -9 one, a minority, a majority, all, or the leader; restart them at the next step',
  pause: 'SIGSTOP one, a minority, a majority or all until the next step, or the leader at least twice for about one client timeout each',
  partition: `cut links through the proxy mesh (${PARTITION_SHAPES.join(', ')}) and drop client connections now and then; heal at the next step`,
};

export const TARGET_MODES = ['one', 'minority', 'majority', 'all', 'leader'] as const;
export type TargetMode = (typeof TARGET_MODES)[number];

/**
 * Draw weights of the target modes and partition shapes. Faults that hit the leader force an
 * election while writes are in flight, so they are drawn more often than the other targets. Kills
 * favour two modes: every node at once, which loses acknowledged writes that were not yet durable,
 * and the leader, whose clients then retry their writes against the next leader.
 */
const PAUSE_MODE_WEIGHTS: Record<TargetMode, number> = { one: 1, minority: 1, majority: 1, all: 1, leader: 16 };
const KILL_MODE_WEIGHTS: Record<TargetMode, number> = { one: 1, minority: 1, majority: 1, all: 10, leader: 4 };
/** Isolating one follower (`one`) makes it campaign again and again; `flaky` loses peer messages. */
const SHAPE_WEIGHTS: Record<PartitionShape, number> = { halves: 2, one: 2, leader: 3, 'majorities-ring': 1, bridge: 1, 'one-way': 2, flaky: 3 };

/**
 * A leader pause lasts this many client timeouts (`--rpc-timeout-ms`). Its clients time out and
 * send some of their next ops to the stopped leader again. Those ops are still waiting when it
 * wakes, so it serves them before it learns of the newer leader.
 */
const LEADER_PAUSE_RPC_TIMEOUTS_MIN = 1.3;
const LEADER_PAUSE_RPC_TIMEOUTS_MAX = 1.9;
/** Leader pauses each pause fault makes at least, even when its heal comes sooner. */
const LEADER_PAUSE_ROUNDS_MIN = 2;
/** Between two leader pauses: time for the woken leader to step down and the new one to serve. */
const LEADER_PAUSE_GAP_MS_MIN = 300;
const LEADER_PAUSE_GAP_MS_MAX = 800;

/** While a flaky partition is active, one random link loses its connections every this many ms. */
const FLAKY_DROP_GAP_MS_MIN = 20;
const FLAKY_DROP_GAP_MS_MAX = 200;
/**
 * While any partition is active, every client link loses its connections once per this many ms.
 * The clients retry the requests in flight with the same (clientId, seq), so a server that does
 * not deduplicate them applies some writes twice.
 */
const CLIENT_DROP_GAP_MS_MIN = 100;
const CLIENT_DROP_GAP_MS_MAX = 600;
/** Forks the client drops' random source from a partition's dropSeed. */
const CLIENT_DROPS_LABEL = 1;

function pickWeighted<T extends string>(random: { float(): number }, choices: readonly T[], weights: Record<T, number>): T {
  const total = choices.reduce((sum, choice) => sum + weights[choice], 0);
  let draw = random.float() * total;
  for (const choice of choices) {
    draw -= weights[choice];
    if (draw < 0) return choice;
  }
  return choices[choices.length - 1] as T;
}

export type NemesisOp =
  /** `order` is every node in a seeded order; the targets are its first k nodes, or the leader. */
  | { kind: 'kill'; mode: TargetMode; order: number[] }
  /** Mode `leader` pauses the current leader again and again until the heal; `burstSeed` seeds the durations. */
  | { kind: 'pause'; mode: TargetMode; order: number[]; burstSeed: number }
  /** `dropSeed` seeds the choice of links a flaky partition drops. */
  | { kind: 'partition'; shape: PartitionShape; order: number[]; inbound: boolean; dropSeed: number }
  /** Ends the active fault. */
  | { kind: 'heal' };

interface ScheduleState {
  active: boolean;
  dueNs?: number;
  /** Families not yet drawn in the current round. Each round uses every family once. */
  bag: readonly NemesisFamily[];
}

/**
 * An endless schedule that alternates a fault and its heal, one step every `intervalNs` on average
 * (each gap drawn from [0.5, 1.5) intervals). Families are drawn in rounds that use each family
 * once in a seeded order, so a short run still gets every kind of fault. With no families it
 * emits nothing.
 */
export function nemesisGenerator(families: readonly NemesisFamily[], nodeIds: readonly number[], intervalNs: number): Generator<NemesisOp> {
  if (families.length === 0) return { step: () => ({ kind: 'done' }) };
  const schedule = (state: ScheduleState): Generator<NemesisOp> => ({
    step(ctx) {
      // A step that only waits draws nothing, so how often the caller polls cannot shift the
      // seeded schedule.
      if (state.dueNs !== undefined && ctx.timeNs < state.dueNs) return { kind: 'pending', next: schedule(state), untilNs: state.dueNs };
      const gapNs = Math.floor(intervalNs * (0.5 + ctx.random.float()));
      if (state.dueNs === undefined) {
        const dueNs = ctx.timeNs + gapNs;
        return { kind: 'pending', next: schedule({ ...state, active: false, dueNs }), untilNs: dueNs };
      }
      if (state.active) return { kind: 'op', op: { kind: 'heal' }, next: schedule({ ...state, active: false, dueNs: ctx.timeNs + gapNs }) };
      const bag = state.bag.length > 0 ? state.bag : ctx.random.shuffled(families);
      const family = bag[0] as NemesisFamily;
      const next = schedule({ active: true, dueNs: ctx.timeNs + gapNs, bag: bag.slice(1) });
      return { kind: 'op', op: drawFault(ctx.random, family, nodeIds), next };
    },
  });
  return schedule({ active: false, bag: [] });
}

function drawFault(random: { pick<T>(items: readonly T[]): T; shuffled<T>(items: readonly T[]): T[]; int(bound: number): number; float(): number }, family: NemesisFamily, nodeIds: readonly number[]): NemesisOp {
  const order = random.shuffled(nodeIds);
  switch (family) {
    case 'kill':
      return { kind: 'kill', mode: pickWeighted(random, TARGET_MODES, KILL_MODE_WEIGHTS), order };
    case 'pause':
      return { kind: 'pause', mode: pickWeighted(random, TARGET_MODES, PAUSE_MODE_WEIGHTS), order, burstSeed: random.int(2 ** 31) };
    case 'partition': {
      // A ring over 3 nodes is complete, so it would cut nothing.
      const shapes = nodeIds.length <= 3 ? PARTITION_SHAPES.filter((shape) => shape !== 'majorities-ring') : PARTITION_SHAPES;
      return { kind: 'partition', shape: pickWeighted(random, shapes, SHAPE_WEIGHTS), order, inbound: random.int(2) === 0, dropSeed: random.int(2 ** 31) };
    }
    default:
      return assertNeverFamily(family);
  }
}

/** Node ids a target mode selects from a seeded order. */
export function selectTargets(mode: TargetMode, order: readonly number[], leader: number | undefined): number[] {
  const n = order.length;
  switch (mode) {
    case 'one':
      return order.slice(0, 1);
    case 'minority':
      return order.slice(0, Math.max(1, Math.floor((n - 1) / 2)));
    case 'majority':
      return order.slice(0, Math.floor(n / 2) + 1);
    case 'all':
      return [...order];
    case 'leader':
      return leader !== undefined && order.includes(leader) ? [leader] : order.slice(0, 1);
    default:
      return assertNeverMode(mode);
  }
}

/** The faults in effect, for the status line. */
export interface ActiveFaults {
  killed: number[];
  paused: number[];
  partition?: PartitionPlan;
}

/** Pauses the leader again and again until stopped. */
interface LeaderPauses {
  stopped: boolean;
  /** True while a leader is stopped: a heal lets that pause run its full length. */
  pausing: boolean;
  /** Pause attempts so far, counting those that found no leader. */
  rounds: number;
  /** Ends the current wait early. */
  wake: () => void;
  done: Promise<void>;
}

/** Applies nemesis ops to a cluster and records them; remembers what is active so it can heal it all. */
export class Nemesis {
  private readonly killed = new Set<number>();
  private readonly paused = new Set<number>();
  private partition: PartitionPlan | undefined;
  private flakyTimer: NodeJS.Timeout | undefined;
  private clientDropTimer: NodeJS.Timeout | undefined;
  private leaderPauses: LeaderPauses | undefined;

  constructor(
    private readonly cluster: Cluster,
    private readonly recorder: HistoryRecorder,
    private readonly findLeader: () => Promise<number | undefined>,
    private readonly log: Logger,
    /** The clients' call deadline, which sets how long a leader pause lasts. */
    private readonly rpcTimeoutMs: number,
  ) {}

  get active(): ActiveFaults {
    return { killed: [...this.killed], paused: [...this.paused], partition: this.partition };
  }

  async apply(op: NemesisOp): Promise<void> {
    switch (op.kind) {
      case 'kill': {
        const targets = selectTargets(op.mode, op.order, op.mode === 'leader' ? await this.findLeader() : undefined);
        await this.record('kill', { targets, mode: op.mode }, async () => {
          await Promise.all(targets.map((id) => this.cluster.kill(id)));
          for (const id of targets) this.killed.add(id);
        });
        return;
      }
      case 'pause': {
        if (op.mode === 'leader') {
          this.startLeaderPauses(new Random(op.burstSeed));
          return;
        }
        const targets = selectTargets(op.mode, op.order, undefined);
        await this.record('pause', { targets, mode: op.mode }, async () => {
          for (const id of targets) {
            this.cluster.pause(id);
            this.paused.add(id);
          }
        });
        return;
      }
      case 'partition': {
        const leader = op.shape === 'leader' ? await this.findLeader() : undefined;
        const plan = planPartition(op.shape, op.order, leader, op.inbound);
        const targets = [...new Set(plan.cuts.flat())].sort((a, b) => a - b);
        await this.record('partition', { targets, shape: plan.shape, cuts: plan.cuts, groups: plan.groups }, async () => {
          this.stopFlaky();
          this.cluster.mesh.apply(plan.cuts);
          this.partition = plan;
          if (plan.shape === 'flaky') this.startFlaky(new Random(op.dropSeed));
          this.startClientDrops(new Random(op.dropSeed).fork(CLIENT_DROPS_LABEL));
        });
        return;
      }
      case 'heal':
        await this.healAll();
        return;
      default:
        assertNeverOp(op);
    }
  }

  /** Ends every active fault: restarts killed nodes, resumes paused ones, heals the network. */
  async healAll(): Promise<void> {
    await this.stopLeaderPauses();
    if (this.partition !== undefined) {
      const targets = [...new Set(this.partition.cuts.flat())].sort((a, b) => a - b);
      await this.record('heal', { targets, shape: this.partition.shape }, async () => {
        this.stopFlaky();
        this.cluster.mesh.healAll();
        this.partition = undefined;
      });
    }
    if (this.paused.size > 0) {
      const targets = [...this.paused].sort((a, b) => a - b);
      await this.record('resume', { targets }, async () => {
        for (const id of targets) this.cluster.resume(id);
        this.paused.clear();
      });
    }
    if (this.killed.size > 0) {
      const targets = [...this.killed].sort((a, b) => a - b);
      await this.record('restart', { targets }, async () => {
        for (const id of targets) this.cluster.restart(id);
        this.killed.clear();
      });
    }
  }

  /**
   * Pauses the current leader for about one client timeout, resumes it, waits a moment, and
   * starts over with the node that leads then, until stopLeaderPauses().
   */
  private startLeaderPauses(random: Random): void {
    let wake = (): void => undefined;
    const pauses: LeaderPauses = { stopped: false, pausing: false, rounds: 0, wake: () => wake(), done: Promise.resolve() };
    const waitMs = (ms: number): Promise<void> =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    const loop = async (): Promise<void> => {
      while (!pauses.stopped || pauses.rounds < LEADER_PAUSE_ROUNDS_MIN) {
        pauses.rounds += 1;
        const leader = await this.findLeader();
        if (leader !== undefined && !this.paused.has(leader)) {
          const pauseMs = Math.round(this.rpcTimeoutMs * (LEADER_PAUSE_RPC_TIMEOUTS_MIN + random.float() * (LEADER_PAUSE_RPC_TIMEOUTS_MAX - LEADER_PAUSE_RPC_TIMEOUTS_MIN)));
          pauses.pausing = true;
          await this.record('pause', { targets: [leader], mode: 'leader', durationMs: pauseMs }, async () => {
            this.cluster.pause(leader);
            this.paused.add(leader);
          });
          await waitMs(pauseMs);
          pauses.pausing = false;
          await this.record('resume', { targets: [leader] }, async () => {
            this.cluster.resume(leader);
            this.paused.delete(leader);
          });
          if (pauses.stopped && pauses.rounds >= LEADER_PAUSE_ROUNDS_MIN) return;
        }
        await waitMs(random.intBetween(LEADER_PAUSE_GAP_MS_MIN, LEADER_PAUSE_GAP_MS_MAX));
      }
    };
    pauses.done = loop().catch((error: unknown) => this.log.error({ err: error }, 'leader pauses stopped by an error'));
    this.leaderPauses = pauses;
  }

  /**
   * Stops the leader pauses once LEADER_PAUSE_ROUNDS_MIN rounds are done. A pause under way runs
   * to its end, because a leader woken early would not have outlived its clients' timeouts.
   */
  private async stopLeaderPauses(): Promise<void> {
    const pauses = this.leaderPauses;
    if (pauses === undefined) return;
    this.leaderPauses = undefined;
    pauses.stopped = true;
    if (!pauses.pausing && pauses.rounds >= LEADER_PAUSE_ROUNDS_MIN) pauses.wake();
    await pauses.done;
  }

  /** Drops the connections of one random link after each random gap until stopFlaky(). */
  private startFlaky(random: Random): void {
    const links = this.cluster.mesh.linkList();
    const dropNext = (): void => {
      const [from, to] = random.pick(links);
      const dropped = this.cluster.mesh.dropConnections(from, to);
      this.log.debug({ from, to, dropped }, 'flaky link dropped its connections');
      this.flakyTimer = setTimeout(dropNext, random.intBetween(FLAKY_DROP_GAP_MS_MIN, FLAKY_DROP_GAP_MS_MAX)).unref();
    };
    this.flakyTimer = setTimeout(dropNext, random.intBetween(FLAKY_DROP_GAP_MS_MIN, FLAKY_DROP_GAP_MS_MAX)).unref();
  }

  /** Drops the connections of every client link after each random gap until stopFlaky(). */
  private startClientDrops(random: Random): void {
    const links = this.cluster.mesh.clientLinkList();
    if (links.length === 0) return;
    const dropNext = (): void => {
      let dropped = 0;
      for (const [from, to] of links) dropped += this.cluster.mesh.dropConnections(from, to);
      this.log.debug({ dropped }, 'client links dropped their connections');
      this.clientDropTimer = setTimeout(dropNext, random.intBetween(CLIENT_DROP_GAP_MS_MIN, CLIENT_DROP_GAP_MS_MAX)).unref();
    };
    this.clientDropTimer = setTimeout(dropNext, random.intBetween(CLIENT_DROP_GAP_MS_MIN, CLIENT_DROP_GAP_MS_MAX)).unref();
  }

  /** Stops the connection drops of a flaky partition and of the client links. */
  private stopFlaky(): void {
    clearTimeout(this.flakyTimer);
    this.flakyTimer = undefined;
    clearTimeout(this.clientDropTimer);
    this.clientDropTimer = undefined;
  }

  private async record(f: string, value: Record<string, unknown>, action: () => Promise<void>): Promise<void> {
    this.recorder.record({ process: 'nemesis', type: 'invoke', f, value });
    try {
      await action();
      this.log.info({ f, ...value }, 'fault step applied');
      this.recorder.record({ process: 'nemesis', type: 'info', f, value });
    } catch (error) {
      this.log.error({ f, err: error }, 'fault step failed');
      this.recorder.record({ process: 'nemesis', type: 'info', f, value, error: `failed: ${(error as Error).message}` });
    }
  }
}

function assertNeverFamily(family: never): never {
  throw new Error(`unknown nemesis family ${String(family)}`);
}
function assertNeverMode(mode: never): never {
  throw new Error(`unknown target mode ${String(mode)}`);
}
function assertNeverOp(op: never): never {
  throw new Error(`unknown nemesis op ${JSON.stringify(op)}`);
}
