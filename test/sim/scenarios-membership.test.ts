// Named membership scenarios with exact schedules: a removed node campaigning with high terms,
// learner catch-up then promotion, and the leader change between uncommitted single-server config
// records that breaks Raft's single-server change.
import t from 'tap';
import { majorityConfig } from '../../server/core/quorum.js';
import type { ClusterConfig, Message } from '../../server/core/types.js';
import { Script, match, type MessageMatch } from '../../server/sim/script.js';

function among(...ids: number[]): MessageMatch {
  return (m) => ids.includes(m.from) && ids.includes(m.to);
}

function not(m: MessageMatch): MessageMatch {
  return (x) => !m(x);
}

/** Starts a config change at `id`; returns the request id whose outcome lands in `outcome()`. */
function changeConfig(s: Script, id: number, target: ClusterConfig): number {
  const request = s.cluster.newRequestId();
  s.cluster.awaitRequest(request);
  s.cluster.drive(id, (node) => node.changeConfig(request, target));
  return request;
}

/** Delivers only messages among `ids`, dropping the rest, and ticks `tickIds` once per round. */
function runAmong(s: Script, ids: number[], rounds: number, tickIds: number[] = ids): void {
  for (let r = 0; r < rounds; r++) {
    for (const id of tickIds) s.tick(id);
    for (let settle = 0; settle < 20; settle++) {
      s.drop(not(among(...ids)));
      if (s.deliver(among(...ids)) === 0) break;
    }
  }
}

function voterIds(config: ClusterConfig | undefined): number[] {
  if (config === undefined) return [];
  const positions = new Set<number>();
  for (const family of config.families) {
    if (family.kind === 'threshold') for (const p of family.positions) positions.add(p);
  }
  return config.members.filter((m) => positions.has(m.position)).map((m) => m.id).sort();
}

/**
 * R3 is removed by C and gets the next record D but never C, so its log is longer than R1's and
 * R2's and it still believes it is a voter. Its Elects with ever higher terms must be rejected
 * because R1 and R2 know C is committed and R3 is in no live config.
 */
t.test('removed node campaigns with high term', async (t) => {
  const s = new Script({ nodeCount: 4, seed: 71 });
  s.elect(0);
  s.propose(0, { kind: 'put', key: 'a', value: 1 });
  s.settle();
  // C drops R3 from the member list, not only from the voters. D follows C at once; R3 gets only
  // D, and R1 and R2 get only C.
  const withoutR3 = s.cluster.members.filter((m) => m.id !== 3);
  const request = changeConfig(s, 0, majorityConfig(withoutR3, [0, 1, 2]));
  const lsnC = (s.view(0)?.accepted.len() ?? 0) - 1;
  s.propose(0, { kind: 'put', key: 'd', value: 'D' });
  const lsnD = lsnC + 1;
  const strip = (lsn: number) => (m: Message): Message => (m.type === 'log-forward' ? { ...m, records: m.records.filter((r) => r.seq !== lsn) } : m);
  s.deliverEdited(match('log-forward', 0, 3), strip(lsnC));
  for (let r = 0; r < 6; r++) {
    s.drop(not(among(0, 1, 2)));
    s.deliverEdited(among(0, 1, 2), strip(lsnD));
    s.tick(0);
  }
  s.drop(() => true);
  t.equal(s.outcome(request)?.status, 'ok', 'the removal commits');
  for (const id of [1, 2]) t.ok(s.view(id)?.committed.has(lsnC), `R${id} knows C is committed`);
  const r3 = s.view(3);
  t.notOk(r3?.records.has(lsnC), 'R3 lacks C');
  t.ok((r3?.accepted.len() ?? 0) > (s.view(1)?.accepted.len() ?? 0), `R3 log is longer than R1 log (${r3?.accepted.toString()} vs ${s.view(1)?.accepted.toString()})`);
  t.same(voterIds(r3?.config), [0, 1, 2, 3], 'R3 still believes it is a voter');

  const leaderBallot = s.view(0)?.votedFor;
  const promises = [1, 2].map((id) => s.view(id)?.votedFor);
  for (let i = 0; i < 6; i++) {
    s.campaign(3);
    // Only R3's Elects and their replies get through, so R3 never hears it was removed.
    s.deliver(match('elect', 3));
    s.deliver(match('elect-reply', undefined, 3));
    s.drop(() => true);
  }
  t.ok((s.view(3)?.votedFor.term ?? 0) > (leaderBallot?.term ?? 0) + 4, `R3 campaigned up to term ${s.view(3)?.votedFor.term}`);
  t.notOk(s.isReadyLeader(3), 'R3 does not lead');
  t.same([1, 2].map((id) => s.view(id)?.votedFor), promises, 'the voters did not promise R3');
  t.ok(s.isReadyLeader(0), 'R0 still leads');
  t.same(s.view(0)?.votedFor, leaderBallot, 'at the same ballot');
  const write = s.propose(0, { kind: 'put', key: 'b', value: 2 });
  runAmong(s, [0, 1, 2, 3], 5, [0, 1, 2]);
  t.equal(s.outcome(write)?.status, 'ok', 'the cluster keeps serving writes');
  t.same(s.violations, []);
});

