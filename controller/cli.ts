#!/usr/bin/env node
// The `traft` command line: run a bench, list workloads and faults, re-check or re-render a stored
// run, check history files, and talk to a cluster. Bad arguments exit 64 with one line on stderr.
import { randomInt } from 'node:crypto';
import { Command, CommanderError, Option } from 'commander';
import { addCheckCommand } from '../checker/cli/check.js';
import { HistoryFormatError } from '../checker/history/errors.js';
import { ReportInputError } from '../reports/index.js';
import { EXIT_USAGE, exitCodeFor } from '../checker/result.js';
import { addKvCommand } from '../server/client/kv-cli.js';
import { WORKLOADS } from '../workloads/index.js';
import { analyzeRun, renderReports } from './analyze.js';
import { UsageError } from './errors.js';
import { NEMESIS_DESCRIPTIONS, NEMESIS_FAMILIES } from './nemesis.js';
import { parseRunOptions, RUN_DEFAULTS, SEED_MAX, UNSAFE_BUGS, type RawRunOptions } from './options.js';
import { PARTITION_SHAPE_DESCRIPTIONS, PARTITION_SHAPES } from './partition.js';
import { EXIT_CRASH, EXIT_SIGINT, EXIT_SIGTERM, killActiveServersSync, runBench, stopActiveRun, verdictWord } from './run.js';
import { readRunMeta } from './store.js';

function addRunCommand(program: Command): void {
  program
    .command('run')
    .description('start a cluster, drive a workload with faults, check the history and write a report')
    .argument('<workload>', `workload name (${WORKLOADS.map((workload) => workload.name).join(', ')})`)
    .option('--nodes <n>', 'number of servers', RUN_DEFAULTS.nodes)
    .option('--time-limit <seconds>', 'length of the main phase in seconds', RUN_DEFAULTS.timeLimit)
    .option('--concurrency <n|Nn>', `client processes: a count, or a multiple of --nodes such as 2n (default: ${RUN_DEFAULTS.concurrency}, or ${RUN_DEFAULTS.unlimitedRateConcurrency} with --rate 0)`)
    .option('--rate <ops-per-s>', 'target ops per second over all clients; 0 is unlimited', RUN_DEFAULTS.rate)
    .option('--nemesis <list>', `faults: a comma-separated list of ${NEMESIS_FAMILIES.join(', ')}, or none, or all`, RUN_DEFAULTS.nemesis)
    .option('--nemesis-interval <seconds>', 'mean seconds between a fault and its heal, and between faults', RUN_DEFAULTS.nemesisInterval)
    .option('--seed <n>', `seed of every random choice, 0 to ${SEED_MAX} (default: random, printed)`)
    .option('--store <dir>', 'run store folder', RUN_DEFAULTS.store)
    .addOption(new Option('--unsafe <name>', `plant a known bug in every server: ${UNSAFE_BUGS.join(', ')}`))
    .option('--keep-data', 'keep the servers\' data dirs in the run folder')
    .option('--recovery-time <seconds>', 'pause after healing every fault, before the final reads', RUN_DEFAULTS.recoveryTime)
    .option('--check-time-limit <seconds>', 'time limit of each checker (per key for linearizability)', RUN_DEFAULTS.checkTimeLimit)
    .option('--rpc-timeout-ms <ms>', 'deadline of one client call in milliseconds; a call past it is recorded as info', RUN_DEFAULTS.rpcTimeoutMs)
    .option('--election-timeout-ms <ms>', 'servers\' base election timeout in milliseconds', RUN_DEFAULTS.electionTimeoutMs)
    .option('--heartbeat-ms <ms>', 'servers\' heartbeat interval in milliseconds', RUN_DEFAULTS.heartbeatMs)
    .action(async (workload: string, raw: RawRunOptions) => {
      const options = parseRunOptions(workload, raw, () => randomInt(0, SEED_MAX));
      process.exitCode = await runBench(options, { out: process.stdout });
    });
}

function addListCommands(program: Command): void {
  program
    .command('workloads')
    .description('list the workloads with a one-line description each')
    .action(() => {
      const width = Math.max(...WORKLOADS.map((workload) => workload.name.length));
      for (const workload of WORKLOADS) process.stdout.write(`${workload.name.padEnd(width)}  ${workload.description}\n`);
    });

  program
    .command('nemeses')
    .description('list the fault families and partition shapes')
    .action(() => {
      for (const family of NEMESIS_FAMILIES) process.stdout.write(`${family.padEnd(17)}  ${NEMESIS_DESCRIPTIONS[family]}\n`);
      process.stdout.write('\npartition shapes:\n');
      for (const shape of PARTITION_SHAPES) process.stdout.write(`  ${shape.padEnd(15)}  ${PARTITION_SHAPE_DESCRIPTIONS[shape]}\n`);
    });
}

