// Depends and Overrides of new records, and the apply loop.
//
// Apply rule: a record N applies at a replica when N is committed, its content is held, N is not
// yet applied (nor skipped), and Depends(N) is a subset of Applied. Applying executes N and adds
// Overrides(N) to Applied, so an older blind write that N supersedes is never executed after it.
//
// Depends always points to lower lsns, so one ascending pass over the committed-but-unapplied
// positions applies everything applicable. Ascending order is also a second line of defence for
// per-key order when a leader change cuts a dependency chain.
import assert from 'node:assert';
import { TailBitmap } from './bitmap.js';
import { commandKeys, isBlind } from './command.js';
import type { LeaderState, NodeCore } from './state.js';
import { clientKey } from './state.js';
import type { ClientTag, Command, CommandResult, LogRecord } from './types.js';

/**
 * Returns the floor F a leader puts into Depends: every position below it is committed and applied here,
 * so it is chosen and every replica can apply it.
 */
export function dependFloor(core: NodeCore): number {
  return Math.min(core.log.applied.firstMissing(), core.log.committed.firstMissing());
}

/**
 * Builds the record a leader appends at `seq`. For each key k of N, P_k is the greatest earlier
 * lsn touching k or a barrier. Depends(N) = [0, F) plus, per key, Depends(P_k) when N and P_k are
 * single-key blind writes of the same key (the chain is inherited whole, never minus a floor), else
 * {P_k}. A barrier or a noop depends on every lower lsn. Overrides(N) = {N}, plus Overrides(P_k)
 * for a blind chain. Overrides also carries [0, F): Depends(N) already requires those positions to
 * be applied before N, so adding them to Applied changes nothing, and without that prefix a
 * far-from-zero set would cost one bit per lsn below it.
 */
export function buildRecord(core: NodeCore, lead: LeaderState, seq: number, command: Command, client?: ClientTag): LogRecord {
  const floor = Math.min(dependFloor(core), seq);
  if (core.bug('set-only-interference')) return buildRecordSetOnly(core, lead, seq, floor, command, client);

  const keys = commandKeys(command);
  if (keys === 'all' || command.kind === 'noop') {
    return makeRecord(lead, seq, command, client, TailBitmap.prefix(seq), TailBitmap.of(floor, seq));
  }

  const depends = TailBitmap.prefix(floor);
  const overrides = TailBitmap.of(floor, seq);
  for (const key of keys) {
    const predecessor = Math.max(lead.lastByKey.get(key) ?? -1, lead.lastBarrier);
    if (predecessor < floor) continue;
    const previous = core.log.get(predecessor);
    if (previous === undefined) {
      // The leader's log is complete above the floor; only a planted bug leaves a gap here.
      assert(!core.strict, `leader lacks its predecessor record ${predecessor} for key ${key}`);
      depends.add(predecessor);
      continue;
    }
    if (keys.size === 1 && chainsWith(command, previous.command, key)) {
      depends.unionInPlace(previous.depends);
      overrides.unionInPlace(previous.overrides);
    } else {
      depends.add(predecessor);
    }
  }
  return makeRecord(lead, seq, command, client, depends, overrides);
}

/** True when `next` and `previous` are blind writes of exactly the one key `key`. */
function chainsWith(next: Command, previous: Command, key: string): boolean {
  if (!isBlind(next) || !isBlind(previous)) return false;
  const previousKeys = commandKeys(previous);
  return previousKeys !== 'all' && previousKeys.size === 1 && previousKeys.has(key);
}

/**
 * Planted bug `set-only-interference`: the original rule, where only two puts on one key interfere.
 * Every other pair, config changes included, gets no ordering beyond the floor.
 */
function buildRecordSetOnly(core: NodeCore, lead: LeaderState, seq: number, floor: number, command: Command, client?: ClientTag): LogRecord {
  const depends = TailBitmap.prefix(floor);
  const overrides = TailBitmap.of(floor, seq);
  if (command.kind === 'put') {
    const predecessor = lead.lastPutByKey.get(command.key) ?? -1;
    const previous = predecessor >= floor ? core.log.get(predecessor) : undefined;
    if (previous !== undefined) overrides.unionInPlace(previous.overrides);
  }
  return makeRecord(lead, seq, command, client, depends, overrides);
}

