// `make bench-server`: throughput and latency of a 3-node traft-server cluster on loopback with
// fsync on, driven by 64 concurrent clients from this process, and the out-of-order against
// in-order commit comparison with one follower's link slowed by a delaying TCP proxy.
// Prints the figures and writes bench/results/server.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { TraftClient, type KvOutcome } from '../server/client/client.js';
import { REPO_ROOT, sleep, TestCluster } from '../test/server/cluster.js';

interface PhaseResult {
  name: string;
  durationS: number;
  ops: number;
  opsPerS: number;
  ok: number;
  fail: number;
  info: number;
  latencyMs: { p50: number; p99: number; p999: number; max: number };
}

interface BenchOptions {
  durationS: number;
  clients: number;
  channels: number;
  keys: number;
  slowLinkDelayMs: number;
  slowLinkJitterMs: number;
  out: string;
}

function percentile(sortedMs: Float64Array, q: number): number {
  if (sortedMs.length === 0) {
    return Number.NaN;
  }
  const index = Math.min(sortedMs.length - 1, Math.ceil(q * sortedMs.length) - 1);
  return round3(sortedMs[Math.max(0, index)]!);
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/**
 * Runs `clients` concurrent loops for `durationS`, each issuing `operation` back to back, and
 * measures the latency of every call from this process.
 */
async function runPhase(
  name: string,
  clientPool: TraftClient[],
  options: BenchOptions,
  operation: (client: TraftClient, i: number) => Promise<KvOutcome>,
): Promise<PhaseResult> {
  const latenciesMs: number[] = [];
  let ok = 0;
  let fail = 0;
  let info = 0;
  const startNs = process.hrtime.bigint();
  const endNs = startNs + BigInt(Math.round(options.durationS * 1e9));

  const loop = async (worker: number): Promise<void> => {
    const client = clientPool[worker % clientPool.length]!;
    let i = worker;
    while (process.hrtime.bigint() < endNs) {
      const t0 = process.hrtime.bigint();
      const outcome = await operation(client, i);
      latenciesMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (outcome.type === 'ok') ok++;
      else if (outcome.type === 'fail') fail++;
      else info++;
      i += options.clients;
    }
  };
  await Promise.all(Array.from({ length: options.clients }, (_, w) => loop(w)));

  const elapsedS = Number(process.hrtime.bigint() - startNs) / 1e9;
  const sorted = Float64Array.from(latenciesMs).sort();
  const result: PhaseResult = {
    name,
    durationS: round3(elapsedS),
    ops: latenciesMs.length,
    opsPerS: Math.round(latenciesMs.length / elapsedS),
    ok,
    fail,
    info,
    latencyMs: {
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      p999: percentile(sorted, 0.999),
      max: round3(sorted[sorted.length - 1] ?? Number.NaN),
    },
  };
  printPhase(result);
  return result;
}

function printPhase(r: PhaseResult): void {
  process.stdout.write(
    `${r.name.padEnd(34)} ${String(r.opsPerS).padStart(7)} ops/s  p50 ${r.latencyMs.p50.toFixed(2)} ms  ` +
      `p99 ${r.latencyMs.p99.toFixed(2)} ms  p99.9 ${r.latencyMs.p999.toFixed(2)} ms  ` +
      `(ok ${r.ok}, fail ${r.fail}, info ${r.info})\n`,
  );
}

/**
 * Starts a TCP proxy on 127.0.0.1 that delays every chunk in both directions by `delayMs` plus
 * a uniform jitter up to `jitterMs`, keeping the byte order of each direction.
 */
async function startDelayProxy(targetPort: number, delayMs: number, jitterMs: number): Promise<{ port: number; server: Server }> {
  const sockets = new Set<Socket>();
  const pipeDelayed = (from: Socket, to: Socket): void => {
    let lastDueMs = 0;
    from.on('data', (chunk) => {
      const dueMs = Math.max(Date.now() + delayMs + Math.random() * jitterMs, lastDueMs);
      lastDueMs = dueMs;
      setTimeout(() => {
        if (!to.destroyed) {
          to.write(chunk);
        }
      }, dueMs - Date.now());
    });
    from.on('close', () => setTimeout(() => to.destroy(), Math.max(0, lastDueMs - Date.now())));
    from.on('error', () => to.destroy());
  };
  const server = createServer((inbound) => {
    const outbound = createConnection({ host: '127.0.0.1', port: targetPort });
    sockets.add(inbound).add(outbound);
    inbound.on('close', () => sockets.delete(inbound));
    outbound.on('close', () => sockets.delete(outbound));
    pipeDelayed(inbound, outbound);
    pipeDelayed(outbound, inbound);
  });
  server.on('close', () => sockets.forEach((s) => s.destroy()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return { port: typeof address === 'object' && address ? address.port : 0, server };
}

async function openClients(cluster: TestCluster, options: BenchOptions): Promise<TraftClient[]> {
  const pool: TraftClient[] = [];
  for (let i = 0; i < options.channels; i++) {
    pool.push(await cluster.client({ rpcTimeoutMs: 5000, clientId: `bench-${i}` }));
  }
  return pool;
}

async function throughputRun(options: BenchOptions): Promise<PhaseResult[]> {
  const cluster = await TestCluster.start({ size: 3, extraArgs: ['--log-level', 'warn'] });
  try {
    await cluster.waitForLeader(20_000);
    const pool = await openClients(cluster, options);
    const key = (i: number) => `k${i % options.keys}`;
    const puts = await runPhase('put', pool, options, (c, i) => c.put(key(i), i));
    const mixed = await runPhase('get/put 50/50', pool, options, (c, i) => (i % 2 === 0 ? c.get(key(i)) : c.put(key(i), i)));
    return [puts, mixed];
  } finally {
    await cluster.stop();
  }
}

/**
 * Starts a cluster whose nodes 1 and 2 reach node 3 only through a delaying proxy, makes sure
 * node 3 does not lead, and measures puts. Node 3 is then the follower with the slow link.
 * NOTE: the proxy keeps the byte order of each connection, so the fast follower receives
 * records in order and a prefix commit rarely waits for a gap. Out-of-order commit should pull
 * ahead only when messages to the fast follower are lost or reordered, which this setup lacks.
 */
async function slowFollowerRun(commitOrder: 'out-of-order' | 'in-order', options: BenchOptions): Promise<PhaseResult> {
  const cluster = await TestCluster.start({ size: 0 });
  const proxies: Server[] = [];
  try {
    for (let id = 1; id <= 3; id++) {
      await cluster.addSpec(id);
    }
    const node3 = cluster.spec(3);
    const proxy = await startDelayProxy(node3.port, options.slowLinkDelayMs, options.slowLinkJitterMs);
    proxies.push(proxy.server);
    const slowPeers = cluster.specs
      .map((s) => `${s.id}=127.0.0.1:${s.id === 3 ? proxy.port : s.port}`)
      .join(',');
    const common = ['--commit-order', commitOrder, '--log-level', 'warn'];
    cluster.startNode(1, ['--peers', slowPeers, ...common]);
    cluster.startNode(2, ['--peers', slowPeers, ...common]);
    cluster.startNode(3, [...common, '--election-timeout-ms', '3000']);

    await cluster.waitForLeader(20_000, [1, 2]);
    const pool = await openClients(cluster, options);
    const result = await runPhase(
      `put, slow follower, ${commitOrder}`,
      pool,
      options,
      (c, i) => c.put(`k${i % options.keys}`, i),
    );
    return result;
  } finally {
    await cluster.stop();
    for (const server of proxies) {
      server.close();
    }
  }
}

async function main(): Promise<void> {
  const program = new Command('bench-server')
    .description('Benchmark a 3-node traft-server cluster on loopback (fsync on).')
    .addOption(new Option('--duration-s <s>', 'length of each measured phase in seconds').default('10'))
    .addOption(new Option('--clients <n>', 'concurrent client loops').default('64'))
    .addOption(new Option('--channels <n>', 'TraftClient instances the loops share').default('4'))
    .addOption(new Option('--keys <n>', 'distinct keys written').default('1000'))
    .addOption(new Option('--slow-link-delay-ms <ms>', 'added delay on the slow follower link, each direction').default('5'))
    .addOption(new Option('--slow-link-jitter-ms <ms>', 'uniform extra delay up to this, each direction').default('20'))
    .addOption(new Option('--out <file>', 'where to write the JSON results').default(join(REPO_ROOT, 'bench/results/server.json')));
  program.parse();
  const raw = program.opts();
  const options: BenchOptions = {
    durationS: positive(raw.durationS, '--duration-s'),
    clients: positive(raw.clients, '--clients'),
    channels: positive(raw.channels, '--channels'),
    keys: positive(raw.keys, '--keys'),
    slowLinkDelayMs: nonNegative(raw.slowLinkDelayMs, '--slow-link-delay-ms'),
    slowLinkJitterMs: nonNegative(raw.slowLinkJitterMs, '--slow-link-jitter-ms'),
    out: String(raw.out),
  };

  process.stdout.write(`bench-server: 3 nodes, fsync on, ${options.clients} clients, ${options.durationS} s per phase\n`);
  const throughput = await throughputRun(options);
  await sleep(500);
  const outOfOrder = await slowFollowerRun('out-of-order', options);
  await sleep(500);
  const inOrder = await slowFollowerRun('in-order', options);

  process.stdout.write(
    `\nslow follower link (+${options.slowLinkDelayMs} ms, jitter ${options.slowLinkJitterMs} ms): ` +
      `p99 put latency out-of-order ${outOfOrder.latencyMs.p99.toFixed(2)} ms vs in-order ${inOrder.latencyMs.p99.toFixed(2)} ms\n`,
  );

  const results = {
    bench: 'server',
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version },
    options: { ...options, nodes: 3, fsync: true },
    phases: [...throughput, outOfOrder, inOrder],
    slowFollower: {
      delayMs: options.slowLinkDelayMs,
      jitterMs: options.slowLinkJitterMs,
      outOfOrderP99Ms: outOfOrder.latencyMs.p99,
      inOrderP99Ms: inOrder.latencyMs.p99,
    },
    finishedAt: new Date().toISOString(),
  };
  mkdirSync(join(options.out, '..'), { recursive: true });
  writeFileSync(options.out, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`wrote ${options.out}\n`);
}

function positive(text: unknown, flag: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    process.stderr.write(`bench-server: ${flag} ${JSON.stringify(text)} is not a positive number\n`);
    process.exit(64);
  }
  return value;
}

function nonNegative(text: unknown, flag: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) {
    process.stderr.write(`bench-server: ${flag} ${JSON.stringify(text)} is not a non-negative number\n`);
    process.exit(64);
  }
  return value;
}

main().catch((error: unknown) => {
  process.stderr.write(`bench-server: failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
