// Unit tests for the simulator's parts: the seeded generator, the virtual network and disk,
// and the per-key linearizability check.
import t from 'tap';
import { Prng } from '../../server/sim/prng.js';
import { VirtualNetwork, RELIABLE_LINK } from '../../server/sim/network.js';
import { VirtualDisk } from '../../server/sim/disk.js';
import { checkLinearizable, type SimOp } from '../../server/sim/history.js';
import type { Message, PersistOp } from '../../server/core/types.js';

t.test('prng replays the same stream', async (t) => {
  const a = new Prng(42);
  const b = new Prng(42);
  const c = new Prng(43);
  const xs = Array.from({ length: 20 }, () => a.nextUint32());
  const ys = Array.from({ length: 20 }, () => b.nextUint32());
  const zs = Array.from({ length: 20 }, () => c.nextUint32());
  t.same(xs, ys);
  t.not(JSON.stringify(xs), JSON.stringify(zs));
});

t.test('prng floats and ranges stay in bounds', async (t) => {
  const r = new Prng(7);
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < 4000; i++) {
    const f = r.next();
    t.ok(f >= 0 && f < 1, 'float in [0,1)');
    const k = r.between(0, 3);
    counts[k]++;
  }
  for (const n of counts) t.ok(n > 800 && n < 1200, `bucket count ${n} is near 1000`);
});

function heartbeat(from: number, to: number, requestId: number): Message {
  return { clusterId: 'x', from, to, requestId, type: 'fetch-snapshot', ballot: { term: 1, id: from } };
}

t.test('network delivers in delay order', async (t) => {
  const net = new VirtualNetwork(new Prng(1), { ...RELIABLE_LINK, delayMinMs: 1, delayMaxMs: 50 }, (m) => ({ ...m }));
  for (let i = 0; i < 50; i++) net.send(heartbeat(0, 1, i), 0);
  let last = -1;
  const seen = new Set<number>();
  let reordered = false;
  let previousId = -1;
  while (net.inFlightCount() > 0) {
    const at = net.nextDeliveryMs();
    t.ok(at >= last, 'delivery times never go back');
    last = at;
    const next = net.popNext();
    if (next === undefined) break;
    if (next.message.requestId < previousId) reordered = true;
    previousId = next.message.requestId;
    seen.add(next.message.requestId);
  }
  t.equal(seen.size, 50, 'every message arrives once');
  t.ok(reordered, 'random delays reorder messages');
});

t.test('network cut drops one direction only', async (t) => {
  const net = new VirtualNetwork(new Prng(2), RELIABLE_LINK, (m) => m);
  net.cutOneWay(0, 1);
  net.send(heartbeat(0, 1, 1), 0);
  net.send(heartbeat(1, 0, 2), 0);
  const arrived: number[] = [];
  for (let next = net.popNext(); next !== undefined; next = net.popNext()) if (!next.lost) arrived.push(next.message.requestId);
  t.same(arrived, [2]);
  net.heal();
  net.send(heartbeat(0, 1, 3), 0);
  t.equal(net.popNext()?.message.requestId, 3);
});

t.test('network partition loses messages in flight', async (t) => {
  const net = new VirtualNetwork(new Prng(3), RELIABLE_LINK, (m) => m);
  net.send(heartbeat(0, 2, 1), 0);
  net.partition([[0, 1], [2]]);
  const next = net.popNext();
  t.equal(next?.lost, true);
});

t.test('network loss and duplication rates', async (t) => {
  const net = new VirtualNetwork(new Prng(4), { ...RELIABLE_LINK, lossRate: 0.5, duplicateRate: 0.5 }, (m) => m);
  for (let i = 0; i < 1000; i++) net.send(heartbeat(0, 1, i), 0);
  t.ok(net.lostCount > 500 && net.lostCount < 1000, `lost ${net.lostCount} of about 1500 copies`);
  t.ok(net.duplicatedCount > 400 && net.duplicatedCount < 600, `duplicated ${net.duplicatedCount} of 1000`);
});

t.test('network held mode waits for the script', async (t) => {
  const net = new VirtualNetwork(new Prng(5), RELIABLE_LINK, (m) => ({ ...m }));
  net.holdAll = true;
  net.send(heartbeat(0, 1, 1), 0);
  net.send(heartbeat(0, 2, 2), 0);
  t.equal(net.inFlightCount(), 0);
  t.equal(net.heldMessages().length, 2);
  const taken = net.takeHeld((m) => m.to === 2);
  t.same(taken.map((m) => m.requestId), [2]);
  t.equal(net.heldMessages().length, 1);
});

const jsonCodec = {
  encode: (ops: PersistOp[]) => new TextEncoder().encode(JSON.stringify(ops)),
  decode: (bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes)) as PersistOp[],
  size: (bytes: Uint8Array) => bytes.length,
};
const hs = (term: number): PersistOp => ({ type: 'hard-state', hardState: { votedFor: { term, id: 0 }, committer: null } });

