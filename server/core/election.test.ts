// Election edge cases on 3–5 node in-memory clusters: the grant rule, the merge, noop filling and
// restarts. The four ways the original prototype lost acknowledged writes (CE1–CE4) each run twice:
// once with the safe rule, once with the planted bug that re-enables the unsafe one.
import t from 'tap';
import { TestCluster } from './test-cluster.js';
import type { CoreUnsafeBug, LogRecord, Message } from './types.js';

function recordAt(cluster: TestCluster, id: number, lsn: number): LogRecord | undefined {
  return cluster.node(id).dump().records.get(lsn);
}

function isLogForwardWith(msg: Message, from: number, lsn: number): boolean {
  return msg.type === 'log-forward' && msg.from === from && msg.records.some((r) => r.seq === lsn);
}

t.test('grant rule', async (t) => {
  const cases: { name: string; setup: (c: TestCluster) => void; candidate: number; expectLeader: boolean }[] = [
    {
      name: 'voters reject a candidate with an older Committer',
      setup: (c) => {
        c.campaign(1);
        c.propose(1, { kind: 'put', key: 'x', value: 1 });
        c.deliverAll();
        c.crash(1);
        // Node 3 restarts from an empty disk, so its log is older than node 2's.
        c.crash(3);
        c.disks.set(3, []);
        c.restart(3);
      },
      candidate: 3,
      expectLeader: false,
    },
    {
      name: 'an up-to-date candidate wins with a higher ballot',
      setup: (c) => {
        c.campaign(1);
        c.propose(1, { kind: 'put', key: 'x', value: 1 });
        c.deliverAll();
      },
      candidate: 2,
      expectLeader: true,
    },
  ];
  for (const testCase of cases) {
    const cluster = new TestCluster({ size: 3 });
    testCase.setup(cluster);
    cluster.campaign(testCase.candidate);
    t.equal(cluster.leader() === testCase.candidate, testCase.expectLeader, testCase.name);
  }
});

t.test('retransmitted elect is granted again, lower ballot rejected', async (t) => {
  const cluster = new TestCluster({ size: 3 });
  cluster.node(1).campaign();
  cluster.process(1);
  const elect = cluster.take((m) => m.type === 'elect' && m.to === 2)[0];
  cluster.queue = [];
  for (const attempt of ['first', 'retransmitted']) {
    cluster.node(2).step(elect);
    cluster.process(2);
    const reply = cluster.take((m) => m.type === 'elect-reply' && m.from === 2)[0];
    t.match(reply, { granted: true }, `the ${attempt} copy is granted`);
  }

  cluster.campaign(3);
  t.equal(cluster.leader(), 3);
  cluster.node(2).step(elect);
  cluster.process(2);
  const stale = cluster.take((m) => m.type === 'elect-reply' && m.from === 2)[0];
  t.match(stale, { granted: false }, 'a ballot below VotedFor is rejected');
});

t.test('simultaneous campaigns elect one leader per ballot', async (t) => {
  for (let seed = 1; seed <= 20; seed++) {
    const cluster = new TestCluster({ size: 5, seed });
    for (const id of [1, 2, 3, 4, 5]) {
      cluster.node(id).campaign();
      cluster.process(id);
    }
    cluster.deliverAll();
    cluster.tick(40);
    const leaders = [...cluster.nodes.values()].filter((n) => n.status().role === 'leader');
    const ballots = new Set(leaders.map((n) => `${n.status().ballot.term}.${n.status().ballot.id}`));
    t.equal(ballots.size, leaders.length, `seed ${seed}: no ballot has two leaders`);
    t.not(cluster.leader(), null, `seed ${seed}: a ready leader emerges`);
    const put = cluster.propose(cluster.leader() as number, { kind: 'put', key: 'k', value: seed });
    cluster.tick(3);
    t.equal(cluster.outcomes.get(put)?.status, 'ok', `seed ${seed}: the leader commits`);
  }
});

