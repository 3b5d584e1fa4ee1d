// A 3-node and a 1-node traft-server cluster on loopback: election, the KV commands, and reads
// that observe every acknowledged write.
import t from 'tap';
import { TestCluster } from './cluster.js';

t.test('3-node cluster serves kv commands', async (t) => {
  const cluster = await TestCluster.start({ size: 3 });
  t.teardown(() => cluster.stop());

  const leaderId = await cluster.waitForLeader();
  t.ok(leaderId >= 1 && leaderId <= 3, `leader ${leaderId} elected`);

  const client = await cluster.client();
  const put = await cluster.untilOk(() => client.put('k1', 'v1'));
  t.same(put.type, 'ok', 'put acknowledged');
  t.same(await client.get('k1'), { type: 'ok', value: 'v1', result: { kind: 'value', value: 'v1' } }, 'get sees the put');

  const swapped = await client.cas('k1', 'v1', 'v2');
  t.equal(swapped.type, 'ok', 'cas with the right expected value swaps');
  const mismatch = await client.cas('k1', 'v1', 'v3');
  t.same(mismatch, { type: 'fail', reason: 'cas-mismatch', value: 'v2' }, 'cas with a stale expected value fails with the current value');
  const absent = await client.cas('fresh', null, 1);
  t.equal(absent.type, 'ok', 'cas from absent (expected null) swaps');

  t.equal((await client.append('list', 1)).type, 'ok', 'append to absent key');
  t.equal((await client.append('list', 2)).type, 'ok', 'append to list');
  const list = await client.get('list');
  t.same(list.type === 'ok' ? list.value : null, [1, 2], 'list holds both appends in order');

  t.equal((await client.incr('n', 5)).type, 'ok', 'incr absent key');
  t.equal((await client.incr('n', -2)).type, 'ok', 'incr by a negative delta');
  const n = await client.get('n');
  t.equal(n.type === 'ok' ? n.value : null, 3, 'counter is 3');

  const txn = await client.txn([
    { f: 'append', key: 'tl', value: 7 },
    { f: 'r', key: 'tl' },
  ]);
  t.equal(txn.type, 'ok', 'txn ok');
  t.same(
    txn.type === 'ok' ? txn.value : null,
    [
      { f: 'append', key: 'tl', value: 7 },
      { f: 'r', key: 'tl', value: [7] },
    ],
    'txn reads its own append',
  );

  t.equal((await client.delete('k1')).type, 'ok', 'delete ok');
  const deleted = await client.get('k1');
  t.equal(deleted.type === 'ok' ? deleted.value : 'missing', null, 'deleted key reads as null');

  const stale = await client.get('n', { consistency: 'stale' });
  t.equal(stale.type, 'ok', 'stale read answers');
});

t.test('writes from many clients are all readable', async (t) => {
  const cluster = await TestCluster.start({ size: 3 });
  t.teardown(() => cluster.stop());
  await cluster.waitForLeader();

  const clients = await Promise.all([1, 2, 3, 4].map(() => cluster.client()));
  const acked = new Map<string, number>();
  await Promise.all(
    clients.map(async (client, c) => {
      for (let i = 0; i < 25; i++) {
        const key = `c${c}-k${i % 5}`;
        const outcome = await client.put(key, i);
        if (outcome.type === 'ok') {
          acked.set(key, i);
        }
      }
    }),
  );
  t.equal(acked.size, 20, 'every key got an acknowledged write');
  const reader = await cluster.client();
  for (const [key, value] of acked) {
    const read = await reader.get(key);
    t.same(read.type === 'ok' ? read.value : read, value, `${key} reads the last acknowledged value`);
  }
});

t.test('single-node cluster works', async (t) => {
  const cluster = await TestCluster.start({ size: 1 });
  t.teardown(() => cluster.stop());
  const leaderId = await cluster.waitForLeader();
  t.equal(leaderId, 1, 'the only node leads');
  const client = await cluster.client();
  t.equal((await client.put('a', { nested: [1, 2] })).type, 'ok', 'put ok');
  const read = await client.get('a');
  t.same(read.type === 'ok' ? read.value : null, { nested: [1, 2] }, 'JSON value round-trips');
});
