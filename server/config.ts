// Command-line flags and the optional --config FILE of traft-server, validated into one
// ServerOptions value. Flags given on the command line override the file.
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { z } from 'zod';
import { CORE_UNSAFE_BUGS, type ClusterConfig, type CoreUnsafeBug } from './core/types.js';
import { clusterConfigSchema } from './transport/json-wire.js';

/** Planted bugs that live in the server process rather than in the core. */
export const PROCESS_UNSAFE_BUGS = ['ack-before-fsync', 'no-dedup'] as const;
export type ProcessUnsafeBug = (typeof PROCESS_UNSAFE_BUGS)[number];
export type UnsafeBug = CoreUnsafeBug | ProcessUnsafeBug;
export const UNSAFE_BUGS: readonly UnsafeBug[] = [...CORE_UNSAFE_BUGS, ...PROCESS_UNSAFE_BUGS];

export interface PeerAddress {
  id: number;
  host: string;
  port: number;
}

export interface ServerOptions {
  id: number;
  listenHost: string;
  listenPort: number;
  /**
   * Every initial member, this node included, sorted by id. Quorum positions follow this order,
   * so every node derives the same bootstrap config whatever order --peers lists.
   */
  peers: PeerAddress[];
  dataDir: string;
  clusterId: string;
  electionTimeoutMs: number;
  heartbeatMs: number;
  tickMs: number;
  rpcTimeoutMs: number;
  fsync: boolean;
  groupCommitWaitMsMax: number;
  checkpointEveryApplied: number;
  commitOrder: 'out-of-order' | 'in-order';
  admin: boolean;
  unsafe: UnsafeBug | null;
  /** Start as a learner outside the initial voters, to be added with AddLearner. */
  join: boolean;
  /** An explicit initial quorum system; otherwise a majority of `peers`. */
  bootstrap: ClusterConfig | null;
  parentPid: number | null;
  exitOnStdinClose: boolean;
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  seed: number;
}

/** Invalid flags or config file; main prints the message and exits 64. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const DEFAULTS = {
  clusterId: 'traft',
  electionTimeoutMs: 300,
  heartbeatMs: 50,
  tickMs: 10,
  rpcTimeoutMs: 1000,
  /** 0 starts each WAL write at the end of the event-loop turn; writes queued meanwhile share the next fsync. */
  groupCommitWaitMsMax: 0,
  checkpointEveryApplied: 10_000,
  commitOrder: 'out-of-order',
  logLevel: 'info',
} as const;

