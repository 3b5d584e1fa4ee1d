// Parsing of list-append txn values. Accepts the traft encoding (`['append', k, v]`, `['r', k, list|null]`)
// and Elle's EDN form as the EDN loader imports it (keywords become strings, with or without the colon,
// or `{key: 'append'}` objects when the keywords were kept).
import type { Op } from '../history/types.js';
import type { ListKey, ListValue, MicroOp } from './types.js';

/** A history that is not a well-formed list-append history; the CLI maps it to exit code 64. */
export class ListAppendInputError extends Error {
  override readonly name = 'ListAppendInputError';
  constructor(
    message: string,
    /** History index of the op at fault, when there is one. */
    readonly opIndex?: number,
  ) {
    super(message);
  }
}

/** Returns the micro-op function name of `raw` ('append' or 'r'), or undefined when it is neither. */
function microOpFunction(raw: unknown): 'append' | 'r' | undefined {
  let name: unknown = raw;
  if (typeof raw === 'object' && raw !== null && 'key' in raw) name = (raw as { key: unknown }).key;
  if (typeof name !== 'string') return undefined;
  const bare = name.startsWith(':') ? name.slice(1) : name;
  if (bare === 'append') return 'append';
  if (bare === 'r' || bare === 'read') return 'r';
  return undefined;
}

/** Returns `raw` as a key or element (a number or string), or undefined when it is neither. */
function scalar(raw: unknown): ListKey | undefined {
  if (typeof raw === 'number' && Number.isFinite(raw)) return raw;
  if (typeof raw === 'string') return raw;
  if (typeof raw === 'bigint' && raw >= BigInt(Number.MIN_SAFE_INTEGER) && raw <= BigInt(Number.MAX_SAFE_INTEGER)) {
    return Number(raw);
  }
  return undefined;
}

function describe(raw: unknown): string {
  const text = JSON.stringify(raw, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  if (text === undefined) return String(raw);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function parseList(raw: unknown, opIndex: number, key: ListKey): ListValue[] | null {
  if (raw === null || raw === undefined) return null;
  if (!Array.isArray(raw)) {
    throw new ListAppendInputError(
      `op ${opIndex}: the read of key ${describe(key)} returned ${describe(raw)}, expected a list or null`,
      opIndex,
    );
  }
  // Most lists hold plain numbers or strings and are used as they are; only bigints need a copy.
  let list: ListValue[] | undefined;
  for (let i = 0; i < raw.length; i++) {
    const element: unknown = raw[i];
    const value = scalar(element);
    if (value === undefined) {
      throw new ListAppendInputError(
        `op ${opIndex}: the read of key ${describe(key)} contains ${describe(element)}, expected numbers or strings`,
        opIndex,
      );
    }
    if (value !== element && list === undefined) list = raw.slice(0, i) as ListValue[];
    if (list !== undefined) list.push(value);
  }
  return list ?? (raw as ListValue[]);
}

/** Parses one micro-op such as `['append', 3, 5]` or `['r', 4, [1, 2]]`. */
export function parseMicroOp(raw: unknown, opIndex: number): MicroOp {
  if (!Array.isArray(raw) || raw.length < 2 || raw.length > 3) {
    throw new ListAppendInputError(
      `op ${opIndex}: micro-op ${describe(raw)} is invalid; expected [append, key, value] or [r, key, list-or-null]`,
      opIndex,
    );
  }
  const f = microOpFunction(raw[0]);
  const key = scalar(raw[1]);
  if (f === undefined) {
    throw new ListAppendInputError(
      `op ${opIndex}: micro-op function ${describe(raw[0])} is unknown; use append or r`,
      opIndex,
    );
  }
  if (key === undefined) {
    throw new ListAppendInputError(`op ${opIndex}: micro-op key ${describe(raw[1])} must be a number or string`, opIndex);
  }

  if (f === 'r') return { f, key, list: parseList(raw[2], opIndex, key) };

  const value = scalar(raw[2]);
  if (value === undefined) {
    throw new ListAppendInputError(
      `op ${opIndex}: appended value ${describe(raw[2])} for key ${describe(key)} must be a number or string`,
      opIndex,
    );
  }
  return { f, key, value };
}

/** Parses a txn's value: a list of micro-ops. */
export function parseTxnValue(value: unknown, opIndex: number): MicroOp[] {
  if (!Array.isArray(value)) {
    throw new ListAppendInputError(`op ${opIndex}: txn value ${describe(value)} must be a list of micro-ops`, opIndex);
  }
  return value.map((raw) => parseMicroOp(raw, opIndex));
}

/**
 * Returns a txn op's value. Txn ops carry no `key`, but a loader that splits Jepsen `independent`
 * `[key value]` tuples mistakes a txn of exactly two micro-ops for one, moving the first micro-op
 * (JSON-encoded) into `key`. This puts it back.
 */
export function txnValueOf(op: Op): unknown {
  if (op.key === undefined || !Array.isArray(op.value)) return op.value;
  let first: unknown;
  try {
    first = JSON.parse(op.key);
  } catch {
    return op.value;
  }
  return Array.isArray(first) ? [first, op.value] : op.value;
}

/** Encodes micro-ops in the traft history form. */
export function encodeMicroOps(ops: readonly MicroOp[]): unknown[] {
  return ops.map((op) => (op.f === 'append' ? ['append', op.key, op.value] : ['r', op.key, op.list]));
}

/**
 * Rewrites the txn ops of a history (from JSONL or Jepsen EDN) into the traft list-append encoding,
 * so `value` contains `['append', k, v]` and `['r', k, list|null]` arrays. Ops with another `f`
 * (nemesis events, for example) pass through unchanged. Throws ListAppendInputError on a malformed txn.
 */
export function normalizeListAppendOps(ops: readonly Op[]): Op[] {
  return ops.map((op) => {
    if (op.f !== 'txn') return op;
    if (op.value === undefined || op.value === null) {
      if (op.type === 'invoke' || op.type === 'ok') {
        throw new ListAppendInputError(`op ${op.index}: ${op.type} txn has no value; expected a list of micro-ops`, op.index);
      }
      return op;
    }
    const { key: _key, ...rest } = op;
    return { ...rest, value: encodeMicroOps(parseTxnValue(txnValueOf(op), op.index)) };
  });
}