t.test('hole below the merged log becomes a noop', async (t) => {
  const cluster = new TestCluster({ size: 3 });
  cluster.campaign(1);
  // No follower receives lsn 0; lsn 1 reaches node 2.
  cluster.dropIf = (msg) => isLogForwardWith(msg, 1, 0);
  cluster.propose(1, { kind: 'put', key: 'a', value: 1 });
  cluster.propose(1, { kind: 'put', key: 'b', value: 2 });
  cluster.deliverAll();
  cluster.crash(1);
  cluster.heal();
  cluster.campaign(2);
  t.equal(cluster.leader(), 2);
  t.match(recordAt(cluster, 2, 0), { command: { kind: 'noop' }, author: { id: 2 } }, 'the hole at lsn 0 holds a noop');
  t.match(recordAt(cluster, 2, 1), { command: { kind: 'put', key: 'b' } }, 'the chosen record survives');
});

t.test('restart keeps VotedFor and campaigns above it', async (t) => {
  const cluster = new TestCluster({ size: 3, roundTrip: true });
  cluster.campaign(1);
  cluster.propose(1, { kind: 'put', key: 'x', value: 1 });
  cluster.deliverAll();
  const before = cluster.node(2).status();
  cluster.crash(2);
  cluster.restart(2);
  const after = cluster.node(2).status();
  t.same(after.ballot, before.ballot, 'VotedFor survives the restart');
  t.same(after.committer, before.committer, 'Committer survives the restart');
  t.equal(after.role, 'follower', 'a restarted node is a follower');
  t.equal(cluster.node(2).dump().records.size, before.logSize, 'records survive the restart');
  cluster.tick(2);
  t.equal(cluster.node(2).kvGet('x'), 1, 'the restarted node re-applies committed records');
  cluster.campaign(2);
  t.ok(cluster.node(2).status().ballot.term > before.ballot.term, 'its next campaign uses a higher term');
});

// CE3: a voter's Accepted is compacted past a position the candidate lacks.
for (const unsafe of [undefined, 'voter-scan-own-offset'] as (CoreUnsafeBug | undefined)[]) {
  t.test(`CE3 voter compacted past candidate gap${unsafe ? ` (${unsafe})` : ''}`, async (t) => {
    const cluster = new TestCluster({ size: 3, unsafe });
    cluster.campaign(1);
    cluster.dropIf = (msg) => isLogForwardWith(msg, 1, 1) && msg.to === 2;
    for (const value of [0, 1, 2]) cluster.propose(1, { kind: 'put', key: `k${value}`, value });
    cluster.deliverAll();
    t.ok(recordAt(cluster, 3, 1) !== undefined && recordAt(cluster, 2, 1) === undefined, 'only node 3 holds lsn 1');
    cluster.crash(1);
    cluster.heal();
    cluster.campaign(2);
    t.equal(cluster.leader(), 2);
    const record = recordAt(cluster, 2, 1);
    if (unsafe === undefined) {
      t.match(record, { command: { kind: 'put', key: 'k1' } }, 'the voter returned the chosen record');
    } else {
      t.match(record, { command: { kind: 'noop' } }, 'the planted bug loses the chosen record to a noop');
    }
  });
}

// CE4: a client write sent to a node mid-campaign.
for (const unsafe of [undefined, 'candidate-serves'] as (CoreUnsafeBug | undefined)[]) {
  t.test(`CE4 write to a candidate${unsafe ? ` (${unsafe})` : ''}`, async (t) => {
    const cluster = new TestCluster({ size: 3, unsafe });
    cluster.campaign(1);
    cluster.dropIf = (msg) => msg.type === 'log-forward' && msg.to === 3;
    const acked = cluster.propose(1, { kind: 'put', key: 'a', value: 'A' });
    cluster.deliverAll();
    t.equal(cluster.outcomes.get(acked)?.status, 'ok', 'A is chosen and acked');
    cluster.crash(1);
    cluster.heal();

    cluster.node(3).campaign();
    cluster.process(3);
    const write = cluster.propose(3, { kind: 'put', key: 'x', value: 'X' });
    if (unsafe === undefined) {
      t.match(cluster.outcomes.get(write), { status: 'not-leader' }, 'the candidate refuses the write');
      t.notOk(cluster.queue.some((m) => m.type === 'log-forward'), 'no LogForward from a candidate');
    }
    cluster.deliverAll();
    cluster.tick(2);
    const holder = recordAt(cluster, 2, 0);
    if (unsafe === undefined) {
      t.match(holder, { command: { key: 'a' } }, 'node 2 keeps the acked record');
    } else {
      t.match(holder, { command: { key: 'x' } }, 'the planted bug overwrites the acked record');
    }
  });
}