function makeRecord(
  lead: LeaderState,
  seq: number,
  command: Command,
  client: ClientTag | undefined,
  depends: TailBitmap,
  overrides: TailBitmap,
): LogRecord {
  const record: LogRecord = { seq, author: lead.ballot, command, depends, overrides };
  if (client !== undefined) record.client = client;
  return record;
}

/** Updates the leader's per-key, barrier and client indexes with a record it now holds. */
export function indexRecord(lead: LeaderState, record: LogRecord): void {
  const keys = commandKeys(record.command);
  if (keys === 'all') {
    lead.lastBarrier = Math.max(lead.lastBarrier, record.seq);
  } else {
    for (const key of keys) {
      if ((lead.lastByKey.get(key) ?? -1) < record.seq) lead.lastByKey.set(key, record.seq);
    }
  }
  if (record.command.kind === 'put' && (lead.lastPutByKey.get(record.command.key) ?? -1) < record.seq) {
    lead.lastPutByKey.set(record.command.key, record.seq);
  }
  if (record.client !== undefined) lead.clientIndex.set(clientKey(record.client.clientId, record.client.seq), record.seq);
}

/** Rebuilds the leader's indexes from every record held, in lsn order. */
export function rebuildIndexes(core: NodeCore, lead: LeaderState): void {
  lead.lastByKey.clear();
  lead.lastPutByKey.clear();
  lead.clientIndex.clear();
  lead.lastBarrier = -1;
  const lsns = [...core.log.records.keys()].sort((a, b) => a - b);
  for (const lsn of lsns) indexRecord(lead, core.log.records.get(lsn) as LogRecord);
}

/** Applies every applicable committed record, lowest lsn first. */
export function runApplyLoop(core: NodeCore): void {
  if (!core.applyDirty) return;
  core.applyDirty = false;
  const log = core.log;
  const start = log.applied.firstMissing();
  const end = log.committed.len();
  for (const lsn of log.committed.positionsFrom(start)) {
    if (lsn >= end) break;
    if (log.applied.has(lsn)) continue;
    const record = log.get(lsn);
    if (record === undefined) continue;
    if (!record.depends.isSubsetOf(log.applied)) continue;
    applyRecord(core, record);
  }
}

function applyRecord(core: NodeCore, record: LogRecord): void {
  const log = core.log;
  assert(log.committed.has(record.seq), `record ${record.seq} applied before it is committed`);
  assert(!log.applied.has(record.seq), `record ${record.seq} applied twice`);
  assert(record.depends.isSubsetOf(log.applied), `record ${record.seq} applied before its Depends`);

  const result: CommandResult = core.kv.execute(record.command);
  if (record.client !== undefined) {
    core.dedup.record(record.client, result);
    if (record.client.ackedThrough !== undefined) core.dedup.gc(record.client.clientId, record.client.ackedThrough);
  }

  const skipped: number[] = [];
  for (const lsn of record.overrides.positionsFrom(log.applied.firstMissing())) {
    if (lsn > record.seq) break;
    if (lsn !== record.seq && !log.applied.has(lsn)) skipped.push(lsn);
  }
  log.applied.unionInPlace(record.overrides);
  assert(log.applied.has(record.seq), `Overrides(${record.seq}) does not contain the record itself`);
  core.appliedSinceCheckpoint += 1;
  core.stateVersion += 1;
  core.emit({ type: 'apply', seq: record.seq, command: record.command });

  const lead = core.lead;
  if (lead === null) return;
  completeApplied(core, lead, record.seq, result);
  // A skipped write is linearized just before its overrider, so its client gets ok.
  for (const lsn of skipped) completeApplied(core, lead, lsn, { kind: 'done' });
}

function completeApplied(core: NodeCore, lead: LeaderState, lsn: number, result: CommandResult): void {
  const waiting = lead.pending.get(lsn);
  if (waiting === undefined) return;
  lead.pending.delete(lsn);
  for (const request of waiting) core.complete(request.requestId, { status: 'ok', result, lsn });
}
