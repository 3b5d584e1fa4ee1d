// Outgoing peer RPCs: one persistent gRPC channel per peer address (grpc-js reconnects with
// backoff), a deadline on every call, and a bound on calls in flight per peer. A reply that
// comes back in a response is validated and handed to the driver.
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { Message } from '../core/types.js';
import { TRaftPeer } from '../../proto/gen/traft/v1/peer_pb.js';
import { CallError, CHANNEL_OPTIONS, callUnary, callUnaryBytes } from './grpc.js';
import { encodeLogForwardRequest, fromWireReply, toWireRequest, WireError, type WireReply } from './convert.js';
import { decodeLogForwardResponse } from './peer-wire.js';
import { MalformedBytesError } from './wire-reader.js';

export interface PeerChannelsOptions {
  selfId: number;
  clusterId: string;
  rpcTimeoutMs: number;
  /** Calls in flight to one peer above which new messages are dropped (the core resends). */
  inFlightPerPeerMax: number;
  /** Returns host:port of member `id`, or undefined when it is not known. */
  addressOf: (id: number) => string | undefined;
  onReply: (reply: Message) => void;
  logger: Logger;
}

/** A reply as it came back: a protobuf-es message, or LogForwardResponse bytes not yet decoded. */
type ReceivedReply = WireReply | { method: 'logForwardBytes'; bytes: Uint8Array };

interface PeerChannel {
  address: string;
  client: grpc.Client;
  inFlight: number;
  /** An InstallSnapshot call to this peer has not finished yet. */
  snapshotInFlight: boolean;
  failuresSinceLog: number;
  lastFailureLogMs: number;
}

/**
 * Snapshot calls get this many RPC timeouts. A snapshot of a busy run's key space is several
 * megabytes, which a loaded 2-core machine may not encode, send and install within one timeout.
 */
export const SNAPSHOT_TIMEOUT_FACTOR = 10;

/** Failures to one peer are logged at most once per this interval, with a count. */
const FAILURE_LOG_INTERVAL_MS = 5_000;

export class PeerChannels {
  private readonly channels = new Map<number, PeerChannel>();
  private closed = false;

  constructor(private readonly options: PeerChannelsOptions) {}

  send(message: Message): void {
    if (this.closed) {
      return;
    }
    const channel = this.channelFor(message.to);
    if (!channel) {
      this.options.logger.debug({ to: message.to, type: message.type }, 'no address for peer; message dropped');
      return;
    }
    if (channel.inFlight >= this.options.inFlightPerPeerMax) {
      this.options.logger.debug({ to: message.to, type: message.type, inFlight: channel.inFlight }, 'too many calls in flight; message dropped');
      return;
    }

    // The core resends a snapshot every election timeout until one is acknowledged. Sending
    // another while the previous one is still on its way only adds load, and one busy 5-node
    // run kept electing leaders for minutes while its leaders resent large snapshots.
    const isSnapshot = message.type === 'install-snapshot';
    if (isSnapshot && channel.snapshotInFlight) {
      this.options.logger.debug({ to: message.to }, 'a snapshot to this peer is still in flight; message dropped');
      return;
    }

    channel.inFlight += 1;
    if (isSnapshot) channel.snapshotInFlight = true;
    this.call(channel, message).then(
      (reply) => {
        channel.inFlight -= 1;
        if (isSnapshot) channel.snapshotInFlight = false;
        if (reply) {
          this.acceptReply(message.to, reply);
        }
      },
      (error: unknown) => {
        channel.inFlight -= 1;
        if (isSnapshot) channel.snapshotInFlight = false;
        this.noteFailure(message.to, channel, message.type, error);
      },
    );
  }

  close(): void {
    this.closed = true;
    for (const channel of this.channels.values()) {
      channel.client.close();
    }
    this.channels.clear();
  }

