// Named scenarios for the review findings on dedup, commit counting, snapshots, capped vote
// replies and Depends across leader changes, each with an exact schedule. Every test checks the
// safe outcome with the safe core; where a planted bug matches, it also checks that the bug is
// reported.
import t from 'tap';
import { TailBitmap } from '../../server/core/bitmap.js';
import type { CoreUnsafeBug, LogRecord, Message } from '../../server/core/types.js';
import { Cluster, DEFAULT_CLUSTER, formatViolation } from '../../server/sim/cluster.js';
import { checkLinearizable } from '../../server/sim/history.js';
import { healAndConverge } from '../../server/sim/random-run.js';
import { Script, match, type MessageMatch } from '../../server/sim/script.js';

function among(...ids: number[]): MessageMatch {
  return (m) => ids.includes(m.from) && ids.includes(m.to);
}

function not(m: MessageMatch): MessageMatch {
  return (x) => !m(x);
}

/** Settles the messages that match and drops every other held message, repeatedly. */
function settleOnly(s: Script, m: MessageMatch, rounds = 40): void {
  for (let r = 0; r < rounds; r++) {
    s.drop(not(m));
    if (s.deliver(m) === 0 && s.held().length === 0) return;
  }
}

/** Campaigns at `id` while only messages among `ids` get through, ticking the candidate when idle. */
function electAmong(s: Script, id: number, ids: number[]): void {
  s.campaign(id);
  for (let r = 0; r < 30 && !s.isReadyLeader(id); r++) {
    settleOnly(s, among(...ids));
    if (!s.isReadyLeader(id)) s.tick(id);
  }
}

function withoutRecords(drop: (r: LogRecord) => boolean): (m: Message) => Message {
  return (m) => (m.type === 'log-forward' ? { ...m, records: m.records.filter((r) => !drop(r)) } : m);
}

function atLsn(lsn: number): (r: LogRecord) => boolean {
  return (r) => r.seq === lsn;
}

function lastLsn(s: Script, id: number): number {
  return (s.view(id)?.accepted.len() ?? 0) - 1;
}

function hashes(s: Script, ids: number[]): Set<string | undefined> {
  return new Set(ids.map((id) => s.view(id)?.stateHash));
}

function kvGet(s: Script, id: number, key: string): unknown {
  return s.cluster.nodes[id].node?.kvGet(key);
}

/**
 * F2: a client retries (A,1) while B's put lands between the two copies, and the copies sent to
 * node 2 are lost. The leader decides dedup before appending, so its log contains (A,1) once and
 * every replica ends with B's value.
 */
t.test('F2 retry deduplicated by leader', async (t) => {
  const s = new Script({ nodeCount: 3, seed: 41 });
  s.elect(0);
  s.propose(0, { kind: 'put', key: 'k', value: 'init' });
  s.settle();
  s.propose(0, { kind: 'cas', key: 'k', expected: 'init', value: 'q' });
  s.run(3);

  const tagA = { clientId: 'A', seq: 1 };
  const first = s.cluster.newRequestId();
  s.cluster.awaitRequest(first);
  s.cluster.drive(0, (node) => node.propose(first, { kind: 'put', key: 'k', value: 'a' }, tagA));
  const lsnX = lastLsn(s, 0);
  const lostToNode2 = s.take(match('log-forward', 0, 2));
  s.propose(0, { kind: 'put', key: 'k', value: 'b' }, 'B');
  const lsnY = lastLsn(s, 0);
  lostToNode2.push(...s.take(match('log-forward', 0, 2)));
  // The retry of (A,1) arrives after B's put.
  const retry = s.cluster.newRequestId();
  s.cluster.awaitRequest(retry);
  s.cluster.drive(0, (node) => node.propose(retry, { kind: 'put', key: 'k', value: 'a' }, tagA));

  const copies = [...(s.view(0)?.records.values() ?? [])].filter((r) => r.client?.clientId === 'A' && r.client.seq === 1);
  t.equal(copies.length, 1, 'the leader log holds (A,1) once');
  t.equal(lastLsn(s, 0), lsnY, 'the retry appended nothing');

  // Later forwards reach node 2 without X and Y; node 1 gets everything.
  for (let r = 0; r < 8; r++) {
    s.deliverEdited(() => true, (m) => (m.to === 2 ? withoutRecords((rec) => rec.seq === lsnX || rec.seq === lsnY)(m) : m));
    s.tick(0);
  }
  t.equal(s.outcome(first)?.status, 'ok', 'the first attempt is acked');
  t.equal(s.outcome(retry)?.status, 'ok', 'the retry is acked');
  for (const m of lostToNode2) s.replay(m);
  s.run(15);

  for (const id of [0, 1, 2]) t.equal(kvGet(s, id, 'k'), 'b', `node ${id} ends with B's put`);
  t.equal(hashes(s, [0, 1, 2]).size, 1, 'replicas converge');
  t.same(s.violations, []);
});