const hostPortPattern = /^([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/;

/** Parses "host:port", throwing a UsageError that names `flag` when invalid. */
export function parseHostPort(text: string, flag: string): { host: string; port: number } {
  const match = hostPortPattern.exec(text.trim());
  if (!match) {
    throw new UsageError(`${flag} ${JSON.stringify(text)} is not host:port; use e.g. 127.0.0.1:7001`);
  }
  const port = Number(match[2]);
  if (port > 65535) {
    throw new UsageError(`${flag} ${JSON.stringify(text)} has port ${port} above 65535`);
  }
  return { host: match[1]!, port };
}

/** Parses "id=host:port,id=host:port". */
export function parsePeers(text: string): PeerAddress[] {
  const peers: PeerAddress[] = [];
  for (const part of text.split(',').map((p) => p.trim()).filter((p) => p.length > 0)) {
    const eq = part.indexOf('=');
    if (eq < 0) {
      throw new UsageError(`--peers entry ${JSON.stringify(part)} is not id=host:port; use e.g. 1=127.0.0.1:7001`);
    }
    const id = parseIdText(part.slice(0, eq), `--peers entry ${JSON.stringify(part)}`);
    const { host, port } = parseHostPort(part.slice(eq + 1), `--peers entry ${id}`);
    if (port === 0) {
      throw new UsageError(`--peers entry ${JSON.stringify(part)} has port 0; peers need a fixed port`);
    }
    peers.push({ id, host, port });
  }
  return peers;
}

function parseIdText(text: string, source: string): number {
  const id = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(id) || id < 1 || id > 0xffffffff) {
    throw new UsageError(`${source}: id ${JSON.stringify(text)} is not an integer in 1..4294967295`);
  }
  return id;
}

const peerSchema = z.object({ id: z.number().int().min(1).max(0xffffffff), addr: z.string() });

/** The shape of --config FILE: JSON with the same settings as the flags, in camelCase. */
const configFileSchema = z
  .object({
    id: z.number().int().min(1).max(0xffffffff),
    listen: z.string(),
    peers: z.array(peerSchema),
    dataDir: z.string().min(1),
    clusterId: z.string().min(1),
    electionTimeoutMs: z.number().int().positive(),
    heartbeatMs: z.number().int().positive(),
    tickMs: z.number().int().positive(),
    rpcTimeoutMs: z.number().int().positive(),
    fsync: z.boolean(),
    groupCommitWaitMsMax: z.number().min(0),
    checkpointEveryApplied: z.number().int().min(0),
    commitOrder: z.enum(['out-of-order', 'in-order']),
    admin: z.boolean(),
    unsafe: z.enum(UNSAFE_BUGS as [UnsafeBug, ...UnsafeBug[]]),
    join: z.boolean(),
    bootstrap: clusterConfigSchema,
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']),
    seed: z.number().int(),
  })
  .partial()
  .strict();

type ConfigFile = z.infer<typeof configFileSchema>;

function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`--config ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}); check the path`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--config ${path} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = configFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (issue?.code === 'unrecognized_keys' && issue.path.length === 0) {
      throw new UsageError(`--config ${path}: ${describeUnknownKey(issue.keys[0] ?? '')}`);
    }
    const where = issue && issue.path.length > 0 ? issue.path.join('.') : '(top level)';
    throw new UsageError(`--config ${path}: ${where} is invalid: ${issue?.message ?? 'unknown reason'}`);
  }
  return parsed.data;
}

/** Names an unknown top-level setting and the closest known one, so a typo points to its fix. */
function describeUnknownKey(key: string): string {
  const known = Object.keys(configFileSchema.shape);
  const distances = known.map((name) => ({ name, distance: editDistance(key.toLowerCase(), name.toLowerCase()) }));
  const closest = distances.reduce((best, next) => (next.distance < best.distance ? next : best));
  // Beyond a third of the length the "closest" setting is usually unrelated, so none is suggested.
  if (closest.distance <= Math.max(2, Math.floor(key.length / 3))) {
    return `unknown setting ${JSON.stringify(key)}; did you mean ${JSON.stringify(closest.name)}?`;
  }
  return `unknown setting ${JSON.stringify(key)}; known settings are ${known.join(', ')}`;
}

