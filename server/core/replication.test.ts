// Replication edge cases on a 3–5 node in-memory cluster: commit, apply, acks, Committed
// propagation, out-of-order commit, dedup, heartbeats, step-down and the base-coverage switch.
import t from 'tap';
import { RESEND_DELAY_HEARTBEATS } from './replication.js';
import { HEARTBEAT_TICKS, TestCluster } from './test-cluster.js';
import type { ClientOutcome } from './types.js';

function okValue(outcome: ClientOutcome | undefined): unknown {
  if (outcome?.status !== 'ok') return `not ok: ${JSON.stringify(outcome)}`;
  return outcome.result;
}

t.test('three nodes elect and commit puts', async (t) => {
  const cluster = new TestCluster({ size: 3, roundTrip: true });
  cluster.campaign(1);
  t.equal(cluster.leader(), 1, 'node 1 leads after its campaign');

  const requests = [1, 2, 3].map((k) => cluster.propose(1, { kind: 'put', key: `k${k}`, value: k }));
  cluster.deliverAll();
  for (const requestId of requests) t.same(okValue(cluster.outcomes.get(requestId)), { kind: 'done' }, `put ${requestId} acked`);

  cluster.tick(3);
  for (const id of [1, 2, 3]) {
    t.equal(cluster.node(id).kvGet('k2'), 2, `node ${id} applied k2`);
  }
  const hashes = new Set([1, 2, 3].map((id) => cluster.node(id).stateHash()));
  t.equal(hashes.size, 1, 'every node has the same state hash');
});

t.test('non-blind ops return their results at apply', async (t) => {
  const cluster = new TestCluster({ size: 3 });
  cluster.campaign(1);
  const put = cluster.propose(1, { kind: 'put', key: 'x', value: 1 });
  const cas = cluster.propose(1, { kind: 'cas', key: 'x', expected: 1, value: 2 });
  const casFail = cluster.propose(1, { kind: 'cas', key: 'x', expected: 1, value: 3 });
  const incr = cluster.propose(1, { kind: 'incr', key: 'n', delta: 5 });
  const append = cluster.propose(1, { kind: 'append', key: 'l', value: 'a' });
  const txn = cluster.propose(1, { kind: 'txn', ops: [{ f: 'append', key: 'l', value: 'b' }, { f: 'r', key: 'l' }] });
  cluster.deliverAll();
  t.same(okValue(cluster.outcomes.get(put)), { kind: 'done' });
  t.match(okValue(cluster.outcomes.get(cas)), { kind: 'cas', swapped: true });
  t.match(okValue(cluster.outcomes.get(casFail)), { kind: 'cas', swapped: false, current: 2 });
  t.match(okValue(cluster.outcomes.get(incr)), { kind: 'value', value: 5 });
  t.ok(cluster.outcomes.get(append)?.status === 'ok', 'append acked');
  t.match(okValue(cluster.outcomes.get(txn)), { kind: 'txn', ops: [{ f: 'append' }, { f: 'r', value: ['a', 'b'] }] });
});

t.test('retried request executes once', async (t) => {
  const cluster = new TestCluster({ size: 3 });
  cluster.campaign(1);
  const client = { clientId: 'c1', seq: 1 };
  const first = cluster.propose(1, { kind: 'incr', key: 'n', delta: 1 }, client);
  const retryInFlight = cluster.propose(1, { kind: 'incr', key: 'n', delta: 1 }, client);
  cluster.deliverAll();
  const retryAfter = cluster.propose(1, { kind: 'incr', key: 'n', delta: 1 }, client);
  cluster.deliverAll();
  t.match(okValue(cluster.outcomes.get(first)), { kind: 'value', value: 1 });
  t.match(okValue(cluster.outcomes.get(retryInFlight)), { kind: 'value', value: 1 }, 'in-flight retry waits on the first record');
  t.match(okValue(cluster.outcomes.get(retryAfter)), { kind: 'value', value: 1 }, 'later retry gets the stored result');
  cluster.tick(3);
  t.equal(cluster.node(2).kvGet('n'), 1, 'follower executed the increment once');
});

