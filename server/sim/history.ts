// The client history the simulator records, and its per-key linearizability check: a small
// Wing & Gong style search with memoization over (linearized set, key state). Linearizability is
// local, so each key is checked alone; a multi-key txn contributes one sub-op per key it touches.
import type { Command, CommandResult, JsonValue, MicroOp, MicroOpResult } from '../core/types.js';

export type ClientCommand = Command | { kind: 'read'; key: string };

export interface SimOp {
  id: number;
  clientId: string;
  command: ClientCommand;
  invokeMs: number;
  /** Infinity while pending and for an unknown outcome. */
  completeMs: number;
  status: 'pending' | 'ok' | 'fail' | 'unknown';
  result?: CommandResult;
  /** The lsn the server reported for an ok write. */
  lsn?: number | null;
}

const ILLEGAL = Symbol('illegal');
type Step = (state: JsonValue) => JsonValue | typeof ILLEGAL;

interface KeyOp {
  op: SimOp;
  callMs: number;
  returnMs: number;
  /** An unknown op may also never take effect. */
  optional: boolean;
  step: Step;
}

export interface LinearizabilityResult {
  valid: true | false | 'unknown';
  /** Per failing key, a short explanation. */
  failures: string[];
}

function equalJson(a: JsonValue, b: JsonValue): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function appendValue(state: JsonValue, value: JsonValue): JsonValue | typeof ILLEGAL {
  if (state === null) return [value];
  if (Array.isArray(state)) return [...state, value];
  if (typeof state === 'string' && typeof value === 'string') return state + value;
  return state; // The server reports an error and leaves the value unchanged.
}

/** Builds the model step of `command` restricted to `key`, checking the observed result when known. */
function stepFor(command: ClientCommand, key: string, result: CommandResult | undefined): Step {
  switch (command.kind) {
    case 'read':
      return (state) => {
        if (result === undefined) return state;
        return result.kind === 'value' && equalJson(result.value, state) ? state : ILLEGAL;
      };
    case 'put':
      return () => command.value;
    case 'delete':
      return () => null;
    case 'cas':
      return (state) => {
        const swapped = equalJson(state, command.expected);
        if (result !== undefined && result.kind === 'cas') {
          if (result.swapped !== swapped) return ILLEGAL;
          if (!swapped && !equalJson(result.current, state)) return ILLEGAL;
        }
        return swapped ? command.value : state;
      };
    case 'append':
      return (state) => appendValue(state, command.value);
    case 'incr':
      return (state) => {
        if (typeof state === 'number') return state + command.delta;
        if (state === null) return command.delta;
        return state;
      };
    case 'txn':
      return txnStep(command.ops, key, result);
    case 'noop':
    case 'config':
      return (state) => state;
  }
}

function txnStep(ops: MicroOp[], key: string, result: CommandResult | undefined): Step {
  const results: MicroOpResult[] | undefined = result?.kind === 'txn' ? result.ops : undefined;
  return (state) => {
    let current = state;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i];
      if (op.key !== key) continue;
      if (op.f === 'append') {
        const next = appendValue(current, op.value);
        if (next === ILLEGAL) return ILLEGAL;
        current = next;
      } else if (results !== undefined) {
        const observed = results[i];
        if (observed === undefined || observed.f !== 'r' || !equalJson(observed.value, current)) return ILLEGAL;
      }
    }
    return current;
  };
}

function keysOfClientCommand(command: ClientCommand): string[] {
  switch (command.kind) {
    case 'read':
    case 'put':
    case 'delete':
    case 'cas':
    case 'append':
    case 'incr':
      return [command.key];
    case 'txn':
      return [...new Set(command.ops.map((op) => op.key))];
    case 'noop':
    case 'config':
      return [];
  }
}

/** Checks every key's sub-history; `budget` bounds the search states per key (then the verdict is unknown). */
export function checkLinearizable(ops: readonly SimOp[], budget = 200_000): LinearizabilityResult {
  const byKey = new Map<string, KeyOp[]>();
  for (const op of ops) {
    if (op.status === 'fail' || op.status === 'pending') continue;
    const known = op.status === 'ok';
    for (const key of keysOfClientCommand(op.command)) {
      const list = byKey.get(key) ?? [];
      list.push({
        op,
        callMs: op.invokeMs,
        returnMs: known ? op.completeMs : Infinity,
        optional: !known,
        step: stepFor(op.command, key, known ? op.result : undefined),
      });
      byKey.set(key, list);
    }
  }
  const failures: string[] = [];
  let unknown = false;
  for (const [key, keyOps] of byKey) {
    const verdict = searchKey(keyOps, budget);
    if (verdict === 'unknown') unknown = true;
    else if (!verdict) failures.push(`key ${key}: no linearization of its ${keyOps.length} ops (${describeKeyOps(keyOps)})`);
  }
  if (failures.length > 0) return { valid: false, failures };
  return { valid: unknown ? 'unknown' : true, failures };
}

function describeKeyOps(ops: KeyOp[]): string {
  const shown = ops.slice(0, 12).map((k) => {
    const r = k.op.status === 'ok' ? JSON.stringify(k.op.result) : k.op.status;
    return `#${k.op.id} ${k.op.clientId} [${k.callMs},${k.returnMs}] ${JSON.stringify(k.op.command)} -> ${r}`;
  });
  return shown.join('; ') + (ops.length > 12 ? '; ...' : '');
}

/** Depth-first search over linearization orders with a memo of dead (done set, state) pairs. */
function searchKey(ops: KeyOp[], budget: number): boolean | 'unknown' {
  ops.sort((a, b) => a.callMs - b.callMs);
  const n = ops.length;
  const done = new Uint8Array(n);
  const dead = new Set<string>();
  let explored = 0;
  let requiredLeft = ops.filter((o) => !o.optional).length;

  const visit = (state: JsonValue): boolean | 'unknown' => {
    if (requiredLeft === 0) return true;
    if (++explored > budget) return 'unknown';
    const memo = `${Buffer.from(done).toString('base64')}|${JSON.stringify(state)}`;
    if (dead.has(memo)) return false;

    // Only an op that was called before every pending op returned can come next.
    let horizon = Infinity;
    for (let i = 0; i < n; i++) if (!done[i] && ops[i].returnMs < horizon) horizon = ops[i].returnMs;
    for (let i = 0; i < n && ops[i].callMs <= horizon; i++) {
      if (done[i]) continue;
      const next = ops[i].step(state);
      if (next === ILLEGAL) continue;
      done[i] = 1;
      if (!ops[i].optional) requiredLeft--;
      const verdict = visit(next);
      done[i] = 0;
      if (!ops[i].optional) requiredLeft++;
      if (verdict !== false) return verdict;
    }
    dead.add(memo);
    return false;
  };
  return visit(null);
}
