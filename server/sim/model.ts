// Small helpers the checks use, written independently of server/core so a bug there cannot
// hide itself from the simulator: ballot order, quorum membership, record content and key sets.
import type { Ballot, ClusterConfig, Command, LogRecord } from '../core/types.js';

export function compareBallot(a: Ballot | null | undefined, b: Ballot | null | undefined): number {
  const at = a?.term ?? 0;
  const bt = b?.term ?? 0;
  if (at !== bt) return at < bt ? -1 : 1;
  const ai = a?.id ?? 0;
  const bi = b?.id ?? 0;
  if (ai === bi) return 0;
  return ai < bi ? -1 : 1;
}

export function ballotKey(b: Ballot | null | undefined): string {
  return `${b?.term ?? 0}.${b?.id ?? 0}`;
}

/** True when the set of positions in `mask` satisfies every quorum family of `config`. */
export function satisfiesQuorum(config: ClusterConfig, mask: bigint): boolean {
  for (const family of config.families) {
    switch (family.kind) {
      case 'threshold': {
        let n = 0;
        for (const p of family.positions) if ((mask >> BigInt(p)) & 1n) n++;
        if (n < family.threshold) return false;
        break;
      }
      case 'weighted': {
        let sum = 0;
        for (const w of family.weights) if ((mask >> BigInt(w.position)) & 1n) sum += w.weight;
        if (sum < family.threshold) return false;
        break;
      }
      case 'explicit': {
        const ok = family.quorums.some((q) => q.every((p) => (mask >> BigInt(p)) & 1n));
        if (!ok) return false;
        break;
      }
      default:
        return assertNever(family);
    }
  }
  return config.families.length > 0;
}

export function assertNever(x: never): never {
  throw new Error(`unexpected value ${JSON.stringify(x)}`);
}

const contentKeys = new WeakMap<LogRecord, string>();

/** Identifies a record's content: its author ballot and its command. */
export function contentKey(record: LogRecord): string {
  let key = contentKeys.get(record);
  if (key === undefined) {
    key = `${ballotKey(record.author)}:${JSON.stringify(record.command)}`;
    contentKeys.set(record, key);
  }
  return key;
}

/** Keys a command reads or writes. A config record is a barrier and returns 'all'. */
export function keysOf(command: Command): string[] | 'all' {
  switch (command.kind) {
    case 'noop':
      return [];
    case 'put':
    case 'delete':
    case 'cas':
    case 'append':
    case 'incr':
      return [command.key];
    case 'txn':
      return [...new Set(command.ops.map((op) => op.key))];
    case 'config':
      return 'all';
    default:
      return assertNever(command);
  }
}

/** Non-blind commands read prior state, so every replica must execute them in the same order per key. */
export function isNonBlind(command: Command): boolean {
  return command.kind === 'cas' || command.kind === 'append' || command.kind === 'incr' || command.kind === 'txn';
}

export function describeCommandShort(command: Command): string {
  switch (command.kind) {
    case 'noop':
      return 'noop';
    case 'put':
      return `put ${command.key}=${JSON.stringify(command.value)}`;
    case 'delete':
      return `delete ${command.key}`;
    case 'cas':
      return `cas ${command.key} ${JSON.stringify(command.expected)}->${JSON.stringify(command.value)}`;
    case 'append':
      return `append ${command.key} ${JSON.stringify(command.value)}`;
    case 'incr':
      return `incr ${command.key} ${command.delta}`;
    case 'txn':
      return `txn ${command.ops.map((op) => (op.f === 'r' ? `r ${op.key}` : `append ${op.key} ${JSON.stringify(op.value)}`)).join(', ')}`;
    case 'config':
      return `config members=${command.config.members.map((m) => m.id).join(',')}`;
    default:
      return assertNever(command);
  }
}
