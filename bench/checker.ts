// Linearizability checker benchmark. Part 1 times the in-process check of every corpus file, as
// the median of several rounds after one warm-up round. The time covers the verdict and the failure
// explanation, but not parsing or shrinking. Part 2 generates register histories of 100k and 1M ops
// (1000 keys, 20 processes, 1% info), writes them as JSONL, and checks each in a child process
// that reports load time, check time and peak RSS. Prints the figures and writes them to
// bench/results/checker.json.
// Run: `make bench-checker` (or `npx tsc -p tsconfig.json && node dist/bench/checker.js`).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { HistoryWriter } from '../checker/history/jsonl.js';
import { loadHistory } from '../checker/history/load.js';
import type { Op } from '../checker/history/types.js';
import { generateRegisterHistory } from '../checker/linearizable/generate.js';
import { checkLinearizable } from '../checker/linearizable/index.js';
import type { ModelName } from '../checker/models/types.js';

const run = promisify(execFile);

/** Acceptance targets: Go Porcupine's summed median CheckEvents time for etcd_000-069 on this machine kind, and the 1M-op bounds. */
const ETCD_TOTAL_MS_MAX = 325;
const GENERATED_CHECK_MS_MAX = 20_000;
const PEAK_RSS_BYTES_MAX = 1024 * 1024 * 1024;
/** Timed rounds per corpus file after the warm-up round; the median is reported. */
const CORPUS_ROUNDS = 5;
/** Bound on one child run, so a hung check cannot stall the benchmark. */
const CHILD_TIMEOUT_MS = 300_000;

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const corpusRoot = resolve(projectRoot, '../shared/corpus');

interface CorpusFile {
  file: string;
  expected: boolean;
  valid: boolean | 'unknown';
  ops: number;
  checkMsMedian: number;
}

interface CorpusFigures {
  folder: string;
  model: ModelName;
  files: CorpusFile[];
  totalMs: number;
  allExpected: boolean;
}

interface ChildFigures {
  loadMs: number;
  checkMs: number;
  peakRssBytes: number;
  valid: boolean | 'unknown';
  summary: string;
  parallel: boolean;
}

