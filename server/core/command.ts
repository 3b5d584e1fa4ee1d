// Key sets and interference of state machine commands.
//
// Two records interfere when executing them in either order can give different states or results,
// so the later one must apply after the earlier one. Records interfere when they share a key, or
// when either is a barrier (a config change), which must apply after everything before it.
import type { Command, JsonValue } from './types.js';

export function assertNever(x: never): never {
  throw new Error(`unexpected value ${JSON.stringify(x)}`);
}

/** Returns the keys a command reads or writes: 'all' for a barrier, the empty set for a noop. */
export function commandKeys(cmd: Command): Set<string> | 'all' {
  switch (cmd.kind) {
    case 'noop':
      return new Set();
    case 'put':
    case 'delete':
    case 'cas':
    case 'append':
    case 'incr':
      return new Set([cmd.key]);
    case 'txn':
      return new Set(cmd.ops.map((op) => op.key));
    case 'config':
      return 'all';
    default:
      return assertNever(cmd);
  }
}

/** True for commands whose outcome never reads the prior state: put and delete. */
export function isBlind(cmd: Command): boolean {
  return cmd.kind === 'put' || cmd.kind === 'delete';
}

export function isBarrier(cmd: Command): boolean {
  return cmd.kind === 'config';
}

export interface InterferenceOptions {
  /**
   * Planted bug `set-only-interference`: only two puts on one key interfere, so every other pair,
   * config changes included, is reordered freely and replicas diverge.
   */
  setOnlyInterference?: boolean;
}

export function interferes(a: Command, b: Command, opts: InterferenceOptions = {}): boolean {
  if (opts.setOnlyInterference === true) {
    return a.kind === 'put' && b.kind === 'put' && a.key === b.key;
  }
  const keysA = commandKeys(a);
  const keysB = commandKeys(b);
  if (keysA === 'all' || keysB === 'all') return true;
  for (const key of keysA) {
    if (keysB.has(key)) return true;
  }
  return false;
}

const DESCRIBE_VALUE_CHARS_MAX = 40;

function describeValue(value: JsonValue): string {
  const text = JSON.stringify(value);
  if (text.length <= DESCRIBE_VALUE_CHARS_MAX) return text;
  return `${text.slice(0, DESCRIBE_VALUE_CHARS_MAX)}...`;
}

/** Formats a command for logs and dumps, for example `cas x 1->2` or `txn[append x 3, r y]`. */
export function describeCommand(cmd: Command): string {
  switch (cmd.kind) {
    case 'noop':
      return 'noop';
    case 'put':
      return `put ${cmd.key}=${describeValue(cmd.value)}`;
    case 'delete':
      return `delete ${cmd.key}`;
    case 'cas':
      return `cas ${cmd.key} ${describeValue(cmd.expected)}->${describeValue(cmd.value)}`;
    case 'append':
      return `append ${cmd.key} ${describeValue(cmd.value)}`;
    case 'incr':
      return `incr ${cmd.key} ${cmd.delta}`;
    case 'txn': {
      const ops = cmd.ops.map((op) => (op.f === 'append' ? `append ${op.key} ${describeValue(op.value)}` : `r ${op.key}`));
      return `txn[${ops.join(', ')}]`;
    }
    case 'config': {
      const members = cmd.config.members.map((m) => `${m.id}@${m.position}`).join(',');
      return `config{members ${members}; ${cmd.config.families.length} quorum families}`;
    }
    default:
      return assertNever(cmd);
  }
}
