// The simulated clients. Each runs one op at a time (put, cas, append, txn, read) and follows
// NOT_LEADER hints. After an UNKNOWN outcome or a timeout it retries a write with the same
// (clientId, seq), so server-side dedup must make every write take effect at most once.
import type { ClientOutcome, Command, MicroOp } from '../core/types.js';
import type { ClientCommand, SimOp } from './history.js';
import type { Prng } from './prng.js';

export interface WorkloadOptions {
  /** Register keys get put, cas and read; list keys get append, txn and read. */
  registerKeys: number;
  listKeys: number;
  /** Virtual ms a client waits for a reply before it treats the attempt as unknown. */
  requestTimeoutMs: number;
  /** Attempts per op, the first included; then the op ends unknown (or failed if no attempt was uncertain). */
  attemptsMax: number;
  thinkMinMs: number;
  thinkMaxMs: number;
  retryBackoffMs: number;
}

export const DEFAULT_WORKLOAD: WorkloadOptions = {
  registerKeys: 2,
  listKeys: 2,
  requestTimeoutMs: 400,
  attemptsMax: 6,
  thinkMinMs: 0,
  thinkMaxMs: 40,
  retryBackoffMs: 30,
};

export interface Attempt {
  requestId: number;
  nodeId: number;
  deadlineMs: number;
}

export class SimClient {
  seq = 0;
  current: SimOp | null = null;
  attempt: Attempt | null = null;
  attempts = 0;
  /** True once some attempt of the current op may have taken effect. */
  uncertain = false;
  nextActionMs = 0;
  targetNodeId: number;

  constructor(
    readonly clientId: string,
    initialTarget: number,
  ) {
    this.targetNodeId = initialTarget;
  }

  /** Is the current op a write that carries a dedup tag? */
  get tagged(): boolean {
    return this.current !== null && this.current.command.kind !== 'read';
  }
}

/** Generates the next op's command. Values are unique integers so every write is traceable. */
export interface GeneratorState {
  /** The last unique value handed out. */
  value: number;
  /** The value most recently proposed per register key, a likely CAS expectation. */
  lastProposed: Map<string, number>;
}

export function nextCommand(random: Prng, options: WorkloadOptions, counter: GeneratorState): ClientCommand {
  const register = `r${random.int(options.registerKeys)}`;
  const list = `l${random.int(options.listKeys)}`;
  const value = ++counter.value;
  const roll = random.next();
  if (roll < 0.2) {
    counter.lastProposed.set(register, value);
    return { kind: 'put', key: register, value };
  }
  if (roll < 0.35) {
    const expected = random.chance(0.2) ? null : (counter.lastProposed.get(register) ?? null);
    counter.lastProposed.set(register, value);
    return { kind: 'cas', key: register, expected, value };
  }
  if (roll < 0.55) return { kind: 'append', key: list, value };
  if (roll < 0.7) {
    const ops: MicroOp[] = [];
    const count = random.between(1, 3);
    for (let i = 0; i < count; i++) {
      const key = `l${random.int(options.listKeys)}`;
      ops.push(random.chance(0.5) ? { f: 'append', key, value: ++counter.value } : { f: 'r', key });
    }
    return { kind: 'txn', ops };
  }
  return { kind: 'read', key: random.chance(0.5) ? register : list };
}

/** Returns the command the core takes for a client command, or null for a read (reads travel separately). */
export function asCoreCommand(command: ClientCommand): Command | null {
  return command.kind === 'read' ? null : command;
}

export type OutcomeDecision =
  | { action: 'finish'; status: 'ok' | 'fail' | 'unknown' }
  | { action: 'retry'; targetNodeId: number | null };

/** Decides what a client does with one attempt's outcome. */
export function decide(client: SimClient, outcome: ClientOutcome, options: WorkloadOptions): OutcomeDecision {
  switch (outcome.status) {
    case 'ok':
      return { action: 'finish', status: 'ok' };
    case 'rejected':
      return { action: 'finish', status: client.uncertain ? 'unknown' : 'fail' };
    case 'not-leader':
      return retryOrGiveUp(client, options, outcome.leaderId);
    case 'not-ready':
      return retryOrGiveUp(client, options, null);
    case 'unknown':
      if (client.tagged) client.uncertain = true;
      return retryOrGiveUp(client, options, null);
  }
}

export function retryOrGiveUp(client: SimClient, options: WorkloadOptions, hint: number | null): OutcomeDecision {
  if (client.attempts >= options.attemptsMax) return { action: 'finish', status: client.uncertain ? 'unknown' : 'fail' };
  return { action: 'retry', targetNodeId: hint };
}