/**
 * F3: a voter's Accepted from before its Committer switch must not count toward commit. R3 holds
 * W@1 from the old leader, grants 3.2 and drops W at its switch; the leader's Z@1 never reaches
 * R3. With only R2 and R4 holding Z, Z must stay unacked, and the later leader's V@1 is safe.
 */
function f3(unsafe?: CoreUnsafeBug): { s: Script; z: number; lsnW: number; lsnZ: number; r3HeldWBefore: boolean } {
  const s = new Script({ nodeCount: 5, seed: 43, unsafe });
  s.elect(0);
  s.propose(0, { kind: 'put', key: 'a', value: 'A' });
  s.run(3);
  s.propose(0, { kind: 'put', key: 'w', value: 'W' });
  const lsnW = lastLsn(s, 0);
  s.deliver(match('log-forward', 0, 3));
  s.drop(() => true);
  s.crash(0);

  electAmong(s, 1, [1, 2, 4]);
  s.crash(1);
  s.drop(() => true);
  const r3HeldWBefore = s.view(3)?.records.get(lsnW)?.command.kind === 'put';

  // R2 campaigns; R3 (old Committer, longer log) and R4 grant.
  electAmong(s, 2, [2, 3, 4]);
  const z = s.propose(2, { kind: 'put', key: 'z', value: 'Z' });
  const lsnZ = lastLsn(s, 2);
  for (let r = 0; r < 10; r++) {
    s.drop(not(among(2, 3, 4)));
    s.deliverEdited(among(2, 3, 4), (m) => (m.to === 3 ? withoutRecords(atLsn(lsnZ))(m) : m));
    s.tick(2);
  }
  s.crash(2);
  s.crash(4);
  s.drop(() => true);
  s.restart(0);
  s.restart(1);
  electAmong(s, 3, [0, 1, 3]);
  s.propose(3, { kind: 'put', key: 'v', value: 'V' });
  s.run(10);
  return { s, z, lsnW, lsnZ, r3HeldWBefore };
}

t.test('F3 stale elect progress not counted', async (t) => {
  const { s, z, lsnW, lsnZ, r3HeldWBefore } = f3();
  t.ok(r3HeldWBefore, 'R3 held W when it granted');
  t.equal(lsnZ, lsnW, 'Z took the slot W had on R3');
  t.ok(s.isReadyLeader(3), 'R3 leads the second quorum');
  t.not(s.outcome(z)?.status, 'ok', 'Z held by two of five replicas is not acked');
  t.same(s.violations, []);
  const buggy = f3('commit-on-minority').s;
  t.ok(buggy.violations.length > 0, 'commit-on-minority acks Z and loses it');
  t.match(buggy.violations.join('\n'), /I-chosen-unique|I-completeness|I-durability/);
});

/**
 * F5: P@p reaches only the leader and R3, and N (a put on the same key, overriding p) commits
 * through R0, R1, R2. R3 installs a snapshot from R0 whose Applied covers p. After R0 crashes the
 * next leader writes a noop at p; R3 must take the noop and never count its P@p as committed.
 */
interface F5Run {
  s: Script;
  lsnP: number;
  /** R3 right after the install, before R0 crashes. */
  r3Floor: number;
  r3HeldP: boolean;
  r3AppliedP: boolean;
}

