#!/usr/bin/env node
// Runs the deterministic simulator over a range of seeds:
//   node dist/server/sim/cli.js --seeds 1-500 --steps 5000 [--nodes 5] [--unsafe NAME]
// It prints one line per failing seed, the trace before the first violation and a summary with
// the simulated steps per second. It exits 1 on any violation, 0 otherwise, and 64 on bad flags.
import { pathToFileURL } from 'node:url';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { CORE_UNSAFE_BUGS, type CoreUnsafeBug } from '../core/types.js';
import { runRandomSeed, type SeedResult } from './random-run.js';
import { formatViolation } from './cluster.js';

const EXIT_USAGE = 64;
const SEEDS_MAX = 10_000_000;

export function parseSeeds(text: string): number[] {
  const seeds: number[] = [];
  for (const part of text.split(',')) {
    const match = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (match === null) throw new InvalidArgumentError(`invalid seed list "${text}"; use a range like 1-500, a list like 3,7,9, or both`);
    const from = Number(match[1]);
    const to = match[2] === undefined ? from : Number(match[2]);
    if (to < from) throw new InvalidArgumentError(`invalid seed range "${part.trim()}": the end is below the start`);
    if (seeds.length + (to - from + 1) > SEEDS_MAX) throw new InvalidArgumentError(`too many seeds in "${text}"; at most ${SEEDS_MAX} per run`);
    for (let s = from; s <= to; s++) seeds.push(s);
  }
  return seeds;
}

function parseIntBetween(name: string, min: number, max: number): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (!/^\d+$/.test(text.trim()) || value < min || value > max) {
      throw new InvalidArgumentError(`invalid ${name} "${text}"; use an integer from ${min} to ${max}`);
    }
    return value;
  };
}

function parseBug(text: string): CoreUnsafeBug {
  if (!(CORE_UNSAFE_BUGS as readonly string[]).includes(text)) {
    throw new InvalidArgumentError(`unknown planted bug "${text}"; use one of ${CORE_UNSAFE_BUGS.join(', ')}`);
  }
  return text as CoreUnsafeBug;
}

interface CliOptions {
  seeds: number[];
  steps: number;
  nodes?: number;
  unsafe?: CoreUnsafeBug;
  traceLines: number;
}

function parseArgs(argv: string[]): CliOptions {
  const program = new Command()
    .name('sim')
    .description('Run the deterministic TRaft cluster simulator over a range of seeds.')
    .requiredOption('--seeds <list>', 'seeds to run, e.g. 1-500 or 3,7,9', parseSeeds)
    .option('--steps <n>', 'simulated steps per seed in the random phase', parseIntBetween('--steps', 1, 100_000_000), 5000)
    .option('--nodes <n>', 'cluster size, 3 to 7 (default: drawn per seed)', parseIntBetween('--nodes', 3, 7))
    .option('--unsafe <name>', `plant a known bug in every node: ${CORE_UNSAFE_BUGS.join(', ')}`, parseBug)
    .option('--trace-lines <n>', 'trace lines printed for the first failing seed', parseIntBetween('--trace-lines', 0, 40), 30)
    .exitOverride()
    .configureOutput({ writeErr: () => {} });
  program.parse(argv, { from: 'user' });
  return program.opts<CliOptions>();
}

/** Turns a commander error into one line that names the bad value and the fix. */
function usageMessage(error: CommanderError): string {
  // Commander ends some messages with a period, which would read badly before the added hint.
  const message = error.message.replace(/^error: /, '').replace(/\.$/, '');
  // Our own parsers already name the value and the fix; drop commander's prefix before them.
  const ours = /is invalid\. (.*)$/.exec(message);
  if (error.code === 'commander.invalidArgument' && ours !== null) return ours[1];
  if (error.code === 'commander.missingMandatoryOptionValue') return `${message}; pass the seeds to run, e.g. --seeds 1-500`;
  return `${message}; run with --help for the options`;
}

export interface CliOutput {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** Runs the CLI on `argv` (without the program name); returns the exit code. */
export function runCli(argv: string[], output: CliOutput): number {
  let options: CliOptions;
  try {
    options = parseArgs(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return 0;
      output.err(`sim: ${usageMessage(error)}\n`);
      return EXIT_USAGE;
    }
    throw error;
  }

  const started = process.hrtime.bigint();
  const cpuStarted = process.cpuUsage();
  let steps = 0;
  const failing: SeedResult[] = [];
  for (const seed of options.seeds) {
    const result = runRandomSeed({ seed, steps: options.steps, nodeCount: options.nodes, unsafe: options.unsafe });
    steps += result.steps;
    if (result.violations.length === 0) continue;
    failing.push(result);
    const first = result.violations[0];
    const more = result.violations.length > 1 ? ` (+${result.violations.length - 1} more)` : '';
    output.out(`seed ${seed}: ${formatViolation(first)}${more}\n`);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuStarted);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;

  if (failing.length > 0) {
    const first = failing[0];
    const lines = first.trace.slice(-options.traceLines);
    output.out(`\nfirst failing seed ${first.seed}, last ${lines.length} events before the violation:\n`);
    for (const line of lines) output.out(`  ${line}\n`);
    output.out(`replay: npm run sim -- --seeds ${first.seed} --steps ${options.steps}${options.nodes ? ` --nodes ${options.nodes}` : ''}${options.unsafe ? ` --unsafe ${options.unsafe}` : ''}\n`);
  }
  const perSecond = steps / Math.max(seconds, 1e-9);
  const perCpuSecond = steps / Math.max(cpuSeconds, 1e-9);
  output.out(
    `\n${options.seeds.length} seeds, ${failing.length} with violations${options.unsafe ? ` (planted bug ${options.unsafe})` : ''}; ` +
      `${steps} simulated steps in ${seconds.toFixed(1)} s = ${Math.round(perSecond)} steps/s (${Math.round(perSecond * 60)} steps/min); ` +
      `${cpuSeconds.toFixed(1)} s of CPU = ${Math.round(perCpuSecond)} steps per CPU second\n`,
  );
  return failing.length > 0 ? 1 : 0;
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  process.exitCode = runCli(process.argv.slice(2), {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  });
}
