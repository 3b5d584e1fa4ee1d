// Named adversarial scenarios with exact schedules. Each one checks the safe outcome with the safe
// core, and that the matching planted bug makes the simulator report a violation.
import t from 'tap';
import assert from 'node:assert';
import type { CoreUnsafeBug, LogRecord, Message } from '../../server/core/types.js';
import { Script, match, type MessageMatch } from '../../server/sim/script.js';

/** Messages whose sender and receiver are both in `ids`. */
function among(...ids: number[]): MessageMatch {
  return (m) => ids.includes(m.from) && ids.includes(m.to);
}

function not(m: MessageMatch): MessageMatch {
  return (x) => !m(x);
}

function withoutRecords(drop: (r: LogRecord) => boolean): (m: Message) => Message {
  return (m) => {
    if (m.type === 'log-forward') return { ...m, records: m.records.filter((r) => !drop(r)) };
    return m;
  };
}

function isKey(key: string): (r: LogRecord) => boolean {
  return (r) => 'key' in r.command && r.command.key === key;
}

function lsnOfKey(s: Script, id: number, key: string): number {
  const view = s.view(id);
  if (view === null) throw new Error(`node ${id} is down`);
  for (const [lsn, record] of view.records) if (isKey(key)(record)) return lsn;
  throw new Error(`node ${id} holds no record for key ${key}`);
}

/** Settles the messages that match and drops every other held message, repeatedly. */
function settleOnly(s: Script, m: MessageMatch, rounds = 30): void {
  for (let r = 0; r < rounds; r++) {
    s.drop(not(m));
    if (s.deliver(m) === 0 && s.held().length === 0) return;
  }
}

/**
 * CE1: a LogForward from a deposed leader, delayed until the follower's vote for the newer leader
 * has gone quiet for an election timeout, must be rejected: a promise never expires.
 */
function ce1(unsafe?: CoreUnsafeBug): Script {
  const s = new Script({ nodeCount: 3, unsafe, seed: 3 });
  s.elect(0);
  s.propose(0, { kind: 'put', key: 'a', value: 1 });
  s.drop(match('log-forward', 0, 1));
  const slow = s.take(match('log-forward', 0, 2));

  // R1 wins 2.1 with R1 and R2 while R0 is cut off; R1 never got A.
  s.campaign(1);
  settleOnly(s, among(1, 2));
  // R2 hears nothing for an election timeout, then the slow copy of A arrives.
  s.tick(2, 10);
  s.drop(() => true);
  for (const m of slow) s.replay(m);
  settleOnly(s, among(0, 2));
  return s;
}

t.test('CE1 stale forward after vote expiry', async (t) => {
  const safe = ce1();
  t.same(safe.violations, [], 'the safe core rejects the stale LogForward');
  const view = safe.view(2);
  t.equal(view?.committer?.term, 2, 'R2 keeps Committer 2.1');
  const buggy = ce1('accept-expired-vote');
  t.ok(buggy.violations.length > 0, 'accept-expired-vote is reported');
  t.match(buggy.violations.join('\n'), /I-committer/);
});

/**
 * CE2: a new leader's base record A is lost on the way to the followers that switch to it, and a
 * later election uses only those followers. A, chosen earlier, must survive.
 */
function ce2(unsafe?: CoreUnsafeBug): { s: Script; lsnA: number } {
  const s = new Script({ nodeCount: 5, unsafe, seed: 5 });
  s.elect(0);
  s.propose(0, { kind: 'put', key: 'a', value: 1 });
  settleOnly(s, among(0, 1, 2));
  const lsnA = lsnOfKey(s, 2, 'a');
  s.crash(0);
  s.drop(() => true);

  // R2 wins 2.2 with R3 and R4; every LogForward it sends them lacks A.
  s.campaign(2);
  s.propose(2, { kind: 'put', key: 'b', value: 2 });
  for (let r = 0; r < 30; r++) {
    s.drop(not(among(2, 3, 4)));
    const n = s.deliverEdited(among(2, 3, 4), withoutRecords((rec) => rec.seq === lsnA));
    if (n === 0) break;
  }
  s.crash(2);
  s.drop(() => true);

  // R3 campaigns with R1 and R4.
  s.campaign(3);
  settleOnly(s, among(1, 3, 4));
  return { s, lsnA };
}

t.test('CE2 lost base record survives', async (t) => {
  const { s: safe, lsnA } = ce2();
  t.same(safe.violations, [], 'the safe core keeps A');
  // The three live nodes elect a leader among themselves, and that leader must store A.
  safe.run(60);
  const leader = [1, 3, 4].find((id) => safe.isReadyLeader(id));
  t.not(leader, undefined, 'the live majority elects a leader');
  if (leader !== undefined) {
    const record = safe.view(leader)?.records.get(lsnA);
    t.equal(record !== undefined && isKey('a')(record), true, `leader ${leader} holds A at lsn ${lsnA}`);
  }
  t.same(safe.violations, [], 'still no violation after the election');
  const { s: buggy } = ce2('skip-base-sync');
  t.ok(buggy.violations.length > 0, 'skip-base-sync is reported');
  t.match(buggy.violations.join('\n'), /I-base|I-chosen-unique|I-completeness/);
});

/**
 * CE3: the voter's Accepted prefix runs past a position the candidate lacks. The voter must still
 * return that position, or the new leader writes a noop over a chosen record.
 */
