// The client library for a TRaft cluster: leader discovery and NOT_LEADER redirects, one
// deadline per call, exactly-once writes through (clientId, seq), and an honest outcome for
// every call: ok (happened), fail (definitely did not happen) or info (unknown). Key-value calls
// to one endpoint are coalesced into Batch RPCs (see batcher.ts); each call keeps its own
// deadline, redirects, retries and outcome.
import { randomUUID } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import type { Header } from '../../proto/gen/traft/v1/common_pb.js';
import {
  ReadConsistency,
  ReplyStatus,
  TRaftKV,
  type ConfigReply,
  type StatusReply,
} from '../../proto/gen/traft/v1/kv_pb.js';
import { HeaderSchema } from '../../proto/gen/traft/v1/common_pb.js';
import type { ClusterConfig, CommandResult, JsonValue, MicroOp } from '../core/types.js';
import { fromWireConfig, toWireConfig, WireError } from '../transport/convert.js';
import { CallError, CHANNEL_OPTIONS, callUnary } from '../transport/grpc.js';
import { EndpointBatcher, NotSentError } from './batcher.js';
import { encodeBatchItem, parseCommandResult, type HeaderFields, type KvCall, type KvReplyFields } from './wire.js';

/** The outcome of one client call. */
export type KvOutcome =
  | { type: 'ok'; value?: JsonValue; result?: CommandResult }
  /** Definitely did not happen. A cas whose comparison failed has reason 'cas-mismatch' and the current value. */
  | { type: 'fail'; reason: string; value?: JsonValue }
  /** Unknown: it may or may not have happened (timeout, connection lost, UNKNOWN from the server). */
  | { type: 'info'; reason: string };

export type { MicroOp };

export interface ClientOptions {
  /** Identifies this client's writes for deduplication; a random UUID by default. */
  clientId?: string;
  /** Deadline of one call, redirects and retries included, in milliseconds. */
  rpcTimeoutMs?: number;
  /** Sent in every request; the server rejects a mismatch. Empty means "any cluster". */
  clusterId?: string;
  /** The maximum number of attempts (redirects and retries) within one call. */
  attemptsMax?: number;
  /**
   * Follow NOT_LEADER replies to the leader they name (the default). With false, a NOT_LEADER
   * reply ends the call as a fail that was not executed, and the client keeps sending to the
   * endpoints it was given.
   */
  followRedirects?: boolean;
}

const DEFAULT_RPC_TIMEOUT_MS = 2000;
const DEFAULT_ATTEMPTS_MAX = 32;
/** Pause before retrying after NOT_READY, no known leader, or a transport error. */
const RETRY_PAUSE_MS = 20;
/** Minimum interval between two rounds of Status calls that learn endpoint ids. */
const ID_DISCOVERY_INTERVAL_MS = 1000;
/** Deadline of each Status call that learns an endpoint's id. */
const ID_DISCOVERY_TIMEOUT_MS = 500;
/** Addresses learned from redirects on top of the given endpoints. */
const LEARNED_ENDPOINTS_MAX = 16;
/** Calls per Batch RPC; more calls to one endpoint wait for the next batch. */
const BATCH_CALLS_MAX = 512;
/**
 * The details grpc-js gives a call that failed because no connection to the endpoint was
 * ready (its load balancer found no channel to send on), so the request never left the client.
 */
const NO_CONNECTION_DETAILS = 'No connection established';

interface Endpoint {
  address: string;
  client: grpc.Client;
  /** Coalesces this client's key-value calls to the endpoint into Batch RPCs. */
  batcher: EndpointBatcher;
}

type AttemptFunction = (endpoint: Endpoint, timeoutMs: number) => Promise<Attempt>;

type Attempt =
  | { kind: 'done'; outcome: KvOutcome }
  | { kind: 'redirect'; leaderId: number; leaderAddr: string }
  | { kind: 'retry'; reason: string; uncertain: boolean };