t.test('linearizable read waits for a heartbeat round', async (t) => {
  const cluster = new TestCluster({ size: 3 });
  cluster.campaign(1);
  cluster.propose(1, { kind: 'put', key: 'x', value: 'v' });
  cluster.deliverAll();
  const read = cluster.node(1);
  const requestId = 1000;
  read.read(requestId, 'x');
  cluster.process(1);
  t.notOk(cluster.outcomes.has(requestId), 'no answer before a quorum confirms the ballot');
  cluster.deliverAll();
  t.same(okValue(cluster.outcomes.get(requestId)), { kind: 'value', value: 'v' });

  const followerRead = cluster.read(2, 'x');
  t.match(cluster.outcomes.get(followerRead), { status: 'not-leader', leaderId: 1 });
});

t.test('read beside an append shares its LogForward', async (t) => {
  const cluster = new TestCluster({ size: 3 });
  cluster.campaign(1);
  cluster.propose(1, { kind: 'put', key: 'x', value: 'v' });
  cluster.deliverAll();

  const leader = cluster.node(1);
  const readId = 1000;
  leader.read(readId, 'x');
  const putId = 1001;
  leader.propose(putId, { kind: 'put', key: 'y', value: 1 });
  cluster.process(1);
  const forwards = cluster.queue.filter((msg) => msg.type === 'log-forward');
  t.equal(forwards.length, 2, 'one LogForward per follower carries the append and confirms the read');
  t.ok(forwards.every((msg) => msg.type === 'log-forward' && msg.records.length === 1), 'each carries the new record');

  cluster.deliverAll();
  t.same(okValue(cluster.outcomes.get(readId)), { kind: 'value', value: 'v' }, 'the read completes on the append replies');
  t.equal(cluster.outcomes.get(putId)?.status, 'ok', 'the append commits');
});

t.test('proposals of one Ready share a records op', async (t) => {
  const cluster = new TestCluster({ size: 3 });
  cluster.campaign(1);
  const leader = cluster.node(1);
  leader.propose(2000, { kind: 'put', key: 'a', value: 1 });
  leader.propose(2001, { kind: 'put', key: 'b', value: 2 });
  leader.propose(2002, { kind: 'put', key: 'c', value: 3 });
  const ready = leader.ready();
  const recordOps = ready.persist.flatMap((op) => (op.type === 'records' ? [op] : []));
  t.equal(recordOps.length, 1, 'one records op');
  const keys: string[] = [];
  for (const record of recordOps[0]?.records ?? []) {
    if (record.command.kind === 'put') keys.push(record.command.key);
  }
  t.same(keys, ['a', 'b', 'c'], 'holding the three records in order');
});

t.test('isolated leader cannot ack, majority elects, old leader steps down', async (t) => {
  const cluster = new TestCluster({ size: 3 });
  cluster.campaign(1);
  cluster.isolate(1);
  const lost = cluster.propose(1, { kind: 'put', key: 'x', value: 'minority' });
  cluster.deliverAll();
  t.notOk(cluster.outcomes.has(lost), 'a minority leader never acks');

  cluster.campaign(2);
  t.equal(cluster.leader(), 2, 'node 2 leads the majority');
  const put = cluster.propose(2, { kind: 'put', key: 'x', value: 'majority' });
  cluster.deliverAll();
  t.equal(cluster.outcomes.get(put)?.status, 'ok');

  cluster.heal();
  cluster.tick(4);
  t.equal(cluster.node(1).status().role, 'follower', 'old leader stepped down');
  t.match(cluster.outcomes.get(lost), { status: 'unknown' }, 'its pending write reports unknown');
  for (const id of [1, 2, 3]) t.equal(cluster.node(id).kvGet('x'), 'majority', `node ${id} converged`);
});

t.test('out-of-order commit: a later write commits first', async (t) => {
  const cluster = new TestCluster({ size: 3 });
  cluster.campaign(1);
  // No follower receives the first write; the second reaches node 2 and commits.
  cluster.dropIf = (msg) => msg.type === 'log-forward' && msg.records.some((r) => r.command.kind === 'put' && r.command.key === 'a');
  const first = cluster.propose(1, { kind: 'put', key: 'a', value: 1 });
  const second = cluster.propose(1, { kind: 'put', key: 'b', value: 2 });
  cluster.deliverAll();
  t.notOk(cluster.outcomes.has(first), 'the first write is not committed');
  t.equal(cluster.outcomes.get(second)?.status, 'ok', 'the second write committed out of order');
  const committed = cluster.node(1).dump().committed;
  t.notOk(committed.has(0), 'lsn 0 is not committed');
  t.ok(committed.has(1), 'lsn 1 is committed above the hole');

  cluster.heal();
  cluster.tick((RESEND_DELAY_HEARTBEATS + 1) * HEARTBEAT_TICKS);
  t.equal(cluster.outcomes.get(first)?.status, 'ok', 'the first write commits after a heartbeat resends it');
});

