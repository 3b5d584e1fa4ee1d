// Table tests for the voter's grant rule and the follower's LogForward rule. Each case starts from
// a settled three-node cluster led by node 0, hands node 1 one crafted message from node 2, and
// reads node 1's reply from the network.
import t from 'tap';
import { TailBitmap } from '../../server/core/bitmap.js';
import type { Ballot, LogRecord, Message } from '../../server/core/types.js';
import { Script, match } from '../../server/sim/script.js';

/** A cluster where node 0 leads and every node stores and has committed two records. */
function settledCluster(): { s: Script; leaderBallot: Ballot; accepted: TailBitmap; records: LogRecord[] } {
  const s = new Script({ nodeCount: 3, seed: 11 });
  s.elect(0);
  s.propose(0, { kind: 'put', key: 'a', value: 1 });
  s.propose(0, { kind: 'put', key: 'b', value: 2 });
  s.settle();
  s.tick(0, 5);
  s.settle();
  const view = s.view(1);
  if (view === null) throw new Error('node 1 is down');
  const leaderBallot = s.view(0)?.votedFor;
  if (leaderBallot === undefined) throw new Error('node 0 is down');
  return { s, leaderBallot, accepted: view.accepted, records: [...view.records.values()] };
}

function elect(ballot: Ballot, committer: Ballot | null, accepted: TailBitmap, requestId = 900, clusterId = 'sim'): Message {
  return { clusterId, from: 2, to: 1, requestId, type: 'elect', ballot, committer, accepted, configLsn: -1 };
}

function replyFrom1(s: Script): Extract<Message, { type: 'elect-reply' }> | undefined {
  const replies = s.take(match('elect-reply', 1, 2));
  const reply = replies[replies.length - 1];
  return reply?.type === 'elect-reply' ? reply : undefined;
}

interface ElectCase {
  name: string;
  build: (c: ReturnType<typeof settledCluster>) => Message;
  granted: boolean | 'no-reply';
}

const electCases: ElectCase[] = [
  { name: 'higher term same log', build: (c) => elect({ term: c.leaderBallot.term + 1, id: 2 }, c.leaderBallot, c.accepted), granted: true },
  { name: 'lower committer', build: (c) => elect({ term: c.leaderBallot.term + 1, id: 2 }, null, c.accepted), granted: false },
  { name: 'shorter log', build: (c) => elect({ term: c.leaderBallot.term + 1, id: 2 }, c.leaderBallot, TailBitmap.prefix(1)), granted: false },
  { name: 'ballot below promise', build: (c) => elect({ term: c.leaderBallot.term - 1, id: 2 }, c.leaderBallot, c.accepted), granted: false },
  { name: 'equal ballot granted again', build: (c) => elect(c.leaderBallot, c.leaderBallot, c.accepted), granted: true },
  { name: 'equal ballot empty log', build: (c) => elect(c.leaderBallot, null, TailBitmap.empty()), granted: false },
  { name: 'other cluster id', build: (c) => elect({ term: c.leaderBallot.term + 5, id: 2 }, c.leaderBallot, c.accepted, 901, 'other'), granted: 'no-reply' },
];

for (const testCase of electCases) {
  t.test(`elect: ${testCase.name}`, async (t) => {
    const c = settledCluster();
    const before = c.s.view(1)?.votedFor;
    c.s.replay(testCase.build(c));
    const reply = replyFrom1(c.s);
    if (testCase.granted === 'no-reply') {
      t.equal(reply, undefined, 'no reply is sent');
      t.same(c.s.view(1)?.votedFor, before, 'the promise is unchanged');
    } else {
      t.not(reply, undefined, 'a reply is sent');
      t.equal(reply?.granted, testCase.granted);
      if (!testCase.granted) t.same(c.s.view(1)?.votedFor, before, 'a rejection changes no promise');
    }
    t.same(c.s.violations, []);
  });
}

t.test('elect: retransmitted grant is idempotent', async (t) => {
  const c = settledCluster();
  const ballot = { term: c.leaderBallot.term + 1, id: 2 };
  c.s.replay(elect(ballot, c.leaderBallot, c.accepted, 900));
  t.equal(replyFrom1(c.s)?.granted, true);
  c.s.replay(elect(ballot, c.leaderBallot, c.accepted, 901));
  t.equal(replyFrom1(c.s)?.granted, true, 'the same ballot is granted again');
  t.same(c.s.view(1)?.votedFor, ballot);
  t.same(c.s.violations, []);
});

function logForward(ballot: Ballot, base: TailBitmap, records: LogRecord[], committed: TailBitmap, requestId = 950): Message {
  return { clusterId: 'sim', from: 2, to: 1, requestId, type: 'log-forward', ballot, base, records, committed, floor: 0 };
}

function forwardReply(s: Script): Extract<Message, { type: 'log-forward-reply' }> | undefined {
  const replies = s.take(match('log-forward-reply', 1, 2));
  const reply = replies[replies.length - 1];
  return reply?.type === 'log-forward-reply' ? reply : undefined;
}

function noopAt(seq: number, author: Ballot): LogRecord {
  return { seq, author, command: { kind: 'noop' }, depends: TailBitmap.prefix(seq), overrides: TailBitmap.of(0, seq) };
}

interface ForwardCase {
  name: string;
  build: (c: ReturnType<typeof settledCluster>, next: Ballot) => Message;
  status: 'ok' | 'stale' | 'need-sync';
  switched: boolean;
}

const forwardCases: ForwardCase[] = [
  {
    name: 'ballot below promise',
    build: (c) => logForward({ term: c.leaderBallot.term - 1 || 0, id: 2 }, c.accepted, [], c.accepted),
    status: 'stale',
    switched: false,
  },
  {
    name: 'new ballot base covered',
    build: (c, next) => logForward(next, c.accepted.union(TailBitmap.of(0, c.accepted.len())), [noopAt(c.accepted.len(), next)], c.accepted),
    status: 'ok',
    switched: true,
  },
  {
    name: 'new ballot base not covered',
    build: (c, next) => logForward(next, TailBitmap.prefix(c.accepted.len() + 2), [noopAt(c.accepted.len() + 1, next)], c.accepted),
    status: 'need-sync',
    switched: false,
  },
];

for (const testCase of forwardCases) {
  t.test(`log-forward: ${testCase.name}`, async (t) => {
    const c = settledCluster();
    const next = { term: c.leaderBallot.term + 1, id: 2 };
    const committerBefore = c.s.view(1)?.committer;
    c.s.replay(testCase.build(c, next));
    const reply = forwardReply(c.s);
    t.equal(reply?.status, testCase.status);
    const committer = c.s.view(1)?.committer;
    if (testCase.switched) t.same(committer, next, 'Committer switched to the new ballot');
    else t.same(committer, committerBefore, 'Committer unchanged');
    t.same(c.s.violations, []);
  });
}
