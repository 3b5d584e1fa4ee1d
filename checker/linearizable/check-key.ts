// Checking one key: preparing its ops for the model, running the search, explaining a failure and
// shrinking it to a small failing sub-history.
import { performance } from 'node:perf_hooks';
import type { Op } from '../history/types.js';
import { createModel, describeValue, type CasFailMode, type Model, type ModelName } from '../models/index.js';
import type { OpPair } from './pairs.js';
import { FAILURE_STATES_MAX, searchLinearization, type SearchOp } from './search.js';

/** An op the chosen model cannot interpret: bad input, reported like a malformed history. */
export class UnsupportedOpError extends Error {
  override readonly name = 'UnsupportedOpError';

  constructor(
    readonly opIndex: number,
    readonly reason: string,
  ) {
    super(`op ${opIndex}: ${reason}`);
  }
}

export interface KeyCheckConfig {
  model: ModelName;
  initial: unknown;
  casFail: CasFailMode;
  timeLimitMs: number;
  memoryBytesMax: number;
}

/** The reason one key is not linearizable, in plain data for reports and `--json`. */
export interface KeyFailure {
  key: string;
  /** The op that cannot be linearized, and its completion (absent if it never completed). */
  op: Op;
  completion?: Op;
  explanation: string;
  /** History indexes of the invocations linearized before it, in linearization order. */
  linearizedPrefix: number[];
  /** Model states in which the op had to take effect and could not. */
  statesBefore: string[];
  /** A smaller history that is still not linearizable (invocations and completions). */
  minimalHistory?: Op[];
  /** True when no single op can be dropped from minimalHistory without making it linearizable. */
  minimalHistoryComplete?: boolean;
}

export type KeyReport =
  | { key: string; valid: true; ops: number; configurations: number; checkMs: number }
  | { key: string; valid: false; ops: number; configurations: number; checkMs: number; failure: KeyFailure }
  | { key: string; valid: 'unknown'; ops: number; configurations: number; checkMs: number; reason: string };

/** A key's ops in the form the search takes, with the pair each search op came from. */
interface PreparedKey {
  model: Model<unknown>;
  initial: unknown;
  searchOps: SearchOp[];
  pairOf: number[];
}

function prepareKey(pairs: readonly OpPair[], config: KeyCheckConfig): PreparedKey {
  const model = createModel(config.model);
  const initial = model.init(config.initial);
  const searchOps: SearchOp[] = [];
  const pairOf: number[] = [];
  for (let i = 0; i < pairs.length; i += 1) {
    const pair = pairs[i]!;
    const preparation = model.prepare(pair.invoke, pair.completion, config.casFail);
    switch (preparation.use) {
      case 'drop':
        continue;
      case 'unsupported':
        throw new UnsupportedOpError(pair.invoke.index, `${preparation.reason} for the ${config.model} model`);
      case 'op': {
        const indeterminate = pair.completion === undefined || pair.completion.type === 'info';
        searchOps.push({ op: preparation.op, callPosition: pair.callPosition, returnPosition: indeterminate ? -1 : pair.returnPosition });
        pairOf.push(i);
        break;
      }
      default: {
        const unknownUse: never = preparation;
        throw new Error(`unknown preparation ${JSON.stringify(unknownUse)}`);
      }
    }
  }
  return { model, initial, searchOps, pairOf };
}

/** Checks one key; throws UnsupportedOpError when an op does not fit the model. */
export function checkKey(key: string, pairs: readonly OpPair[], config: KeyCheckConfig): KeyReport {
  const startMs = performance.now();
  const prepared = prepareKey(pairs, config);
  const outcome = searchLinearization(prepared.searchOps, prepared.model, prepared.initial, {
    deadlineMs: startMs + config.timeLimitMs,
    memoryBytesMax: config.memoryBytesMax,
  });
  const checkMs = performance.now() - startMs;
  const base = { key, ops: pairs.length, configurations: outcome.configurations, checkMs };

  switch (outcome.valid) {
    case true:
      return { ...base, valid: true };
    case 'unknown':
      return { ...base, valid: 'unknown', reason: `key ${JSON.stringify(key)}: ${outcome.reason} (limits: ${config.timeLimitMs} ms per key)` };
    case false: {
      const pair = pairs[prepared.pairOf[outcome.failingOp]!]!;
      const prefix = outcome.prefix.map((searchIndex) => pairs[prepared.pairOf[searchIndex]!]!.invoke.index);
      const failure: KeyFailure = {
        key,
        op: pair.invoke,
        explanation: explainFailure(key, pair, prefix.length, outcome.statesBefore, config.model),
        linearizedPrefix: prefix,
        statesBefore: outcome.statesBefore,
      };
      if (pair.completion !== undefined) failure.completion = pair.completion;
      return { ...base, valid: false, failure };
    }
    default: {
      const unknownOutcome: never = outcome;
      throw new Error(`unknown search outcome ${JSON.stringify(unknownOutcome)}`);
    }
  }
}