  private channelFor(peerId: number): PeerChannel | undefined {
    const address = this.options.addressOf(peerId);
    if (address === undefined) {
      return undefined;
    }
    const existing = this.channels.get(peerId);
    if (existing && existing.address === address) {
      return existing;
    }
    existing?.client.close();
    const channel: PeerChannel = {
      address,
      client: new grpc.Client(address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS),
      inFlight: 0,
      snapshotInFlight: false,
      failuresSinceLog: 0,
      lastFailureLogMs: 0,
    };
    this.channels.set(peerId, channel);
    return channel;
  }

  private async call(channel: PeerChannel, message: Message): Promise<ReceivedReply | null> {
    const timeoutMs = this.options.rpcTimeoutMs;
    if (message.type === 'log-forward') {
      // The hot path: each record is encoded once and reused for every follower and every resend,
      // and the response is decoded by hand in acceptReply.
      const bytes = await callUnaryBytes(channel.client, TRaftPeer, 'logForward', encodeLogForwardRequest(message), timeoutMs);
      return { method: 'logForwardBytes', bytes };
    }
    const wire = toWireRequest(message);
    switch (wire.method) {
      case 'elect': {
        const response = await callUnary(channel.client, TRaftPeer, 'elect', wire.request, timeoutMs);
        return response.reply ? { method: 'elect', reply: response.reply } : null;
      }
      case 'logForward': {
        const response = await callUnary(channel.client, TRaftPeer, 'logForward', wire.request, timeoutMs);
        return response.reply ? { method: 'logForward', reply: response.reply } : null;
      }
      case 'installSnapshot': {
        const response = await callUnary(channel.client, TRaftPeer, 'installSnapshot', wire.request, timeoutMs * SNAPSHOT_TIMEOUT_FACTOR);
        return response.reply ? { method: 'installSnapshot', reply: response.reply } : null;
      }
      case 'fetchSnapshot': {
        const response = await callUnary(channel.client, TRaftPeer, 'fetchSnapshot', wire.request, timeoutMs * SNAPSHOT_TIMEOUT_FACTOR);
        return response.reply ? { method: 'fetchSnapshot', reply: response.reply } : null;
      }
      default: {
        const unexpected: never = wire;
        throw new Error(`unexpected peer request ${JSON.stringify(unexpected)}`);
      }
    }
  }

  private acceptReply(peerId: number, received: ReceivedReply): void {
    let reply: Message | null;
    try {
      reply = this.decodeReply(received);
    } catch (error) {
      if (error instanceof WireError) {
        this.options.logger.warn({ peer: peerId, err: error.message }, 'invalid reply from peer; dropped');
        return;
      }
      if (error instanceof MalformedBytesError) {
        this.options.logger.warn({ peer: peerId, err: error.message }, 'malformed LogForwardResponse from peer; dropped');
        return;
      }
      throw error;
    }
    if (reply === null) {
      return;
    }
    if (reply.from !== peerId) {
      this.options.logger.warn({ peer: peerId, from: reply.from }, 'reply claims another sender; dropped');
      return;
    }
    this.options.onReply(reply);
  }

  private decodeReply(received: ReceivedReply): Message | null {
    const { clusterId, selfId } = this.options;
    if (received.method === 'logForwardBytes') {
      return decodeLogForwardResponse(received.bytes, clusterId, selfId);
    }
    return fromWireReply(received, clusterId, selfId);
  }

  private noteFailure(peerId: number, channel: PeerChannel, type: string, error: unknown): void {
    channel.failuresSinceLog += 1;
    const nowMs = Date.now();
    if (nowMs - channel.lastFailureLogMs < FAILURE_LOG_INTERVAL_MS) {
      return;
    }
    const code = error instanceof CallError ? grpc.status[error.code] : undefined;
    this.options.logger.info(
      { peer: peerId, address: channel.address, type, code, failures: channel.failuresSinceLog, err: (error as Error).message },
      'peer call failed',
    );
    channel.failuresSinceLog = 0;
    channel.lastFailureLogMs = nowMs;
  }
}
