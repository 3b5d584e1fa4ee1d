// The TRaftAdmin service, served only with --admin: state dump, state hash, local invariant
// checks, an event stream for the bench's history, and a campaign trigger.
import { create } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import {
  CampaignNowReplySchema,
  CheckInvariantsReplySchema,
  DumpStateReplySchema,
  EventSchema,
  StateHashReplySchema,
  TRaftAdmin,
} from '../../proto/gen/traft/v1/admin_pb.js';
import type { Driver } from '../driver.js';
import { addService } from './grpc.js';
import type { NodeView } from './node-view.js';

export interface AdminServiceOptions {
  driver: Driver;
  view: NodeView;
  logger: Logger;
}

/** Events buffered for one slow watcher before the stream is ended with RESOURCE_EXHAUSTED. */
const WATCH_BUFFERED_EVENTS_MAX = 100_000;

export function addAdminService(server: grpc.Server, options: AdminServiceOptions): void {
  const { driver, view, logger } = options;

  addService(server, TRaftAdmin, {
    dumpState: async () => create(DumpStateReplySchema, { stateJson: view.dumpJson() }),
    stateHash: async () => create(StateHashReplySchema, { hash: view.stateHash() }),
    checkInvariants: async () => create(CheckInvariantsReplySchema, { violations: view.checkInvariants() }),
    campaignNow: async () => {
      logger.info('campaign requested through the admin service');
      driver.campaign();
      return create(CampaignNowReplySchema, {});
    },
    watchEvents: (_request, stream) => {
      let buffered = 0;
      const unsubscribe = driver.onEvent((timed) => {
        const flushed = stream.write(
          create(EventSchema, {
            monotonicTimeNs: timed.monotonicTimeNs,
            wallTimeMs: BigInt(timed.wallTimeMs),
            type: timed.event.type,
            eventJson: JSON.stringify(timed.event),
          }),
        );
        buffered = flushed ? 0 : buffered + 1;
        if (buffered > WATCH_BUFFERED_EVENTS_MAX) {
          logger.warn({ buffered }, 'event watcher too slow; stream ended');
          unsubscribe();
          stream.emit('error', { code: grpc.status.RESOURCE_EXHAUSTED, details: 'event watcher fell too far behind' });
        }
      });
      stream.on('cancelled', unsubscribe);
      stream.on('close', unsubscribe);
      stream.on('error', unsubscribe);
    },
  });
}
