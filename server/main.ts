#!/usr/bin/env node
// traft-server: one TRaft replica. Wires flags, storage recovery, the core node, the driver loop,
// the gRPC services and process lifecycle (signals, parent death, fatal errors).
import { mkdirSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { CommanderError } from 'commander';
import { pino, type Logger } from 'pino';
import { decodePersistBatch } from './core/codec.js';
import { TraftNode } from './core/node.js';
import { majorityConfig } from './core/quorum.js';
import { recover } from './core/recover.js';
import type { ClusterConfig, CoreUnsafeBug, PersistOp } from './core/types.js';
import { CORE_UNSAFE_BUGS } from './core/types.js';
import { Storage } from './storage/storage.js';
import { parseServerOptions, UsageError, type ServerOptions } from './config.js';
import { Driver } from './driver.js';
import { addAdminService } from './transport/admin-service.js';
import { CoreView } from './transport/core-view.js';
import { CHANNEL_OPTIONS } from './transport/grpc.js';
import { addKvService } from './transport/kv-service.js';
import { addPeerService } from './transport/peer-service.js';
import { PeerChannels } from './transport/peers.js';

const EXIT_USAGE = 64;
const EXIT_FAILURE = 1;
/** How often the parent pid is checked with signal 0. */
const PARENT_POLL_MS = 500;
/** Grace for in-flight RPCs on SIGTERM before the server is forced down. */
const SHUTDOWN_GRACE_MS = 2_000;
/** Calls in flight to one peer before new messages to it are dropped. */
const PEER_IN_FLIGHT_MAX = 256;
/** The group-commit wait under the planted bug ack-before-fsync. */
const ACK_BEFORE_FSYNC_WAIT_MS = 200;
/** A client request with no outcome after this long gets the reply UNKNOWN. */
const CLIENT_REQUEST_TIMEOUT_MS = 30_000;

/** Prints a one-line error for a failure before the logger exists, and exits. */
function exitWithError(message: string, code: number): never {
  process.stderr.write(`traft-server: ${message}\n`);
  process.exit(code);
}

/** Returns a seeded PRNG (mulberry32), so the core's randomness is reproducible from --seed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Sends grpc-js's own log lines to pino instead of stderr, so stderr keeps one-line errors. */
function routeGrpcLogs(logger: Logger): void {
  grpc.setLogger({
    error: (...args: unknown[]) => logger.debug({ grpc: args.map(String).join(' ') }, 'grpc-js log'),
    info: (...args: unknown[]) => logger.debug({ grpc: args.map(String).join(' ') }, 'grpc-js log'),
    debug: (...args: unknown[]) => logger.trace({ grpc: args.map(String).join(' ') }, 'grpc-js log'),
  });
}

function bindServer(server: grpc.Server, address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, port) => {
      if (error) {
        reject(error);
        return;
      }
      resolve(port);
    });
  });
}

/** Builds the initial config: the explicit one from --config, else a majority of the initial members. */
function bootstrapConfig(options: ServerOptions, selfAddress: string): ClusterConfig {
  if (options.bootstrap) {
    return options.bootstrap;
  }
  const members = options.peers.map((peer, position) => ({
    id: peer.id,
    addr: peer.id === options.id ? selfAddress : `${peer.host}:${peer.port}`,
    position,
  }));
  const voterIds = members.map((m) => m.id).filter((id) => !(options.join && id === options.id));
  return majorityConfig(members, voterIds);
}

