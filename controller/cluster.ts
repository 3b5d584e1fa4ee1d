// Cluster control: N traft-server children on loopback, each in its own process group with its own
// data dir and log file, peers wired through the proxy mesh, and kill/restart/pause/resume by pid.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { execa } from 'execa';
import type { Logger } from 'pino';
import { ClusterError } from './errors.js';
import { CLIENTS_ID, LOOPBACK, ProxyMesh } from './proxy.js';

export interface ClusterOptions {
  nodeCount: number;
  /** Folder holding nodes/<id>/server.log and nodes/<id>/data. */
  runDir: string;
  /** Path of the built server entry, dist/server/main.js. */
  serverPath: string;
  clusterId: string;
  electionTimeoutMs: number;
  heartbeatMs: number;
  /** The run's seed. */
  seed: number;
  /** A planted bug to enable on every node. */
  unsafe?: string;
  /**
   * Wire peers through the proxy mesh (the default), so network faults can cut their links. A run
   * that injects no network fault passes false: peers then connect directly, which spares the
   * controller relaying every peer message.
   */
  peerProxies?: boolean;
  /**
   * Send the bench's client traffic through a proxy per node, so network faults can drop client
   * connections with requests in flight, and the clients retry them.
   */
  clientProxies?: boolean;
  log: Logger;
}

export interface NodeInfo {
  id: number;
  /** host:port where clients and peers (through proxies) reach the node. */
  listen: string;
  dataDir: string;
  logPath: string;
}

/**
 * Extra Node.js options for every server, split on spaces, from TRAFT_SERVER_NODE_ARGS. Meant for
 * profiling (`--cpu-prof --cpu-prof-dir=DIR`), which Node does not accept in NODE_OPTIONS.
 */
const SERVER_NODE_ARGS = (process.env['TRAFT_SERVER_NODE_ARGS'] ?? '').split(' ').filter((arg) => arg !== '');

/**
 * V8 options for every server. A server allocates short-lived objects for every record it
 * replicates. With V8's default young generation, garbage collection took about a sixth of a
 * follower's CPU in an unlimited-rate run. A 64 MB semi-space cuts that; the young generation may
 * then grow to a few times 64 MB per server.
 */
const SERVER_V8_ARGS = ['--max-semi-space-size=64'];

/** Starts one server in its own process group, appending its output to `logPath`. */
function spawnServer(args: string[], logPath: string) {
  const log = { file: logPath, append: true };
  return execa(process.execPath, [...SERVER_V8_ARGS, ...SERVER_NODE_ARGS, ...args], { detached: true, stdin: 'ignore', stdout: log, stderr: log, reject: false, cleanup: false });
}
type ServerProcess = ReturnType<typeof spawnServer>;

type NodeState = 'running' | 'killed' | 'paused' | 'stopped';

interface NodeProcess {
  info: NodeInfo;
  port: number;
  state: NodeState;
  child?: ServerProcess;
  pid?: number;
  /** Set once the current process has exited, so its pid, which the OS may reuse, is never signalled again. */
  exited: boolean;
}

