// More named scenarios with exact schedules: competing candidates, crash points, duplicated and
// reordered RPCs, minority leaders, membership changes, snapshots and client retries.
import t from 'tap';
import { majorityConfig } from '../../server/core/quorum.js';
import type { Message } from '../../server/core/types.js';
import { Script, match, type MessageMatch } from '../../server/sim/script.js';

function among(...ids: number[]): MessageMatch {
  return (m) => ids.includes(m.from) && ids.includes(m.to);
}

function leaders(s: Script, ids: number[]): number[] {
  return ids.filter((id) => s.isReadyLeader(id));
}

function keyLsn(s: Script, id: number, key: string): number | undefined {
  for (const [lsn, record] of s.view(id)?.records ?? []) if ('key' in record.command && record.command.key === key) return lsn;
  return undefined;
}

t.test('simultaneous campaigns keep chosen record', async (t) => {
  const s = new Script({ nodeCount: 5, seed: 21 });
  s.elect(0);
  const put = s.propose(0, { kind: 'put', key: 'a', value: 1 });
  s.settle();
  t.equal(s.outcome(put)?.status, 'ok');
  const lsn = keyLsn(s, 0, 'a');
  // Every node campaigns in the same step; some ballots share a term with different ids.
  for (const id of [0, 1, 2, 3, 4]) s.campaign(id);
  s.run(40);
  const ready = leaders(s, [0, 1, 2, 3, 4]);
  t.equal(ready.length, 1, `exactly one ready leader (${ready.join(',')})`);
  const leader = ready[0];
  t.not(leader, undefined);
  if (leader !== undefined && lsn !== undefined) t.equal(s.view(leader)?.records.get(lsn)?.command.kind, 'put', 'the new leader holds the acked write');
  t.same(s.violations, []);
});

t.test('stale elect replies ignored', async (t) => {
  const s = new Script({ nodeCount: 3, seed: 22 });
  s.campaign(1);
  const oldReplies: Message[] = [];
  s.deliver(match('elect'));
  oldReplies.push(...s.take(match('elect-reply')));
  // A second campaign by the same node; the first campaign's grants arrive in the middle of it.
  s.campaign(1);
  s.deliver(match('elect', 1, 0));
  for (const reply of oldReplies) s.replay(reply);
  s.settle();
  s.run(20);
  t.equal(leaders(s, [0, 1, 2]).length, 1, 'one ready leader');
  t.same(s.violations, []);
});

t.test('duplicated reordered messages are harmless', async (t) => {
  const s = new Script({ nodeCount: 3, seed: 23 });
  s.elect(0);
  for (let i = 0; i < 20; i++) {
    s.propose(0, { kind: 'append', key: 'l', value: i });
    // Deliver every held message twice, newest first.
    const held = s.take(() => true).reverse();
    for (const m of held) {
      s.replay(m);
      s.replay(m);
    }
    if (i % 5 === 4) s.tick(0, 3);
  }
  s.run(10);
  const read = s.read(0, 'l');
  s.run(5);
  const outcome = s.outcome(read);
  t.equal(outcome?.status, 'ok');
  if (outcome?.status === 'ok' && outcome.result.kind === 'value') t.same(outcome.result.value, [...Array(20).keys()], 'each append applied once, in order');
  t.same(s.violations, []);
});

t.test('crash points keep promises and records', async (t) => {
  const s = new Script({ nodeCount: 3, seed: 24 });
  s.elect(0);
  const ballot0 = s.view(0)?.votedFor;
  s.propose(0, { kind: 'put', key: 'a', value: 1 });
  s.settle();
  // Node 1 grants node 2's vote, crashes right after the durable grant, and an old Elect is replayed.
  s.campaign(2);
  const elects = s.take(match('elect', 2, 1));
  for (const m of elects) s.replay(m);
  const votedFor = s.view(1)?.votedFor;
  s.crash(1, true);
  s.restart(1);
  t.same(s.view(1)?.votedFor, votedFor, 'the grant survives a crash that loses unsynced writes');
  for (const m of elects) s.replay(m);
  if (ballot0 !== undefined) {
    s.replay({ clusterId: 'sim', from: 0, to: 1, requestId: 5000, type: 'elect', ballot: ballot0, committer: null, accepted: s.view(0)!.accepted, configLsn: -1 });
  }
  // The leader appends and crashes before any follower hears of the record.
  s.run(20);
  const leader = leaders(s, [0, 1, 2])[0];
  t.not(leader, undefined, 'a leader emerges');
  if (leader !== undefined) {
    s.propose(leader, { kind: 'put', key: 'b', value: 2 });
    s.drop(() => true);
    s.crash(leader, true);
    s.restart(leader);
  }
  s.run(30);
  t.equal(leaders(s, [0, 1, 2]).length, 1);
  t.same(s.violations, []);
});