t.test('disk keeps synced batches through a crash', async (t) => {
  const disk = new VirtualDisk(jsonCodec);
  disk.write([hs(1)], true);
  disk.write([hs(2)], false);
  disk.crash(true, new Prng(1));
  t.same(disk.readAll(), [hs(1)], 'the unsynced batch is lost');
  disk.write([hs(3)], false);
  disk.write([hs(4)], true);
  disk.crash(true, new Prng(1));
  t.same(disk.readAll(), [hs(1), hs(3), hs(4)], 'a later fsync makes earlier writes durable');
});

t.test('disk keeps unsynced batches without loss', async (t) => {
  const disk = new VirtualDisk(jsonCodec);
  disk.write([hs(1)], false);
  disk.crash(false, new Prng(1));
  t.same(disk.readAll(), [hs(1)]);
});

t.test('disk purges before a durable checkpoint', async (t) => {
  const disk = new VirtualDisk(jsonCodec);
  disk.write([hs(1)], true);
  const checkpoint = { type: 'checkpoint', hardState: { votedFor: { term: 2, id: 0 }, committer: null } } as unknown as PersistOp;
  disk.write([checkpoint], true);
  disk.write([hs(3)], true);
  t.equal(disk.batchCount(), 2);
  t.same(disk.readAll(), [checkpoint, hs(3)]);
});

function op(id: number, clientId: string, command: SimOp['command'], invokeMs: number, completeMs: number, status: SimOp['status'], result?: SimOp['result']): SimOp {
  return { id, clientId, command, invokeMs, completeMs, status, result };
}

t.test('linearizable register history passes', async (t) => {
  const history = [
    op(0, 'a', { kind: 'put', key: 'x', value: 1 }, 0, 10, 'ok', { kind: 'done' }),
    op(1, 'b', { kind: 'read', key: 'x' }, 5, 15, 'ok', { kind: 'value', value: 1 }),
    op(2, 'a', { kind: 'cas', key: 'x', expected: 1, value: 2 }, 20, 30, 'ok', { kind: 'cas', swapped: true, current: 1 }),
    op(3, 'b', { kind: 'read', key: 'x' }, 31, 40, 'ok', { kind: 'value', value: 2 }),
  ];
  t.equal(checkLinearizable(history).valid, true);
});

t.test('stale read is not linearizable', async (t) => {
  const history = [
    op(0, 'a', { kind: 'put', key: 'x', value: 1 }, 0, 10, 'ok', { kind: 'done' }),
    op(1, 'a', { kind: 'put', key: 'x', value: 2 }, 11, 20, 'ok', { kind: 'done' }),
    op(2, 'b', { kind: 'read', key: 'x' }, 21, 30, 'ok', { kind: 'value', value: 1 }),
  ];
  const verdict = checkLinearizable(history);
  t.equal(verdict.valid, false);
  t.match(verdict.failures[0], /key x/);
});

t.test('unknown write may take effect or not', async (t) => {
  const maybe = op(0, 'a', { kind: 'put', key: 'x', value: 1 }, 0, Infinity, 'unknown');
  const seen = op(1, 'b', { kind: 'read', key: 'x' }, 50, 60, 'ok', { kind: 'value', value: 1 });
  const notSeen = op(1, 'b', { kind: 'read', key: 'x' }, 50, 60, 'ok', { kind: 'value', value: null });
  t.equal(checkLinearizable([maybe, seen]).valid, true);
  t.equal(checkLinearizable([maybe, notSeen]).valid, true);
});

t.test('duplicate append is caught', async (t) => {
  const history = [
    op(0, 'a', { kind: 'append', key: 'l', value: 1 }, 0, 10, 'ok', { kind: 'done' }),
    op(1, 'b', { kind: 'read', key: 'l' }, 20, 30, 'ok', { kind: 'value', value: [1, 1] }),
  ];
  t.equal(checkLinearizable(history).valid, false);
});

t.test('txn reads checked per key', async (t) => {
  const history = [
    op(0, 'a', { kind: 'txn', ops: [{ f: 'append', key: 'l', value: 1 }, { f: 'r', key: 'l' }] }, 0, 10, 'ok', {
      kind: 'txn',
      ops: [{ f: 'append', key: 'l', value: 1 }, { f: 'r', key: 'l', value: [1] }],
    }),
    op(1, 'b', { kind: 'txn', ops: [{ f: 'r', key: 'l' }] }, 20, 30, 'ok', { kind: 'txn', ops: [{ f: 'r', key: 'l', value: [] }] }),
  ];
  t.equal(checkLinearizable(history).valid, false, 'a read of [] after [1] was visible is stale');
});

t.test('failed cas leaves value and reports it', async (t) => {
  const history = [
    op(0, 'a', { kind: 'put', key: 'x', value: 5 }, 0, 10, 'ok', { kind: 'done' }),
    op(1, 'b', { kind: 'cas', key: 'x', expected: 4, value: 6 }, 20, 30, 'ok', { kind: 'cas', swapped: false, current: 5 }),
    op(2, 'b', { kind: 'cas', key: 'x', expected: 4, value: 6 }, 40, 50, 'ok', { kind: 'cas', swapped: true, current: 5 }),
  ];
  t.equal(checkLinearizable(history.slice(0, 2)).valid, true);
  t.equal(checkLinearizable(history).valid, false);
});
