// Generators: values that produce the next op from a context. A generator never mutates itself;
// each step returns the generator to use next, so a schedule is a plain value that tests can step
// through with a fake clock. The only impurity is drawing from `ctx.random`, which the runner seeds
// from the run's seed, so one seed replays the same sequence of ops.
import assert from 'node:assert/strict';
import type { Random } from './random.js';

export interface GenContext {
  /** Nanoseconds since the run started. */
  timeNs: number;
  random: Random;
}

export type GenStep<T> =
  | { kind: 'op'; op: T; next: Generator<T> }
  /** Nothing to emit yet; ask again at `untilNs` (or after the next completion when absent). */
  | { kind: 'pending'; next: Generator<T>; untilNs?: number }
  | { kind: 'done' };

export interface Generator<T> {
  step(ctx: GenContext): GenStep<T>;
}

const NS_PER_S = 1_000_000_000;

/** An endless generator driven by a state-transition function. */
export function fromFunction<S, T>(state: S, produce: (ctx: GenContext, state: S) => [T, S]): Generator<T> {
  return new FunctionGenerator(state, produce);
}

// The generators on the path of every client op are classes rather than object literals with a
// `step` closure, so a step allocates no closure for the next generator.
class FunctionGenerator<S, T> implements Generator<T> {
  constructor(
    private readonly state: S,
    private readonly produce: (ctx: GenContext, state: S) => [T, S],
  ) {}

  step(ctx: GenContext): GenStep<T> {
    const [op, nextState] = this.produce(ctx, this.state);
    return { kind: 'op', op, next: new FunctionGenerator(nextState, this.produce) };
  }
}

/** Emits each op of `ops` once, in order. */
export function fixed<T>(ops: readonly T[], position = 0): Generator<T> {
  return {
    step() {
      if (position >= ops.length) return { kind: 'done' };
      return { kind: 'op', op: ops[position] as T, next: fixed(ops, position + 1) };
    },
  };
}

/**
 * Picks one member at random, by weight, for every op. A member that is done leaves the mix; a
 * pending member makes the whole mix pending, so weights keep their meaning under a rate limit.
 */
export function mix<T>(members: readonly { weight: number; generator: Generator<T> }[]): Generator<T> {
  for (const member of members) assert(member.weight > 0, `mix weights must be positive, got ${member.weight}`);
  return {
    step(ctx) {
      let live = members;
      while (live.length > 0) {
        const index = pickWeighted(ctx.random, live);
        const result = (live[index] as { generator: Generator<T> }).generator.step(ctx);
        if (result.kind === 'done') {
          live = live.filter((_, i) => i !== index);
          continue;
        }
        const replaced = live.map((member, i) => (i === index ? { weight: member.weight, generator: result.next } : member));
        if (result.kind === 'op') return { kind: 'op', op: result.op, next: mix(replaced) };
        return { kind: 'pending', next: mix(replaced), untilNs: result.untilNs };
      }
      return { kind: 'done' };
    },
  };
}

function pickWeighted(random: Random, members: readonly { weight: number }[]): number {
  const total = members.reduce((sum, member) => sum + member.weight, 0);
  let draw = random.float() * total;
  for (let i = 0; i < members.length; i += 1) {
    draw -= (members[i] as { weight: number }).weight;
    if (draw < 0) return i;
  }
  return members.length - 1;
}

/** Ends `generator` after `count` ops. */
export function limitOps<T>(count: number, generator: Generator<T>): Generator<T> {
  return {
    step(ctx) {
      if (count <= 0) return { kind: 'done' };
      const result = generator.step(ctx);
      if (result.kind === 'op') return { kind: 'op', op: result.op, next: limitOps(count - 1, result.next) };
      if (result.kind === 'pending') return { kind: 'pending', next: limitOps(count, result.next), untilNs: result.untilNs };
      return result;
    },
  };
}

/** Ends `generator` once `durationNs` has passed since its first step. */
export function timeLimit<T>(durationNs: number, generator: Generator<T>, deadlineNs?: number): Generator<T> {
  return new TimeLimitGenerator(durationNs, generator, deadlineNs);
}