/** Picks a free loopback port by binding port 0; the port is free when this returns, not reserved. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => resolve());
  });
  const address = server.address();
  assert(address !== null && typeof address === 'object', 'probe server has no address');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return address.port;
}

export class Cluster {
  /** Every pid ever started, so a crash handler can kill them all and a test can check none survive. */
  readonly startedPids: number[] = [];
  private readonly nodes = new Map<number, NodeProcess>();

  private constructor(
    private readonly options: ClusterOptions,
    readonly mesh: ProxyMesh,
  ) {}

  /** Starts the proxy mesh and every server; does not wait for a leader. */
  static async start(options: ClusterOptions): Promise<Cluster> {
    assert(options.nodeCount >= 1, `nodeCount must be >= 1, got ${options.nodeCount}`);
    const ports = new Map<number, number>();
    for (let id = 1; id <= options.nodeCount; id += 1) ports.set(id, await freePort());

    const mesh = await ProxyMesh.start(ports, options.log.child({ component: 'proxy' }), options.clientProxies === true);
    const cluster = new Cluster(options, mesh);
    for (const [id, port] of ports) {
      const nodeDir = path.join(options.runDir, 'nodes', String(id));
      const dataDir = path.join(nodeDir, 'data');
      mkdirSync(dataDir, { recursive: true });
      cluster.nodes.set(id, {
        info: { id, listen: `${LOOPBACK}:${port}`, dataDir, logPath: path.join(nodeDir, 'server.log') },
        port,
        state: 'stopped',
        exited: true,
      });
    }
    for (const id of ports.keys()) cluster.spawn(id);
    return cluster;
  }

  get nodeIds(): number[] {
    return [...this.nodes.keys()];
  }

  get nodeInfos(): NodeInfo[] {
    return [...this.nodes.values()].map((node) => node.info);
  }

  /**
   * Client endpoints: the client links of the proxy mesh when it has them, else the servers' own
   * addresses. Partitions never cut client links, so clients can always reach every node.
   */
  get endpoints(): string[] {
    if (this.mesh.hasClientLinks) return this.nodeIds.map((id) => this.mesh.addressFor(CLIENTS_ID, id));
    return this.nodeInfos.map((info) => info.listen);
  }

  endpointOf(id: number): string {
    return this.node(id).info.listen;
  }

  /** True when at least one server process is running or paused (not exited). */
  anyRunning(): boolean {
    return [...this.nodes.values()].some((node) => node.state === 'running' || node.state === 'paused');
  }

  stateOf(id: number): NodeState {
    return this.node(id).state;
  }

  /** Sends SIGKILL to the node's server; restart() brings it back with the same data dir and port. */
  async kill(id: number): Promise<void> {
    const node = this.node(id);
    if (node.state === 'killed' || node.state === 'stopped') return;
    this.signal(node, 'SIGKILL');
    node.state = 'killed';
    await node.child;
  }

  restart(id: number): void {
    const node = this.node(id);
    if (node.state === 'running' || node.state === 'paused') return;
    this.spawn(id);
  }

  pause(id: number): void {
    const node = this.node(id);
    if (node.state !== 'running') return;
    this.signal(node, 'SIGSTOP');
    node.state = 'paused';
  }

  resume(id: number): void {
    const node = this.node(id);
    if (node.state !== 'paused') return;
    this.signal(node, 'SIGCONT');
    node.state = 'running';
  }

  /** Stops every server (SIGTERM, then SIGKILL after `graceMs`) and closes the proxies. */
  async stop(graceMs: number): Promise<void> {
    const live = [...this.nodes.values()].filter((node) => node.state === 'running' || node.state === 'paused');
    for (const node of live) {
      const wasPaused = node.state === 'paused';
      // Marked first, so the exit watcher does not report this exit as a crash.
      node.state = 'stopped';
      if (wasPaused) this.signal(node, 'SIGCONT');
      this.signal(node, 'SIGTERM');
    }
    const exited = Promise.all(live.map((node) => node.child));
    const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), graceMs).unref());
    if ((await Promise.race([exited, timer])) === 'timeout') {
      for (const node of live) this.signal(node, 'SIGKILL');
      await exited;
    }
    await this.mesh.close();
  }

  /** Kills every started server at once, synchronously; for signal and crash handlers. */
  killAllSync(): void {
    for (const node of this.nodes.values()) {
      if (node.exited) continue;
      this.signal(node, 'SIGKILL');
      node.state = 'killed';
    }
  }

  private spawn(id: number): void {
    const node = this.node(id);
    const peers = this.nodeIds
      .filter((peer) => peer !== id)
      .map((peer) => `${peer}=${this.options.peerProxies === false ? this.node(peer).info.listen : this.mesh.addressFor(id, peer)}`)
      .join(',');
    const args = [
      this.options.serverPath,
      '--id', String(id),
      '--listen', node.info.listen,
      '--peers', peers,
      '--data-dir', node.info.dataDir,
      '--cluster-id', this.options.clusterId,
      '--election-timeout-ms', String(this.options.electionTimeoutMs),
      '--heartbeat-ms', String(this.options.heartbeatMs),
      '--parent-pid', String(process.pid),
      // Election timeouts are randomized from this seed, so a replay starts the same way.
      '--seed', String((this.options.seed * 64 + id) % 2 ** 31),
    ];
    if (this.options.unsafe !== undefined) args.push('--admin', '--unsafe', this.options.unsafe);

    // The log is opened for append so a restarted node continues the same file.
    const child = spawnServer(args, node.info.logPath);
    if (child.pid === undefined) throw new ClusterError(`could not start node ${id}: no pid from ${process.execPath} ${this.options.serverPath}`);
    node.child = child;
    node.pid = child.pid;
    node.state = 'running';
    node.exited = false;
    this.startedPids.push(child.pid);
    this.options.log.info({ node: id, pid: child.pid, listen: node.info.listen }, 'server started');

    void child.then((result) => {
      if (node.child !== child) return;
      node.exited = true;
      if (node.state === 'running') {
        // The controller did not request this exit, so the server crashed or failed to start.
        node.state = 'killed';
        this.options.log.warn({ node: id, pid: child.pid, exitCode: result.exitCode, signal: result.signal }, 'server exited unexpectedly');
      }
    });
  }

  private signal(node: NodeProcess, signal: NodeJS.Signals): void {
    if (node.pid === undefined || node.exited) return;
    try {
      process.kill(node.pid, signal);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }

  private node(id: number): NodeProcess {
    const node = this.nodes.get(id);
    assert(node !== undefined, `no node ${id}`);
    return node;
  }
}