export class TraftClient {
  readonly clientId: string;
  private readonly endpoints: Endpoint[];
  private readonly givenCount: number;
  private leader: Endpoint | null = null;
  private nextEndpoint = 0;
  private seq = 0;
  /** Every write seq at or below it has a final outcome here; sent as the WriteTag's acked_through. */
  private ackedThrough = 0;
  /** Write seqs above `ackedThrough` that have a final outcome, waiting for the seqs below them. */
  private readonly finishedAbove = new Set<number>();
  /** Replica id of each given endpoint, learned from Status replies. */
  private readonly endpointIds = new Map<number, Endpoint>();
  private idsLearnedAtMs = 0;
  private requestId = 0;
  private readonly rpcTimeoutMs: number;
  private readonly attemptsMax: number;
  private readonly followRedirects: boolean;
  private readonly header: Header;
  private closed = false;

  private constructor(addresses: string[], options: ClientOptions) {
    if (addresses.length === 0) {
      throw new RangeError('TraftClient needs at least one endpoint host:port');
    }
    this.clientId = options.clientId ?? randomUUID();
    this.rpcTimeoutMs = options.rpcTimeoutMs ?? DEFAULT_RPC_TIMEOUT_MS;
    this.attemptsMax = options.attemptsMax ?? DEFAULT_ATTEMPTS_MAX;
    this.followRedirects = options.followRedirects ?? true;
    this.header = create(HeaderSchema, { clusterId: options.clusterId ?? '', fromId: 0 });
    this.endpoints = [...new Set(addresses)].map((address) => this.openEndpoint(address));
    this.givenCount = this.endpoints.length;
  }

  /** Opens channels to `endpoints` (host:port). grpc-js connects on the first call, so this does not wait. */
  static async connect(endpoints: string[], options: ClientOptions = {}): Promise<TraftClient> {
    return new TraftClient(endpoints, options);
  }

  // -------------------------------------------------------------------------------------------
  // Key-value commands

  put(key: string, value: JsonValue): Promise<KvOutcome> {
    return this.write({ kind: 'put', key, valueJson: JSON.stringify(value) });
  }

  delete(key: string): Promise<KvOutcome> {
    return this.write({ kind: 'delete', key });
  }

  /** Sets `key` to `value` if it equals `expected`; `expected: null` means "absent". */
  cas(key: string, expected: JsonValue, value: JsonValue): Promise<KvOutcome> {
    return this.write({ kind: 'cas', key, expectedJson: JSON.stringify(expected), valueJson: JSON.stringify(value) });
  }

  append(key: string, value: JsonValue): Promise<KvOutcome> {
    return this.write({ kind: 'append', key, valueJson: JSON.stringify(value) });
  }

  incr(key: string, delta: number): Promise<KvOutcome> {
    if (!Number.isSafeInteger(delta)) {
      return Promise.resolve({ type: 'fail', reason: `delta ${delta} is not a safe integer` });
    }
    return this.write({ kind: 'incr', key, delta });
  }

  txn(ops: MicroOp[]): Promise<KvOutcome> {
    const wireOps = ops.map((op) => ({ f: op.f, key: op.key, valueJson: op.f === 'append' ? JSON.stringify(op.value) : '' }));
    return this.write({ kind: 'txn', ops: wireOps });
  }

  get(key: string, options: { consistency?: 'linearizable' | 'stale' } = {}): Promise<KvOutcome> {
    const consistency = options.consistency === 'stale' ? ReadConsistency.STALE : ReadConsistency.LINEARIZABLE;
    return this.run(encodeBatchItem({ kind: 'get', key, consistency }, undefined), true);
  }

  // -------------------------------------------------------------------------------------------
  // Membership and status

  /** Fetches the status of `endpoint` (host:port), or of the first reachable endpoint, as `value`. */
  async status(endpoint?: string): Promise<KvOutcome> {
    const targets = endpoint ? [this.endpointFor(endpoint)] : this.endpoints;
    let lastReason = 'no endpoint';
    for (const target of targets) {
      try {
        const reply = await callUnary(target.client, TRaftKV, 'status', { header: this.header } as never, this.rpcTimeoutMs);
        return { type: 'ok', value: statusValue(reply as StatusReply, target.address) };
      } catch (error) {
        lastReason = reasonOf(error);
      }
    }
    return { type: 'info', reason: lastReason };
  }

  addLearner(id: number, addr: string): Promise<KvOutcome> {
    return this.configCall('addLearner', { header: this.header, id, addr });
  }

