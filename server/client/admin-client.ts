// A client for the TRaftAdmin service of one server (started with --admin): state dump, state
// hash, invariant check, campaign trigger and the event stream.
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import {
  EventSchema,
  TRaftAdmin,
  WatchEventsRequestSchema,
  type Event,
} from '../../proto/gen/traft/v1/admin_pb.js';
import { CHANNEL_OPTIONS, callUnary, methodPath } from '../transport/grpc.js';

/** One node event as the server reported it. */
export interface AdminEvent {
  monotonicTimeNs: bigint;
  wallTimeMs: number;
  type: string;
  event: unknown;
}

export class AdminClient {
  private readonly client: grpc.Client;

  constructor(
    readonly endpoint: string,
    private readonly rpcTimeoutMs = 2000,
  ) {
    this.client = new grpc.Client(endpoint, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
  }

  /** Fetches the node's full state, parsed from its JSON form. */
  async dumpState(): Promise<unknown> {
    const reply = await callUnary(this.client, TRaftAdmin, 'dumpState', create(TRaftAdmin.method.dumpState.input, {}), this.rpcTimeoutMs);
    return JSON.parse(reply.stateJson) as unknown;
  }

  async stateHash(): Promise<string> {
    const reply = await callUnary(this.client, TRaftAdmin, 'stateHash', create(TRaftAdmin.method.stateHash.input, {}), this.rpcTimeoutMs);
    return reply.hash;
  }

  /** Runs the node's local invariant checks and returns one line per violation (empty when all hold). */
  async checkInvariants(): Promise<string[]> {
    const reply = await callUnary(
      this.client,
      TRaftAdmin,
      'checkInvariants',
      create(TRaftAdmin.method.checkInvariants.input, {}),
      this.rpcTimeoutMs,
    );
    return reply.violations;
  }

  async campaignNow(): Promise<void> {
    await callUnary(this.client, TRaftAdmin, 'campaignNow', create(TRaftAdmin.method.campaignNow.input, {}), this.rpcTimeoutMs);
  }

  /**
   * Streams events to `onEvent` until the returned cancel function is called or the stream
   * ends; `onEnd` receives the error that ended it, if any.
   */
  watchEvents(onEvent: (event: AdminEvent) => void, onEnd?: (error: Error | null) => void): () => void {
    const method = TRaftAdmin.method.watchEvents;
    const call = this.client.makeServerStreamRequest(
      methodPath(TRaftAdmin, method),
      (message: ReturnType<typeof create<typeof WatchEventsRequestSchema>>) => Buffer.from(toBinary(WatchEventsRequestSchema, message)),
      (bytes: Buffer) => fromBinary(EventSchema, bytes),
      create(WatchEventsRequestSchema, {}),
      new grpc.Metadata(),
      {},
    );
    call.on('data', (wire: Event) => {
      onEvent({
        monotonicTimeNs: wire.monotonicTimeNs,
        wallTimeMs: Number(wire.wallTimeMs),
        type: wire.type,
        event: JSON.parse(wire.eventJson) as unknown,
      });
    });
    call.on('error', (error: grpc.ServiceError) => {
      if (error.code !== grpc.status.CANCELLED) {
        onEnd?.(error);
      }
    });
    call.on('end', () => onEnd?.(null));
    return () => call.cancel();
  }

  close(): void {
    this.client.close();
  }
}
