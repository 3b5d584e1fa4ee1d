// The driver's durability order against a real core node: a leader's LogForward requests leave
// during its own fsync, while votes, hard-state messages and client replies wait for it.
import t from 'tap';
import { pino } from 'pino';
import { decodePersistBatch } from './core/codec.js';
import { TraftNode } from './core/node.js';
import { majorityConfig } from './core/quorum.js';
import { seededRandom } from './core/test-cluster.js';
import type { ClientOutcome, Message, PersistOp } from './core/types.js';
import { Driver, type DurableLog, type PeerSender } from './driver.js';

/** A log whose writes become durable only when the test calls syncAll(). */
class ManualLog implements DurableLog {
  readonly pending: { ops: PersistOp[]; sync: boolean; resolve: () => void }[] = [];

  persist(batch: Uint8Array, options: { sync?: boolean } = {}): Promise<void> {
    return new Promise((resolve) => this.pending.push({ ops: decodePersistBatch(batch), sync: options.sync ?? true, resolve }));
  }

  checkpoint(): Promise<void> {
    return Promise.reject(new Error('checkpoints are off in this test'));
  }

  /** Makes every write so far durable. */
  syncAll(): void {
    for (const write of this.pending.splice(0)) write.resolve();
  }
}

class Outbox implements PeerSender {
  sent: Message[] = [];

  send(message: Message): void {
    this.sent.push(message);
  }

  take(): Message[] {
    return this.sent.splice(0);
  }
}

const members = [1, 2, 3].map((id) => ({ id, addr: `127.0.0.1:${7000 + id}`, position: id - 1 }));
const config = majorityConfig(members);

function newNode(id: number): TraftNode {
  return new TraftNode({ id, clusterId: 'c', bootstrap: config, electionTimeoutTicks: 10, heartbeatTicks: 2, random: seededRandom(id) });
}

/** Lets the driver's setImmediate loop and promise chains run. */
async function settle(): Promise<void> {
  for (let k = 0; k < 5; k++) await new Promise((resolve) => setImmediate(resolve));
}

/** Steps a request into follower `node` as a driver would, and returns its replies. */
function stepFollower(node: TraftNode, message: Message): Message[] {
  node.step(message);
  const replies: Message[] = [];
  while (node.hasReady()) {
    const ready = node.ready();
    replies.push(...ready.messages);
    node.advance(ready);
  }
  return replies;
}

async function startLeader(t: { teardown(fn: () => void): void; fail(message: string): void }) {
  const log = new ManualLog();
  const outbox = new Outbox();
  const followers = new Map([2, 3].map((id) => [id, newNode(id)]));
  const leader = newNode(1);
  const driver = new Driver({
    node: leader,
    log,
    peers: outbox,
    logger: pino({ level: 'silent' }),
    ackBeforeFsync: false,
    clientRequestTimeoutMs: 60_000,
    onFatal: (error) => t.fail(`driver failed: ${error.message}`),
  });
  t.teardown(() => driver.stop());

  /** Syncs every write and routes messages both ways until nothing moves. */
  const exchange = async (): Promise<void> => {
    for (let round = 0; round < 20; round++) {
      log.syncAll();
      await settle();
      const messages = outbox.take();
      if (messages.length === 0 && log.pending.length === 0) return;
      for (const message of messages) {
        for (const reply of stepFollower(followers.get(message.to)!, message)) driver.deliverReply(reply);
      }
      await settle();
    }
  };
  return { log, outbox, followers, leader, driver, exchange };
}

t.test('driver sends LogForward during fsync', async (t) => {
  const { log, outbox, followers, leader, driver, exchange } = await startLeader(t);

  driver.campaign();
  await settle();
  t.ok(log.pending.some((write) => write.ops.some((op) => op.type === 'hard-state')), 'the campaign persists the vote');
  t.equal(outbox.sent.length, 0, 'no Elect leaves before the vote is durable');

  await exchange();
  t.equal(leader.status().role, 'leader', 'node 1 leads');
  t.ok(leader.status().ready, 'the leader committed its base');

  let outcome: ClientOutcome | null = null;
  void driver.propose({ kind: 'put', key: 'k', value: 1 }, undefined).then((result) => (outcome = result));
  await settle();
  t.equal(log.pending.length, 1, 'the put is written as one batch');
  t.ok(log.pending[0]!.ops.every((op) => op.type === 'records'), 'the batch contains only the record');
  const forwards = outbox.take();
  t.same(forwards.map((m) => [m.type, m.to]), [['log-forward', 2], ['log-forward', 3]], 'LogForwards leave before the fsync');

  for (const message of forwards) {
    for (const reply of stepFollower(followers.get(message.to)!, message)) driver.deliverReply(reply);
  }
  await settle();
  const records = log.pending[0]!.ops[0]!;
  const lsn = records.type === 'records' ? records.records[0]!.seq : -1;
  t.equal(leader.status().committed.len, lsn + 1, 'two follower acks commit the record');
  t.equal(outcome, null, 'the client reply waits for the leader fsync');

  log.syncAll();
  await settle();
  t.same(outcome, { status: 'ok', result: { kind: 'done' }, lsn }, 'the client reply follows the fsync');
});

t.test('driver holds LogForward behind a switch', async (t) => {
  const { log, outbox, followers, leader, driver } = await startLeader(t);
  driver.campaign();
  await settle();
  log.syncAll();
  await settle();
  for (const message of outbox.take()) {
    for (const reply of stepFollower(followers.get(message.to)!, message)) driver.deliverReply(reply);
  }
  await settle();
  t.equal(leader.status().role, 'leader', 'node 1 won the votes');
  const barrier = log.pending.find((write) => write.ops.some((op) => op.type === 'switch' || op.type === 'hard-state'));
  t.ok(barrier, 'becoming leader persists the Committer change');

  void driver.propose({ kind: 'put', key: 'k', value: 2 }, undefined);
  await settle();
  t.ok(log.pending.some((write) => write.ops.every((op) => op.type === 'records')), 'the put is written');
  t.same(outbox.sent.filter((m) => m.type === 'log-forward'), [], 'no LogForward leaves before the Committer change is durable');

  log.syncAll();
  await settle();
  t.ok(outbox.sent.some((m) => m.type === 'log-forward'), 'LogForwards leave once it is durable');
});