  /** Changes the voters to `target`: a list of voter ids (majority) or a full config. */
  changeConfig(target: number[] | ClusterConfig): Promise<KvOutcome> {
    const request = Array.isArray(target)
      ? { header: this.header, voterIds: target }
      : { header: this.header, config: toWireConfig(target) };
    return this.configCall('changeConfig', request);
  }

  removeMember(id: number): Promise<KvOutcome> {
    return this.configCall('removeMember', { header: this.header, id });
  }

  getConfig(): Promise<KvOutcome> {
    return this.configCall('getConfig', { header: this.header });
  }

  close(): void {
    this.closed = true;
    for (const endpoint of this.endpoints) {
      endpoint.batcher.close();
      endpoint.client.close();
    }
  }

  // -------------------------------------------------------------------------------------------
  // Internals

  private async write(call: Exclude<KvCall, { kind: 'get' }>): Promise<KvOutcome> {
    // The seq is fixed before the first attempt, so every retry carries the same (clientId, seq)
    // and the server's dedup table applies the write at most once. The watermark lets servers
    // drop the dedup entries of earlier writes, which this client never sends again.
    this.seq += 1;
    const seq = this.seq;
    const item = encodeBatchItem(call, { clientId: this.clientId, seq, ackedThrough: this.ackedThrough });
    try {
      return await this.run(item, true);
    } finally {
      this.finishWrite(seq);
    }
  }

  /** Marks `seq` final and raises the watermark over every final seq right above it. */
  private finishWrite(seq: number): void {
    this.finishedAbove.add(seq);
    while (this.finishedAbove.delete(this.ackedThrough + 1)) this.ackedThrough += 1;
  }

  private configCall(method: 'addLearner' | 'changeConfig' | 'removeMember' | 'getConfig', request: object): Promise<KvOutcome> {
    return this.run(async (endpoint, timeoutMs) => {
      const reply = (await callUnary(endpoint.client, TRaftKV, method, request as never, timeoutMs)) as ConfigReply;
      const common = this.statusAttempt(reply.status, reply.leaderId, reply.leaderAddr, reply.reason);
      if (common) {
        return common;
      }
      return { kind: 'done', outcome: { type: 'ok', value: configValue(reply) } };
    }, method === 'getConfig');
  }

  /**
   * Runs `attempt` against the leader, following redirects and retrying within one deadline.
   * An attempt is a function, or an encoded BatchItem that goes out through the endpoint's
   * batcher (this saves a closure and a promise per key-value call). Writes count as idempotent
   * because a retry carries the same (clientId, seq). For a call that is not, a fail after an
   * attempt that may have arrived becomes info.
   */
  private async run(attempt: AttemptFunction | Uint8Array, idempotent: boolean): Promise<KvOutcome> {
    if (this.closed) {
      return { type: 'fail', reason: 'the client is closed' };
    }
    const deadlineMs = Date.now() + this.rpcTimeoutMs;
    let uncertain = false;
    let lastReason = 'no attempt made';

    for (let i = 0; i < this.attemptsMax; i++) {
      const remainingMs = deadlineMs - Date.now();
      if (remainingMs <= 0) {
        lastReason = `timed out after ${this.rpcTimeoutMs} ms (${lastReason})`;
        break;
      }
      const endpoint = this.leader ?? this.pickEndpoint();
      let result: Attempt;
      try {
        result = attempt instanceof Uint8Array
          ? this.kvAttempt(await endpoint.batcher.call(attempt, Date.now() + remainingMs))
          : await attempt(endpoint, remainingMs);
      } catch (error) {
        result = this.transportAttempt(error);
        if (this.leader === endpoint) {
          this.leader = null;
        }
      }

      switch (result.kind) {
        case 'done':
          if (result.outcome.type !== 'info') {
            this.leader = endpoint;
          }
          if (uncertain && result.outcome.type === 'fail' && !idempotent) {
            return { type: 'info', reason: `an earlier attempt may have taken effect: ${result.outcome.reason}` };
          }
          return result.outcome;
        case 'redirect':
          if (!this.followRedirects) {
            const leader = result.leaderId === 0 ? 'no leader known' : `the leader is ${result.leaderId}`;
            return uncertain ? { type: 'info', reason: `redirected after an uncertain attempt; ${leader}` } : { type: 'fail', reason: `not executed: not the leader; ${leader}` };
          }
          this.leader = await this.leaderEndpoint(result.leaderId, result.leaderAddr, deadlineMs);
          if (this.leader === null) {
            await pause(RETRY_PAUSE_MS);
          }
          lastReason = result.leaderId === 0 ? 'no leader known' : `redirected to leader ${result.leaderId}`;
          break;
        case 'retry':
          uncertain ||= result.uncertain;
          lastReason = result.reason;
          await pause(Math.min(RETRY_PAUSE_MS, Math.max(0, deadlineMs - Date.now())));
          break;
        default: {
          const unexpected: never = result;
          throw new Error(`unexpected attempt ${JSON.stringify(unexpected)}`);
        }
      }
    }
    // Every attempt was refused (NOT_LEADER, NOT_READY) unless one may have reached a server.
    if (!uncertain) {
      return { type: 'fail', reason: `not executed: ${lastReason}` };
    }
    return { type: 'info', reason: lastReason };
  }

