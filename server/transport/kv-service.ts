// The TRaftKV client service: validates each request, hands it to the driver as a core command,
// read or config change, and maps the core's outcome to a reply status.
import { create } from '@bufbuild/protobuf';
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { isVoter, majorityConfig, validateConfig } from '../core/quorum.js';
import type { ClientOutcome, ClientTag, ClusterConfig, Command, JsonValue, MicroOp } from '../core/types.js';
import { HeaderSchema, type Header } from '../../proto/gen/traft/v1/common_pb.js';
import type { GenService } from '@bufbuild/protobuf/codegenv2';
import {
  ConfigReplySchema,
  KvReplySchema,
  ReadConsistency,
  ReplyStatus,
  StatusReplySchema,
  TRaftKV,
  type ConfigReply,
  type KvReply,
} from '../../proto/gen/traft/v1/kv_pb.js';
import type { Driver } from '../driver.js';
import { fromWireConfig, toSafeNumber, toWireBallot, toWireConfig, WireError } from './convert.js';
import { addService, encodedUnaryMethod, InvalidRequestError, type ServiceHandlers } from './grpc.js';
import { parseJsonValueText } from './command-json.js';
import {
  decodeBatchRequest,
  encodeBatchReply,
  type BatchRequestFields,
  type KvItem,
  type KvReplyFields,
  type WriteTagFields,
} from './kv-wire.js';
import type { NodeView } from './node-view.js';

export interface KvServiceOptions {
  selfId: number;
  clusterId: string;
  driver: Driver;
  view: NodeView;
  /** Planted bug no-dedup: drop the client's (clientId, seq) before proposing. */
  dropClientTags: boolean;
  logger: Logger;
}

/** Positions are bits of a 64-bit quorum mask. */
const POSITION_MAX = 63;
/** Items in one Batch request; a client library caps its batches below this. */
export const BATCH_ITEMS_MAX = 4096;