interface GeneratedFigures extends ChildFigures {
  ops: number;
  keys: number;
  processes: number;
  infoProbability: number;
  historyLines: number;
  generateMs: number;
  withinTargets: boolean;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function benchCorpus(folderName: string, model: ModelName): Promise<CorpusFigures | undefined> {
  const folder = join(corpusRoot, folderName);
  if (!existsSync(join(folder, 'expected.tsv'))) {
    process.stdout.write(`corpus ${folder} is absent; skipping it\n`);
    return undefined;
  }
  const rows = (await readFile(join(folder, 'expected.tsv'), 'utf8')).trim().split('\n').slice(1);
  const histories: Array<{ file: string; expected: boolean; ops: Op[] }> = [];
  for (const row of rows) {
    const [file, verdict] = row.split('\t');
    histories.push({ file: file!, expected: verdict === 'true', ops: await loadHistory(join(folder, file!)) });
  }

  const timesMs = histories.map(() => [] as number[]);
  const verdicts = new Array<boolean | 'unknown'>(histories.length);
  const opCounts = new Array<number>(histories.length);
  for (let round = 0; round <= CORPUS_ROUNDS; round += 1) {
    for (let i = 0; i < histories.length; i += 1) {
      const startMs = performance.now();
      const result = await checkLinearizable(histories[i]!.ops, { model, initial: null, workers: 1, shrinkTimeMsMax: 0 });
      const elapsedMs = performance.now() - startMs;
      // Round 0 warms up the JIT and is not counted.
      if (round > 0) timesMs[i]!.push(elapsedMs);
      verdicts[i] = result.valid;
      opCounts[i] = result.ops;
    }
  }

  const files = histories.map((history, i) => ({
    file: history.file,
    expected: history.expected,
    valid: verdicts[i]!,
    ops: opCounts[i]!,
    checkMsMedian: Math.round(median(timesMs[i]!) * 1000) / 1000,
  }));
  const totalMs = Math.round(files.reduce((sum, file) => sum + file.checkMsMedian, 0) * 10) / 10;
  return { folder: folderName, model, files, totalMs, allExpected: files.every((file) => file.valid === file.expected) };
}

/** Child mode: loads a JSONL history, checks it and prints the figures as JSON. */
async function checkFileChild(path: string): Promise<void> {
  const loadStartMs = performance.now();
  const ops = await loadHistory(path, 'jsonl');
  const loadMs = performance.now() - loadStartMs;
  const checkStartMs = performance.now();
  const result = await checkLinearizable(ops, { model: 'cas-register', initial: null });
  const checkMs = performance.now() - checkStartMs;
  const figures: ChildFigures = {
    loadMs: Math.round(loadMs),
    checkMs: Math.round(checkMs),
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    valid: result.valid,
    summary: result.summary,
    parallel: result.stats?.['parallel'] === 1,
  };
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

async function benchGenerated(opCount: number, dir: string): Promise<GeneratedFigures> {
  const options = { ops: opCount, keys: 1000, processes: 20, infoProbability: 0.01, valuesMax: 5, seed: 1 };
  const generateStartMs = performance.now();
  let history: Op[] | undefined = generateRegisterHistory(options);
  const generateMs = performance.now() - generateStartMs;
  const historyLines = history.length;

  const path = join(dir, `register-${opCount}.jsonl`);
  const writer = await HistoryWriter.open(path);
  for (const op of history) writer.write(op);
  await writer.close();
  history = undefined;

  const { stdout } = await run(process.execPath, [fileURLToPath(import.meta.url), '--check-file', path], {
    timeout: CHILD_TIMEOUT_MS,
    maxBuffer: 1 << 20,
  });
  const child = JSON.parse(stdout) as ChildFigures;
  await rm(path, { force: true });
  return {
    ops: opCount,
    keys: options.keys,
    processes: options.processes,
    infoProbability: options.infoProbability,
    historyLines,
    generateMs: Math.round(generateMs),
    ...child,
    withinTargets: child.valid === true && child.checkMs <= GENERATED_CHECK_MS_MAX && child.peakRssBytes <= PEAK_RSS_BYTES_MAX,
  };
}

function printCorpus(figures: CorpusFigures): void {
  process.stdout.write(`\ncorpus ${figures.folder} (${figures.model}): median of ${CORPUS_ROUNDS} rounds per file\n`);
  for (const file of figures.files) {
    const mark = file.valid === file.expected ? '' : `  WRONG (expected ${file.expected})`;
    process.stdout.write(`  ${file.file.padEnd(16)} ${String(file.valid).padEnd(7)} ${String(file.ops).padStart(5)} ops ${file.checkMsMedian.toFixed(3).padStart(9)} ms${mark}\n`);
  }
  process.stdout.write(`  total ${figures.totalMs} ms, all verdicts as expected: ${figures.allExpected}\n`);
}

async function main(): Promise<void> {
  const childIndex = process.argv.indexOf('--check-file');
  if (childIndex >= 0) {
    await checkFileChild(process.argv[childIndex + 1]!);
    return;
  }

  const etcd = await benchCorpus('jepsen-etcd', 'cas-register');
  if (etcd !== undefined) printCorpus(etcd);
  const kv = await benchCorpus('porcupine-kv', 'kv');
  if (kv !== undefined) printCorpus(kv);

  const dir = await mkdtemp(join(tmpdir(), 'traft-bench-checker-'));
  const generated: GeneratedFigures[] = [];
  try {
    for (const opCount of [100_000, 1_000_000]) {
      const figures = await benchGenerated(opCount, dir);
      generated.push(figures);
      process.stdout.write(
        `\ngenerated ${opCount} ops (${figures.historyLines} lines, ${figures.keys} keys, ${figures.processes} processes, ` +
          `${figures.infoProbability * 100}% info): ${figures.valid}, load ${figures.loadMs} ms, check ${figures.checkMs} ms, ` +
          `peak RSS ${Math.round(figures.peakRssBytes / 2 ** 20)} MiB${figures.parallel ? ', worker threads' : ''}\n`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  const etcdFirst70 = etcd?.files.filter((file) => /^etcd_0[0-6]\d\.log$/.test(file.file)) ?? [];
  const etcdTotalMs = Math.round(etcdFirst70.reduce((sum, file) => sum + file.checkMsMedian, 0) * 10) / 10;
  const results = {
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cpuCount: cpus().length,
    targets: { etcdTotalMsMax: ETCD_TOTAL_MS_MAX, generatedCheckMsMax: GENERATED_CHECK_MS_MAX, peakRssBytesMax: PEAK_RSS_BYTES_MAX },
    etcd000to069TotalMs: etcdTotalMs,
    corpus: [etcd, kv].filter((figures) => figures !== undefined),
    generated,
  };
  process.stdout.write(`\njepsen etcd_000-069 total: ${etcdTotalMs} ms (target <= ${ETCD_TOTAL_MS_MAX} ms)\n`);

  const resultsDir = join(projectRoot, 'bench', 'results');
  await mkdir(resultsDir, { recursive: true });
  await writeFile(join(resultsDir, 'checker.json'), `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`wrote ${join(resultsDir, 'checker.json')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench-checker failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
