// One `traft run`: create the run folder, start the cluster, drive the workload and the nemesis
// from one seed, heal, wait for recovery, run the final reads, stop the servers, check, report.
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { pino, type Logger } from 'pino';
import { HistoryWriter } from '../checker/history/jsonl.js';
import { exitCodeFor } from '../checker/result.js';
import type { RunMeta } from '../reports/types.js';
import { findWorkload } from '../workloads/index.js';
import { analyzeRun } from './analyze.js';
import { Cluster } from './cluster.js';
import { ClusterError } from './errors.js';
import { rate, timeLimit, NS_PER_S, type Generator } from './generator.js';
import { connectClients, findLeader, waitForLeader, type ClientPool } from './kv.js';
import { Nemesis, nemesisGenerator, type NemesisOp } from './nemesis.js';
import { replayCommand, type RunOptions } from './options.js';
import { serverEntry, traftVersion } from './paths.js';
import { Random } from './random.js';
import { HistoryRecorder } from './recorder.js';
import { ProcessTable, runClientPhase } from './clients.js';
import { StatusLine } from './status.js';
import { createRunDir, updateLatest, writeRunMeta } from './store.js';

/** Exit codes for a run stopped by a signal (128 + signal number) or by a controller crash. */
export const EXIT_SIGINT = 130;
export const EXIT_SIGTERM = 143;
export const EXIT_CRASH = 1;

const LEADER_TIMEOUT_MS = 30_000;
const RECOVERY_LEADER_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 3_000;
const FINAL_CONCURRENCY_MAX = 5;
const FINAL_RETRIES_MAX = 5;
const FINAL_RETRY_DELAY_MS = 1_000;

export interface RunIo {
  out: NodeJS.WriteStream;
}

/** The state a signal or crash handler needs to stop a run in progress. */
interface ActiveRun {
  runDir: string;
  meta: RunMeta;
  abort: AbortController;
  cluster?: Cluster;
  recorder?: HistoryRecorder;
  log: Logger;
}

let activeRun: ActiveRun | undefined;

/**
 * Stops the active run at once: kills every server, flushes and closes the history, and marks
 * run.json as ended. Used on SIGINT, SIGTERM and controller crashes; safe to call without a run.
 */
export async function stopActiveRun(reason: string): Promise<string | undefined> {
  const run = activeRun;
  if (run === undefined) return undefined;
  activeRun = undefined;
  run.cluster?.killAllSync();
  run.abort.abort();
  run.log.warn({ reason }, 'run interrupted; servers killed');
  await run.recorder?.close().catch(() => undefined);
  await writeRunMeta(run.runDir, { ...run.meta, endedAt: new Date().toISOString() }).catch(() => undefined);
  await run.cluster?.mesh.close().catch(() => undefined);
  return run.runDir;
}

/** Kills every server of the active run synchronously; for the process `exit` hook. */
export function killActiveServersSync(): void {
  activeRun?.cluster?.killAllSync();
}

function randomSeedLabel(label: string): number {
  let hash = 0;
  for (const char of label) hash = (Math.imul(hash, 31) + char.charCodeAt(0)) | 0;
  return hash >>> 0;
}

