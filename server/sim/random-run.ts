// The random mode: one seed picks the cluster shape, the fault mix and every fault, client op and
// delivery. After the random phase the run heals everything, waits for convergence, and checks
// durability of acked writes and the per-key linearizability of the client history.
import type { CoreUnsafeBug } from '../core/types.js';
import { majorityConfig } from '../core/quorum.js';
import { Cluster, DEFAULT_CLUSTER, formatViolation, type ClusterOptions } from './cluster.js';
import { Prng } from './prng.js';
import { checkLinearizable } from './history.js';
import type { Violation } from './invariants.js';
import type { NodeView } from './view.js';

export interface RandomRunOptions {
  seed: number;
  /** Steps of the random phase; the healing phase adds up to `quiesceStepsMax` more. */
  steps: number;
  nodeCount?: number;
  unsafe?: CoreUnsafeBug;
  quiesceStepsMax?: number;
  /** Check every node after every call into it, not only after calls that changed its state. */
  checkEveryStep?: boolean;
}

/** The weight of each fault family in one run, drawn from the seed. */
export interface FaultMix {
  lossRate: number;
  duplicateRate: number;
  delayMaxMs: number;
  nemesisGapMs: number;
  crash: number;
  loseUnsynced: number;
  partition: number;
  oneWay: number;
  slowLink: number;
  lossyLink: number;
  clock: number;
  campaign: number;
  config: number;
  checkpointEveryApplied: number;
}

export interface SeedResult {
  seed: number;
  steps: number;
  violations: Violation[];
  /** The last trace lines before the first violation (or the end of the run). */
  trace: string[];
  ops: number;
  okOps: number;
  mix: FaultMix;
  /** Each node's state hash at the end ("down" for a crashed node), to compare replays. */
  finalHashes: string[];
  /** The client history as JSON, to compare replays. */
  historyJson: string;
}

export function drawFaultMix(random: Prng): FaultMix {
  return {
    lossRate: random.pick([0, 0, 0.02, 0.1]),
    duplicateRate: random.pick([0, 0.02, 0.1]),
    delayMaxMs: random.pick([3, 10, 30, 80]),
    nemesisGapMs: random.pick([50, 150, 400]),
    crash: random.pick([0, 1, 2]),
    loseUnsynced: random.pick([0, 0.5]),
    partition: random.pick([0, 1, 2]),
    oneWay: random.pick([0, 1]),
    slowLink: random.pick([0, 1, 2]),
    lossyLink: random.pick([0, 1, 3]),
    clock: random.pick([0, 1]),
    campaign: random.pick([0, 1, 2]),
    config: random.pick([0, 1, 2]),
    checkpointEveryApplied: random.pick([0, 8, 30]),
  };
}

export function runRandomSeed(options: RandomRunOptions): SeedResult {
  const random = new Prng(options.seed);
  const mix = drawFaultMix(random);
  const nodeCount = options.nodeCount ?? random.pick([3, 3, 5, 5, 7]);
  const allIds = [...Array(nodeCount).keys()];
  const initialVoters = mix.config > 0 && nodeCount > 3 ? allIds.slice(0, nodeCount - 1) : allIds;
  const clusterOptions: ClusterOptions = {
    ...DEFAULT_CLUSTER,
    seed: random.nextUint32(),
    nodeCount,
    initialVoters,
    unsafe: options.unsafe,
    checkpointEveryApplied: mix.checkpointEveryApplied,
    link: { lossRate: mix.lossRate, duplicateRate: mix.duplicateRate, delayMinMs: 1, delayMaxMs: mix.delayMaxMs, cut: false },
  };
  const cluster = new Cluster(clusterOptions);
  cluster.checkEveryStep = options.checkEveryStep ?? false;
  const nemesis = new Nemesis(cluster, random.fork(), mix);
  let traceAtViolation: string[] | null = null;
  const noteFirstViolation = (): void => {
    if (traceAtViolation === null && cluster.violations.length > 0) traceAtViolation = formatTrace(cluster);
  };

  while (cluster.step < options.steps) {
    if (cluster.nowMs >= nemesis.nextMs) {
      cluster.step++;
      nemesis.act();
    } else if (!cluster.runNext(nemesis.nextMs)) {
      cluster.nowMs = nemesis.nextMs;
    }
    noteFirstViolation();
    if (cluster.violations.length > 0) break;
  }

  if (cluster.violations.length === 0) {
    healAndConverge(cluster, options.quiesceStepsMax ?? 30_000);
    noteFirstViolation();
  }
  if (cluster.violations.length === 0) checkClientResults(cluster);
  noteFirstViolation();

  return {
    seed: options.seed,
    steps: cluster.step,
    violations: [...cluster.violations],
    trace: traceAtViolation ?? [],
    ops: cluster.history.length,
    okOps: cluster.history.filter((op) => op.status === 'ok').length,
    mix,
    finalHashes: cluster.nodes.map((n) => cluster.view(n.id)?.stateHash ?? 'down'),
    historyJson: JSON.stringify(cluster.history, (_key, value: unknown) => (value === Infinity ? 'Infinity' : value)),
  };
}

