// The bench's use of the server's client library: connecting a few shared clients, waiting until
// the cluster commits writes, and asking which node leads (for leader-targeted faults).
import { TraftClient } from '../server/client/client.js';
import type { JsonValue, MicroOp } from '../server/core/types.js';
import type { KvClient, KvOutcome } from '../workloads/types.js';
import { ClusterError } from './errors.js';

/**
 * Logical processes per client instance. Each instance tracks its own leader, so several
 * instances spread the load and keep some clients on each side of a leader change.
 */
const PROCESSES_PER_CLIENT = 4;
const CLIENTS_MAX = 8;
/** A key no workload uses, written to prove that a leader commits. */
const READY_KEY = 'traft:ready';

export interface ClientPool {
  /** Clients that follow NOT_LEADER redirects; TraftClient satisfies the workloads' KvClient interface. */
  clients: TraftClient[];
  /** One client per node that never leaves its node, so a stale leader or a candidate gets ops too. */
  pinned: PinnedClient[];
  close(): void;
}

/**
 * The message of grpc-js's pick-first load balancer when no connection is ready: the call fails
 * before it is sent, and the client library reports it as a fail that was not executed.
 */
const NEVER_SENT_MARKER = 'No connection established';
/**
 * After a call to a node that is down or stopped, a pinned client waits this long before it
 * returns, so its thread does not fill the history with calls to a dead node.
 */
const PINNED_DOWN_PAUSE_MS = 500;
/**
 * After its node refuses a call (NOT_LEADER, NOT_READY), a pinned client waits this long before
 * it returns. A refusal costs the node almost nothing, so without a pause the threads pinned to
 * followers would fill an unlimited-rate history with refusals.
 */
const PINNED_REFUSED_PAUSE_MS = 200;
/** The prefix of the client library's reason when every attempt of a call was refused. */
const NOT_EXECUTED_PREFIX = 'not executed';

/**
 * A client that sends every call to one node only, with a single attempt and without following
 * NOT_LEADER redirects. A call the node refuses is recorded as fail (not executed); a call that
 * may have reached it is info.
 */
export class PinnedClient implements KvClient {
  private constructor(private readonly client: TraftClient) {}

  static async connect(endpoint: string, clientId: string, rpcTimeoutMs: number): Promise<PinnedClient> {
    return new PinnedClient(await TraftClient.connect([endpoint], { clientId, rpcTimeoutMs, attemptsMax: 1, followRedirects: false }));
  }

  get(key: string): Promise<KvOutcome> {
    return this.call(this.client.get(key));
  }
  put(key: string, value: JsonValue): Promise<KvOutcome> {
    return this.call(this.client.put(key, value));
  }
  cas(key: string, expected: JsonValue, value: JsonValue): Promise<KvOutcome> {
    return this.call(this.client.cas(key, expected, value));
  }
  append(key: string, value: JsonValue): Promise<KvOutcome> {
    return this.call(this.client.append(key, value));
  }
  incr(key: string, delta: number): Promise<KvOutcome> {
    return this.call(this.client.incr(key, delta));
  }
  txn(ops: MicroOp[]): Promise<KvOutcome> {
    return this.call(this.client.txn(ops));
  }

  close(): void {
    this.client.close();
  }

  private async call(sent: Promise<KvOutcome>): Promise<KvOutcome> {
    const outcome = await sent;
    if (outcome.type === 'info') {
      await new Promise((resolve) => setTimeout(resolve, PINNED_DOWN_PAUSE_MS));
      return outcome;
    }
    if (outcome.type === 'fail' && outcome.reason.includes(NEVER_SENT_MARKER)) {
      // The node is down: no connection, so the call was never sent. Wait before the next one.
      await new Promise((resolve) => setTimeout(resolve, PINNED_DOWN_PAUSE_MS));
      return { type: 'fail', reason: `not sent: ${outcome.reason}` };
    }
    if (outcome.type === 'fail' && outcome.reason.startsWith(NOT_EXECUTED_PREFIX)) {
      await new Promise((resolve) => setTimeout(resolve, PINNED_REFUSED_PAUSE_MS));
    }
    return outcome;
  }
}

// NOTE: a server's NOT_LEADER hint carries the leader's address from its --peers list, which is
// the proxy from that server to the leader. A client that follows the hint sends its requests
// through that proxy, so partitions can cut some client traffic as well as peer traffic.
export async function connectClients(endpoints: string[], concurrency: number, seed: number, rpcTimeoutMs: number): Promise<ClientPool> {
  const count = Math.min(CLIENTS_MAX, Math.max(1, Math.ceil(concurrency / PROCESSES_PER_CLIENT)));
  const clients: TraftClient[] = [];
  for (let i = 0; i < count; i += 1) {
    // Each instance starts its search for the leader at a different node.
    const rotated = [...endpoints.slice(i % endpoints.length), ...endpoints.slice(0, i % endpoints.length)];
    clients.push(await TraftClient.connect(rotated, { clientId: `traft-${seed}-${process.pid}-${i}`, rpcTimeoutMs }));
  }
  const pinned = await Promise.all(endpoints.map((endpoint, i) => PinnedClient.connect(endpoint, `traft-${seed}-${process.pid}-pinned-${i}`, rpcTimeoutMs)));
  return {
    clients,
    pinned,
    close: () => {
      for (const client of clients) client.close();
      for (const client of pinned) client.close();
    },
  };
}

/** Writes to a reserved key until a write is acknowledged, which proves a leader commits. */
export async function waitForLeader(client: KvClient, timeoutMs: number, signal: AbortSignal, anyServerRunning: () => boolean): Promise<number> {
  const startedMs = Date.now();
  let attempt = 0;
  let lastReason = 'no reply yet';
  while (Date.now() - startedMs < timeoutMs && !signal.aborted) {
    if (!anyServerRunning()) throw new ClusterError('every server exited before a leader was elected; see nodes/<id>/server.log in the run folder');
    attempt += 1;
    const outcome = await client.put(READY_KEY, attempt);
    if (outcome.type === 'ok') return Date.now() - startedMs;
    lastReason = outcome.reason;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new ClusterError(`no leader committed a write within ${timeoutMs} ms (last outcome: ${lastReason}); see the server logs under nodes/`);
}

/**
 * Asks each endpoint for its status and returns the id of a node that reports itself leader, or
 * undefined when none does (during an election, or with every node down).
 */
export async function findLeader(client: TraftClient, endpoints: readonly { id: number; endpoint: string }[]): Promise<number | undefined> {
  const replies = await Promise.all(endpoints.map(async ({ id, endpoint }) => ({ id, outcome: await client.status(endpoint) })));
  for (const { id, outcome } of replies) {
    if (outcome.type !== 'ok') continue;
    const status = outcome.value as { role?: unknown; leaderId?: unknown } | null | undefined;
    if (typeof status === 'object' && status !== null && status.role === 'leader') return id;
  }
  return undefined;
}