/** Runs the bench end to end and returns the exit code (0 valid, 1 invalid, 2 unknown). */
export async function runBench(options: RunOptions, io: RunIo): Promise<number> {
  const workload = findWorkload(options.workload);
  if (workload === undefined) throw new Error(`workload ${options.workload} was validated but is not registered`);
  const serverPath = serverEntry();

  const startedAt = new Date();
  const runDir = await createRunDir(options.store, options.workload, options.seed, startedAt);
  const log = pino({ base: { component: 'controller', seed: options.seed } }, pino.destination({ dest: path.join(runDir, 'controller.log'), sync: true }));
  const meta: RunMeta = {
    workload: options.workload,
    seed: options.seed,
    options: { ...options, nemesis: options.nemesis.length === 0 ? 'none' : options.nemesis.join(',') },
    command: replayCommand(options),
    startedAt: startedAt.toISOString(),
    versions: { traft: traftVersion(), node: process.version },
    nodes: [],
    runDir,
  };
  await writeRunMeta(runDir, meta);
  await updateLatest(options.store, runDir);
  io.out.write(`traft run ${options.workload}, seed ${options.seed}: ${runDir}\n`);

  const abort = new AbortController();
  const run: ActiveRun = { runDir, meta, abort, log };
  activeRun = run;
  const recorder = new HistoryRecorder(await HistoryWriter.open(path.join(runDir, 'history.jsonl')));
  run.recorder = recorder;

  let pool: ClientPool | undefined;
  let mainPhase: { opsCompleted: number; seconds: number } | undefined;
  try {
    const cluster = await Cluster.start(
      {
        nodeCount: options.nodes,
        runDir,
        serverPath,
        clusterId: `traft-${options.seed}`,
        seed: options.seed,
        electionTimeoutMs: options.electionTimeoutMs,
        heartbeatMs: options.heartbeatMs,
        unsafe: options.unsafe,
        peerProxies: options.nemesis.includes('partition'),
        clientProxies: options.nemesis.includes('partition'),
        log: log.child({ component: 'cluster' }),
      });
    run.cluster = cluster;
    meta.nodes = cluster.nodeInfos;
    await writeRunMeta(runDir, meta);

    pool = await connectClients(cluster.endpoints, options.concurrency, options.seed, options.rpcTimeoutMs);
    const leaderMs = await waitForLeader(pool.clients[0]!, LEADER_TIMEOUT_MS, abort.signal, () => cluster.anyRunning());
    log.info({ leaderMs }, 'cluster ready');

    mainPhase = await runPhases(options, { cluster, pool, recorder, log, abort, io, workloadCreate: workload.create });
  } catch (error) {
    if (abort.signal.aborted) return EXIT_SIGINT;
    if (!(error instanceof ClusterError)) throw error;
    io.out.write(`error: ${error.message}\n`);
    log.error({ err: error }, 'run failed');
  } finally {
    if (activeRun === run) {
      pool?.close();
      await run.cluster?.stop(STOP_GRACE_MS);
      await recorder.close();
      meta.endedAt = new Date().toISOString();
      await writeRunMeta(runDir, meta);
      if (!options.keepData) await removeDataDirs(meta);
      activeRun = undefined;
    }
  }
  if (mainPhase === undefined) return exitCodeFor('unknown');

  const opsPerS = mainPhase.opsCompleted / Math.max(mainPhase.seconds, 1e-9);
  io.out.write(`recorded ${mainPhase.opsCompleted} client ops in ${mainPhase.seconds.toFixed(1)} s of the main phase: ${opsPerS.toFixed(0)} ops/s\n`);
  io.out.write('checking the history...\n');
  // NOTE: the linearizability search runs on this thread when a history has few keys, so a
  // SIGINT during the check is handled only when the search yields. The servers are stopped by now.
  const outcome = await analyzeRun(runDir, { checkTimeLimitMs: options.checkTimeLimitS * 1000 });
  for (const result of outcome.results) io.out.write(`  ${result.checker}: ${String(result.valid)}, ${result.summary}\n`);
  io.out.write(`verdict: ${verdictWord(outcome.valid)} (checked ${outcome.opCount} ops in ${(outcome.checkMs / 1000).toFixed(1)} s)\n`);
  io.out.write(`report: ${path.join(runDir, 'report.html')}\n`);
  io.out.write(`replay: ${meta.command}\n`);
  log.info({ valid: outcome.valid }, 'run checked');
  log.flush();
  return exitCodeFor(outcome.valid);
}

export function verdictWord(valid: boolean | 'unknown'): string {
  if (valid === true) return 'valid';
  if (valid === false) return 'INVALID (anomalies found)';
  return 'unknown';
}

interface PhaseContext {
  cluster: Cluster;
  pool: ClientPool;
  recorder: HistoryRecorder;
  log: Logger;
  abort: AbortController;
  io: RunIo;
  workloadCreate: (params: { concurrency: number }) => import('../workloads/types.js').WorkloadInstance;
}