/** Levenshtein distance: the number of single-character edits that turn `a` into `b`. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}

function positiveInt(flag: string): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value <= 0) {
      throw new UsageError(`${flag} ${JSON.stringify(text)} is not a positive integer`);
    }
    return value;
  };
}

function nonNegativeNumber(flag: string): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (text.trim() === '' || !Number.isFinite(value) || value < 0) {
      throw new UsageError(`${flag} ${JSON.stringify(text)} is not a non-negative number`);
    }
    return value;
  };
}

/** Builds the commander program; exported so `--help` output can be tested. */
export function buildProgram(): Command {
  const program = new Command('traft-server')
    .description('A TRaft server: one replica of a replicated key-value store, serving gRPC on one port.')
    .addOption(new Option('--id <n>', 'this replica id, an integer >= 1 (required)').argParser(parseIdArg))
    .addOption(new Option('--listen <host:port>', 'address for peer, client and admin RPCs; port 0 picks a free port').default('127.0.0.1:0'))
    .addOption(new Option('--peers <list>', 'initial members as id=host:port,... (this node may be included)'))
    .addOption(new Option('--data-dir <dir>', 'directory for the write-ahead log and snapshots (required)'))
    .addOption(new Option('--cluster-id <name>', 'cluster name carried by every RPC').default(DEFAULTS.clusterId))
    .addOption(new Option('--election-timeout-ms <ms>', 'base election timeout in milliseconds (randomized up to 2x)').argParser(positiveInt('--election-timeout-ms')).default(DEFAULTS.electionTimeoutMs))
    .addOption(new Option('--heartbeat-ms <ms>', 'leader heartbeat interval in milliseconds').argParser(positiveInt('--heartbeat-ms')).default(DEFAULTS.heartbeatMs))
    .addOption(new Option('--tick-ms <ms>', 'core tick interval in milliseconds; timeouts are rounded to ticks').argParser(positiveInt('--tick-ms')).default(DEFAULTS.tickMs))
    .addOption(new Option('--rpc-timeout-ms <ms>', 'deadline of every peer RPC in milliseconds').argParser(positiveInt('--rpc-timeout-ms')).default(DEFAULTS.rpcTimeoutMs))
    .addOption(new Option('--no-fsync', 'do not fsync the write-ahead log (unsafe on power loss; default: fsync on)'))
    .addOption(new Option('--group-commit-wait-ms-max <ms>', 'maximum time in milliseconds a write waits to share an fsync').argParser(nonNegativeNumber('--group-commit-wait-ms-max')).default(DEFAULTS.groupCommitWaitMsMax))
    .addOption(new Option('--checkpoint-every-applied <n>', 'write a snapshot every n applied records; 0 never').argParser(nonNegativeNumber('--checkpoint-every-applied')).default(DEFAULTS.checkpointEveryApplied))
    .addOption(new Option('--commit-order <order>', 'out-of-order (TRaft) or in-order (prefix commit, as classic Raft)').choices(['out-of-order', 'in-order']).default(DEFAULTS.commitOrder))
    .addOption(new Option('--config <file>', 'JSON file with the same settings in camelCase (zod-validated); flags override it'))
    .addOption(new Option('--admin', 'serve the admin service (state dump, hash, invariants, events, test hooks)'))
    .addOption(new Option('--unsafe <name>', `plant a known bug (requires --admin): ${UNSAFE_BUGS.join(', ')}`))
    .addOption(new Option('--join', 'start as a learner outside the initial voters; a member then adds it with the AddLearner RPC of the client service'))
    .addOption(new Option('--parent-pid <pid>', 'exit when this process dies (polled every 500 ms)').argParser(positiveInt('--parent-pid')))
    .addOption(new Option('--exit-on-stdin-close', 'exit when standard input closes'))
    .addOption(new Option('--log-level <level>', 'pino log level').choices(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default(DEFAULTS.logLevel))
    .addOption(new Option('--seed <n>', 'seed for randomized election timeouts (default: from the id and the clock)').argParser(nonNegativeNumber('--seed')))
    .helpOption('-h, --help', 'show this help')
    .allowExcessArguments(false);
  return program;
}

function parseIdArg(text: string): number {
  return parseIdText(text, '--id');
}

/**
 * Parses argv (without node and script) into ServerOptions. Throws UsageError on any invalid
 * flag or config file, and CommanderError for --help (code 'commander.helpDisplayed').
 */
export function parseServerOptions(argv: string[]): ServerOptions {
  const program = buildProgram();
  program.exitOverride();
  program.configureOutput({ writeErr: () => undefined });
  try {
    program.parse(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError && error.code !== 'commander.helpDisplayed' && error.code !== 'commander.version') {
      throw new UsageError(error.message.replace(/^error: /, ''));
    }
    throw error;
  }
  const flags = program.opts();
  const fromFlag = (name: string): boolean => program.getOptionValueSource(name) === 'cli';
  const file = flags.config ? readConfigFile(String(flags.config)) : {};

  const pick = <T>(name: string, fileValue: T | undefined, flagValue: T): T =>
    fromFlag(name) || fileValue === undefined ? flagValue : fileValue;

  const id = pick('id', file.id, flags.id as number | undefined);
  if (id === undefined) {
    throw new UsageError('--id is required; give this replica an integer id >= 1');
  }
  const dataDir = pick('dataDir', file.dataDir, flags.dataDir as string | undefined);
  if (!dataDir) {
    throw new UsageError('--data-dir is required; give a directory for the write-ahead log');
  }
  const listen = parseHostPort(pick('listen', file.listen, String(flags.listen)), '--listen');

  let peers = fromFlag('peers') || file.peers === undefined
    ? parsePeers(String(flags.peers ?? ''))
    : file.peers.map((p) => ({ id: p.id, ...parseHostPort(p.addr, `--config peers entry ${p.id}`) }));
  peers = withSelf(peers, id, listen);

  const unsafe = pick('unsafe', file.unsafe, flags.unsafe as string | undefined) ?? null;
  const admin = pick('admin', file.admin, Boolean(flags.admin));
  const options: ServerOptions = {
    id,
    listenHost: listen.host,
    listenPort: listen.port,
    peers,
    dataDir,
    clusterId: pick('clusterId', file.clusterId, String(flags.clusterId)),
    electionTimeoutMs: pick('electionTimeoutMs', file.electionTimeoutMs, flags.electionTimeoutMs as number),
    heartbeatMs: pick('heartbeatMs', file.heartbeatMs, flags.heartbeatMs as number),
    tickMs: pick('tickMs', file.tickMs, flags.tickMs as number),
    rpcTimeoutMs: pick('rpcTimeoutMs', file.rpcTimeoutMs, flags.rpcTimeoutMs as number),
    fsync: pick('fsync', file.fsync, flags.fsync !== false),
    groupCommitWaitMsMax: pick('groupCommitWaitMsMax', file.groupCommitWaitMsMax, flags.groupCommitWaitMsMax as number),
    checkpointEveryApplied: pick('checkpointEveryApplied', file.checkpointEveryApplied, flags.checkpointEveryApplied as number),
    commitOrder: pick('commitOrder', file.commitOrder, flags.commitOrder as 'out-of-order' | 'in-order'),
    admin,
    unsafe: validateUnsafe(unsafe, admin),
    join: pick('join', file.join, Boolean(flags.join)),
    bootstrap: file.bootstrap ?? null,
    parentPid: (flags.parentPid as number | undefined) ?? null,
    exitOnStdinClose: Boolean(flags.exitOnStdinClose),
    logLevel: pick('logLevel', file.logLevel, flags.logLevel as ServerOptions['logLevel']),
    seed: pick('seed', file.seed, (flags.seed as number | undefined) ?? defaultSeed(id)),
  };
  checkTiming(options);
  return options;
}

function withSelf(peers: PeerAddress[], id: number, listen: { host: string; port: number }): PeerAddress[] {
  const ids = new Set<number>();
  for (const peer of peers) {
    if (ids.has(peer.id)) {
      throw new UsageError(`--peers lists id ${peer.id} twice; give each member once`);
    }
    ids.add(peer.id);
  }
  const self = peers.find((p) => p.id === id);
  if (self) {
    if (listen.port !== 0 && self.port !== listen.port) {
      throw new UsageError(`--peers gives ${id}=${self.host}:${self.port} but --listen is ${listen.host}:${listen.port}; make them agree`);
    }
    return [...peers].sort((a, b) => a.id - b.id);
  }
  if (listen.port === 0 && peers.length > 0) {
    throw new UsageError('--listen needs a fixed port when --peers names other members, because they must reach this node');
  }
  return [...peers, { id, host: listen.host, port: listen.port }].sort((a, b) => a.id - b.id);
}

function validateUnsafe(name: string | null, admin: boolean): UnsafeBug | null {
  if (name === null) {
    return null;
  }
  if (!(UNSAFE_BUGS as readonly string[]).includes(name)) {
    throw new UsageError(`--unsafe ${JSON.stringify(name)} is not a known bug; use one of ${UNSAFE_BUGS.join(', ')}`);
  }
  if (!admin) {
    throw new UsageError(`--unsafe ${name} requires --admin; planted bugs are for test clusters only`);
  }
  return name as UnsafeBug;
}

function checkTiming(options: ServerOptions): void {
  if (options.heartbeatMs >= options.electionTimeoutMs) {
    throw new UsageError(
      `--heartbeat-ms ${options.heartbeatMs} must be below --election-timeout-ms ${options.electionTimeoutMs}; use e.g. 50 and 300`,
    );
  }
  if (options.tickMs > options.heartbeatMs) {
    throw new UsageError(`--tick-ms ${options.tickMs} must not exceed --heartbeat-ms ${options.heartbeatMs}`);
  }
}

function defaultSeed(id: number): number {
  return (id * 2654435761 + Date.now()) % 2 ** 32;
}