  private kvAttempt(reply: KvReplyFields): Attempt {
    const common = this.statusAttempt(reply.status, reply.leaderId, reply.leaderAddr, reply.reason);
    if (common) {
      return common;
    }
    let result: CommandResult;
    try {
      result = parseCommandResult(reply.resultJson);
    } catch (error) {
      const reason = error instanceof WireError ? error.message : String(error);
      return { kind: 'done', outcome: { type: 'info', reason: `invalid reply from the server: ${reason}` } };
    }
    return { kind: 'done', outcome: outcomeOfResult(result) };
  }

  /** Maps a non-OK reply status to an attempt; returns null for OK. */
  private statusAttempt(status: ReplyStatus, leaderId: number, leaderAddr: string, reason: string): Attempt | null {
    switch (status) {
      case ReplyStatus.OK:
        return null;
      case ReplyStatus.NOT_LEADER:
        return { kind: 'redirect', leaderId, leaderAddr };
      case ReplyStatus.NOT_READY:
        return { kind: 'retry', reason: 'the leader is not ready', uncertain: false };
      case ReplyStatus.UNKNOWN:
        return { kind: 'done', outcome: { type: 'info', reason: reason || 'the server reported an unknown outcome' } };
      case ReplyStatus.REJECTED:
        return { kind: 'done', outcome: { type: 'fail', reason: reason || 'rejected' } };
      case ReplyStatus.UNSPECIFIED:
        return { kind: 'done', outcome: { type: 'info', reason: 'the server sent no reply status' } };
      default:
        return { kind: 'done', outcome: { type: 'info', reason: `the server sent reply status ${String(status)}` } };
    }
  }

  /**
   * Maps a failed call. INVALID_ARGUMENT means the server rejected the request before acting.
   * A call that never left the client (still queued at its deadline, or UNAVAILABLE because no
   * connection was ready to send it on) is retried and stays certain. Any other failure,
   * including an UNAVAILABLE for a connection lost mid-call, may come after the request arrived,
   * so the call is retried (a write with the same seq) and counts as uncertain.
   */
  private transportAttempt(error: unknown): Attempt {
    if (error instanceof CallError && error.code === grpc.status.INVALID_ARGUMENT) {
      return { kind: 'done', outcome: { type: 'fail', reason: error.message } };
    }
    return { kind: 'retry', reason: reasonOf(error), uncertain: !neverSent(error) };
  }