t.test('learner catches up then promoted', async (t) => {
  const s = new Script({ nodeCount: 4, seed: 72, initialVoters: [0, 1, 2], checkpointEveryApplied: 5 });
  s.elect(0);
  s.crash(3);
  for (let i = 0; i < 30; i++) {
    s.propose(0, { kind: 'append', key: 'l', value: i });
    s.settle();
  }
  s.run(3);
  t.ok((s.view(0)?.floor ?? 0) > 0, 'the leader purged its log, so the learner needs a snapshot');
  s.restart(3);
  s.run(30);
  t.equal(s.view(3)?.stateHash, s.view(0)?.stateHash, 'the learner caught up');
  t.same(voterIds(s.view(3)?.config), [0, 1, 2], 'R3 is still a learner');

  const request = changeConfig(s, 0, majorityConfig(s.cluster.members, [0, 1, 2, 3]));
  s.run(30);
  t.equal(s.outcome(request)?.status, 'ok', 'the promotion commits');
  for (const id of [0, 1, 2, 3]) t.same(voterIds(s.view(id)?.config), [0, 1, 2, 3], `node ${id} sees R3 as a voter`);

  // Only a voter may lead: with R0 down, R3 wins an election with R1 and R2.
  s.crash(0);
  s.drop(() => true);
  s.elect(3, among(1, 2, 3));
  const write = s.propose(3, { kind: 'append', key: 'l', value: 'after' });
  runAmong(s, [1, 2, 3], 10, [3]);
  t.equal(s.outcome(write)?.status, 'ok', 'the promoted R3 leads and commits a write');
  t.same(s.cluster.nodes[3].node?.kvGet('l'), [...Array(30).keys(), 'after'], 'R3 applied every append in order');
  t.same(s.violations, []);
});

/**
 * Raft's single-server change bug: A = {0,1,2}; R0 (1.0) appends B = A + {3}, which reaches only
 * R3. R1 wins with R2 and commits C = {1,2}. R0 then campaigns under B with R3: C and B do not
 * intersect, but R2 and R1 hold Committer 2.1 > 1.0 and reject R0, so no second leader appears.
 */
t.test('single-server change leader switch', async (t) => {
  const s = new Script({ nodeCount: 4, seed: 73, initialVoters: [0, 1, 2] });
  s.elect(0);
  s.propose(0, { kind: 'put', key: 'a', value: 1 });
  s.settle();
  const addR3 = changeConfig(s, 0, majorityConfig(s.cluster.members, [0, 1, 2, 3]));
  s.deliver(match('log-forward', 0, 3));
  s.drop(() => true);
  t.ok(s.view(3)?.records.size !== undefined && [...(s.view(3)?.records.values() ?? [])].some((r) => r.command.kind === 'config'), 'R3 holds B');

  s.campaign(1);
  runAmong(s, [1, 2], 10, [1]);
  t.ok(s.isReadyLeader(1), 'R1 leads with R2');
  const removeR0 = changeConfig(s, 1, majorityConfig(s.cluster.members, [1, 2]));
  runAmong(s, [1, 2], 20, [1]);
  t.equal(s.outcome(removeR0)?.status, 'ok', 'C = {1,2} commits');

  // R0, cut off the whole time, steps down once it misses a quorum of replies.
  for (let r = 0; r < 40 && s.view(0)?.role === 'leader'; r++) {
    s.tick(0);
    s.drop(() => true);
  }
  t.equal(s.view(0)?.role, 'follower', 'the isolated R0 stepped down');

  // R0 campaigns; everyone hears its Elects, but R1's LogForwards do not reach R0 or R3.
  for (let i = 0; i < 3; i++) {
    s.campaign(0);
    for (let r = 0; r < 10; r++) {
      s.drop((m) => m.from === 1 && (m.to === 0 || m.to === 3));
      if (s.deliver(() => true) === 0) break;
    }
  }
  t.ok((s.view(0)?.votedFor.term ?? 0) > 2, `R0 campaigned up to term ${s.view(0)?.votedFor.term}`);
  t.notOk(s.isReadyLeader(0), 'R0 never leads under B');
  t.ok(s.isReadyLeader(1), 'R1 still leads');
  t.not(s.outcome(addR3)?.status, 'ok', 'B was never acked');
  const write = s.propose(1, { kind: 'put', key: 'b', value: 2 });
  runAmong(s, [0, 1, 2, 3], 10, [1]);
  t.equal(s.outcome(write)?.status, 'ok', 'R1 keeps serving writes');
  t.same(s.violations, []);
});
