// Membership changes and snapshots on small in-memory clusters: learners, direct versus joint
// changes, one pending change at a time, removing the leader, and purge plus InstallSnapshot.
import t from 'tap';
import { majorityConfig } from './quorum.js';
import { RESEND_DELAY_HEARTBEATS } from './replication.js';
import { HEARTBEAT_TICKS, TestCluster } from './test-cluster.js';
import type { ClusterConfig } from './types.js';

function configsInLog(cluster: TestCluster, id: number): ClusterConfig[] {
  const records = [...cluster.node(id).dump().records.values()].sort((a, b) => a.seq - b.seq);
  return records.flatMap((r) => (r.command.kind === 'config' ? [r.command.config] : []));
}

t.test('learners replicate but never campaign', async (t) => {
  const cluster = new TestCluster({ size: 5, voters: [1, 2, 3] });
  cluster.campaign(1);
  const put = cluster.propose(1, { kind: 'put', key: 'x', value: 1 });
  cluster.tick(3);
  t.equal(cluster.outcomes.get(put)?.status, 'ok');
  t.equal(cluster.node(4).kvGet('x'), 1, 'learner 4 applied the write');
  cluster.node(4).campaign();
  cluster.process(4);
  t.equal(cluster.node(4).status().role, 'follower', 'a learner does not campaign');
});

t.test('config change picks direct or joint', async (t) => {
  const cases = [
    { name: 'adding one voter is direct', from: [1, 2, 3], to: [1, 2, 3, 4], records: 1 },
    { name: 'adding two voters goes through joint', from: [1, 2, 3], to: [1, 2, 3, 4, 5], records: 2 },
    { name: 'replacing two voters goes through joint', from: [1, 2, 3], to: [1, 4, 5], records: 2 },
  ];
  for (const testCase of cases) {
    const cluster = new TestCluster({ size: 5, voters: testCase.from });
    cluster.campaign(1);
    const target = majorityConfig(cluster.config.members, testCase.to);
    const change = cluster.changeConfig(1, target);
    cluster.tick(6);
    t.match(cluster.outcomes.get(change), { status: 'ok' }, `${testCase.name}: completes`);
    const configs = configsInLog(cluster, 1);
    t.equal(configs.length, testCase.records, `${testCase.name}: ${testCase.records} config records`);
    t.same(configs[configs.length - 1], target, `${testCase.name}: the last record is the target`);
    t.same(cluster.node(2).status().config, target, `${testCase.name}: followers use the target`);
    const put = cluster.propose(1, { kind: 'put', key: 'after', value: 1 });
    cluster.tick(3);
    t.equal(cluster.outcomes.get(put)?.status, 'ok', `${testCase.name}: writes commit afterwards`);
  }
});

t.test('one pending config change at a time', async (t) => {
  const cluster = new TestCluster({ size: 5, voters: [1, 2, 3] });
  cluster.campaign(1);
  const first = cluster.changeConfig(1, majorityConfig(cluster.config.members, [1, 2, 3, 4]));
  const second = cluster.changeConfig(1, majorityConfig(cluster.config.members, [1, 2, 3, 5]));
  t.match(cluster.outcomes.get(second), { status: 'rejected' }, 'the second change is rejected');
  cluster.tick(4);
  t.match(cluster.outcomes.get(first), { status: 'ok' }, 'the first change completes');
});

t.test('invalid target config is rejected', async (t) => {
  const cluster = new TestCluster({ size: 3 });
  cluster.campaign(1);
  const bad: ClusterConfig = {
    members: cluster.config.members,
    families: [{ kind: 'explicit', quorums: [[0], [1]] }],
  };
  const change = cluster.changeConfig(1, bad);
  t.match(cluster.outcomes.get(change), { status: 'rejected' });
  const moved = cluster.changeConfig(1, majorityConfig([{ id: 1, addr: 'a', position: 5 }, ...cluster.config.members.slice(1)]));
  t.match(cluster.outcomes.get(moved), { status: 'rejected', reason: /position/ }, 'a member may not change position');
});