  private openEndpoint(address: string): Endpoint {
    const client = new grpc.Client(address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
    return { address, client, batcher: new EndpointBatcher(client, () => this.nextHeader(), BATCH_CALLS_MAX) };
  }

  /** Returns the fields of a request header with a fresh request id, for one Batch request. */
  private nextHeader(): HeaderFields {
    this.requestId += 1;
    return { clusterId: this.header.clusterId, fromId: 0, toId: 0, requestId: BigInt(this.requestId) };
  }

  /**
   * Returns the endpoint of leader `leaderId`. The server's address hint is the address it
   * reaches the leader at, which may be a proxy, so an endpoint this client was given for that
   * id wins. Ids of the given endpoints are learned with Status calls, at most once a second.
   */
  private async leaderEndpoint(leaderId: number, leaderAddr: string, deadlineMs: number): Promise<Endpoint | null> {
    if (leaderId !== 0 && !this.endpointIds.has(leaderId) && Date.now() - this.idsLearnedAtMs >= ID_DISCOVERY_INTERVAL_MS) {
      await this.learnEndpointIds(deadlineMs);
    }
    const known = leaderId === 0 ? undefined : this.endpointIds.get(leaderId);
    if (known) {
      return known;
    }
    return leaderAddr === '' ? null : this.endpointFor(leaderAddr);
  }

  private async learnEndpointIds(deadlineMs: number): Promise<void> {
    this.idsLearnedAtMs = Date.now();
    const timeoutMs = Math.max(1, Math.min(ID_DISCOVERY_TIMEOUT_MS, deadlineMs - Date.now()));
    const given = this.endpoints.slice(0, this.givenCount);
    await Promise.all(
      given.map(async (endpoint) => {
        try {
          const reply = (await callUnary(endpoint.client, TRaftKV, 'status', { header: this.header } as never, timeoutMs)) as StatusReply;
          this.endpointIds.set(reply.id, endpoint);
        } catch {
          // An unreachable endpoint stays unknown; the address hint is used instead.
        }
      }),
    );
  }

  private pickEndpoint(): Endpoint {
    const endpoint = this.endpoints[this.nextEndpoint % this.endpoints.length]!;
    this.nextEndpoint += 1;
    return endpoint;
  }

  private endpointFor(address: string): Endpoint {
    const existing = this.endpoints.find((e) => e.address === address);
    if (existing) {
      return existing;
    }
    if (this.endpoints.length - this.givenCount >= LEARNED_ENDPOINTS_MAX) {
      return this.pickEndpoint();
    }
    const endpoint = this.openEndpoint(address);
    this.endpoints.push(endpoint);
    return endpoint;
  }
}

/** Tells whether a failed call certainly never reached a server. */
function neverSent(error: unknown): boolean {
  if (error instanceof NotSentError) {
    return true;
  }
  return error instanceof CallError && error.code === grpc.status.UNAVAILABLE && error.message.includes(NO_CONNECTION_DETAILS);
}

function outcomeOfResult(result: CommandResult): KvOutcome {
  switch (result.kind) {
    case 'done':
      return { type: 'ok', result };
    case 'value':
      return { type: 'ok', value: result.value, result };
    case 'cas':
      return result.swapped ? { type: 'ok', result } : { type: 'fail', reason: 'cas-mismatch', value: result.current };
    case 'txn':
      return { type: 'ok', value: result.ops as unknown as JsonValue, result };
    case 'error':
      // The command executed but left the state unchanged (e.g. incr of a non-number).
      return { type: 'fail', reason: result.message };
    default: {
      const unexpected: never = result;
      return { type: 'info', reason: `unexpected result ${JSON.stringify(unexpected)}` };
    }
  }
}

function reasonOf(error: unknown): string {
  if (error instanceof CallError) {
    return `${grpc.status[error.code] ?? error.code}: ${error.message}`;
  }
  return error instanceof Error ? error.message : String(error);
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function bitmapSummary(summary: { offset: bigint; len: bigint; count: bigint } | undefined): JsonValue {
  return summary
    ? { offset: Number(summary.offset), len: Number(summary.len), count: Number(summary.count) }
    : null;
}

function configValue(reply: ConfigReply): JsonValue {
  return reply.config ? (fromWireConfig(reply.config, 'config') as unknown as JsonValue) : null;
}

function statusValue(reply: StatusReply, address: string): JsonValue {
  return {
    endpoint: address,
    id: reply.id,
    role: reply.role,
    ballot: reply.ballot ? { term: Number(reply.ballot.term), id: reply.ballot.id } : null,
    leaderId: reply.leaderId === 0 ? null : reply.leaderId,
    leaderAddr: reply.leaderAddr === '' ? null : reply.leaderAddr,
    ready: reply.ready,
    committer: reply.committer ? { term: Number(reply.committer.term), id: reply.committer.id } : null,
    accepted: bitmapSummary(reply.accepted),
    committed: bitmapSummary(reply.committed),
    applied: bitmapSummary(reply.applied),
    config: reply.config ? (fromWireConfig(reply.config, 'config') as unknown as JsonValue) : null,
  };
}
