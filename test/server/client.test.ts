// Client outcomes without a usable leader: refusals and calls that never found a connection are
// definite failures. Transport errors after sending stay unknown (see batch-client.test.ts).
import t from 'tap';
import { TraftClient } from '../../server/client/client.js';
import { freePort, TestCluster } from './cluster.js';

t.test('put without a leader fails', async (t) => {
  // Three members configured, one running: it can never win an election.
  const cluster = await TestCluster.start({ size: 0 });
  t.teardown(() => cluster.stop());
  for (const id of [1, 2, 3]) {
    await cluster.addSpec(id);
  }
  cluster.startNode(1);
  const client = await TraftClient.connect([cluster.endpointOf(1)], { rpcTimeoutMs: 1500 });
  t.teardown(() => client.close());
  const up = await cluster.untilOk(() => client.status(cluster.endpointOf(1)));
  t.equal(up.type, 'ok', 'node 1 is up');

  const outcome = await client.put('k', 1);
  t.equal(outcome.type, 'fail', 'no leader means the write was definitely not executed');
  t.match(outcome.type === 'fail' ? outcome.reason : '', /not executed/, 'reason says it was not executed');
});

t.test('put to a dead endpoint fails', async (t) => {
  const port = await freePort();
  const client = await TraftClient.connect([`127.0.0.1:${port}`], { rpcTimeoutMs: 800 });
  t.teardown(() => client.close());
  const outcome = await client.put('k', 1);
  t.equal(outcome.type, 'fail', 'with no connection the write never left the client');
  t.match(outcome.type === 'fail' ? outcome.reason : '', /not executed/, 'the reason says it was not executed');
});