export function addKvService(server: grpc.Server, options: KvServiceOptions): void {
  const { driver, view } = options;

  const checkHeader = (header: { clusterId: string } | undefined): void => {
    if (header && header.clusterId !== '' && header.clusterId !== options.clusterId) {
      throw new InvalidRequestError(
        `cluster id ${JSON.stringify(header.clusterId)} does not match this server's ${JSON.stringify(options.clusterId)}`,
      );
    }
  };

  const tagOf = (tag: WriteTagFields | undefined): ClientTag | undefined => {
    if (!tag || tag.clientId === '' || options.dropClientTags) {
      return undefined;
    }
    const seq = wire(() => safeNumber(tag.seq, 'tag.seq'));
    const ackedThrough = wire(() => safeNumber(tag.ackedThrough, 'tag.acked_through'));
    if (ackedThrough === 0) return { clientId: tag.clientId, seq };
    if (ackedThrough >= seq) {
      throw new InvalidRequestError(`invalid tag.acked_through ${ackedThrough}: it must be below tag.seq ${seq}; acknowledge only seqs lower than the request's own`);
    }
    return { clientId: tag.clientId, seq, ackedThrough };
  };

  const value = parseJsonValueText;

  /**
   * Runs one key-value request. Invalid input throws InvalidRequestError before the node receives
   * the request. The single-op RPCs and every item of a Batch go through here, so the two paths
   * validate and map outcomes alike.
   */
  const execute = async (request: KvItem): Promise<KvReplyFields> => {
    switch (request.case) {
      case 'get':
        return kvReply(await driver.read(request.value.key, readConsistencyOf(request.value.consistency)), view);
      case 'put':
      case 'delete':
      case 'cas':
      case 'append':
      case 'incr':
      case 'txn': {
        const command = wire(() => commandOf(request, value));
        const outcome = await driver.propose(command, tagOf(request.value.tag));
        return kvReply(outcome, view);
      }
      default:
        return assertNeverRequest(request);
    }
  };

  /** Runs one item of a Batch; an invalid item gets a REJECTED reply, the others still run. */
  const executeItem = async (request: KvItem | undefined, index: number): Promise<KvReplyFields> => {
    if (request === undefined) {
      return rejectedReply(`items[${index}] holds no request`);
    }
    try {
      return await execute(request);
    } catch (error) {
      if (error instanceof InvalidRequestError) {
        return rejectedReply(`items[${index}]: ${error.message}`);
      }
      throw error;
    }
  };

  const single = <C extends KvItem['case']>(kind: C) =>
    async (r: Extract<KvItem, { case: C }>['value'] & { header?: Header }): Promise<KvReply> => {
      checkHeader(r.header);
      return toKvReply(await execute({ case: kind, value: r } as KvItem));
    };

  // The client library sends its requests in Batch calls, so Batch decodes and encodes by hand
  // (kv-wire.ts).
  const batch = encodedUnaryMethod({
    decodeRequest: decodeBatchRequest,
    handle: async (r: BatchRequestFields) => {
      checkHeader(r.header);
      if (r.items.length > BATCH_ITEMS_MAX) {
        throw new InvalidRequestError(`a batch of ${r.items.length} items is over the limit of ${BATCH_ITEMS_MAX}; split it`);
      }
      // Every item is handed to the driver in this turn of the event loop, so the driver steps
      // them into the node together and they share one Ready.
      const replies = await Promise.all(r.items.map((item, i) => executeItem(item, i)));
      const header = { clusterId: options.clusterId, fromId: options.selfId, toId: r.header?.fromId ?? 0, requestId: r.header?.requestId ?? 0 };
      return { header, replies };
    },
    encodeResponse: (reply: { header: Parameters<typeof encodeBatchReply>[0]; replies: KvReplyFields[] }) =>
      encodeBatchReply(reply.header, reply.replies),
  });

  const handlers: Omit<ServiceHandlers<KvMethods>, 'batch'> = {
    put: single('put'),
    delete: single('delete'),
    cas: single('cas'),
    append: single('append'),
    incr: single('incr'),
    txn: single('txn'),
    get: single('get'),
    addLearner: async (r) => {
      checkHeader(r.header);
      if (r.id === 0 || r.addr === '') {
        throw new InvalidRequestError('AddLearner needs an id >= 1 and an addr host:port');
      }
      const current = view.config();
      if (current.members.some((m) => m.id === r.id)) {
        return configReply({ status: 'rejected', reason: `member ${r.id} already exists` }, view);
      }
      const position = Math.max(-1, ...current.members.map((m) => m.position)) + 1;
      if (position > POSITION_MAX) {
        return configReply({ status: 'rejected', reason: `no free position: positions run out at ${POSITION_MAX}` }, view);
      }
      const target: ClusterConfig = {
        members: [...current.members, { id: r.id, addr: r.addr, position }],
        families: current.families,
      };
      return configReply(await driver.changeConfig(target), view);
    },
    changeConfig: async (r) => {
      checkHeader(r.header);
      const target = r.config ? wire(() => fromWireConfig(r.config, 'config')) : votersConfig(view.config(), r.voterIds);
      const problem = validateConfig(target);
      if (problem !== null) {
        throw new InvalidRequestError(`target config is invalid: ${problem}`);
      }
      return configReply(await driver.changeConfig(target), view);
    },
    removeMember: async (r) => {
      checkHeader(r.header);
      const current = view.config();
      if (!current.members.some((m) => m.id === r.id)) {
        return configReply({ status: 'rejected', reason: `member ${r.id} is not in the config` }, view);
      }
      const voters = current.members.filter((m) => isVoter(current, m.id) && m.id !== r.id).map((m) => m.id);
      const members = current.members.filter((m) => m.id !== r.id);
      if (voters.length === 0) {
        return configReply({ status: 'rejected', reason: `removing ${r.id} would leave no voter` }, view);
      }
      return configReply(await driver.changeConfig(majorityConfig(members, voters)), view);
    },
    getConfig: async (r) => {
      checkHeader(r.header);
      return create(ConfigReplySchema, { status: ReplyStatus.OK, config: toWireConfig(view.config()) });
    },
    status: async (r) => {
      checkHeader(r.header);
      const status = view.status();
      return create(StatusReplySchema, {
        id: options.selfId,
        role: status.role,
        ballot: toWireBallot(status.ballot),
        leaderId: status.leaderId ?? 0,
        leaderAddr: status.leaderId === null ? '' : (view.addressOf(status.leaderId) ?? ''),
        ready: status.ready,
        committer: status.committer === null ? undefined : toWireBallot(status.committer),
        accepted: status.accepted,
        committed: status.committed,
        applied: status.applied,
        config: toWireConfig(status.config),
        statusJson: status.json,
      });
    },
  };
  addService(server, TRaftKV, echoHeaders(handlers, options), { batch });
}

type KvMethods = typeof TRaftKV extends GenService<infer S> ? S : never;

type WriteRequest = Exclude<KvItem, { case: 'get' }>;

/** Builds the core command of a write request; throws WireError on invalid input. */
function commandOf(request: WriteRequest, value: (text: string, field: string) => JsonValue): Command {
  switch (request.case) {
    case 'put':
      return { kind: 'put', key: request.value.key, value: value(request.value.valueJson, 'value_json') };
    case 'delete':
      return { kind: 'delete', key: request.value.key };
    case 'cas':
      return {
        kind: 'cas',
        key: request.value.key,
        expected: value(request.value.expectedJson, 'expected_json'),
        value: value(request.value.valueJson, 'value_json'),
      };
    case 'append':
      return { kind: 'append', key: request.value.key, value: value(request.value.valueJson, 'value_json') };
    case 'incr':
      return { kind: 'incr', key: request.value.key, delta: safeNumber(request.value.delta, 'delta') };
    case 'txn':
      return {
        kind: 'txn',
        ops: request.value.ops.map((op, i): MicroOp => {
          if (op.f === 'append') {
            return { f: 'append', key: op.key, value: value(op.valueJson, `ops[${i}].value_json`) };
          }
          if (op.f === 'r') {
            return { f: 'r', key: op.key };
          }
          throw new WireError(`ops[${i}].f ${JSON.stringify(op.f)} is neither "append" nor "r"`);
        }),
      };
    default:
      return assertNeverRequest(request);
  }
}