function f5(unsafe?: CoreUnsafeBug): F5Run {
  const s = new Script({ nodeCount: 5, seed: 45, unsafe, checkpointEveryApplied: 2 });
  s.elect(0);
  s.propose(0, { kind: 'put', key: 'm', value: 1 });
  // R3 misses m, so it needs a snapshot once R0 purges m.
  const lsnM = lastLsn(s, 0);
  for (let r = 0; r < 4; r++) {
    s.deliverEdited(() => true, (m) => (m.to === 3 ? withoutRecords(atLsn(lsnM))(m) : m));
    s.tick(0);
  }

  s.propose(0, { kind: 'put', key: 'j', value: 'U' });
  const lsnU = lastLsn(s, 0);
  s.drop(() => true); // U stays uncommitted, so the purge floor stops below it
  s.propose(0, { kind: 'put', key: 'k', value: 1 });
  const lsnP = lastLsn(s, 0);
  s.deliver(match('log-forward', 0, 3));
  s.drop(() => true);
  s.propose(0, { kind: 'put', key: 'k', value: 2 });
  const lsnN = lastLsn(s, 0);

  const keepOut = (rec: LogRecord): boolean => rec.seq === lsnU || rec.seq === lsnP;
  for (let r = 0; r < 6; r++) {
    s.drop((m) => m.type === 'log-forward' && (m.to === 3 || m.to === 4));
    s.deliverEdited(() => true, withoutRecords(keepOut));
    s.tick(0);
  }

  // The leader sends R3 a snapshot: R3 lacks m below the purge floor.
  for (let r = 0; r < 25 && s.held(match('install-snapshot', 0, 3)).length === 0; r++) {
    s.tick(0);
    s.deliverEdited(among(0, 3), withoutRecords(keepOut));
    s.drop(not(among(0, 3)));
  }
  s.deliver(match('install-snapshot', 0, 3));
  const r3 = s.view(3);
  const r3Floor = r3?.floor ?? -1;
  const r3HeldP = r3?.records.get(lsnP)?.command.kind === 'put';
  const r3AppliedP = r3?.applied.has(lsnP) ?? false;

  s.drop(() => true);
  s.crash(0);
  electAmong(s, 1, [1, 2, 4]);
  s.run(20);
  return { s, lsnP, r3Floor, r3HeldP, r3AppliedP };
}

t.test('F5 snapshot coverage is not content', async (t) => {
  const { s, lsnP, r3Floor, r3HeldP, r3AppliedP } = f5();
  t.ok(r3Floor > 0, `R3 installed a snapshot with floor ${r3Floor}`);
  t.ok(r3HeldP, 'R3 still holds P after the install');
  t.ok(r3AppliedP, 'the installed Applied covers p through N');
  const leader = [1, 2, 3, 4].find((id) => s.isReadyLeader(id));
  t.not(leader, undefined, 'a leader emerges');
  const atP = [1, 2, 3, 4].map((id) => s.view(id)?.records.get(lsnP)?.command.kind ?? 'purged');
  t.comment(`contents at p=${lsnP}: ${atP.join(', ')}`);
  t.notOk(atP.includes('put'), 'no replica keeps P at the slot the new leader filled');
  t.equal(hashes(s, [1, 2, 3, 4]).size, 1, 'replicas converge');
  for (const id of [1, 2, 3, 4]) t.equal(kvGet(s, id, 'k'), 2, `node ${id} has N's value`);
  t.same(s.violations, []);
  const buggy = f5('coverage-counts-as-accepted').s;
  t.ok(buggy.violations.length > 0, 'coverage-counts-as-accepted is reported');
});

/**
 * F6: an InstallSnapshot from a deposed leader arrives late at a follower that has moved on under
 * a newer leader. Its Applied is edited to be incomparable with the follower's (it claims a high
 * lsn the follower has not applied). The follower must ignore it.
 */
t.test('F6 late snapshot from deposed leader', async (t) => {
  const s = new Script({ nodeCount: 3, seed: 46, checkpointEveryApplied: 3 });
  s.elect(0);
  s.crash(2);
  for (let i = 0; i < 8; i++) {
    s.propose(0, { kind: 'put', key: `k${i % 2}`, value: i });
    s.settle();
  }
  s.restart(2);
  for (let r = 0; r < 25 && s.held(match('install-snapshot', 0, 2)).length === 0; r++) {
    s.tick(0);
    s.deliver(not(match('install-snapshot')));
  }
  const late = s.take(match('install-snapshot', 0, 2));
  t.equal(late.length, 1, 'R0 sent R2 a snapshot');
  s.drop(() => true);

  // R1 takes over with R2; R2 catches up under the new leader.
  s.crash(0);
  s.elect(1, among(1, 2));
  for (let i = 0; i < 6; i++) {
    s.propose(1, { kind: 'append', key: 'l', value: i });
    s.settle(among(1, 2));
  }
  s.run(5, among(1, 2));
  const before = s.view(2);
  t.ok(before !== null && before.applied.len() > 10, 'R2 applied the new records');

  const snapshot = late[0];
  if (snapshot?.type !== 'install-snapshot' || before === null) return;
  const incomparable = snapshot.snapshot.applied.union(TailBitmap.of(0, before.applied.len() + 5));
  t.notOk(incomparable.isSubsetOf(before.applied), 'the late Applied is not a subset of R2 Applied');
  t.notOk(before.applied.isSubsetOf(incomparable), 'R2 Applied is not a subset of the late Applied');
  s.replay({ ...snapshot, snapshot: { ...snapshot.snapshot, applied: incomparable } });
  s.settle(among(1, 2));
  const after = s.view(2);
  t.equal(after?.stateHash, before.stateHash, 'R2 state is unchanged');
  t.ok(after?.applied.equals(before.applied), 'R2 Applied is unchanged');
  t.same(kvGet(s, 2, 'l'), [0, 1, 2, 3, 4, 5], 'R2 keeps the new appends');
  t.same(s.violations, []);
});

