// List-append checker benchmark: generates 10k- and 100k-txn histories from a serial model with
// random concurrency, writes each as JSONL, and checks it in a child process that reports its check
// time and peak RSS. Prints the figures and writes them to bench/results/elle.json.
// Run: `make bench-elle` (or `npx tsc -p tsconfig.json && node dist/bench/elle.js`).
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generateListAppendHistory } from '../checker/elle/generate.js';
import { checkListAppend } from '../checker/elle/index.js';
import type { Op } from '../checker/history/types.js';

const run = promisify(execFile);

/** Acceptance targets for a 100k-txn history. */
const CHECK_MS_MAX = 10_000;
const PEAK_RSS_BYTES_MAX = 1024 * 1024 * 1024;
/** Generous bound on one child run, so a hung check cannot stall the benchmark. */
const CHILD_TIMEOUT_MS = 120_000;

interface Scenario {
  name: string;
  txnCount: number;
  /** Pairs of reads whose results are swapped, planting anomalies so the cycle search has work. */
  swappedReads: number;
}

const SCENARIOS: Scenario[] = [
  { name: '10k txns', txnCount: 10_000, swappedReads: 0 },
  { name: '100k txns', txnCount: 100_000, swappedReads: 0 },
  { name: '100k txns, 20 swapped reads', txnCount: 100_000, swappedReads: 20 },
];

interface ChildFigures {
  loadMs: number;
  checkMs: number;
  peakRssBytes: number;
  valid: boolean | 'unknown';
  summary: string;
  stats: Record<string, number>;
}

interface Figures extends ChildFigures {
  scenario: string;
  txnCount: number;
  opCount: number;
  generateMs: number;
  withinTargets: boolean;
}

/** Swaps the results of `count` pairs of reads of one key, chosen by a fixed stride so runs repeat. */
function swapReads(ops: Op[], count: number): void {
  const readsByKey = new Map<unknown, unknown[][]>();
  for (const op of ops) {
    if (op.type !== 'ok') continue;
    for (const microOp of op.value as unknown[][]) {
      if (microOp[0] !== 'r') continue;
      let reads = readsByKey.get(microOp[1]);
      if (reads === undefined) readsByKey.set(microOp[1], (reads = []));
      reads.push(microOp);
    }
  }
  const keys = [...readsByKey.values()].filter((reads) => reads.length >= 4);
  for (let i = 0; i < count && keys.length > 0; i++) {
    const reads = keys[(i * 7919) % keys.length]!;
    const a = reads[1]!;
    const b = reads[reads.length - 2]!;
    [a[2], b[2]] = [b[2], a[2]];
  }
}

async function measure(scenario: Scenario, folder: string): Promise<Figures> {
  const generateStartMs = performance.now();
  const ops = generateListAppendHistory(1, { txnCount: scenario.txnCount, activeKeyCount: 16, windowSlots: 8 });
  swapReads(ops, scenario.swappedReads);
  const generateMs = Math.round(performance.now() - generateStartMs);
  const path = join(folder, `history-${scenario.txnCount}-${scenario.swappedReads}.jsonl`);
  await writeFile(path, ops.map((op) => JSON.stringify(op)).join('\n') + '\n');

  // A fresh child per history, so its peak RSS covers this check alone.
  const { stdout } = await run(process.execPath, [...process.execArgv, process.argv[1]!, '--check', path], {
    timeout: CHILD_TIMEOUT_MS,
    maxBuffer: 16 * 1024 * 1024,
  });
  const child = JSON.parse(stdout) as ChildFigures;
  return {
    scenario: scenario.name,
    txnCount: scenario.txnCount,
    opCount: ops.length,
    generateMs,
    ...child,
    withinTargets: child.checkMs <= CHECK_MS_MAX && child.peakRssBytes <= PEAK_RSS_BYTES_MAX,
  };
}

/** Child mode: loads one JSONL history, checks it, and prints the figures as JSON on stdout. */
async function checkFile(path: string): Promise<void> {
  const loadStartMs = performance.now();
  const text = await readFile(path, 'utf8');
  const ops = text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as Op);
  const checkStartMs = performance.now();
  const result = await checkListAppend(ops, { consistency: 'strict-serializable' });
  const endMs = performance.now();
  const figures: ChildFigures = {
    loadMs: Math.round(checkStartMs - loadStartMs),
    checkMs: Math.round(endMs - checkStartMs),
    // maxRSS is the process's peak resident set in KiB, so it covers the load and the check.
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    valid: result.valid,
    summary: result.summary,
    stats: result.stats ?? {},
  };
  process.stdout.write(JSON.stringify(figures));
}

async function main(): Promise<void> {
  const checkIndex = process.argv.indexOf('--check');
  if (checkIndex >= 0) {
    await checkFile(process.argv[checkIndex + 1]!);
    return;
  }

  const folder = await mkdtemp(join(tmpdir(), 'traft-bench-elle-'));
  try {
    const results: Figures[] = [];
    for (const scenario of SCENARIOS) {
      const figures = await measure(scenario, folder);
      results.push(figures);
      console.log(
        `${figures.scenario}: ${figures.opCount} ops, load ${figures.loadMs} ms, check ${figures.checkMs} ms, ` +
          `peak RSS ${(figures.peakRssBytes / 2 ** 20).toFixed(0)} MiB, ${figures.stats.edgeCount} edges, ` +
          `${figures.stats.sccCount} SCCs with cycles, valid ${String(figures.valid)}` +
          (figures.withinTargets ? '' : ` (outside the ${CHECK_MS_MAX} ms / 1 GiB targets)`),
      );
    }
    await mkdir('bench/results', { recursive: true });
    const record = {
      node: process.version,
      cpu: cpus()[0]?.model ?? 'unknown',
      cpuCount: cpus().length,
      targets: { checkMsMax: CHECK_MS_MAX, peakRssBytesMax: PEAK_RSS_BYTES_MAX },
      results,
    };
    await writeFile('bench/results/elle.json', `${JSON.stringify(record, null, 2)}\n`);
    if (results.some((figures) => !figures.withinTargets)) process.exitCode = 1;
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`list-append benchmark failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