/**
 * Converts a uint64 or int64 field to a safe integer, or throws a WireError. A protobuf-es
 * message contains a bigint, and a hand-decoded one a number unless it is out of range.
 */
function safeNumber(value: number | bigint, field: string): number {
  return typeof value === 'number' ? value : toSafeNumber(value, field);
}

function readConsistencyOf(consistency: ReadConsistency): 'linearizable' | 'stale' {
  switch (consistency) {
    case ReadConsistency.UNSPECIFIED:
    case ReadConsistency.LINEARIZABLE:
      return 'linearizable';
    case ReadConsistency.STALE:
      return 'stale';
    default:
      throw new InvalidRequestError(`consistency ${String(consistency)} is unknown; use LINEARIZABLE or STALE`);
  }
}

function rejectedReply(reason: string): KvReplyFields {
  return { status: ReplyStatus.REJECTED, leaderId: 0, leaderAddr: '', reason, resultJson: '', lsn: -1 };
}

function toKvReply(fields: KvReplyFields): KvReply {
  return create(KvReplySchema, { ...fields, lsn: BigInt(fields.lsn) });
}

function assertNeverRequest(request: never): never {
  throw new Error(`unexpected request ${JSON.stringify((request as { case?: unknown }).case)}`);
}

/** Wraps every handler so that its reply carries this node's header echoing the request id. */
function echoHeaders<H extends object>(handlers: H, options: KvServiceOptions): H {
  const wrapped: Record<string, (request: { header?: Header }) => Promise<{ header?: Header }>> = {};
  for (const [name, handler] of Object.entries(handlers)) {
    const unary = handler as unknown as (request: { header?: Header }) => Promise<{ header?: Header }>;
    wrapped[name] = async (request) => {
      const reply = await unary(request);
      reply.header = create(HeaderSchema, {
        clusterId: options.clusterId,
        fromId: options.selfId,
        toId: request.header?.fromId ?? 0,
        requestId: request.header?.requestId ?? 0n,
      });
      return reply;
    };
  }
  return wrapped as unknown as H;
}

/** Runs a conversion of client input, turning a WireError into INVALID_ARGUMENT. */
function wire<T>(convert: () => T): T {
  try {
    return convert();
  } catch (error) {
    if (error instanceof WireError) {
      throw new InvalidRequestError(error.message);
    }
    throw error;
  }
}

/** Builds a majority config over `voterIds`, keeping every other current member as a learner. */
function votersConfig(current: ClusterConfig, voterIds: number[]): ClusterConfig {
  if (voterIds.length === 0) {
    throw new InvalidRequestError('ChangeConfig needs voter_ids or a config');
  }
  for (const id of voterIds) {
    if (!current.members.some((m) => m.id === id)) {
      throw new InvalidRequestError(`voter ${id} is not a member; add it with AddLearner first`);
    }
  }
  return majorityConfig(current.members, [...new Set(voterIds)]);
}

function replyStatus(outcome: ClientOutcome): { status: ReplyStatus; leaderId: number; reason: string } {
  switch (outcome.status) {
    case 'ok':
      return { status: ReplyStatus.OK, leaderId: 0, reason: '' };
    case 'not-leader':
      return { status: ReplyStatus.NOT_LEADER, leaderId: outcome.leaderId ?? 0, reason: 'not the leader' };
    case 'not-ready':
      return { status: ReplyStatus.NOT_READY, leaderId: 0, reason: 'the leader has not committed its base yet' };
    case 'unknown':
      return { status: ReplyStatus.UNKNOWN, leaderId: 0, reason: outcome.reason };
    case 'rejected':
      return { status: ReplyStatus.REJECTED, leaderId: 0, reason: outcome.reason };
    default: {
      const unexpected: never = outcome;
      throw new Error(`unexpected outcome ${JSON.stringify(unexpected)}`);
    }
  }
}

function kvReply(outcome: ClientOutcome, view: NodeView): KvReplyFields {
  const { status, leaderId, reason } = replyStatus(outcome);
  return {
    status,
    leaderId,
    leaderAddr: leaderId === 0 ? '' : (view.addressOf(leaderId) ?? ''),
    reason,
    resultJson: outcome.status === 'ok' ? JSON.stringify(outcome.result) : '',
    lsn: outcome.status === 'ok' && outcome.lsn !== null ? outcome.lsn : -1,
  };
}

function configReply(outcome: ClientOutcome, view: NodeView): ConfigReply {
  const { status, leaderId, reason } = replyStatus(outcome);
  return create(ConfigReplySchema, {
    status,
    leaderId,
    leaderAddr: leaderId === 0 ? '' : (view.addressOf(leaderId) ?? ''),
    reason,
    config: toWireConfig(view.config()),
  });
}
