// Membership changes on a live cluster: add a learner, promote it to voter, remove a member.
import t from 'tap';
import type { ClusterConfig } from '../../server/core/types.js';
import { isVoter } from '../../server/core/quorum.js';
import { sleep, TestCluster } from './cluster.js';

t.test('add and remove a member on a live cluster', async (t) => {
  const cluster = await TestCluster.start({ size: 3 });
  t.teardown(() => cluster.stop());
  await cluster.waitForLeader();
  const client = await cluster.client({ rpcTimeoutMs: 8000 });
  t.equal((await cluster.untilOk(() => client.put('before', 1))).type, 'ok', 'write before the change');

  // Node 4 starts with --join, so it is a learner in its own config and never campaigns.
  const spec = await cluster.addSpec(4);
  cluster.startNode(4, ['--join']);
  const added = await client.addLearner(4, `127.0.0.1:${spec.port}`);
  t.equal(added.type, 'ok', `add learner: ${JSON.stringify(added)}`);
  const afterAdd = added.type === 'ok' ? (added.value as unknown as ClusterConfig) : null;
  t.ok(afterAdd?.members.some((m) => m.id === 4), 'node 4 is a member');
  t.notOk(afterAdd && isVoter(afterAdd, 4), 'node 4 is not a voter yet');

  const promoted = await client.changeConfig([1, 2, 3, 4]);
  t.equal(promoted.type, 'ok', `promote node 4: ${JSON.stringify(promoted)}`);
  const afterPromote = promoted.type === 'ok' ? (promoted.value as unknown as ClusterConfig) : null;
  t.ok(afterPromote && isVoter(afterPromote, 4), 'node 4 is a voter');

  // The new member catches up: a stale read on node 4 returns a write made before it joined.
  const direct = await (await import('../../server/client/client.js')).TraftClient.connect([cluster.endpointOf(4)], { rpcTimeoutMs: 2000 });
  t.teardown(() => direct.close());
  let seen: unknown = null;
  for (let i = 0; i < 50 && seen !== 1; i++) {
    const read = await direct.get('before', { consistency: 'stale' });
    seen = read.type === 'ok' ? read.value : null;
    await sleep(100);
  }
  t.equal(seen, 1, 'node 4 holds the earlier write');

  const removed = await client.removeMember(1);
  t.equal(removed.type, 'ok', `remove node 1: ${JSON.stringify(removed)}`);
  const afterRemove = removed.type === 'ok' ? (removed.value as unknown as ClusterConfig) : null;
  t.notOk(afterRemove?.members.some((m) => m.id === 1), 'node 1 is no longer a member');

  await cluster.waitForLeader(20_000, [2, 3, 4]);
  t.equal((await cluster.untilOk(() => client.put('after', 2))).type, 'ok', 'cluster accepts writes after removal');
  const read = await cluster.untilOk(() => client.get('before'));
  t.same(read.type === 'ok' ? read.value : read, 1, 'earlier write still readable');
});