/**
 * F7: a grant that leaves a record out because of a size cap must list it in `omitted`, and the
 * candidate fetches it before filling holes. The core sends every record today, so the cap is
 * simulated by editing the ElectReply. A reply that drops the record without listing it makes the
 * new leader write a noop over a chosen record, which the oracle reports.
 */
function f7(listOmitted: boolean): { s: Script; lsnX: number } {
  const s = new Script({ nodeCount: 3, seed: 47 });
  s.elect(0);
  s.propose(0, { kind: 'put', key: 'x', value: 'X' });
  const lsnX = lastLsn(s, 0);
  s.drop(match('log-forward', 0, 1));
  s.settle(among(0, 2));
  // R1 gets a later record, so its log is as long as R2's and R2 grants.
  s.propose(0, { kind: 'put', key: 'y', value: 'Y' });
  s.deliverEdited(match('log-forward', 0, 1), withoutRecords(atLsn(lsnX)));
  s.settle(among(0, 2));
  s.crash(0);
  s.drop(() => true);
  s.campaign(1);
  s.deliver(match('elect', 1, 2));
  s.deliverEdited(match('elect-reply', 2, 1), (m) => {
    if (m.type !== 'elect-reply') return m;
    const omitted = listOmitted ? TailBitmap.fromPositions(m.records.map((r) => r.seq)) : TailBitmap.empty();
    return { ...m, records: [], omitted };
  });
  settleOnly(s, among(1, 2));
  return { s, lsnX };
}

t.test('F7 capped elect reply fetched', async (t) => {
  const { s, lsnX } = f7(true);
  t.ok(s.isReadyLeader(1), 'R1 leads');
  t.equal(s.view(1)?.records.get(lsnX)?.command.kind, 'put', 'R1 fetched X instead of writing a noop');
  t.same(s.violations, []);
  const unlisted = f7(false).s;
  t.ok(unlisted.violations.length > 0, 'an unlisted omission is reported');
  t.match(unlisted.violations.join('\n'), /I-completeness|I-chosen-unique|lists committed positions the merge/);
});

/**
 * F8(a): R0 (floor high) writes Q = incr(k) and later P = put(k); P's Depends is just R0's floor.
 * R1 wins with a complete log but without having learned the commits, so it has not applied Q.
 * Its N = put(k) chains with P and must still depend on Q.
 * NOTE: a leader proposes only once ready, when all of B_c is committed and applied, so N's own
 * floor already covers Q here. The schedule checks the outcome; it cannot make N's floor lower
 * than P's, so whole-chain inheritance is exercised only by a mutated core.
 */
