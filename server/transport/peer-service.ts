// The TRaftPeer service. Each incoming request is validated and stepped into the node through
// the driver. The response carries the reply the node produced, sent once its batch is durable.
import { create } from '@bufbuild/protobuf';
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { Message } from '../core/types.js';
import {
  ElectResponseSchema,
  FetchSnapshotResponseSchema,
  InstallSnapshotResponseSchema,
  TRaftPeer,
} from '../../proto/gen/traft/v1/peer_pb.js';
import type { Driver } from '../driver.js';
import { fromWireRequest, toWireReply, WireError, type WireRequest } from './convert.js';
import { addService, encodedUnaryMethod, InvalidRequestError } from './grpc.js';
import { decodeLogForwardRequest, encodeLogForwardResponse } from './peer-wire.js';

export interface PeerServiceOptions {
  selfId: number;
  clusterId: string;
  driver: Driver;
  logger: Logger;
}

export function addPeerService(server: grpc.Server, options: PeerServiceOptions): void {
  const { driver, logger } = options;

  const rejectInvalid = (method: WireRequest['method'], error: unknown): never => {
    if (error instanceof WireError) {
      logger.debug({ method, err: error.message }, 'invalid peer request rejected');
      throw new InvalidRequestError(`invalid ${method} request: ${error.message}`);
    }
    throw error;
  };

  const decode = (wire: WireRequest): Message => {
    try {
      return fromWireRequest(wire, options.clusterId, options.selfId);
    } catch (error) {
      return rejectInvalid(wire.method, error);
    }
  };

  // LogForward, the hot path, decodes its bytes straight into the core message and encodes the
  // reply by hand. Malformed bytes throw MalformedBytesError, and addService fails the call with
  // INVALID_ARGUMENT before anything reaches the driver.
  const logForward = encodedUnaryMethod({
    decodeRequest: (bytes: Uint8Array): Message => {
      try {
        return decodeLogForwardRequest(bytes, options.clusterId, options.selfId);
      } catch (error) {
        return rejectInvalid('logForward', error);
      }
    },
    handle: (request: Message) => driver.deliverRequest(request),
    encodeResponse: (reply: Message | null) => encodeLogForwardResponse(reply?.type === 'log-forward-reply' ? reply : null),
  });

  /** Returns the encoded reply for `wire`, or undefined when the node sent none. */
  const exchange = async (wire: WireRequest) => {
    const reply = await driver.deliverRequest(decode(wire));
    return reply === null ? undefined : toWireReply(reply);
  };

  addService(server, TRaftPeer, {
    elect: async (request) => {
      const reply = await exchange({ method: 'elect', request });
      return create(ElectResponseSchema, { reply: reply?.method === 'elect' ? reply.reply : undefined });
    },
    installSnapshot: async (request) => {
      const reply = await exchange({ method: 'installSnapshot', request });
      return create(InstallSnapshotResponseSchema, { reply: reply?.method === 'installSnapshot' ? reply.reply : undefined });
    },
    fetchSnapshot: async (request) => {
      const reply = await exchange({ method: 'fetchSnapshot', request });
      return create(FetchSnapshotResponseSchema, { reply: reply?.method === 'fetchSnapshot' ? reply.reply : undefined });
    },
  }, { logForward });
}