async function openStorage(options: ServerOptions, logger: Logger): Promise<{ storage: Storage; ops: PersistOp[] }> {
  try {
    mkdirSync(options.dataDir, { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // mkdir reports EEXIST for a file at the path and ENOTDIR for a file among its parents.
    if (code === 'EEXIST' || code === 'ENOTDIR') {
      exitWithError(`--data-dir ${options.dataDir} is a file or lies under one; pass a directory path`, EXIT_USAGE);
    }
    exitWithError(`--data-dir ${options.dataDir} cannot be created (${code}); check the path and permissions`, EXIT_USAGE);
  }
  try {
    // With the planted bug ack-before-fsync, acknowledged batches wait in memory for the WAL's
    // group commit. A longer wait widens the window in which kill -9 loses acknowledged writes,
    // so the bench can observe the bug.
    const groupCommitWaitMsMax =
      options.unsafe === 'ack-before-fsync' ? Math.max(options.groupCommitWaitMsMax, ACK_BEFORE_FSYNC_WAIT_MS) : options.groupCommitWaitMsMax;
    const storage = await Storage.open(options.dataDir, {
      fsync: options.fsync,
      groupCommitWaitMsMax,
      logger: logger.child({ component: 'storage' }),
    });
    const ops = storage.recovered.flatMap((batch) => decodePersistBatch(batch));
    return { storage, ops };
  } catch (error) {
    // Corruption before the WAL tail, an unreadable snapshot or an undecodable batch: refuse to
    // start with one line naming the problem, because serving from damaged state could lose
    // acknowledged writes.
    const message = (error as Error).message.split('\n')[0];
    logger.fatal({ err: error, dataDir: options.dataDir }, 'cannot recover the data dir');
    exitWithError(message ?? 'recovery failed', EXIT_FAILURE);
  }
}

async function main(): Promise<void> {
  let options: ServerOptions;
  try {
    options = parseServerOptions(process.argv.slice(2));
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exit(0);
    }
    if (error instanceof UsageError) {
      exitWithError(error.message, EXIT_USAGE);
    }
    throw error;
  }

  const logger = pino({ level: options.logLevel, base: { node: options.id, pid: process.pid } });
  routeGrpcLogs(logger.child({ component: 'grpc' }));
  const { storage, ops } = await openStorage(options, logger);
  const restored = ops.length > 0 ? recover(ops) : undefined;

  const server = new grpc.Server(CHANNEL_OPTIONS);
  let port: number;
  try {
    port = await bindServer(server, `${options.listenHost}:${options.listenPort}`);
  } catch (error) {
    const message = (error as Error).message;
    // grpc-js wraps the OS error in its message, so the code is found by text.
    const fix = message.includes('EADDRINUSE') ? 'the port is in use, so pick a free one' : 'check the host and port';
    exitWithError(`--listen ${options.listenHost}:${options.listenPort} cannot be bound: ${message}; ${fix}`, EXIT_USAGE);
  }
  const selfAddress = `${options.listenHost}:${port}`;

  const coreUnsafe = (CORE_UNSAFE_BUGS as readonly string[]).includes(options.unsafe ?? '') ? (options.unsafe as CoreUnsafeBug) : undefined;
  const electionTimeoutTicks = Math.max(2, Math.ceil(options.electionTimeoutMs / options.tickMs));
  const heartbeatTicks = Math.max(1, Math.round(options.heartbeatMs / options.tickMs));
  const node = new TraftNode({
    id: options.id,
    clusterId: options.clusterId,
    bootstrap: bootstrapConfig(options, selfAddress),
    restored,
    electionTimeoutTicks,
    heartbeatTicks,
    random: seededRandom(options.seed),
    unsafe: coreUnsafe,
    commitOrder: options.commitOrder,
    checkpointEveryApplied: options.checkpointEveryApplied,
  });

  // Peer addresses from --peers win over config addresses, because a test harness may route
  // each node to its peers through its own proxies.
  const flagAddresses = new Map(options.peers.map((p) => [p.id, `${p.host}:${p.port}`]));
  const view = new CoreView(node, options.id, (id) => flagAddresses.get(id));

  let stopping = false;
  const fatal = (error: Error): void => {
    logger.fatal({ err: error }, 'fatal error; exiting');
    logger.flush();
    process.exit(EXIT_FAILURE);
  };

  let driver: Driver;
  const peers = new PeerChannels({
    selfId: options.id,
    clusterId: options.clusterId,
    rpcTimeoutMs: options.rpcTimeoutMs,
    inFlightPerPeerMax: PEER_IN_FLIGHT_MAX,
    addressOf: (id) => flagAddresses.get(id) ?? view.configAddressOf(id),
    onReply: (reply) => driver.deliverReply(reply),
    logger: logger.child({ component: 'peers' }),
  });
  driver = new Driver({
    node,
    log: storage,
    peers,
    logger: logger.child({ component: 'driver' }),
    ackBeforeFsync: options.unsafe === 'ack-before-fsync',
    clientRequestTimeoutMs: CLIENT_REQUEST_TIMEOUT_MS,
    onFatal: fatal,
  });

  addPeerService(server, { selfId: options.id, clusterId: options.clusterId, driver, logger: logger.child({ component: 'peer-service' }) });
  addKvService(server, {
    selfId: options.id,
    clusterId: options.clusterId,
    driver,
    view,
    dropClientTags: options.unsafe === 'no-dedup',
    logger: logger.child({ component: 'kv-service' }),
  });
  if (options.admin) {
    addAdminService(server, { driver, view, logger: logger.child({ component: 'admin-service' }) });
  }

  const tickTimer = setInterval(() => driver.tick(), options.tickMs);

  const shutdown = async (reason: string, code: number): Promise<void> => {
    if (stopping) {
      return;
    }
    stopping = true;
    logger.info({ reason }, 'stopping');
    clearInterval(tickTimer);
    driver.stop();
    const forced = setTimeout(() => server.forceShutdown(), SHUTDOWN_GRACE_MS);
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    clearTimeout(forced);
    peers.close();
    try {
      await storage.close();
    } catch (error) {
      logger.error({ err: error }, 'closing storage failed');
    }
    logger.info({ reason }, 'stopped');
    logger.flush();
    process.exit(code);
  };

  process.on('SIGTERM', () => void shutdown('SIGTERM', 0));
  process.on('SIGINT', () => void shutdown('SIGINT', 0));
  process.on('uncaughtException', (error) => fatal(error));
  process.on('unhandledRejection', (error) => fatal(error instanceof Error ? error : new Error(String(error))));

  if (options.parentPid !== null) {
    const parentPid = options.parentPid;
    setInterval(() => {
      try {
        process.kill(parentPid, 0);
      } catch {
        void shutdown(`parent process ${parentPid} is gone`, 0);
      }
    }, PARENT_POLL_MS).unref();
  }
  if (options.exitOnStdinClose) {
    process.stdin.on('end', () => void shutdown('stdin closed', 0));
    process.stdin.on('close', () => void shutdown('stdin closed', 0));
    process.stdin.resume();
  }

  logger.info(
    {
      address: selfAddress,
      port,
      clusterId: options.clusterId,
      peers: options.peers.map((p) => `${p.id}=${p.host}:${p.port}`),
      restoredOps: ops.length,
      commitOrder: options.commitOrder,
      fsync: options.fsync,
      admin: options.admin,
      unsafe: options.unsafe,
    },
    'listening',
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`traft-server: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(EXIT_FAILURE);
});
