// Process lifecycle of traft-server (SIGTERM, parent death, stdin close) and the client
// deduplication that the planted bug no-dedup turns off.
import { spawn } from 'node:child_process';
import * as grpc from '@grpc/grpc-js';
import t from 'tap';
import { TRaftKV } from '../../proto/gen/traft/v1/kv_pb.js';
import { callUnary } from '../../server/transport/grpc.js';
import { spawnServer, TestCluster, within } from './cluster.js';

t.test('SIGTERM stops the server cleanly', async (t) => {
  const cluster = await TestCluster.start({ size: 1 });
  t.teardown(() => cluster.stop());
  await cluster.waitForLeader();
  const node = cluster.nodes.get(1)!;
  node.child.kill('SIGTERM');
  const exit = await within(node.exited, 10_000, 'server after SIGTERM');
  t.equal(exit.code, 0, 'exit code 0');
  t.ok(node.stdout.some((line) => line.includes('"msg":"stopped"')), 'logs that it stopped');
});

t.test('server exits when its parent dies', async (t) => {
  const cluster = await TestCluster.start({ size: 0 });
  t.teardown(() => cluster.stop());
  const spec = await cluster.addSpec(1);
  // A stand-in parent that lives for 1 s.
  const parent = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 1000)'], { stdio: 'ignore' });
  t.teardown(() => {
    if (parent.exitCode === null) parent.kill('SIGKILL');
  });
  const args = cluster.argsFor(spec).filter((_, i, all) => all[i - 1] !== '--parent-pid' && all[i] !== '--parent-pid');
  const node = spawnServer([...args, '--parent-pid', String(parent.pid)], spec);
  cluster.nodes.set(1, node);
  const exit = await within(node.exited, 10_000, 'server after its parent died');
  t.equal(exit.code, 0, 'exit code 0');
  t.match(node.stdout.join('\n'), /parent process \d+ is gone/, 'logs the reason');
});

t.test('server exits when stdin closes', async (t) => {
  const cluster = await TestCluster.start({ size: 0 });
  t.teardown(() => cluster.stop());
  const spec = await cluster.addSpec(1);
  const node = spawnServer([...cluster.argsFor(spec), '--exit-on-stdin-close'], spec);
  cluster.nodes.set(1, node);
  await cluster.waitForLeader();
  node.child.stdin!.end();
  const exit = await within(node.exited, 10_000, 'server after stdin closed');
  t.equal(exit.code, 0, 'exit code 0');
});

/** Appends 'x' to `key` twice with the same (clientId, seq) and returns the list read back. */
async function appendTwiceSameSeq(cluster: TestCluster, key: string): Promise<unknown> {
  const leader = await cluster.waitForLeader();
  const raw = new grpc.Client(cluster.endpointOf(leader), grpc.credentials.createInsecure());
  try {
    const request = { key, valueJson: '"x"', tag: { clientId: 'retrying-client', seq: 1n } };
    const first = await callUnary(raw, TRaftKV, 'append', request, 5000);
    const second = await callUnary(raw, TRaftKV, 'append', request, 5000);
    if (first.resultJson === '' || second.resultJson === '') {
      throw new Error(`append not acknowledged: ${first.reason} / ${second.reason}`);
    }
  } finally {
    raw.close();
  }
  const client = await cluster.client();
  const read = await client.get(key);
  return read.type === 'ok' ? read.value : read;
}

t.test('retry with the same seq applies once', async (t) => {
  const cluster = await TestCluster.start({ size: 1 });
  t.teardown(() => cluster.stop());
  t.same(await appendTwiceSameSeq(cluster, 'list'), ['x'], 'one append took effect');
});

t.test('no-dedup bug applies a retry twice', async (t) => {
  const cluster = await TestCluster.start({ size: 1, extraArgs: ['--unsafe', 'no-dedup'] });
  t.teardown(() => cluster.stop());
  t.same(await appendTwiceSameSeq(cluster, 'list'), ['x', 'x'], 'both appends took effect');
});