t.test('F8a depends keeps predecessor below floor', async (t) => {
  const s = new Script({ nodeCount: 3, seed: 48 });
  s.elect(0);
  s.propose(0, { kind: 'put', key: 'k', value: 1 });
  s.settle();
  const lsnQ = lastLsn(s, 0);
  s.propose(0, { kind: 'incr', key: 'k', delta: 1 });
  // R1 gets every record but never learns a commit past this point.
  const noCommits = (m: Message): Message => (m.type === 'log-forward' && m.to === 1 ? { ...m, committed: TailBitmap.empty() } : m);
  const lsnIncr = lastLsn(s, 0);
  for (let i = 0; i < 5; i++) {
    s.propose(0, { kind: 'put', key: `o${i}`, value: i });
    for (let r = 0; r < 4; r++) s.deliverEdited(() => true, noCommits);
  }
  s.propose(0, { kind: 'put', key: 'k', value: 5 });
  for (let r = 0; r < 4; r++) s.deliverEdited(() => true, noCommits);
  const lsnP = lastLsn(s, 0);
  const p = s.view(0)?.records.get(lsnP);
  t.ok(p !== undefined && p.depends.firstMissing() > lsnIncr, `P's floor ${p?.depends.firstMissing()} is above Q at ${lsnIncr}`);
  t.ok((s.view(1)?.applied.firstMissing() ?? 0) <= lsnIncr, 'R1 has not applied Q');
  t.comment(`first put at ${lsnQ}`);

  s.crash(0);
  s.drop(() => true);
  s.elect(1, among(1, 2));
  s.propose(1, { kind: 'put', key: 'k', value: 7 });
  const n = s.view(1)?.records.get(lastLsn(s, 1));
  t.ok(n?.depends.has(lsnIncr), `N depends on Q (${n?.depends.toString()})`);
  s.restart(0);
  s.run(15);
  for (const id of [0, 1, 2]) t.equal(kvGet(s, id, 'k'), 7, `node ${id} ends with k = 7`);
  t.same(s.violations, []);
});

/**
 * F8(b): C0, C1, C2 are CASes on k; C1 is lost and the next leader writes a noop in its slot.
 * C2 must still run after C0, so it sees C0's output.
 */
t.test('F8b noop hole keeps cas chain', async (t) => {
  const s = new Script({ nodeCount: 3, seed: 49 });
  s.elect(0);
  s.propose(0, { kind: 'put', key: 'k', value: 0 });
  s.settle();
  s.propose(0, { kind: 'cas', key: 'k', expected: 0, value: 1 });
  const lsn0 = lastLsn(s, 0);
  s.propose(0, { kind: 'cas', key: 'k', expected: 1, value: 2 });
  const lsn1 = lastLsn(s, 0);
  s.propose(0, { kind: 'cas', key: 'k', expected: 1, value: 3 });
  const lsn2 = lastLsn(s, 0);
  // C1 reaches nobody, C0 and C2 reach R1 but not their commits.
  s.deliverEdited(match('log-forward', 0, 1), (m) => (m.type === 'log-forward' ? { ...withoutRecords(atLsn(lsn1))(m), committed: TailBitmap.empty() } as Message : m));
  s.drop(() => true);
  t.notOk(s.view(1)?.applied.has(lsn0), 'R1 has not applied C0');
  s.crash(0);
  s.elect(1, among(1, 2));
  const noop = s.view(1)?.records.get(lsn1);
  t.equal(noop?.command.kind, 'noop', 'the new leader fills C1 with a noop');
  t.ok(noop?.depends.equals(TailBitmap.prefix(lsn1)), `the noop depends on every lower lsn (${noop?.depends.toString()})`);
  t.ok(s.view(1)?.applied.has(lsn2), 'C2 is applied');
  s.restart(0);
  s.run(15);
  for (const id of [0, 1, 2]) t.equal(kvGet(s, id, 'k'), 3, `node ${id}: C2 ran on C0's output`);
  t.same(s.violations, []);
});

/**
 * A leader crashes right after its merge, before any noop or base sync leaves it; another quorum
 * then elects. A is chosen on R0, R1, R2; B sits only on the crashed R0 (a hole for R3's merge),
 * and C only on R0 and R3. R3's noop over B and its copy of C were never chosen, so R2's quorum
 * may ignore them, but A must survive everywhere.
 */
function crashAfterMerge(unsafe?: CoreUnsafeBug): { s: Script; lsnA: number; lsnB: number } {
  const s = new Script({ nodeCount: 5, seed: 50, unsafe });
  s.elect(0);
  s.propose(0, { kind: 'put', key: 'a', value: 'A' });
  const lsnA = lastLsn(s, 0);
  settleOnly(s, among(0, 1, 2));
  s.propose(0, { kind: 'put', key: 'b', value: 'B' });
  const lsnB = lastLsn(s, 0);
  s.drop(() => true);
  s.propose(0, { kind: 'put', key: 'c', value: 'C' });
  s.deliverEdited(match('log-forward', 0, 3), withoutRecords((r) => r.seq < lsnB + 1 && r.seq >= lsnA));
  s.drop(() => true);
  s.crash(0);

  // R3 wins with R1 and R4, merges, writes its switch batch, and crashes before sending anything.
  s.campaign(3);
  s.deliver(match('elect', 3, 1));
  s.deliver(match('elect', 3, 4));
  s.deliver(match('elect-reply'));
  s.drop(() => true);
  s.crash(3);

  electAmong(s, 2, [1, 2, 4]);
  s.restart(0);
  s.restart(3);
  s.run(30);
  return { s, lsnA, lsnB };
}