class TimeLimitGenerator<T> implements Generator<T> {
  constructor(
    private readonly durationNs: number,
    private readonly generator: Generator<T>,
    private readonly deadlineNs: number | undefined,
  ) {}

  step(ctx: GenContext): GenStep<T> {
    const deadline = this.deadlineNs ?? ctx.timeNs + this.durationNs;
    if (ctx.timeNs >= deadline) return { kind: 'done' };
    const result = this.generator.step(ctx);
    if (result.kind === 'op') return { kind: 'op', op: result.op, next: new TimeLimitGenerator(this.durationNs, result.next, deadline) };
    if (result.kind === 'pending') {
      const untilNs = Math.min(result.untilNs ?? deadline, deadline);
      return { kind: 'pending', next: new TimeLimitGenerator(this.durationNs, result.next, deadline), untilNs };
    }
    return result;
  }
}

/**
 * Limits `generator` to about `opsPerS` ops per second over all processes. The gap before each op is
 * drawn uniformly from [0, 2/opsPerS) seconds, so arrivals are not lock-stepped but average the rate.
 * A rate of 0 means unlimited.
 */
export function rate<T>(opsPerS: number, generator: Generator<T>, dueNs?: number): Generator<T> {
  assert(opsPerS >= 0, `rate must be >= 0 ops/s, got ${opsPerS}`);
  if (opsPerS === 0) return generator;
  return {
    step(ctx) {
      const due = dueNs ?? ctx.timeNs;
      if (ctx.timeNs < due) return { kind: 'pending', next: rate(opsPerS, generator, due), untilNs: due };
      const result = generator.step(ctx);
      if (result.kind === 'op') {
        const gapNs = Math.floor(ctx.random.float() * ((2 * NS_PER_S) / opsPerS));
        // A late caller does not earn a burst: the next op is due a gap after now or after the due time.
        const nextDue = Math.max(due, ctx.timeNs - NS_PER_S / opsPerS) + gapNs;
        return { kind: 'op', op: result.op, next: rate(opsPerS, result.next, nextDue) };
      }
      if (result.kind === 'pending') return { kind: 'pending', next: rate(opsPerS, result.next, due), untilNs: result.untilNs };
      return result;
    },
  };
}

/** Runs each generator to completion, one after another. */
export function sequence<T>(generators: readonly Generator<T>[]): Generator<T> {
  return {
    step(ctx) {
      let rest = generators;
      while (rest.length > 0) {
        const result = (rest[0] as Generator<T>).step(ctx);
        if (result.kind === 'op') return { kind: 'op', op: result.op, next: sequence([result.next, ...rest.slice(1)]) };
        if (result.kind === 'pending') return { kind: 'pending', next: sequence([result.next, ...rest.slice(1)]), untilNs: result.untilNs };
        rest = rest.slice(1);
      }
      return { kind: 'done' };
    },
  };
}

/** Emits nothing for `durationNs` from its first step, then ends: a pause between phases. */
export function sleep<T>(durationNs: number, untilNs?: number): Generator<T> {
  return {
    step(ctx) {
      const until = untilNs ?? ctx.timeNs + durationNs;
      if (ctx.timeNs >= until) return { kind: 'done' };
      return { kind: 'pending', next: sleep(durationNs, until), untilNs: until };
    },
  };
}

/** Steps a generator to completion on a simulated clock; for tests and for inspecting a schedule. */
export function simulate<T>(
  generator: Generator<T>,
  random: Random,
  options: { startNs?: number; endNs: number; opCostNs: number; opsMax: number },
): { timeNs: number; op: T }[] {
  const emitted: { timeNs: number; op: T }[] = [];
  let timeNs = options.startNs ?? 0;
  let current = generator;
  while (timeNs < options.endNs && emitted.length < options.opsMax) {
    const result = current.step({ timeNs, random });
    if (result.kind === 'done') break;
    current = result.next;
    if (result.kind === 'op') {
      emitted.push({ timeNs, op: result.op });
      timeNs += options.opCostNs;
    } else {
      timeNs = Math.max(timeNs + 1, result.untilNs ?? timeNs + options.opCostNs);
    }
  }
  return emitted;
}

export { NS_PER_S };
