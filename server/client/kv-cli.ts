// `traft kv put|get|cas|append|status --endpoints host:port,...`: a small command line over
// TraftClient, in the style of etcdctl. Exit codes: 0 ok, 1 definitely failed, 2 unknown outcome,
// 64 invalid arguments.
import { Command, CommanderError, Option } from 'commander';
import type { JsonValue } from '../core/types.js';
import { TraftClient, type KvOutcome } from './client.js';

export const EXIT_OK = 0;
export const EXIT_FAIL = 1;
export const EXIT_UNKNOWN = 2;
export const EXIT_USAGE = 64;

/** Output streams, replaceable in tests. */
export interface KvIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

const defaultIo: KvIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

class KvUsageError extends Error {}

interface GlobalFlags {
  endpoints: string;
  timeoutMs: number;
  clusterId: string;
  json: boolean;
}

/** Parses a value argument as JSON (5, [1,2], "x", null), falling back to the plain string. */
export function parseValueArg(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text;
  }
}

function parseEndpoints(text: string): string[] {
  const endpoints = text.split(',').map((e) => e.trim()).filter((e) => e.length > 0);
  if (endpoints.length === 0) {
    throw new KvUsageError('--endpoints is empty; give host:port,... of one or more servers');
  }
  for (const endpoint of endpoints) {
    if (!/^[A-Za-z0-9.-]+:\d{1,5}$/.test(endpoint)) {
      throw new KvUsageError(`--endpoints entry ${JSON.stringify(endpoint)} is not host:port; use e.g. 127.0.0.1:7001`);
    }
  }
  return endpoints;
}

function parseTimeout(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value <= 0) {
    throw new KvUsageError(`--timeout-ms ${JSON.stringify(text)} is not a positive integer`);
  }
  return value;
}

/** Prints an outcome and returns the exit code for it. */
function report(outcome: KvOutcome, flags: GlobalFlags, io: KvIo, printOk: (value: JsonValue | undefined) => string): number {
  if (flags.json) {
    io.out(JSON.stringify(outcome));
  }
  switch (outcome.type) {
    case 'ok':
      if (!flags.json) {
        io.out(printOk(outcome.value));
      }
      return EXIT_OK;
    case 'fail': {
      const current = outcome.value === undefined ? '' : ` (current value ${JSON.stringify(outcome.value)})`;
      io.err(`traft kv: failed: ${cleanReason(outcome.reason)}${current}`);
      return EXIT_FAIL;
    }
    case 'info':
      io.err(`traft kv: outcome unknown, the command may or may not have taken effect: ${cleanReason(outcome.reason)}`);
      return EXIT_UNKNOWN;
    default: {
      const unexpected: never = outcome;
      throw new Error(`unexpected outcome ${JSON.stringify(unexpected)}`);
    }
  }
}

/** Drops the empty "Resolution note:" that grpc-js 1.14 appends to connection errors. */
export function cleanReason(reason: string): string {
  return reason.replace(/\s*Resolution note:\s*$/, '');
}

type KvAction = (client: TraftClient, flags: GlobalFlags, io: KvIo, endpoints: string[]) => Promise<number>;