t.test('leader crash after merge', async (t) => {
  const { s, lsnA, lsnB } = crashAfterMerge();
  t.comment(`A at ${lsnA}, B at ${lsnB}`);
  const leader = [0, 1, 2, 3, 4].find((id) => s.isReadyLeader(id));
  t.not(leader, undefined, 'a leader emerges');
  for (const id of [0, 1, 2, 3, 4]) t.equal(kvGet(s, id, 'a'), 'A', `node ${id} applied A`);
  t.equal(hashes(s, [0, 1, 2, 3, 4]).size, 1, 'replicas converge');
  t.same(s.violations, []);
  // R1 lacks nothing R3 needs below its own Accepted offset except A, so a voter that scans from
  // its own offset hides A from R3's merge and R3's noop lands on A.
  const buggy = crashAfterMerge('voter-scan-own-offset').s;
  t.match(buggy.violations.join('\n'), /I-completeness|I-chosen-unique/, 'voter-scan-own-offset is reported');
});

/**
 * A snapshot races LogForwards: R2 restarts behind the purge floor, the leader's snapshot is held
 * back while newer LogForwards reach R2, then it arrives late and twice.
 */
t.test('snapshot racing log forward', async (t) => {
  const s = new Script({ nodeCount: 3, seed: 51, checkpointEveryApplied: 4 });
  s.elect(0);
  s.crash(2);
  for (let i = 0; i < 12; i++) {
    s.propose(0, { kind: 'append', key: 'l', value: i });
    s.settle();
  }
  s.restart(2);
  for (let r = 0; r < 25 && s.held(match('install-snapshot', 0, 2)).length === 0; r++) {
    s.tick(0);
    s.deliver(not(match('install-snapshot')));
  }
  const snapshots = s.take(match('install-snapshot', 0, 2));
  t.equal(snapshots.length, 1, 'the leader sent a snapshot');
  for (let i = 12; i < 18; i++) {
    s.propose(0, { kind: 'append', key: 'l', value: i });
    s.settle();
  }
  for (const m of snapshots) s.replay(m);
  s.settle();
  for (const m of snapshots) s.replay(m);
  s.run(40);
  const expected = [...Array(18).keys()];
  for (const id of [0, 1, 2]) t.same(kvGet(s, id, 'l'), expected, `node ${id} applied every append once`);
  t.equal(hashes(s, [0, 1, 2]).size, 1, 'replicas converge');
  t.same(s.violations, []);
});

/**
 * A candidate lacks early records that its voter has purged: R2 misses the first records but gets
 * the later ones, so its log is as long as R1's. R1 grants and lists the purged positions as
 * snapshot-only; R2 must fetch the snapshot before it leads.
 */
t.test('candidate fetches purged positions', async (t) => {
  const s = new Script({ nodeCount: 3, seed: 52, checkpointEveryApplied: 3 });
  s.elect(0);
  const early: number[] = [];
  for (let i = 0; i < 6; i++) {
    s.propose(0, { kind: 'put', key: `e${i}`, value: i });
    early.push(lastLsn(s, 0));
  }
  for (let i = 0; i < 6; i++) s.propose(0, { kind: 'put', key: `late${i}`, value: i });
  for (let r = 0; r < 8; r++) {
    // R2 never gets the early records, nor a snapshot from the leader.
    s.drop(match('install-snapshot', 0, 2));
    s.deliverEdited(() => true, (m) => (m.to === 2 ? withoutRecords((rec) => early.includes(rec.seq))(m) : m));
    s.tick(0);
  }
  t.ok((s.view(1)?.floor ?? 0) > (early[0] ?? 0), `R1 purged early positions (floor ${s.view(1)?.floor})`);
  t.notOk(s.view(2)?.records.has(early[0] ?? -1), 'R2 lacks the early records');
  s.crash(0);
  s.drop(() => true);
  s.elect(2, among(1, 2));
  t.ok(s.trace().some((line) => line.includes('fetch-snapshot-reply')), 'R2 fetched a snapshot during its election');
  for (let i = 0; i < 6; i++) t.equal(kvGet(s, 2, `e${i}`), i, `R2 applied e${i}`);
  t.equal(hashes(s, [1, 2]).size, 1, 'R1 and R2 converge');
  t.same(s.violations, []);
});