function formatTrace(cluster: Cluster): string[] {
  return cluster.recentTrace().map((e) => `step ${e.step} t=${e.timeMs}ms ${e.text}`);
}

/** Picks and applies one fault (or repair) at a time, at random gaps. */
class Nemesis {
  nextMs: number;

  constructor(
    private readonly cluster: Cluster,
    private readonly random: Prng,
    private readonly mix: FaultMix,
  ) {
    this.nextMs = this.gap();
  }

  private gap(): number {
    return this.random.between(Math.floor(this.mix.nemesisGapMs / 2), this.mix.nemesisGapMs * 2);
  }

  act(): void {
    this.nextMs = this.cluster.nowMs + this.gap();
    const choices: (() => void)[] = [];
    const weight = (n: number, f: () => void): void => {
      for (let i = 0; i < n; i++) choices.push(f);
    };
    weight(this.mix.crash * 2, () => this.crashOne());
    weight(3, () => this.restartOne());
    weight(this.mix.partition * 2, () => this.partition());
    weight(this.mix.oneWay, () => this.oneWay());
    weight(this.mix.slowLink * 2, () => this.slowLink());
    weight(this.mix.lossyLink * 2, () => this.lossyLink());
    weight(3, () => this.heal());
    weight(this.mix.clock * 2, () => this.clock());
    weight(this.mix.campaign * 2, () => this.campaign());
    weight(this.mix.config * 3, () => this.changeConfig());
    this.random.pick(choices)();
  }

  private liveIds(): number[] {
    return this.cluster.nodes.filter((n) => n.node !== null).map((n) => n.id);
  }

  private leaderId(): number | null {
    for (const id of this.liveIds()) {
      const view = this.cluster.view(id);
      if (view !== null && view.role === 'leader') return id;
    }
    return null;
  }

  private crashOne(): void {
    const live = this.liveIds();
    if (live.length === 0) return;
    const leader = this.leaderId();
    const target = leader !== null && this.random.chance(0.5) ? leader : this.random.pick(live);
    this.cluster.crash(target, this.random.chance(this.mix.loseUnsynced));
  }

  private restartOne(): void {
    const down = this.cluster.nodes.filter((n) => n.node === null).map((n) => n.id);
    if (down.length > 0) this.cluster.restart(this.random.pick(down));
  }

  private partition(): void {
    const ids = this.random.shuffle(this.cluster.nodes.map((n) => n.id));
    const leader = this.leaderId();
    if (leader !== null && this.random.chance(0.6)) {
      this.cluster.network.partition([[leader], ids.filter((id) => id !== leader)]);
      this.cluster.log(`partition: leader n${leader} isolated`);
      return;
    }
    const cut = this.random.between(1, ids.length - 1);
    const groups = [ids.slice(0, cut), ids.slice(cut)];
    this.cluster.network.partition(groups);
    this.cluster.log(`partition ${JSON.stringify(groups)}`);
  }

  private oneWay(): void {
    const ids = this.cluster.nodes.map((n) => n.id);
    const leader = this.leaderId() ?? this.random.pick(ids);
    // The leader can still send but hears nothing back, or the reverse.
    const inbound = this.random.chance(0.5);
    for (const other of ids) {
      if (other === leader) continue;
      if (inbound) this.cluster.network.cutOneWay(other, leader);
      else this.cluster.network.cutOneWay(leader, other);
    }
    this.cluster.log(`one-way cut: n${leader} ${inbound ? 'hears nothing' : 'reaches nobody'}`);
  }

  /** Delays one link a lot, so old messages arrive after elections moved on. */
  private slowLink(): void {
    const ids = this.cluster.nodes.map((n) => n.id);
    const from = this.random.pick(ids);
    const to = this.random.pick(ids.filter((id) => id !== from));
    const delayMaxMs = this.random.between(100, 1500);
    this.cluster.network.setRule(from, to, { delayMinMs: Math.floor(delayMaxMs / 2), delayMaxMs, duplicateRate: 0.3 });
    this.cluster.log(`slow link n${from}->n${to} up to ${delayMaxMs} ms`);
  }

  /** Makes the leader's link to one follower lossy, so that follower has gaps the others fill. */
  private lossyLink(): void {
    const ids = this.cluster.nodes.map((n) => n.id);
    const from = this.leaderId() ?? this.random.pick(ids);
    const to = this.random.pick(ids.filter((id) => id !== from));
    const lossRate = this.random.pick([0.3, 0.6]);
    this.cluster.network.setRule(from, to, { lossRate });
    this.cluster.log(`lossy link n${from}->n${to} loses ${lossRate * 100}%`);
  }

  private heal(): void {
    this.cluster.network.heal();
    this.cluster.log('heal network');
  }