// CE2: a new leader's base RPC is lost while a later record arrives.
for (const unsafe of [undefined, 'skip-base-sync'] as (CoreUnsafeBug | undefined)[]) {
  t.test(`CE2 base sync lost${unsafe ? ` (${unsafe})` : ''}`, async (t) => {
    const cluster = new TestCluster({ size: 5, unsafe });
    cluster.campaign(1);
    cluster.dropIf = (msg) => msg.type === 'log-forward' && (msg.to === 4 || msg.to === 5);
    const acked = cluster.propose(1, { kind: 'put', key: 'a', value: 'A' });
    cluster.deliverAll();
    t.equal(cluster.outcomes.get(acked)?.status, 'ok', 'A@0 is chosen on nodes 1-3');
    cluster.crash(1);
    cluster.heal();

    cluster.isolate(2);
    // Every copy of A@0 that the new leader 3 sends is lost; later records still arrive.
    cluster.rewrite = (msg) => (msg.type === 'log-forward' && msg.from === 3 ? { ...msg, records: msg.records.filter((r) => r.seq !== 0) } : msg);
    cluster.campaign(3);
    cluster.propose(3, { kind: 'put', key: 'b', value: 'B' });
    cluster.tick(2);
    const switched = [4, 5].filter((id) => cluster.node(id).status().committer?.id === 3);
    if (unsafe === undefined) {
      t.same(switched, [], 'followers missing the base refuse to switch');
    } else {
      t.same(switched, [4, 5], 'the planted bug switches without the base');
    }

    cluster.crash(3);
    cluster.heal();
    cluster.campaign(4);
    if (unsafe === undefined) {
      t.not(cluster.leader(), 4, 'node 4 cannot win: node 2 holds a newer log');
    } else {
      t.equal(cluster.leader(), 4, 'node 4 wins with nodes 2, 4 and 5');
      t.match(recordAt(cluster, 4, 0), { command: { kind: 'noop' } }, 'the planted bug loses A@0 to a noop');
    }
  });
}

// CE1: a delayed LogForward from a deposed leader reaches a follower whose vote has "expired".
for (const unsafe of [undefined, 'accept-expired-vote'] as (CoreUnsafeBug | undefined)[]) {
  t.test(`CE1 late LogForward after vote expiry${unsafe ? ` (${unsafe})` : ''}`, async (t) => {
    const cluster = new TestCluster({ size: 3, unsafe });
    cluster.campaign(1);
    cluster.dropIf = (msg) => msg.type === 'log-forward' && msg.to === 2;
    const write = cluster.propose(1, { kind: 'put', key: 'a', value: 'A' });
    const late = cluster.take((msg) => msg.type === 'log-forward' && msg.to === 3);
    cluster.heal();

    cluster.isolate(1);
    cluster.campaign(2);
    t.equal(cluster.leader(), 2, 'node 2 leads without A');
    cluster.crash(2);
    // Node 3 hears nothing for longer than an election timeout; its own campaigns fail.
    cluster.tickNode(3, 40);
    cluster.heal();
    cluster.queue.push(...late);
    cluster.deliverAll();
    if (unsafe === undefined) {
      t.notMatch(cluster.outcomes.get(write), { status: 'ok' }, 'the deposed leader cannot ack A');
      t.equal(cluster.node(3).status().committer?.id, 2, 'node 3 keeps Committer 2.2');
    } else {
      t.equal(cluster.node(3).status().committer?.id, 1, 'the planted bug downgrades the Committer');
      t.ok(cluster.node(3).dump().records.has(0), 'node 3 stores A@0 from the deposed leader');
    }
  });
}