function addStoredRunCommands(program: Command): void {
  program
    .command('analyze')
    .description('re-check a stored run: rewrite results.json and report.html from its history')
    .argument('<run-dir>', 'a run folder, such as store/latest')
    .option('--check-time-limit <seconds>', 'time limit of each checker (per key for linearizability)', RUN_DEFAULTS.checkTimeLimit)
    .action(async (runDir: string, raw: { checkTimeLimit: string }) => {
      const limitS = Number(raw.checkTimeLimit);
      if (!(limitS > 0)) throw new UsageError(`invalid --check-time-limit ${JSON.stringify(raw.checkTimeLimit)}: pass a positive number of seconds`);
      const outcome = await analyzeRun(runDir, { checkTimeLimitMs: limitS * 1000 });
      for (const result of outcome.results) process.stdout.write(`${result.checker}: ${String(result.valid)}, ${result.summary}\n`);
      process.stdout.write(`verdict: ${verdictWord(outcome.valid)}\n`);
      process.exitCode = exitCodeFor(outcome.valid);
    });

  program
    .command('report')
    .description('re-render report.html of a stored run (and the store index) without re-checking')
    .argument('<run-dir>', 'a run folder, such as store/latest')
    .action(async (runDir: string) => {
      await readRunMeta(runDir);
      await renderReports(runDir);
      process.stdout.write(`report: ${runDir}/report.html\n`);
    });
}

/** Applies exit-64 error handling to a command and every subcommand below it. */
function configureErrors(command: Command): void {
  command.exitOverride();
  command.configureOutput({
    outputError: (message, write) => write(`traft: ${message.replace(/^error: /, '').trim()} (see ${commandPath(command)} --help)\n`),
  });
  for (const sub of command.commands) configureErrors(sub);
}

/** Returns the full command line of a (sub)command, such as `traft kv put`. */
function commandPath(command: Command): string {
  const names: string[] = [];
  for (let current: Command | null = command; current !== null; current = current.parent) names.unshift(current.name());
  return names.join(' ');
}

export function buildProgram(): Command {
  const program = new Command('traft')
    .description('A Jepsen-style test bench for TRaft: run workloads against real servers with faults, check the histories, write HTML reports.')
    .showSuggestionAfterError(true);
  addRunCommand(program);
  addListCommands(program);
  addStoredRunCommands(program);
  addCheckCommand(program);
  addKvCommand(program);
  configureErrors(program);
  return program;
}

function installSignalHandlers(): void {
  const onSignal = (signal: NodeJS.Signals, code: number) => {
    process.stderr.write(`\ntraft: received ${signal}, stopping every server and keeping the history written so far\n`);
    void stopActiveRun(signal).then((runDir) => {
      if (runDir !== undefined) process.stderr.write(`traft: partial run in ${runDir}; check it with \`traft analyze ${runDir}\`\n`);
      process.exit(code);
    });
  };
  process.once('SIGINT', () => onSignal('SIGINT', EXIT_SIGINT));
  process.once('SIGTERM', () => onSignal('SIGTERM', EXIT_SIGTERM));
  process.once('uncaughtException', (error) => {
    process.stderr.write(`traft: internal error: ${error.stack ?? error.message}\n`);
    void stopActiveRun('crash').finally(() => process.exit(EXIT_CRASH));
  });
  // The last line of defence: whatever ends this process, no server outlives it.
  process.on('exit', () => killActiveServersSync());
}

async function main(argv: string[]): Promise<void> {
  installSignalHandlers();
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.exitCode === 0 ? 0 : EXIT_USAGE;
      return;
    }
    if (error instanceof UsageError || error instanceof ReportInputError || error instanceof HistoryFormatError) {
      process.stderr.write(`traft: ${error.message}\n`);
      process.exitCode = EXIT_USAGE;
      return;
    }
    process.stderr.write(`traft: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    await stopActiveRun('crash');
    process.exitCode = EXIT_CRASH;
  }
}

await main(process.argv);
// Exit explicitly: a client channel or timer left open by a library must not keep the CLI alive.
process.exit(process.exitCode ?? 0);
