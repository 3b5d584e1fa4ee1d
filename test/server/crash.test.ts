// kill -9 of real traft-server processes: failover keeps every acknowledged write, and a node
// killed under load restarts from its WAL and converges with the others.
import t from 'tap';
import { sleep, TestCluster } from './cluster.js';
import { AdminClient } from '../../server/client/admin-client.js';

t.test('leader kill -9 keeps acked writes', async (t) => {
  const cluster = await TestCluster.start({ size: 3 });
  t.teardown(() => cluster.stop());
  const oldLeader = await cluster.waitForLeader();
  const client = await cluster.client();

  const acked = new Map<string, number>();
  for (let i = 0; i < 40; i++) {
    const outcome = await client.put(`k${i % 10}`, i);
    if (outcome.type === 'ok') {
      acked.set(`k${i % 10}`, i);
    }
  }
  t.equal(acked.size, 10, 'writes acknowledged before the kill');

  await cluster.kill9(oldLeader);
  const newLeader = await cluster.waitForLeader(20_000, [1, 2, 3].filter((id) => id !== oldLeader));
  t.not(newLeader, oldLeader, `node ${newLeader} took over from ${oldLeader}`);

  for (const [key, value] of acked) {
    const read = await cluster.untilOk(() => client.get(key));
    t.same(read.type === 'ok' ? read.value : read, value, `${key} survived the failover`);
  }
  t.equal((await cluster.untilOk(() => client.put('after', 1))).type, 'ok', 'new leader accepts writes');
});

t.test('restart from WAL after kill -9 under load', async (t) => {
  const cluster = await TestCluster.start({ size: 3 });
  t.teardown(() => cluster.stop());
  const leader = await cluster.waitForLeader();
  const victim = [1, 2, 3].find((id) => id !== leader)!;
  const clients = await Promise.all([0, 1, 2, 3].map(() => cluster.client()));

  const acked = new Map<string, number>();
  let writing = true;
  const writers = clients.map(async (client, c) => {
    let i = 0;
    while (writing) {
      const key = `w${c}-${i % 8}`;
      const outcome = await client.put(key, i);
      if (outcome.type === 'ok') {
        acked.set(key, i);
      }
      i++;
    }
  });

  await sleep(700);
  await cluster.kill9(victim);
  await sleep(500);
  cluster.startNode(victim);
  await sleep(700);
  writing = false;
  await Promise.all(writers);
  t.ok(acked.size > 0, `${acked.size} keys written under load`);

  // Every acked write reads back, and the restarted node converges to the same state.
  const reader = await cluster.client();
  for (const [key, value] of acked) {
    const read = await cluster.untilOk(() => reader.get(key));
    t.same(read.type === 'ok' ? read.value : read, value, `${key} holds its last acknowledged value`);
  }
  const admin = new AdminClient(cluster.endpointOf(victim));
  const leaderAdmin = new AdminClient(cluster.endpointOf(leader));
  t.teardown(() => {
    admin.close();
    leaderAdmin.close();
  });
  const deadline = Date.now() + 15_000;
  let victimHash = '';
  let leaderHash = '';
  while (Date.now() < deadline) {
    victimHash = await admin.stateHash().catch(() => 'unreachable');
    leaderHash = await leaderAdmin.stateHash().catch(() => 'unreachable');
    if (victimHash === leaderHash) {
      break;
    }
    await sleep(200);
  }
  t.equal(victimHash, leaderHash, 'restarted node converges to the leader state hash');
  t.same(await admin.checkInvariants(), [], 'restarted node reports no invariant violation');
});