  private clock(): void {
    const id = this.random.pick(this.cluster.nodes.map((n) => n.id));
    if (this.random.chance(0.5)) {
      const rate = this.random.pick([0.5, 0.9, 1, 1.1, 2]);
      this.cluster.setClockRate(id, rate);
      this.cluster.log(`clock n${id} rate ${rate}`);
    } else {
      this.cluster.jumpClock(id, this.random.pick([-400, -100, 100, 400, 1000]));
    }
  }

  private campaign(): void {
    const live = this.liveIds();
    if (live.length === 0) return;
    // Sometimes every live node campaigns at once, to force competing candidates.
    const targets = this.random.chance(0.3) ? live : [this.random.pick(live)];
    for (const id of targets) {
      this.cluster.log(`campaign n${id}`);
      this.cluster.drive(id, (node) => node.campaign());
    }
  }

  private changeConfig(): void {
    const leader = this.leaderId();
    if (leader === null) return;
    const ids = this.cluster.nodes.map((n) => n.id);
    const size = this.random.between(Math.min(3, ids.length), ids.length);
    const voters = this.random.shuffle(ids).slice(0, size).sort((a, b) => a - b);
    const target = majorityConfig(this.cluster.members, voters);
    const requestId = this.cluster.newRequestId();
    this.cluster.awaitRequest(requestId, (outcome) => this.cluster.log(`config change #${requestId} -> ${outcome.status}`));
    this.cluster.log(`config change #${requestId} at n${leader}: voters ${voters.join(',')}`);
    this.cluster.drive(leader, (node) => node.changeConfig(requestId, target));
  }
}

/** Heals every fault, restarts every node, stops new client ops and waits for one applied state everywhere. */
export function healAndConverge(cluster: Cluster, stepsMax: number): void {
  cluster.network.makeReliable();
  for (const sim of cluster.nodes) {
    sim.clockRate = 1;
    cluster.restart(sim.id);
  }
  cluster.clientsActive = false;
  cluster.log('heal everything and wait for convergence');
  const stepLimit = cluster.step + stepsMax;
  while (cluster.step < stepLimit && cluster.violations.length === 0) {
    for (let i = 0; i < 200 && cluster.step < stepLimit; i++) {
      if (!cluster.runNext()) break;
    }
    if (converged(cluster)) {
      checkNoHoles(cluster);
      return;
    }
  }
  if (cluster.violations.length > 0) return;
  const summary = cluster.nodes
    .map((n) => {
      const v = cluster.view(n.id);
      return v === null ? `n${n.id} down` : `n${n.id} ${v.role} applied ${v.applied.toString()} committed ${v.committed.toString()}`;
    })
    .join('; ');
  cluster.checker.violations.push({
    invariant: 'I-sm-convergence',
    nodeId: null,
    message: `no convergence within ${stepsMax} steps after healing: ${summary}`,
  });
}

/** At quiescence every position below the log end is applied: holes are filled with noops and bitmaps compact. */
function checkNoHoles(cluster: Cluster): void {
  for (const sim of cluster.nodes) {
    const view = cluster.view(sim.id);
    if (view === null || view.applied.firstMissing() === view.applied.len()) continue;
    cluster.checker.violations.push({
      invariant: 'I-liveness',
      nodeId: sim.id,
      message: `holes persist in Applied after quiescence: ${view.applied.toString()}`,
    });
  }
}

function converged(cluster: Cluster): boolean {
  if (cluster.clients.some((c) => c.current !== null)) return false;
  const views: NodeView[] = [];
  for (const sim of cluster.nodes) {
    const view = cluster.view(sim.id);
    if (view === null) return false;
    views.push(view);
  }
  const leader = views.find((v) => v.role === 'leader' && v.ready);
  if (leader === undefined) return false;
  if (!leader.accepted.isSubsetOf(leader.committed) || !leader.committed.isSubsetOf(leader.applied)) return false;
  return views.every((v) => v.applied.equals(leader.applied) && v.stateHash === leader.stateHash);
}

/** I-durability and I-linearizable, after convergence. */
function checkClientResults(cluster: Cluster): void {
  cluster.closeHistory();
  for (const op of cluster.history) {
    if (op.status !== 'ok' || op.command.kind === 'read' || op.lsn === null || op.lsn === undefined) continue;
    for (const sim of cluster.nodes) {
      const view = cluster.view(sim.id);
      if (view === null || view.applied.has(op.lsn)) continue;
      cluster.checker.violations.push({
        invariant: 'I-durability',
        nodeId: sim.id,
        message: `acked write #${op.id} (${op.clientId}, lsn ${op.lsn}) is not applied after healing`,
      });
    }
  }
  const verdict = checkLinearizable(cluster.history);
  for (const failure of verdict.failures) {
    cluster.checker.violations.push({ invariant: 'I-linearizable', nodeId: null, message: failure });
  }
}