/** Describes an op in words, for example `process 3's read returning 2 (op 57)`. */
export function describePair(pair: OpPair): string {
  const { invoke, completion } = pair;
  const outcome = completion?.type ?? 'info';
  let action: string;
  if (invoke.f === 'cas' && Array.isArray(invoke.value) && invoke.value.length === 2) {
    action = `cas from ${describeValue(invoke.value[0])} to ${describeValue(invoke.value[1])}`;
    if (outcome === 'fail') action += ' that failed';
  } else if (outcome === 'ok' && completion!.value !== undefined && JSON.stringify(completion!.value) !== JSON.stringify(invoke.value ?? null)) {
    action = `${invoke.f} returning ${describeValue(completion!.value)}`;
  } else if (invoke.value === undefined || invoke.value === null) {
    action = invoke.f;
  } else {
    action = `${invoke.f} of ${describeValue(invoke.value)}`;
  }
  if (outcome === 'info') action += ' (outcome unknown)';
  return `process ${invoke.process}'s ${action} (op ${invoke.index})`;
}

function explainFailure(key: string, pair: OpPair, prefixLength: number, statesBefore: readonly string[], model: ModelName): string {
  const cause = `${describePair(pair)} cannot take effect at any point between its invocation and its completion`;
  const prefix = `The longest linearizable prefix has ${prefixLength} ops`;
  if (statesBefore.length === 0) return `Key ${JSON.stringify(key)} is not linearizable: ${cause}. ${prefix}.`;
  const states = joinAlternatives(statesBefore);
  const capped = statesBefore.length >= FAILURE_STATES_MAX ? ' (the first few found)' : '';
  return (
    `Key ${JSON.stringify(key)} is not linearizable: ${cause}. ${prefix}, and whenever the op was due the ` +
    `${model} held ${states}${capped}, a state from which the op's recorded result is impossible.`
  );
}

function joinAlternatives(items: readonly string[]): string {
  if (items.length === 1) return items[0]!;
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

/**
 * Shrinks a failing key to a smaller history that is still not linearizable and still contains
 * the failing op. It first keeps only the ops invoked before the failing op completed. Then it drops
 * ever smaller chunks of ops (delta debugging) and keeps each drop after which the search still fails.
 * A drop is also rejected when the failing op would stay impossible even if it could take effect
 * at any time, for example after removing the write a read observed. The shrunk history then fails
 * only because of when the op ran, which is the contradiction worth showing. That rule is skipped
 * when the whole history already fails that way. Shrinking stops at the time budget.
 */
export function shrinkFailure(pairs: readonly OpPair[], failure: KeyFailure, config: KeyCheckConfig, budgetMs: number): void {
  const deadlineMs = performance.now() + budgetMs;
  const prepared = prepareKey(pairs, config);
  const failingSearchOp = prepared.pairOf.findIndex((pairIndex) => pairs[pairIndex]!.invoke.index === failure.op.index);
  const limits = { deadlineMs, memoryBytesMax: config.memoryBytesMax };
  const notLinearizable = (subset: readonly number[]): boolean => {
    const ops = subset.map((index) => prepared.searchOps[index]!);
    return searchLinearization(ops, prepared.model, prepared.initial, limits, false).valid === false;
  };
  const linearizableWithFailingOpAnytime = (subset: readonly number[]): boolean => {
    const ops = subset.map((index) => {
      const op = prepared.searchOps[index]!;
      if (index !== failingSearchOp) return op;
      return { op: op.op, callPosition: -1, returnPosition: op.returnPosition >= 0 ? Number.MAX_SAFE_INTEGER : -1 };
    });
    return searchLinearization(ops, prepared.model, prepared.initial, limits, false).valid === true;
  };

  let kept = prepared.searchOps.map((_, index) => index);
  const failingReturn = failure.completion === undefined ? Infinity : failure.completion.index;
  const truncated = kept.filter((index) => pairs[prepared.pairOf[index]!]!.invoke.index <= failingReturn);
  if (truncated.length < kept.length && notLinearizable(truncated)) kept = truncated;
  const timingOnly = failingSearchOp >= 0 && linearizableWithFailingOpAnytime(kept);
  const stillFails = (subset: readonly number[]): boolean =>
    performance.now() < deadlineMs && notLinearizable(subset) && (!timingOnly || linearizableWithFailingOpAnytime(subset));

  let complete = false;
  for (let chunk = Math.ceil(kept.length / 2); chunk >= 1 && performance.now() < deadlineMs; chunk = Math.floor(chunk / 2)) {
    let start = 0;
    while (start < kept.length && performance.now() < deadlineMs) {
      const dropped = kept.slice(start, start + chunk);
      const candidate = [...kept.slice(0, start), ...kept.slice(start + chunk)];
      if (!dropped.includes(failingSearchOp) && candidate.length > 0 && stillFails(candidate)) kept = candidate;
      else start += chunk;
    }
    if (chunk === 1 && performance.now() < deadlineMs) complete = true;
  }

  const history: Op[] = [];
  for (const index of kept) {
    const pair = pairs[prepared.pairOf[index]!]!;
    history.push(pair.invoke);
    if (pair.completion !== undefined) history.push(pair.completion);
  }
  history.sort((a, b) => a.index - b.index);
  failure.minimalHistory = history;
  failure.minimalHistoryComplete = complete;
}
