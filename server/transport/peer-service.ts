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
  LogForwardResponseSchema,
  TRaftPeer,
} from '../../proto/gen/traft/v1/peer_pb.js';
import type { Driver } from '../driver.js';
import { fromWireRequest, toWireReply, WireError, type WireRequest } from './convert.js';
import { addService, InvalidRequestError } from './grpc.js';

export interface PeerServiceOptions {
  selfId: number;
  clusterId: string;
  driver: Driver;
  logger: Logger;
}

export function addPeerService(server: grpc.Server, options: PeerServiceOptions): void {
  const { driver, logger } = options;

  const decode = (wire: WireRequest): Message => {
    try {
      return fromWireRequest(wire, options.clusterId, options.selfId);
    } catch (error) {
      if (error instanceof WireError) {
        logger.debug({ method: wire.method, err: error.message }, 'invalid peer request rejected');
        throw new InvalidRequestError(`invalid ${wire.method} request: ${error.message}`);
      }
      throw error;
    }
  };

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
    logForward: async (request) => {
      const reply = await exchange({ method: 'logForward', request });
      return create(LogForwardResponseSchema, { reply: reply?.method === 'logForward' ? reply.reply : undefined });
    },
    installSnapshot: async (request) => {
      const reply = await exchange({ method: 'installSnapshot', request });
      return create(InstallSnapshotResponseSchema, { reply: reply?.method === 'installSnapshot' ? reply.reply : undefined });
    },
    fetchSnapshot: async (request) => {
      const reply = await exchange({ method: 'fetchSnapshot', request });
      return create(FetchSnapshotResponseSchema, { reply: reply?.method === 'fetchSnapshot' ? reply.reply : undefined });
    },
  });
}