t.test('minority leader never acks', async (t) => {
  const s = new Script({ nodeCount: 5, seed: 25 });
  s.elect(0);
  const majority = among(1, 2, 3, 4);
  const write = s.propose(0, { kind: 'put', key: 'x', value: 1 });
  s.drop(() => true);
  // The old leader is isolated: its write can never be acked. The majority elects a new leader.
  s.campaign(1);
  for (let r = 0; r < 30 && !s.isReadyLeader(1); r++) {
    s.drop((m) => !majority(m));
    if (s.deliver(majority) === 0) s.tick(1);
  }
  t.ok(s.isReadyLeader(1), 'the majority elects node 1');
  t.not(s.outcome(write)?.status, 'ok', 'the isolated leader did not ack');
  const later = s.propose(1, { kind: 'put', key: 'x', value: 2 });
  for (let r = 0; r < 10; r++) {
    s.drop((m) => !majority(m));
    s.deliver(majority);
    s.tick(1);
  }
  t.equal(s.outcome(later)?.status, 'ok');
  // Heal: the old leader steps down; its write ends unknown, never ok.
  s.run(20);
  t.notOk(s.isReadyLeader(0), 'the old leader stepped down');
  t.not(s.outcome(write)?.status, 'ok');
  t.same(s.violations, []);
});

t.test('leader sends but hears nothing', async (t) => {
  const s = new Script({ nodeCount: 3, seed: 26 });
  s.elect(0);
  const write = s.propose(0, { kind: 'put', key: 'x', value: 1 });
  // One-way cut: replies to the leader are lost.
  for (let r = 0; r < 40; r++) {
    s.drop((m) => m.to === 0);
    s.deliver(() => true);
    for (const id of [0, 1, 2]) s.tick(id);
  }
  t.not(s.outcome(write)?.status, 'ok', 'no ack without replies');
  s.run(30);
  t.equal(leaders(s, [0, 1, 2]).length, 1, 'one leader after the link heals');
  t.same(s.violations, []);
});

t.test('adding two voters goes through joint', async (t) => {
  // Bootstrap: voters 0, 1, 2; nodes 3 and 4 are learners.
  const s = new Script({ nodeCount: 5, seed: 27, initialVoters: [0, 1, 2] });
  s.elect(0);
  const target = majorityConfig(s.cluster.members, [0, 1, 2, 3, 4]);
  const request = s.cluster.newRequestId();
  s.cluster.awaitRequest(request);
  s.cluster.drive(0, (node) => node.changeConfig(request, target));
  s.run(30);
  t.equal(s.outcome(request)?.status, 'ok', 'the change completes');
  const configs = [...(s.view(0)?.records.entries() ?? [])].filter(([, r]) => r.command.kind === 'config').sort((a, b) => a[0] - b[0]);
  t.equal(configs.length, 2, 'a joint record, then the target');
  const [joint, final] = configs.map(([, r]) => (r.command.kind === 'config' ? r.command.config : null));
  t.equal(joint?.families.length, 2, 'the first record is the joint config');
  t.same(final, target, 'the second record is the target');
  t.same(s.view(3)?.config, target, 'a new voter learned the target');
  t.same(s.violations, []);
});

t.test('removing the leader steps it down', async (t) => {
  const s = new Script({ nodeCount: 3, seed: 28 });
  s.elect(0);
  const target = majorityConfig(s.cluster.members, [1, 2]);
  const request = s.cluster.newRequestId();
  s.cluster.awaitRequest(request);
  s.cluster.drive(0, (node) => node.changeConfig(request, target));
  s.run(60);
  t.notOk(s.isReadyLeader(0), 'the removed leader no longer leads');
  t.equal(leaders(s, [1, 2]).length, 1, 'a remaining voter leads');
  const write = s.propose(leaders(s, [1, 2])[0] ?? 1, { kind: 'put', key: 'y', value: 1 });
  s.run(5);
  t.equal(s.outcome(write)?.status, 'ok');
  t.same(s.violations, []);
});

t.test('lagging follower installs snapshot', async (t) => {
  const s = new Script({ nodeCount: 3, seed: 29, checkpointEveryApplied: 5 });
  s.elect(0);
  s.crash(2);
  for (let i = 0; i < 40; i++) {
    s.propose(0, { kind: 'put', key: `k${i % 3}`, value: i });
    s.settle();
  }
  s.run(5);
  t.ok((s.view(0)?.floor ?? 0) > 0, 'the leader purged its log');
  s.restart(2);
  s.run(40);
  const v0 = s.view(0);
  const v2 = s.view(2);
  t.ok(v0 !== null && v2 !== null);
  if (v0 !== null && v2 !== null) {
    t.ok(v0.applied.equals(v2.applied), `applied sets match: ${v0.applied.toString()} vs ${v2.applied.toString()}`);
    t.equal(v0.stateHash, v2.stateHash, 'state hashes match');
  }
  t.same(s.violations, []);
});

