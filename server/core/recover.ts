// Rebuilds a node's durable state by replaying the persisted ops in order: the last checkpoint
// resets everything, later ops add records, switch the Committer and raise the committed hint.
// Pure: no I/O; the storage layer reads the ops and passes them in.
import { TailBitmap } from './bitmap.js';
import { ZERO_BALLOT } from './ballot.js';
import { assertNever } from './command.js';
import type { HardState, LogRecord, PersistOp, RestoredState, Snapshot } from './types.js';

export function recover(ops: readonly PersistOp[]): RestoredState {
  let hardState: HardState = { votedFor: ZERO_BALLOT, committer: null };
  let snapshot: Snapshot | null = null;
  let floor = 0;
  const records = new Map<number, LogRecord>();
  let committed = TailBitmap.empty();

  for (const op of ops) {
    switch (op.type) {
      case 'hard-state':
        hardState = op.hardState;
        break;
      case 'records':
        for (const record of op.records) {
          if (record.seq >= floor) records.set(record.seq, record);
        }
        break;
      case 'switch':
        for (const lsn of [...records.keys()]) {
          if (!op.keep.has(lsn)) records.delete(lsn);
        }
        for (const record of op.records) {
          if (record.seq >= floor) records.set(record.seq, record);
        }
        hardState = { votedFor: hardState.votedFor, committer: op.committer };
        break;
      case 'committed':
        committed.unionInPlace(op.committed);
        break;
      case 'checkpoint':
        hardState = op.hardState;
        snapshot = op.snapshot;
        floor = op.snapshot.floor;
        records.clear();
        for (const record of op.snapshot.records) records.set(record.seq, record);
        committed = op.snapshot.committed.clone();
        break;
      default:
        assertNever(op);
    }
  }

  const held = TailBitmap.prefix(floor);
  for (const lsn of records.keys()) held.add(lsn);
  return {
    hardState,
    snapshot,
    records: [...records.values()].sort((a, b) => a.seq - b.seq),
    committed: committed.intersection(held),
  };
}