/**
 * Clock skew with ReadIndex reads: the leader's clock runs at 0.9, R1's clock jumps forward so it
 * campaigns while cut off from R0, and R2's clock jumps back. The deposed R0 still believes it
 * leads; a read there must not return the value the new leader has overwritten.
 */
function skewedRead(unsafe?: CoreUnsafeBug): { s: Script; staleRead: number; write: number } {
  const s = new Script({ nodeCount: 3, seed: 53, unsafe });
  s.elect(0);
  s.propose(0, { kind: 'put', key: 'k', value: 1 });
  s.run(3);
  // Rate 0.9: R0 misses every tenth tick. R2's clock jumped back, so it does not tick at all.
  for (let round = 0; round < 10; round++) {
    if (round !== 9) s.tick(0);
    s.tick(1);
    s.settle();
  }
  // R1 jumps forward by an election timeout and more, while R0's links are cut.
  s.tick(1, 25);
  for (let r = 0; r < 30 && !s.isReadyLeader(1); r++) {
    s.drop(not(among(1, 2)));
    if (s.deliver(among(1, 2)) === 0) s.tick(1);
  }
  const write = s.propose(1, { kind: 'put', key: 'k', value: 2 });
  settleOnly(s, among(1, 2));
  const staleRead = s.read(0, 'k');
  for (let r = 0; r < 5; r++) {
    s.drop(not(among(1, 2)));
    s.tick(0);
  }
  return { s, staleRead, write };
}

t.test('clock skew with ReadIndex', async (t) => {
  const { s, staleRead, write } = skewedRead();
  t.ok(s.isReadyLeader(1), 'R1 leads after its clock jump');
  t.equal(s.outcome(write)?.status, 'ok', 'the new leader acked k = 2');
  const outcome = s.outcome(staleRead);
  t.notOk(outcome?.status === 'ok', `the deposed leader does not serve the read (${JSON.stringify(outcome)})`);
  s.run(20);
  t.equal(readOk(s, [0, 1, 2], 'k'), 2, 'a read after healing returns 2');
  t.same(s.violations, []);

  const buggy = skewedRead('stale-read');
  const buggyOutcome = buggy.s.outcome(buggy.staleRead);
  t.same(buggyOutcome?.status === 'ok' ? buggyOutcome.result : buggyOutcome, { kind: 'value', value: 1 }, 'stale-read returns the overwritten value');
});

function readOk(s: Script, ids: number[], key: string): unknown {
  const leader = ids.find((id) => s.isReadyLeader(id));
  if (leader === undefined) return 'no leader';
  const request = s.read(leader, key);
  s.run(5);
  const outcome = s.outcome(request);
  return outcome?.status === 'ok' && outcome.result.kind === 'value' ? outcome.result.value : JSON.stringify(outcome);
}

function isolateLeader(cluster: Cluster): void {
  const ids = cluster.nodes.map((n) => n.id);
  const leader = ids.find((id) => cluster.view(id)?.role === 'leader');
  if (leader === undefined) return;
  cluster.network.partition([[leader], ids.filter((id) => id !== leader)]);
  cluster.setClockRate(leader, 0.5);
}

/**
 * The random workload under explicit clock faults: forward and backward jumps on followers and a
 * leader clock at rate 0.9, an isolated leader at 0.5, then heal. Every client op goes through
 * ReadIndex or the log, so the history must be linearizable.
 * NOTE: the isolated leader steps down before its successor is elected, so this run does not
 * catch the planted stale-read bug. The scripted skew test above does.
 */