t.test('removing the leader makes it step down', async (t) => {
  const cluster = new TestCluster({ size: 4 });
  cluster.campaign(1);
  const change = cluster.changeConfig(1, majorityConfig(cluster.config.members, [2, 3, 4]));
  cluster.tick(6);
  t.match(cluster.outcomes.get(change), { status: 'ok' });
  t.equal(cluster.node(1).status().role, 'follower', 'the removed leader stepped down');
  cluster.tick(40);
  const leader = cluster.leader();
  t.ok(leader !== null && leader !== 1, 'a remaining voter leads');
});

t.test('lagging follower catches up through a snapshot', async (t) => {
  const cluster = new TestCluster({ size: 3, checkpointEveryApplied: 4, roundTrip: true });
  cluster.campaign(1);
  cluster.crash(3);
  for (let k = 0; k < 20; k++) cluster.propose(1, { kind: 'incr', key: 'n', delta: 1 });
  cluster.tick(3);
  t.ok(cluster.node(1).status().floor > 0, 'the leader purged its log');
  cluster.restart(3);
  cluster.tick(30);
  const installed = (cluster.events.get(3) ?? []).some((e) => e.type === 'snapshot' && e.installed);
  t.ok(installed, 'node 3 installed a snapshot');
  t.equal(cluster.node(3).kvGet('n'), 20, 'node 3 converged');
  t.equal(cluster.node(3).stateHash(), cluster.node(1).stateHash(), 'state hashes match');

  cluster.crash(1);
  cluster.restart(1);
  cluster.tick(2);
  t.equal(cluster.node(1).kvGet('n'), 20, 'a restart from the checkpoint keeps the state');
});

t.test('in-order commit waits for the prefix', async (t) => {
  const cluster = new TestCluster({ size: 3, commitOrder: 'in-order' });
  cluster.campaign(1);
  cluster.dropIf = (msg) => msg.type === 'log-forward' && msg.records.some((r) => r.seq === 0);
  const first = cluster.propose(1, { kind: 'put', key: 'a', value: 1 });
  const second = cluster.propose(1, { kind: 'put', key: 'b', value: 2 });
  cluster.deliverAll();
  t.notOk(cluster.outcomes.has(second), 'the later write waits for the hole below it');
  cluster.heal();
  cluster.tick((RESEND_DELAY_HEARTBEATS + 1) * HEARTBEAT_TICKS);
  t.equal(cluster.outcomes.get(first)?.status, 'ok');
  t.equal(cluster.outcomes.get(second)?.status, 'ok');
});

t.test('candidate fetches purged positions from a voter', async (t) => {
  const cluster = new TestCluster({ size: 3, checkpointEveryApplied: 2 });
  cluster.campaign(1);
  // Node 2 never receives lsns 0..3 nor a snapshot, but receives everything after.
  cluster.dropIf = (msg) =>
    msg.to === 2 && ((msg.type === 'log-forward' && msg.records.some((r) => r.seq < 4)) || msg.type === 'install-snapshot');
  for (let k = 0; k < 4; k++) cluster.propose(1, { kind: 'put', key: `k${k}`, value: k });
  cluster.deliverAll();
  for (let k = 4; k < 8; k++) cluster.propose(1, { kind: 'put', key: `k${k}`, value: k });
  cluster.tick(3);
  t.ok(cluster.node(3).status().floor >= 4, 'node 3 purged lsns 0..3');
  t.notOk(cluster.node(2).dump().accepted.has(0), 'node 2 lacks lsn 0');

  cluster.crash(1);
  cluster.heal();
  cluster.campaign(2);
  t.equal(cluster.leader(), 2, 'node 2 wins after fetching the snapshot');
  t.ok((cluster.events.get(2) ?? []).some((e) => e.type === 'snapshot' && e.installed), 'node 2 installed the voter snapshot');
  cluster.tick(2);
  for (let k = 0; k < 8; k++) t.equal(cluster.node(2).kvGet(`k${k}`), k, `k${k} survived`);
});
