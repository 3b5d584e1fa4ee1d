// Latency and throughput of client ops, binned over time.
import type { OpPair } from '../checker/op-pairs.js';
import type { LatencyBin, ThroughputBin } from './types.js';

/** About this many bins span a run, so a chart has one or two pixels per bin. */
export const BINS_TARGET = 200;

/** Picks a bin width of 1, 2 or 5 times a power of ten nanoseconds, giving about BINS_TARGET bins. */
export function chooseBinNs(durationNs: number): number {
  const raw = Math.max(1, durationNs / BINS_TARGET);
  const power = 10 ** Math.floor(Math.log10(raw));
  for (const step of [1, 2, 5, 10]) {
    if (step * power >= raw) return step * power;
  }
  return 10 * power;
}

/** Latency quantiles of ok client ops per bin of invocation time; empty bins are left out. */
export function buildLatencyBins(clientPairs: readonly OpPair[], binNs: number): LatencyBin[] {
  const latenciesByBin = new Map<number, number[]>();
  for (const { invoke, completion } of clientPairs) {
    if (completion?.type !== 'ok') continue;
    const bin = Math.floor(invoke.time / binNs);
    let latencies = latenciesByBin.get(bin);
    if (latencies === undefined) latenciesByBin.set(bin, (latencies = []));
    latencies.push(completion.time - invoke.time);
  }

  const bins: LatencyBin[] = [];
  for (const bin of [...latenciesByBin.keys()].sort((a, b) => a - b)) {
    const latencies = latenciesByBin.get(bin)!.sort((a, b) => a - b);
    bins.push({
      startNs: bin * binNs,
      count: latencies.length,
      p50Ns: quantile(latencies, 0.5),
      p95Ns: quantile(latencies, 0.95),
      p99Ns: quantile(latencies, 0.99),
      maxNs: latencies[latencies.length - 1],
    });
  }
  return bins;
}

/** Client completions per bin of completion time; every bin from 0 to the last completion is present. */
export function buildThroughputBins(clientPairs: readonly OpPair[], binNs: number, historyEndNs: number): ThroughputBin[] {
  const binCount = Math.floor(historyEndNs / binNs) + 1;
  const bins: ThroughputBin[] = Array.from({ length: binCount }, (_, i) => ({ startNs: i * binNs, ok: 0, fail: 0, info: 0 }));
  for (const { completion } of clientPairs) {
    if (completion === undefined || completion.type === 'invoke') continue;
    const bin = bins[Math.min(binCount - 1, Math.floor(completion.time / binNs))];
    bin[completion.type]++;
  }
  return bins;
}

/** Nearest-rank quantile of a sorted, non-empty list. */
function quantile(sorted: number[], q: number): number {
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1];
}