t.test('heartbeat skips records still in flight', async (t) => {
  const cluster = new TestCluster({ size: 3 });
  cluster.campaign(1);
  cluster.tick(HEARTBEAT_TICKS);
  const put = cluster.propose(1, { kind: 'put', key: 'a', value: 1 });
  const sent = cluster.take((msg) => msg.type === 'log-forward' && msg.records.length > 0);
  t.equal(sent.length, 2, 'the append went to both followers');

  // Hold every message so nothing is acknowledged, and count the records heartbeats carry.
  const carriedAt = (ticks: number): number => {
    let carried = 0;
    for (let k = 0; k < ticks; k++) {
      cluster.node(1).tick();
      cluster.process(1);
      for (const msg of cluster.take(() => true)) {
        if (msg.type === 'log-forward') carried += msg.records.length;
      }
    }
    return carried;
  };
  t.equal(carriedAt(RESEND_DELAY_HEARTBEATS * HEARTBEAT_TICKS - 1), 0, 'heartbeats within the delay resend nothing');
  t.equal(carriedAt(HEARTBEAT_TICKS), 2, 'the next heartbeat resends the record to each follower');

  cluster.tick(HEARTBEAT_TICKS);
  t.equal(cluster.outcomes.get(put)?.status, 'ok', 'the resent record commits');
});

t.test('late reply still counts its acks', async (t) => {
  const cluster = new TestCluster({ size: 3 });
  cluster.campaign(1);
  cluster.tick(HEARTBEAT_TICKS);
  cluster.isolate(3);
  const put = cluster.propose(1, { kind: 'put', key: 'a', value: 1 });
  const append = cluster.take((msg) => msg.type === 'log-forward' && msg.to === 2);
  t.equal(append.length, 1, 'the append to node 2 is held back');

  // The read round's empty LogForward overtakes the append, so node 2 replies to it first and the
  // reply that acknowledges the record arrives second, for an older request.
  const read = cluster.read(1, 'a');
  cluster.deliverAll();
  t.notOk(cluster.outcomes.has(put), 'the put waits for an ack');
  cluster.queue.push(...append);
  cluster.deliverAll();
  t.equal(cluster.outcomes.get(put)?.status, 'ok', 'the late reply commits the put without a heartbeat');
  t.equal(cluster.outcomes.get(read)?.status, 'ok', 'the reply to the read round confirms the read');
});

t.test('no snapshot for records in flight', async (t) => {
  const cluster = new TestCluster({ size: 3, checkpointEveryApplied: 4 });
  cluster.campaign(1);
  cluster.tick(HEARTBEAT_TICKS);
  // Node 2 acknowledges at once, so the leader commits, checkpoints and purges, while every
  // message to node 3 is held back as if it were still on the wire.
  for (let k = 0; k < 6; k++) {
    cluster.propose(1, { kind: 'put', key: `k${k}`, value: k });
    cluster.take((msg) => msg.to === 3);
    cluster.deliverAll();
  }
  t.ok(cluster.node(1).status().floor > 0, 'the leader purged records node 3 has not acknowledged');

  const snapshotsAfter = (ticks: number): number => {
    let snapshots = 0;
    for (let k = 0; k < ticks; k++) {
      cluster.node(1).tick();
      cluster.process(1);
      snapshots += cluster.take((msg) => msg.to === 3 && msg.type === 'install-snapshot').length;
      cluster.take((msg) => msg.to === 3);
      cluster.deliverAll();
    }
    return snapshots;
  };
  t.equal(snapshotsAfter(RESEND_DELAY_HEARTBEATS * HEARTBEAT_TICKS - 1), 0, 'no snapshot while the records may still arrive');
  t.ok(snapshotsAfter(2 * HEARTBEAT_TICKS) > 0, 'a snapshot once the resend delay shows them lost');
});

