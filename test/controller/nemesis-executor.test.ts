// The nemesis executor against a fake cluster: leader pauses, their heal, and client link drops.
import { pino } from 'pino';
import t from 'tap';
import type { Cluster } from '../../controller/cluster.js';
import { Nemesis } from '../../controller/nemesis.js';
import { CLIENTS_ID } from '../../controller/proxy.js';
import type { HistoryRecorder } from '../../controller/recorder.js';

interface Recorded {
  type: string;
  f: string;
  value: { targets: number[]; durationMs?: number };
}

/** Builds a cluster that only logs what the nemesis does to it. */
function fakeCluster() {
  const calls: string[] = [];
  const cluster = {
    pause: (id: number) => calls.push(`pause ${id}`),
    resume: (id: number) => calls.push(`resume ${id}`),
    mesh: {
      apply: () => calls.push('apply'),
      healAll: () => calls.push('heal'),
      linkList: () => [[1, 2], [2, 1]],
      clientLinkList: () => [[CLIENTS_ID, 1], [CLIENTS_ID, 2]],
      dropConnections: (from: number, to: number) => {
        calls.push(`drop ${from}->${to}`);
        return 1;
      },
    },
  };
  return { cluster: cluster as unknown as Cluster, calls };
}

function fakeRecorder(): { recorder: HistoryRecorder; ops: Recorded[] } {
  const ops: Recorded[] = [];
  const recorder = { record: (op: Recorded) => ops.push(op) } as unknown as HistoryRecorder;
  return { recorder, ops };
}

const silent = pino({ level: 'silent' });

t.test('leader pauses follow the leader and end with the heal', async (t) => {
  let current = 1;
  const fake = fakeCluster();
  const { recorder, ops } = fakeRecorder();
  const rpcTimeoutMs = 100;
  const nemesis = new Nemesis(fake.cluster, recorder, async () => current, silent, rpcTimeoutMs);

  await nemesis.apply({ kind: 'pause', mode: 'leader', order: [1, 2, 3], burstSeed: 7 });
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.same(nemesis.active.paused, [1], 'the leader is paused at once');
  current = 2;
  await new Promise((resolve) => setTimeout(resolve, 2000));
  await nemesis.healAll();

  t.same(nemesis.active.paused, [], 'nothing stays paused after the heal');
  const pauses = ops.filter((op) => op.f === 'pause' && op.type === 'info');
  const resumes = ops.filter((op) => op.f === 'resume' && op.type === 'info');
  t.ok(pauses.length >= 2, `several pauses (${pauses.length})`);
  t.equal(resumes.length, pauses.length, 'every pause has its resume');
  t.same(pauses[0]?.value.targets, [1]);
  t.same(pauses[1]?.value.targets, [2], 'the next pause targets the new leader');
  for (const pause of pauses) {
    const durationMs = pause.value.durationMs ?? 0;
    t.ok(durationMs >= 1.3 * rpcTimeoutMs && durationMs <= 1.9 * rpcTimeoutMs, `duration ${durationMs} ms within 1.3-1.9 rpc timeouts`);
  }
});

t.test('heal waits for two pauses', async (t) => {
  const fake = fakeCluster();
  const { recorder, ops } = fakeRecorder();
  const nemesis = new Nemesis(fake.cluster, recorder, async () => 1, silent, 200);

  await nemesis.apply({ kind: 'pause', mode: 'leader', order: [1, 2, 3], burstSeed: 3 });
  await new Promise((resolve) => setTimeout(resolve, 20));
  const healStartMs = Date.now();
  await nemesis.healAll();
  const healMs = Date.now() - healStartMs;

  const pause = ops.find((op) => op.f === 'pause' && op.type === 'info');
  t.ok(pause !== undefined);
  t.ok(healMs >= (pause?.value.durationMs ?? 0) - 40, `the heal waited ${healMs} ms for the pause to end`);
  t.same(fake.calls.slice(-1), ['resume 1']);
  t.equal(ops.filter((op) => op.f === 'pause' && op.type === 'info').length, 2, 'an early heal still gets two pauses');
});

t.test('partitions drop every client link now and then', async (t) => {
  const fake = fakeCluster();
  const { recorder } = fakeRecorder();
  const nemesis = new Nemesis(fake.cluster, recorder, async () => 1, silent, 100);

  await nemesis.apply({ kind: 'partition', shape: 'halves', order: [1, 2, 3], inbound: false, dropSeed: 5 });
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await nemesis.healAll();
  const dropsAtHeal = fake.calls.filter((call) => call.startsWith('drop')).length;
  await new Promise((resolve) => setTimeout(resolve, 700));

  t.ok(fake.calls.includes(`drop ${CLIENTS_ID}->1`), 'client link to node 1 dropped');
  t.ok(fake.calls.includes(`drop ${CLIENTS_ID}->2`), 'client link to node 2 dropped');
  t.equal(fake.calls.filter((call) => call.startsWith('drop')).length, dropsAtHeal, 'no drops after the heal');
});