/** The phases after the cluster is ready; returns the main phase's completed op count and length. */
async function runPhases(options: RunOptions, context: PhaseContext): Promise<{ opsCompleted: number; seconds: number }> {
  const { cluster, pool, recorder, log, abort } = context;
  const seedRandom = new Random(options.seed);
  const clientRandom = seedRandom.fork(randomSeedLabel('clients'));
  const nemesisRandom = seedRandom.fork(randomSeedLabel('nemesis'));
  const instance = context.workloadCreate({ concurrency: options.concurrency });
  const processes = new ProcessTable(options.concurrency);
  const limitNs = options.timeLimitS * NS_PER_S;

  const endpoints = cluster.nodeIds.map((id) => ({ id, endpoint: cluster.endpointOf(id) }));
  const nemesis = new Nemesis(cluster, recorder, () => findLeader(pool.clients[0]!, endpoints), log.child({ component: 'nemesis' }), options.rpcTimeoutMs);
  let phase = 'main';
  const phaseStartNs = recorder.nowNs();
  const status = new StatusLine(
    {
      phase: () => phase,
      elapsedNs: () => recorder.nowNs() - phaseStartNs,
      limitS: options.timeLimitS,
      counts: () => recorder.counts,
      faults: () => nemesis.active,
    },
    context.io.out,
  );
  status.start();

  try {
    const countsBefore = recorder.counts.ok + recorder.counts.fail + recorder.counts.info;
    const mainStartNs = recorder.nowNs();
    await Promise.all([
      runClientPhase(
        {
          generator: timeLimit(limitNs, rate(options.rateOpsPerS, instance.generator)),
          workload: instance,
          // Pinned clients send some ops to every node, so a deposed leader or a candidate gets them.
          clients: [...pool.clients, ...pool.pinned],
          concurrency: options.concurrency,
          recorder,
          random: clientRandom,
          signal: abort.signal,
          log,
        },
        processes,
      ),
      runNemesis(timeLimit(limitNs, nemesisGenerator(options.nemesis, cluster.nodeIds, options.nemesisIntervalS * NS_PER_S)), nemesis, recorder, nemesisRandom, abort.signal),
    ]);
    const seconds = (recorder.nowNs() - mainStartNs) / NS_PER_S;
    const opsCompleted = recorder.counts.ok + recorder.counts.fail + recorder.counts.info - countsBefore;

    phase = 'heal';
    await nemesis.healAll();
    phase = 'recovery';
    await sleepMs(options.recoveryS * 1000, abort.signal);
    try {
      await waitForLeader(pool.clients[0]!, RECOVERY_LEADER_TIMEOUT_MS, abort.signal, () => cluster.anyRunning());
    } catch (error) {
      // The final reads still run and fail, so the checkers see the missing reads.
      log.error({ err: error }, 'no leader after recovery');
      context.io.out.write(`warning: ${(error as Error).message}\n`);
    }

    phase = 'final';
    await runClientPhase(
      {
        generator: instance.finalGenerator(),
        workload: instance,
        clients: pool.clients,
        concurrency: Math.min(options.concurrency, FINAL_CONCURRENCY_MAX),
        recorder,
        random: clientRandom,
        signal: abort.signal,
        log,
        retriesMax: FINAL_RETRIES_MAX,
        retryDelayMs: FINAL_RETRY_DELAY_MS,
      },
      processes,
    );
    return { opsCompleted, seconds };
  } finally {
    status.stop();
  }
}

async function runNemesis(generator: Generator<NemesisOp>, nemesis: Nemesis, recorder: HistoryRecorder, random: Random, signal: AbortSignal): Promise<void> {
  let current = generator;
  while (!signal.aborted) {
    const step = current.step({ timeNs: recorder.nowNs(), random });
    if (step.kind === 'done') return;
    current = step.next;
    if (step.kind === 'pending') {
      const untilNs = step.untilNs ?? recorder.nowNs() + 100_000_000;
      await sleepMs((untilNs - recorder.nowNs()) / 1e6, signal);
      continue;
    }
    await nemesis.apply(step.op);
  }
}

function sleepMs(durationMs: number, signal: AbortSignal): Promise<void> {
  if (durationMs <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, durationMs);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

async function removeDataDirs(meta: RunMeta): Promise<void> {
  await Promise.all(meta.nodes.map((node) => rm(node.dataDir, { recursive: true, force: true })));
}