t.test('skipped blind write is acked ok', async (t) => {
  const cluster = new TestCluster({ size: 3 });
  cluster.campaign(1);
  const put = cluster.propose(1, { kind: 'put', key: 'x', value: 1 });
  const cas = cluster.propose(1, { kind: 'cas', key: 'x', expected: 1, value: 2 });
  cluster.deliverAll();
  t.match(okValue(cluster.outcomes.get(cas)), { kind: 'cas', swapped: true }, 'the cas sees the put');
  t.equal(cluster.outcomes.get(put)?.status, 'ok');
});

t.test('follower rejects a LogForward from a deposed leader', async (t) => {
  const cluster = new TestCluster({ size: 3 });
  cluster.campaign(1);
  cluster.propose(1, { kind: 'put', key: 'x', value: 1 });
  const late = cluster.take((msg) => msg.type === 'log-forward' && msg.to === 3);
  cluster.deliverAll();
  cluster.campaign(2);
  t.equal(cluster.leader(), 2);
  cluster.tick(30);
  cluster.queue.push(...late);
  cluster.deliverAll();
  t.same(cluster.node(3).status().committer, cluster.node(2).status().ballot, 'node 3 keeps the new Committer');
});

for (const unsafe of [undefined, 'stale-read'] as const) {
  t.test(`deposed leader read${unsafe ? ` (${unsafe})` : ''}`, async (t) => {
    const cluster = new TestCluster({ size: 3, unsafe });
    cluster.campaign(1);
    cluster.propose(1, { kind: 'put', key: 'x', value: 'old' });
    cluster.tick(2);
    cluster.isolate(1);
    cluster.campaign(2);
    const write = cluster.propose(2, { kind: 'put', key: 'x', value: 'new' });
    cluster.deliverAll();
    t.equal(cluster.outcomes.get(write)?.status, 'ok', 'the new leader acked x=new');
    const read = cluster.read(1, 'x');
    cluster.deliverAll();
    if (unsafe === undefined) {
      t.notOk(cluster.outcomes.has(read), 'the isolated old leader cannot confirm its ballot');
    } else {
      t.same(okValue(cluster.outcomes.get(read)), { kind: 'value', value: 'old' }, 'the planted bug returns a stale value');
    }
  });
}

t.test('leader that cannot receive steps down', async (t) => {
  const cluster = new TestCluster({ size: 3 });
  cluster.campaign(1);
  cluster.cut.add('2->1');
  cluster.cut.add('3->1');
  cluster.tick(15);
  t.equal(cluster.node(1).status().role, 'follower', 'node 1 stepped down without replies from a quorum');
  cluster.tick(40);
  const leader = cluster.leader();
  t.ok(leader === 2 || leader === 3, 'a node that can be heard leads');
  const put = cluster.propose(leader as number, { kind: 'put', key: 'x', value: 1 });
  cluster.tick(3);
  t.equal(cluster.outcomes.get(put)?.status, 'ok', 'writes commit again');
});

t.test('client watermark drops dedup entries', async (t) => {
  const cluster = new TestCluster({ size: 3, roundTrip: true });
  cluster.campaign(1);
  const first = cluster.propose(1, { kind: 'incr', key: 'n', delta: 1 }, { clientId: 'c', seq: 1 });
  cluster.deliverAll();
  t.equal(cluster.outcomes.get(first)?.status, 'ok');
  const second = cluster.propose(1, { kind: 'incr', key: 'n', delta: 1 }, { clientId: 'c', seq: 2, ackedThrough: 1 });
  cluster.deliverAll();
  t.match(cluster.outcomes.get(second), { status: 'ok', result: { value: 2 } });
  const stale = cluster.propose(1, { kind: 'incr', key: 'n', delta: 1 }, { clientId: 'c', seq: 1 });
  t.match(cluster.outcomes.get(stale), { status: 'rejected', reason: /watermark/ }, 'a retry below the watermark is rejected');
  const retry = cluster.propose(1, { kind: 'incr', key: 'n', delta: 1 }, { clientId: 'c', seq: 2 });
  t.match(cluster.outcomes.get(retry), { status: 'ok', result: { value: 2 } }, 'a retry above it still gets the stored result');
});
