// A harness for tests with real traft-server processes on 127.0.0.1: free ports picked at run
// time, data dirs under os.tmpdir(), and every child killed by pid on teardown.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TraftClient, type KvOutcome } from '../../server/client/client.js';

/** Finds the repository root: the nearest folder above this file with package.json, outside dist/. */
function findRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || dir.endsWith('/dist') || dir.includes('/dist/')) {
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    }
    dir = parent;
  }
  return dir;
}

export const REPO_ROOT = findRepoRoot();
export const SERVER_MAIN = join(REPO_ROOT, 'dist/server/main.js');

/** Returns a port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

export interface NodeSpec {
  id: number;
  port: number;
  dataDir: string;
}

export interface RunningNode extends NodeSpec {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface ClusterOptions {
  size: number;
  extraArgs?: string[];
  electionTimeoutMs?: number;
  heartbeatMs?: number;
}

/** Spawns node.js on dist/server/main.js with `args`, capturing its output lines. */
export function spawnServer(args: string[], spec: NodeSpec): RunningNode {
  const child = spawn(process.execPath, [SERVER_MAIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const stdout: string[] = [];
  const stderr: string[] = [];
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => stdout.push(...chunk.split('\n').filter(Boolean)));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => stderr.push(...chunk.split('\n').filter(Boolean)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) => {
    child.on('exit', (code, signal) => resolveExit({ code, signal }));
  });
  return { ...spec, child, stdout, stderr, exited };
}

export class TestCluster {
  readonly nodes = new Map<number, RunningNode>();
  readonly specs: NodeSpec[] = [];
  readonly rootDir: string;
  private readonly clients: TraftClient[] = [];

  private constructor(
    rootDir: string,
    private readonly options: ClusterOptions,
  ) {
    this.rootDir = rootDir;
  }

  /** Picks ports and data dirs for `size` nodes and starts them all. */
  static async start(options: ClusterOptions): Promise<TestCluster> {
    const cluster = new TestCluster(mkdtempSync(join(tmpdir(), 'traft-test-')), options);
    for (let id = 1; id <= options.size; id++) {
      cluster.specs.push({ id, port: await freePort(), dataDir: join(cluster.rootDir, `node-${id}`) });
    }
    for (const spec of cluster.specs) {
      cluster.startNode(spec.id);
    }
    return cluster;
  }

  get peersFlag(): string {
    return this.specs.map((s) => `${s.id}=127.0.0.1:${s.port}`).join(',');
  }

  get endpoints(): string[] {
    return this.specs.map((s) => `127.0.0.1:${s.port}`);
  }

  endpointOf(id: number): string {
    return `127.0.0.1:${this.spec(id).port}`;
  }

  spec(id: number): NodeSpec {
    const spec = this.specs.find((s) => s.id === id);
    if (!spec) {
      throw new Error(`no node ${id} in the test cluster`);
    }
    return spec;
  }

  argsFor(spec: NodeSpec, extra: string[] = []): string[] {
    return [
      '--id', String(spec.id),
      '--listen', `127.0.0.1:${spec.port}`,
      '--peers', this.peersFlag,
      '--data-dir', spec.dataDir,
      '--cluster-id', 'test',
      '--election-timeout-ms', String(this.options.electionTimeoutMs ?? 300),
      '--heartbeat-ms', String(this.options.heartbeatMs ?? 50),
      '--parent-pid', String(process.pid),
      '--admin',
      '--log-level', 'info',
      ...(this.options.extraArgs ?? []),
      ...extra,
    ];
  }

  startNode(id: number, extra: string[] = []): RunningNode {
    const spec = this.spec(id);
    const running = spawnServer(this.argsFor(spec, extra), spec);
    this.nodes.set(id, running);
    return running;
  }

  /** Adds a spec for a new node (not started) and returns it. */
  async addSpec(id: number): Promise<NodeSpec> {
    const spec = { id, port: await freePort(), dataDir: join(this.rootDir, `node-${id}`) };
    this.specs.push(spec);
    return spec;
  }

  /** kill -9 of node `id`; resolves once it has exited. */
  async kill9(id: number): Promise<void> {
    const node = this.nodes.get(id);
    if (!node || node.child.exitCode !== null || node.child.signalCode !== null) {
      return;
    }
    node.child.kill('SIGKILL');
    await node.exited;
  }

  async client(options: { rpcTimeoutMs?: number; clientId?: string } = {}): Promise<TraftClient> {
    const client = await TraftClient.connect(this.endpoints, { rpcTimeoutMs: options.rpcTimeoutMs ?? 3000, clientId: options.clientId });
    this.clients.push(client);
    return client;
  }

  /** Waits until some node reports itself a ready leader; returns its id. */
  async waitForLeader(timeoutMs = 15_000, among?: number[]): Promise<number> {
    const client = await this.client({ rpcTimeoutMs: 500 });
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      for (const spec of this.specs) {
        if (among && !among.includes(spec.id)) {
          continue;
        }
        const node = this.nodes.get(spec.id);
        if (!node || node.child.exitCode !== null || node.child.signalCode !== null) {
          continue;
        }
        const status = await client.status(this.endpointOf(spec.id));
        if (status.type === 'ok') {
          const value = status.value as { role: string; ready: boolean; id: number };
          if (value.role === 'leader' && value.ready) {
            return value.id;
          }
        }
      }
      await sleep(100);
    }
    throw new Error(`no ready leader within ${timeoutMs} ms; logs:\n${this.tailLogs()}`);
  }

  /** Retries `operation` until it returns ok or the time runs out; returns the last outcome. */
  async untilOk(operation: () => Promise<KvOutcome>, timeoutMs = 10_000): Promise<KvOutcome> {
    const deadline = Date.now() + timeoutMs;
    let outcome = await operation();
    while (outcome.type !== 'ok' && Date.now() < deadline) {
      await sleep(100);
      outcome = await operation();
    }
    return outcome;
  }

  tailLogs(linesMax = 15): string {
    const parts: string[] = [];
    for (const [id, node] of this.nodes) {
      parts.push(`--- node ${id} stdout`, ...node.stdout.slice(-linesMax), `--- node ${id} stderr`, ...node.stderr.slice(-linesMax));
    }
    return parts.join('\n');
  }

  /** Kills every node by pid, closes clients and removes the data dirs. */
  async stop(): Promise<void> {
    for (const client of this.clients) {
      client.close();
    }
    const exits: Promise<unknown>[] = [];
    for (const node of this.nodes.values()) {
      if (node.child.exitCode === null && node.child.signalCode === null) {
        node.child.kill('SIGKILL');
        exits.push(node.exited);
      }
    }
    await Promise.all(exits);
    rmSync(this.rootDir, { recursive: true, force: true });
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolveSleep) => setTimeout(resolveSleep, ms));
}

/** Waits for `promise` at most `timeoutMs`, rejecting with `description` in the message. */
export async function within<T>(promise: Promise<T>, timeoutMs: number, description: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${description} did not finish within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