function ce3(unsafe?: CoreUnsafeBug): Script {
  const s = new Script({ nodeCount: 3, unsafe, seed: 7 });
  s.elect(0);
  for (let i = 0; i < 140; i++) {
    s.propose(0, { kind: 'put', key: i === 70 ? 'target' : `k${i}`, value: i });
    // R1 gets every record except the one for `target`; R2 gets everything.
    for (let r = 0; r < 5; r++) {
      const n = s.deliverEdited(() => true, (m) => (m.to === 1 ? withoutRecords(isKey('target'))(m) : m));
      if (n === 0) break;
    }
  }
  const view2 = s.view(2);
  const view1 = s.view(1);
  if (view2 === null || view1 === null) throw new Error('a node is down');
  const target = lsnOfKey(s, 2, 'target');
  // The schedule must really build the gap: R1 lacks the target below R2's Accepted prefix.
  assert(!view1.records.has(target), 'R1 must lack the target record');
  assert(view2.accepted.firstMissing() > target, 'R2 prefix must run past the target');
  assert(view1.accepted.len() >= view2.accepted.len(), 'R1 log must be at least as long as R2');
  s.crash(0);
  s.drop(() => true);
  s.campaign(1);
  settleOnly(s, among(1, 2));
  return s;
}

t.test('CE3 voter compacted past candidate gap', async (t) => {
  const safe = ce3();
  t.same(safe.violations, [], 'the safe core returns the gap position');
  t.ok(safe.isReadyLeader(1), 'R1 leads');
  const lsn = lsnOfKey(safe, 1, 'target');
  t.ok(lsn >= 0, 'R1 holds the target record after its election');
  const buggy = ce3('voter-scan-own-offset');
  t.ok(buggy.violations.length > 0, 'voter-scan-own-offset is reported');
  t.match(buggy.violations.join('\n'), /I-completeness|I-chosen-unique/);
});

/**
 * CE4: a client write reaching a node mid-campaign must be refused, and a candidate never sends
 * LogForward.
 */
function ce4(unsafe?: CoreUnsafeBug): { s: Script; request: number } {
  const s = new Script({ nodeCount: 3, unsafe, seed: 9 });
  s.elect(0);
  s.propose(0, { kind: 'put', key: 'a', value: 1 });
  s.drop(match('log-forward', 0, 2));
  s.deliver(match('log-forward', 0, 1));
  s.deliver(match('log-forward-reply', 1, 0));
  s.crash(0);
  s.drop(() => true);

  s.campaign(2);
  const request = s.propose(2, { kind: 'put', key: 'x', value: 9 });
  settleOnly(s, among(1, 2));
  return { s, request };
}

t.test('CE4 candidate refuses client writes', async (t) => {
  const { s: safe, request } = ce4();
  t.same(safe.violations, [], 'no violation with the safe core');
  const outcome = safe.outcome(request);
  t.ok(outcome !== undefined && outcome.status !== 'ok', `the candidate refuses the write (${JSON.stringify(outcome)})`);
  const { s: buggy } = ce4('candidate-serves');
  t.ok(buggy.violations.length > 0, 'candidate-serves is reported');
  t.match(buggy.violations.join('\n'), /I-chosen-unique|I-completeness/);
});

/**
 * F1: a multi-key txn must depend on the latest record of every key it touches. Wa@i misses node
 * 1 at first while Wb and the txn T reach it; every replica must still end with a = [x, t].
 */
function f1(unsafe?: CoreUnsafeBug): Script {
  const s = new Script({ nodeCount: 3, unsafe, seed: 13 });
  s.elect(0);
  s.propose(0, { kind: 'append', key: 'a', value: 'x' });
  s.take(match('log-forward', 0, 1)); // lost; the leader re-sends it later
  s.deliver(match('log-forward', 0, 2));
  s.propose(0, { kind: 'append', key: 'b', value: 'y' });
  s.propose(0, { kind: 'txn', ops: [{ f: 'append', key: 'a', value: 't' }, { f: 'append', key: 'b', value: 'z' }] });
  // Node 1 gets Wb and T first, without Wa, while node 2 already stores Wa.
  // Heartbeats tell node 1 that Wb and T committed while Wa is still missing there.
  for (let r = 0; r < 10; r++) {
    s.deliverEdited(() => true, (m) => (m.to === 1 ? withoutRecords(isKey('a'))(m) : m));
    s.tick(0);
  }
  s.run(20);
  return s;
}

t.test('F1 txn depends on every key', async (t) => {
  const safe = f1();
  t.same(safe.violations, [], 'no violation with the safe core');
  for (const id of [0, 1, 2]) t.same(safe.cluster.nodes[id].node?.kvGet('a'), ['x', 't'], `node ${id} applied a in lsn order`);
  const hashes = [0, 1, 2].map((id) => safe.view(id)?.stateHash);
  t.equal(new Set(hashes).size, 1, 'every replica has the same state');
  const buggy = f1('set-only-interference');
  const diverged = new Set([0, 1, 2].map((id) => JSON.stringify(buggy.cluster.nodes[id].node?.kvGet('a')))).size > 1;
  t.ok(buggy.violations.length > 0 || diverged, `set-only-interference is detected (${buggy.violations[0] ?? 'replicas diverged'})`);
});