t.test('clock drift run stays linearizable', async (t) => {
  for (const seed of [61, 62]) {
    const cluster = new Cluster({ ...DEFAULT_CLUSTER, seed, nodeCount: 3 });
    const schedule: { atMs: number; act: () => void }[] = [
      { atMs: 300, act: () => cluster.setClockRate(0, 0.9) },
      { atMs: 600, act: () => cluster.jumpClock(1, 400) },
      { atMs: 900, act: () => cluster.jumpClock(2, -400) },
      // The leader is cut off and its clock slows to half speed while the others elect.
      { atMs: 1000, act: () => isolateLeader(cluster) },
      { atMs: 1200, act: () => cluster.jumpClock(0, 1000) },
      { atMs: 1500, act: () => cluster.setClockRate(1, 0.9) },
      { atMs: 1700, act: () => cluster.network.heal() },
      { atMs: 1800, act: () => cluster.jumpClock(1, -100) },
    ];
    for (const { atMs, act } of schedule) {
      while (cluster.nowMs < atMs && cluster.runNext(atMs)) {
        // Runs events up to the next clock fault.
      }
      cluster.nowMs = Math.max(cluster.nowMs, atMs);
      act();
    }
    while (cluster.runNext(2500)) {
      // Runs the rest of the faulty phase.
    }
    healAndConverge(cluster, 20_000);
    cluster.closeHistory();
    const okOps = cluster.history.filter((op) => op.status === 'ok').length;
    t.ok(okOps > 20, `seed ${seed}: clients completed ${okOps} ops`);
    const verdict = checkLinearizable(cluster.history);
    t.equal(verdict.valid, true, `seed ${seed}: history linearizable ${verdict.failures.join('; ')}`);
    t.same(cluster.violations.map(formatViolation), [], `seed ${seed}: no violation`);
  }
});

/**
 * A long run on one hot key: blind puts chain through Overrides, every 50th op is a CAS that
 * breaks the chain, and some forwards to R2 are lost and re-sent. Once the floor advances,
 * bitmaps stay a few words and the part of an Overrides chain above the floor stays short.
 */
t.test('hot key bitmaps stay bounded', async (t) => {
  const s = new Script({ nodeCount: 3, seed: 54, checkpointEveryApplied: 25 });
  s.elect(0);
  let wordsMax = 0;
  let chainMax = 0;
  let sample = '';
  const measure = (): void => {
    for (const id of [0, 1, 2]) {
      const view = s.view(id);
      if (view === null) continue;
      for (const bitmap of [view.accepted, view.committed, view.applied]) wordsMax = Math.max(wordsMax, bitmap.toProto().words.length);
      for (const record of view.records.values()) {
        const words = Math.max(record.overrides.toProto().words.length, record.depends.toProto().words.length);
        // The chain is the part of Overrides above the record's floor, the prefix of Depends.
        const chain = record.overrides.count() - Math.min(record.depends.firstMissing(), record.seq);
        if (chain > chainMax) sample = `n${id} lsn ${record.seq} overrides ${record.overrides.toString()}`;
        wordsMax = Math.max(wordsMax, words);
        chainMax = Math.max(chainMax, chain);
      }
    }
  };
  const ops = 1500;
  let held = -1;
  for (let i = 0; i < ops; i++) {
    if (i % 50 === 49) s.propose(0, { kind: 'cas', key: 'hot', expected: i - 1, value: i });
    else s.propose(0, { kind: 'put', key: 'hot', value: i });
    // Every 100 ops one put stays uncommitted for 40 ops, so the floor stops below it and the
    // later puts chain through Overrides until it commits.
    if (i % 100 === 10) held = lastLsn(s, 0);
    if (i % 100 === 50) held = -1;
    if (i % 7 === 3) s.drop(match('log-forward', 0, 2));
    for (let r = 0; r < 5; r++) {
      if (s.deliverEdited(() => true, withoutRecords(atLsn(held))) === 0) break;
    }
    if (i % 10 === 0) s.tick(0, 3);
    if (i % 20 === 0) measure();
  }
  s.run(10);
  measure();
  t.comment(`max words ${wordsMax}, max chain above floor ${chainMax} (${sample})`);
  t.ok(wordsMax <= 4, `bitmaps stay within 4 words (max ${wordsMax})`);
  t.ok(chainMax >= 20, `the schedule built Overrides chains (max ${chainMax})`);
  t.ok(chainMax <= 64, `Overrides chains above the floor stay short (max ${chainMax})`);
  t.ok((s.view(0)?.floor ?? 0) > ops / 2, `the purge floor advanced (${s.view(0)?.floor})`);
  t.ok((s.view(0)?.records.size ?? Infinity) < 200, `the log stays short (${s.view(0)?.records.size} records)`);
  t.equal(hashes(s, [0, 1, 2]).size, 1, 'replicas converge');
  t.same(s.violations, []);
});