/** Registers the `kv` subcommands on `program`; each action sets process.exitCode. */
export function addKvCommand(program: Command, io: KvIo = defaultIo): void {
  const kv = program
    .command('kv')
    .description('read and write keys on a running cluster')
    .addOption(new Option('--endpoints <list>', 'servers as host:port,... (any member; requests follow the leader)').makeOptionMandatory())
    .addOption(new Option('--timeout-ms <ms>', 'deadline of the whole command in milliseconds').default('5000'))
    .addOption(new Option('--cluster-id <name>', 'cluster id to send; empty accepts any cluster').default(''))
    .addOption(new Option('--json', 'print the outcome as one JSON object'));

  kv.command('put <key> <value>')
    .description('set key to value (JSON if it parses as JSON, else a string)')
    .action(async (key: string, value: string, _opts: unknown, command: Command) => {
      process.exitCode = await runAction(command.parent!.opts(), io, async (client, flags, out) =>
        report(await client.put(key, parseValueArg(value)), flags, out, () => 'OK'),
      );
    });

  kv.command('get <key>')
    .description('print the value of key (null when absent)')
    .addOption(new Option('--consistency <mode>', 'linearizable (through the leader) or stale (local)').choices(['linearizable', 'stale']).default('linearizable'))
    .action(async (key: string, opts: { consistency: 'linearizable' | 'stale' }, command: Command) => {
      process.exitCode = await runAction(command.parent!.opts(), io, async (client, flags, out) =>
        report(await client.get(key, { consistency: opts.consistency }), flags, out, (v) => JSON.stringify(v ?? null)),
      );
    });

  kv.command('cas <key> <expected> <value>')
    .description('set key to value if it currently equals expected (null means absent)')
    .action(async (key: string, expected: string, value: string, _opts: unknown, command: Command) => {
      process.exitCode = await runAction(command.parent!.opts(), io, async (client, flags, out) =>
        report(await client.cas(key, parseValueArg(expected), parseValueArg(value)), flags, out, () => 'OK'),
      );
    });

  kv.command('append <key> <value>')
    .description('append value to the list (or string) at key')
    .action(async (key: string, value: string, _opts: unknown, command: Command) => {
      process.exitCode = await runAction(command.parent!.opts(), io, async (client, flags, out) =>
        report(await client.append(key, parseValueArg(value)), flags, out, () => 'OK'),
      );
    });

  kv.command('status')
    .description('print the status of every endpoint, one JSON object per line')
    .action(async (_opts: unknown, command: Command) => {
      process.exitCode = await runAction(command.parent!.opts(), io, async (client, _flags, out, endpoints) => {
        let code = EXIT_OK;
        for (const endpoint of endpoints) {
          const outcome = await client.status(endpoint);
          if (outcome.type === 'ok') {
            out.out(JSON.stringify(outcome.value));
          } else {
            out.err(`traft kv: status of ${endpoint} unknown: ${cleanReason(outcome.reason)}`);
            code = EXIT_UNKNOWN;
          }
        }
        return code;
      });
    });
}

async function runAction(raw: Record<string, unknown>, io: KvIo, action: KvAction): Promise<number> {
  let flags: GlobalFlags;
  let endpoints: string[];
  try {
    endpoints = parseEndpoints(String(raw.endpoints ?? ''));
    flags = {
      endpoints: String(raw.endpoints),
      timeoutMs: parseTimeout(String(raw.timeoutMs)),
      clusterId: String(raw.clusterId ?? ''),
      json: Boolean(raw.json),
    };
  } catch (error) {
    if (error instanceof KvUsageError) {
      io.err(`traft kv: ${error.message}`);
      return EXIT_USAGE;
    }
    throw error;
  }
  const client = await TraftClient.connect(endpoints, { rpcTimeoutMs: flags.timeoutMs, clusterId: flags.clusterId });
  try {
    return await action(client, flags, io, endpoints);
  } finally {
    client.close();
  }
}

/**
 * Runs `traft kv ...` with `argv` (the words after `kv`) and resolves with the exit code.
 * Used by tests; the `traft` entry registers addKvCommand on its own program.
 */
export async function runKv(argv: string[], io: KvIo = defaultIo): Promise<number> {
  const program = new Command('traft');
  program.exitOverride();
  program.configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });
  addKvCommand(program, io);
  for (const sub of program.commands) {
    sub.exitOverride();
    for (const leaf of sub.commands) {
      leaf.exitOverride();
    }
  }
  const previous = process.exitCode;
  process.exitCode = undefined;
  try {
    await program.parseAsync(['kv', ...argv], { from: 'user' });
    return Number(process.exitCode ?? EXIT_OK);
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    throw error;
  } finally {
    process.exitCode = previous;
  }
}