t.test('retry after unknown applies once', async (t) => {
  const s = new Script({ nodeCount: 3, seed: 30 });
  s.elect(0);
  // The append reaches node 1 but the leader dies before it can ack.
  const first = s.cluster.newRequestId();
  s.cluster.awaitRequest(first);
  const tag = { clientId: 'retry-client', seq: 1 };
  s.cluster.drive(0, (node) => node.propose(first, { kind: 'append', key: 'l', value: 'once' }, tag));
  s.deliver(match('log-forward', 0, 1));
  s.drop(() => true);
  t.not(s.outcome(first)?.status, 'ok');
  s.crash(0);
  s.campaign(1);
  s.run(20);
  const leader = leaders(s, [1, 2])[0];
  t.not(leader, undefined, 'a new leader');
  // The client retries with the same (clientId, seq).
  const retry = s.cluster.newRequestId();
  s.cluster.awaitRequest(retry);
  s.cluster.drive(leader ?? 1, (node) => node.propose(retry, { kind: 'append', key: 'l', value: 'once' }, tag));
  s.run(10);
  t.equal(s.outcome(retry)?.status, 'ok', 'the retry succeeds');
  const read = s.read(leader ?? 1, 'l');
  s.run(5);
  const outcome = s.outcome(read);
  t.equal(outcome?.status, 'ok');
  if (outcome?.status === 'ok' && outcome.result.kind === 'value') t.same(outcome.result.value, ['once'], 'exactly one append');
  t.same(s.violations, []);
});

function withoutLsn(lsn: number): (m: Message) => Message {
  return (m) => (m.type === 'log-forward' ? { ...m, records: m.records.filter((r) => r.seq !== lsn) } : m);
}

function readValue(s: Script, id: number, key: string): unknown {
  const request = s.read(id, key);
  s.run(5);
  const outcome = s.outcome(request);
  return outcome?.status === 'ok' && outcome.result.kind === 'value' ? outcome.result.value : `no value (${JSON.stringify(outcome)})`;
}

t.test('later write on one key commits first', async (t) => {
  const s = new Script({ nodeCount: 3, seed: 31 });
  s.elect(0);
  const first = s.propose(0, { kind: 'put', key: 'k', value: 1 });
  const lsnFirst = keyLsn(s, 0, 'k');
  s.drop(() => true); // the first put reaches no follower yet
  const second = s.propose(0, { kind: 'put', key: 'k', value: 2 });
  for (let r = 0; r < 6; r++) {
    if (lsnFirst !== undefined) s.deliverEdited(() => true, withoutLsn(lsnFirst));
    s.tick(0);
  }
  t.equal(s.outcome(second)?.status, 'ok', 'the later put commits and is acked first');
  // The earlier put is superseded by the applied later one, so it is acked as linearized just before it.
  t.equal(s.outcome(first)?.status, 'ok', 'the skipped earlier put is acked');
  const leaderView = s.view(0);
  t.ok(lsnFirst !== undefined && leaderView !== null && !leaderView.committed.has(lsnFirst), 'the earlier put is still uncommitted');
  s.run(10);
  t.equal(readValue(s, 0, 'k'), 2, 'the later write wins');
  const cas = s.propose(0, { kind: 'cas', key: 'k', expected: 2, value: 3 });
  s.run(5);
  const outcome = s.outcome(cas);
  t.same(outcome?.status === 'ok' ? outcome.result : outcome, { kind: 'cas', swapped: true, current: 2 });
  for (const id of [1, 2]) t.same(s.cluster.nodes[id].node?.kvGet('k'), 3, `node ${id} converged`);
  t.same(s.violations, []);
});

t.test('cas breaks override chain across leaders', async (t) => {
  const s = new Script({ nodeCount: 3, seed: 32 });
  s.elect(0);
  s.propose(0, { kind: 'put', key: 'k', value: 1 });
  s.settle();
  const cas = s.propose(0, { kind: 'cas', key: 'k', expected: 1, value: 5 });
  s.propose(0, { kind: 'put', key: 'k', value: 7 });
  // Only node 1 gets the CAS and the put before the leader dies.
  s.deliver(match('log-forward', 0, 1));
  s.drop(() => true);
  s.crash(0);
  s.campaign(1);
  s.run(20);
  const leader = leaders(s, [1, 2])[0];
  t.not(leader, undefined);
  s.restart(0);
  s.run(20);
  const value = readValue(s, leader ?? 1, 'k');
  t.equal(value, 7, 'the final put wins after the CAS ran on its input');
  t.not(s.outcome(cas)?.status, 'ok', 'the deposed leader never acked the CAS');
  const hashes = new Set([0, 1, 2].map((id) => s.view(id)?.stateHash));
  t.equal(hashes.size, 1, 'replicas converge');
  t.same(s.violations, []);
});
