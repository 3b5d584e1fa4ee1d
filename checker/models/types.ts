// A linearizability model: a record of pure functions over an immutable state.
import type { Op } from '../history/types.js';

export type ModelName = 'register' | 'cas-register' | 'kv' | 'set' | 'counter' | 'queue';

export const MODEL_NAMES: readonly ModelName[] = ['register', 'cas-register', 'kv', 'set', 'counter', 'queue'];

/** Reading of a `fail` cas: it ran and found another value, or it never happened (as in Knossos). */
export type CasFailMode = 'informative' | 'not-happened';

/** Returned by `step` when the op's result is impossible from the state. */
export const ILLEGAL: unique symbol = Symbol('illegal');

/** One op in model form: a model-specific kind and up to two arguments. */
export interface ModelOp {
  kind: number;
  a: unknown;
  b: unknown;
}

/** The model's reading of one invoke and its completion (undefined when it never completed). */
export type Preparation =
  | { use: 'op'; op: ModelOp }
  /** The op constrains nothing: a failed read or write, or a read with an unknown result. */
  | { use: 'drop' }
  | { use: 'unsupported'; reason: string };

export interface Model<State> {
  name: ModelName;
  /** The initial state; `initial` is the user's `--initial` value, undefined for the default. */
  init(initial: unknown): State;
  /**
   * Converts an op into a model op. `completion` is the ok, fail or info op, or undefined when the
   * op never completed; the caller treats info and missing completions as indeterminate.
   */
  prepare(invoke: Op, completion: Op | undefined, casFail: CasFailMode): Preparation;
  /** The state after `op`, or ILLEGAL when the op's recorded result cannot come from `state`. */
  step(state: State, op: ModelOp): State | typeof ILLEGAL;
  /** A value equal for equal states, used to memoise the search. */
  stateKey(state: State): string | number;
  describeState(state: State): string;
}

/** Formats a JSON value compactly for explanations; `null` reads as "nil (absent)". */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  return JSON.stringify(value);
}
