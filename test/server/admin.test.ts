// The admin service of a real server: event stream, state dump, state hash, invariant check and
// campaign trigger, and its absence without --admin.
import * as grpc from '@grpc/grpc-js';
import t from 'tap';
import { AdminClient, type AdminEvent } from '../../server/client/admin-client.js';
import { CallError } from '../../server/transport/grpc.js';
import { sleep, spawnServer, TestCluster } from './cluster.js';

t.test('admin service reports state and events', async (t) => {
  const cluster = await TestCluster.start({ size: 3 });
  t.teardown(() => cluster.stop());
  const leader = await cluster.waitForLeader();
  const admin = new AdminClient(cluster.endpointOf(leader));
  t.teardown(() => admin.close());

  const events: AdminEvent[] = [];
  const cancel = admin.watchEvents((event) => events.push(event));
  t.teardown(cancel);
  await sleep(300);
  const client = await cluster.client();
  t.equal((await client.put('watched', 1)).type, 'ok', 'put ok');
  for (let i = 0; i < 30 && !events.some((e) => e.type === 'apply'); i++) {
    await sleep(100);
  }
  const commit = events.find((e) => e.type === 'commit');
  const apply = events.find((e) => e.type === 'apply');
  t.ok(commit, 'a commit event arrived');
  t.ok(apply, 'an apply event arrived');
  t.match(apply?.event, { type: 'apply', command: { kind: 'put', key: 'watched', value: 1 } }, 'apply event names the command');
  t.ok((apply?.monotonicTimeNs ?? 0n) > 0n, 'event has a monotonic timestamp');
  t.ok(Math.abs((apply?.wallTimeMs ?? 0) - Date.now()) < 60_000, 'event has a wall-clock timestamp');

  const dump = (await admin.dumpState()) as { role: string; votedFor: { id: number }; records: unknown[] };
  t.equal(dump.role, 'leader', 'dump shows the leader role');
  t.equal(dump.votedFor.id, leader, 'dump shows its own ballot');
  t.ok(dump.records.length > 0, 'dump lists records');
  t.same(await admin.checkInvariants(), [], 'no invariant violation');
  t.same(await admin.checkInvariants(), [], 'no violation on a second check either');

  const hashes = new Set<string>();
  for (let i = 0; i < 50; i++) {
    hashes.clear();
    for (const id of [1, 2, 3]) {
      const other = new AdminClient(cluster.endpointOf(id));
      hashes.add(await other.stateHash());
      other.close();
    }
    if (hashes.size === 1) {
      break;
    }
    await sleep(100);
  }
  t.equal(hashes.size, 1, 'every node reaches the same state hash');

  const follower = [1, 2, 3].find((id) => id !== leader)!;
  const followerAdmin = new AdminClient(cluster.endpointOf(follower));
  t.teardown(() => followerAdmin.close());
  await followerAdmin.campaignNow();
  const newLeader = await cluster.waitForLeader(15_000, [follower]);
  t.equal(newLeader, follower, `campaign moves leadership to node ${follower}`);
});

t.test('admin service is absent without --admin', async (t) => {
  const cluster = await TestCluster.start({ size: 0 });
  t.teardown(() => cluster.stop());
  const spec = await cluster.addSpec(1);
  // argsFor always adds --admin, so it is filtered out here.
  const args = cluster.argsFor(spec).filter((arg) => arg !== '--admin');
  cluster.nodes.set(1, spawnServer(args, spec));
  await cluster.waitForLeader();
  const admin = new AdminClient(cluster.endpointOf(1));
  t.teardown(() => admin.close());
  const error = await admin.stateHash().then(
    () => null,
    (e: unknown) => e,
  );
  t.ok(error instanceof CallError, 'state hash fails');
  t.equal(error instanceof CallError ? grpc.status[error.code] : '', 'UNIMPLEMENTED', 'with UNIMPLEMENTED');
});
