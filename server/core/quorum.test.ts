import t from 'tap';
import fc from 'fast-check';
import type { ClusterConfig, Member, QuorumFamily } from './types.js';
import {
  checkCrossIntersection,
  checkPairwiseIntersection,
  gridConfig,
  isLearner,
  isQuorum,
  isVoter,
  jointConfig,
  majorityConfig,
  positionMask,
  validateConfig,
  voterPositions,
  weightedConfig,
} from './quorum.js';

/** Members with ids 1..n at positions 0..n-1 unless positions are given. */
function members(n: number, positions?: number[]): Member[] {
  return Array.from({ length: n }, (_, k) => ({ id: k + 1, addr: `127.0.0.1:${7000 + k}`, position: positions?.[k] ?? k }));
}

/** Enumerates every subset of the positions; only for small n in the reference model. */
function subsets(positions: number[]): number[][] {
  const result: number[][] = [];
  for (let mask = 0; mask < 2 ** positions.length; mask++) {
    result.push(positions.filter((_, k) => ((mask >>> k) & 1) === 1));
  }
  return result;
}

/** The reference model: satisfies a family by its definition, with no masks. */
function modelSatisfies(family: QuorumFamily, set: Set<number>): boolean {
  switch (family.kind) {
    case 'threshold':
      return family.positions.filter((p) => set.has(p)).length >= family.threshold;
    case 'weighted':
      return family.weights.filter((w) => set.has(w.position)).reduce((sum, w) => sum + w.weight, 0) >= family.threshold;
    case 'explicit':
      return family.quorums.some((q) => q.every((p) => set.has(p)));
  }
}

function modelIsQuorum(config: ClusterConfig, set: Set<number>): boolean {
  return config.families.every((f) => modelSatisfies(f, set));
}

/** Brute force: do quorums of a and b exist that are disjoint? */
function modelHasDisjoint(a: ClusterConfig, b: ClusterConfig): boolean {
  const positions = [...new Set([...a.members, ...b.members].map((m) => m.position))];
  const quorumsA = subsets(positions).filter((s) => modelIsQuorum(a, new Set(s)));
  const quorumsB = subsets(positions).filter((s) => modelIsQuorum(b, new Set(s)));
  return quorumsA.some((qa) => quorumsB.some((qb) => qa.every((p) => !qb.includes(p))));
}

t.test('majority quorum table', async (t) => {
  const cases: { n: number; quorum: number[]; expected: boolean }[] = [
    { n: 1, quorum: [0], expected: true },
    { n: 1, quorum: [], expected: false },
    { n: 3, quorum: [0, 2], expected: true },
    { n: 3, quorum: [1], expected: false },
    { n: 4, quorum: [0, 1], expected: false },
    { n: 4, quorum: [0, 1, 3], expected: true },
    { n: 5, quorum: [2, 3, 4], expected: true },
    { n: 5, quorum: [3, 4, 5, 6], expected: false },
  ];
  for (const { n, quorum, expected } of cases) {
    t.equal(isQuorum(majorityConfig(members(n)), positionMask(quorum)), expected, `n=${n} {${quorum.join(',')}}`);
  }
});

t.test('majority of 64 uses position 63', async (t) => {
  const config = majorityConfig(members(64));
  t.same(config.families, [{ kind: 'threshold', positions: Array.from({ length: 64 }, (_, k) => k), threshold: 33 }]);
  const top33 = Array.from({ length: 33 }, (_, k) => 63 - k);
  t.ok(isQuorum(config, positionMask(top33)), 'the 33 highest positions, 63 included');
  t.notOk(isQuorum(config, positionMask(top33.slice(1))), 'the 32 highest positions');
  t.equal(validateConfig(config), null);
  t.equal(checkPairwiseIntersection(config), null);
});

t.test('majority of 1..64 intersects pairwise', async (t) => {
  for (let n = 1; n <= 64; n++) {
    const config = majorityConfig(members(n));
    t.equal(checkPairwiseIntersection(config), null, `n=${n}`);
  }
});

t.test('half threshold has disjoint quorums', async (t) => {
  const config: ClusterConfig = { members: members(4), families: [{ kind: 'threshold', positions: [0, 1, 2, 3], threshold: 2 }] };
  const reason = checkPairwiseIntersection(config);
  t.match(reason, /^quorums \{ids \d,\d at positions \d,\d\} and \{ids \d,\d at positions \d,\d\} are disjoint$/);
  t.not(validateConfig(config), null);
});

t.test('cross intersection of majorities', async (t) => {
  const six = members(6);
  const abc = majorityConfig(six, [1, 2, 3]);
  const abcd = majorityConfig(six, [1, 2, 3, 4]);
  const ab = majorityConfig(six, [1, 2]);
  const bcd = majorityConfig(six, [2, 3, 4]);
  const def = majorityConfig(six, [4, 5, 6]);
  t.equal(checkCrossIntersection(abc, abcd), null, 'add one member');
  t.equal(checkCrossIntersection(abc, ab), null, 'remove one member');
  t.match(checkCrossIntersection(abc, bcd), /\{ids 1,2 at positions 0,1\}.*\{ids 3,4 at positions 2,3\}/, 'replacing a member in one step is unsafe');
  t.match(checkCrossIntersection(abc, def), /are disjoint/, '{1,2,3} to {4,5,6}');
  const joint = jointConfig(abc, def);
  t.equal(checkCrossIntersection(abc, joint), null, 'old config and joint');
  t.equal(checkCrossIntersection(joint, def), null, 'joint and new config');
  t.equal(checkPairwiseIntersection(joint), null, 'joint itself');
});

t.test('cross intersection of large majorities', async (t) => {
  const all = members(64);
  const ids = all.map((m) => m.id);
  const low = majorityConfig(all, ids.slice(0, 63));
  const full = majorityConfig(all);
  t.equal(checkCrossIntersection(low, full), null, 'add position 63 to 63 voters');
  t.equal(checkCrossIntersection(full, low), null, 'remove position 63 from 64 voters');
  const high = majorityConfig(all, ids.slice(1, 64));
  t.not(checkCrossIntersection(low, high), null, '63 voters with one replaced');
  const left = majorityConfig(all, ids.slice(0, 32));
  const right = majorityConfig(all, ids.slice(32));
  t.not(checkCrossIntersection(left, right), null, 'two disjoint halves');
  const joint = jointConfig(left, right);
  t.equal(checkCrossIntersection(left, joint), null);
  t.equal(checkPairwiseIntersection(joint), null);
});

t.test('threshold check matches brute force', async (t) => {
  const familyArb = fc
    .tuple(fc.subarray([0, 1, 2, 3, 4, 5, 6], { minLength: 1 }), fc.integer({ min: 1, max: 7 }))
    .map(([positions, t]): QuorumFamily => ({ kind: 'threshold', positions, threshold: Math.min(t, positions.length) }));
  const configArb = fc.array(familyArb, { minLength: 1, maxLength: 3 }).map((families): ClusterConfig => ({ members: members(7), families }));
  fc.assert(
    fc.property(configArb, configArb, (a, b) => {
      t.equal(checkCrossIntersection(a, b) === null, !modelHasDisjoint(a, b), 'cross');
      t.equal(checkPairwiseIntersection(a) === null, !modelHasDisjoint(a, a), 'pairwise');
      return true;
    }),
    { numRuns: 200 },
  );
});

t.test('weighted and explicit checks match brute force', async (t) => {
  const weightedArb = fc
    .tuple(fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 6, maxLength: 6 }), fc.integer({ min: 1, max: 30 }))
    .filter(([weights]) => weights.some((w) => w > 0))
    .map(([weights, threshold]): QuorumFamily => {
      const total = weights.reduce((a, b) => a + b, 0);
      return { kind: 'weighted', weights: weights.map((weight, position) => ({ position, weight })), threshold: Math.min(threshold, total) };
    });
  const explicitArb = fc
    .array(fc.subarray([0, 1, 2, 3, 4, 5], { minLength: 1 }), { minLength: 1, maxLength: 5 })
    .map((quorums): QuorumFamily => ({ kind: 'explicit', quorums }));
  const thresholdArb = fc
    .tuple(fc.subarray([0, 1, 2, 3, 4, 5], { minLength: 1 }), fc.integer({ min: 1, max: 6 }))
    .map(([positions, t]): QuorumFamily => ({ kind: 'threshold', positions, threshold: Math.min(t, positions.length) }));
  const familyArb = fc.oneof(weightedArb, explicitArb, thresholdArb);
  const configArb = fc.array(familyArb, { minLength: 1, maxLength: 2 }).map((families): ClusterConfig => ({ members: members(6), families }));
  fc.assert(
    fc.property(configArb, configArb, fc.subarray([0, 1, 2, 3, 4, 5]), (a, b, set) => {
      t.equal(isQuorum(a, positionMask(set)), modelIsQuorum(a, new Set(set)), 'isQuorum');
      t.equal(checkCrossIntersection(a, b) === null, !modelHasDisjoint(a, b), 'cross');
      t.equal(checkPairwiseIntersection(a) === null, !modelHasDisjoint(a, a), 'pairwise');
      return true;
    }),
    { numRuns: 300 },
  );
});

t.test('weighted config', async (t) => {
  const config = weightedConfig(members(4), [
    { id: 1, weight: 3 },
    { id: 2, weight: 1 },
    { id: 3, weight: 1 },
    { id: 4, weight: 1 },
  ]);
  t.equal(config.families[0].kind === 'weighted' && config.families[0].threshold, 4, 'more than half of 6');
  t.ok(isQuorum(config, positionMask([0, 1])), 'heavy member plus one');
  t.notOk(isQuorum(config, positionMask([1, 2, 3])), 'the three light members');
  t.equal(validateConfig(config), null);
  const tooLow = weightedConfig(members(4), [
    { id: 1, weight: 3 },
    { id: 2, weight: 3 },
  ], 3);
  t.match(checkPairwiseIntersection(tooLow), /ids 1 at positions 0.*ids 2 at positions 1|ids 2 at positions 1.*ids 1 at positions 0/);
  t.ok(isLearner(tooLow, 3), 'a member without weight is a learner');
});

t.test('weighted config of 64 members', async (t) => {
  const all = members(64);
  const config = weightedConfig(all, all.map((m) => ({ id: m.id, weight: (m.id % 3) + 1 })));
  t.equal(validateConfig(config), null);
  const unsafe = weightedConfig(all, all.map((m) => ({ id: m.id, weight: 2 })), 64);
  t.match(checkPairwiseIntersection(unsafe), /are disjoint/);
});

t.test('grid config', async (t) => {
  const config = gridConfig(members(9), 3);
  t.equal(validateConfig(config), null);
  t.ok(isQuorum(config, positionMask([0, 1, 2, 3, 6])), 'row 0 and column 0');
  t.notOk(isQuorum(config, positionMask([0, 1, 2, 4])), 'row 0 and part of column 1');
  t.ok(isQuorum(config, positionMask([0, 1, 2, 4, 7, 8])), 'row 0 and column 1 plus one');
  t.notOk(isQuorum(config, positionMask([0, 4, 8])), 'a diagonal');
  const big = gridConfig(members(64), 8);
  t.equal(validateConfig(big), null, '8x8 grid');
  t.throws(() => gridConfig(members(10), 3), RangeError);
  const gridToMajority = checkCrossIntersection(config, majorityConfig(members(9)));
  t.equal(gridToMajority, null, 'a grid quorum has 5 of 9, so it meets every majority');
});

t.test('joint config', async (t) => {
  const a = majorityConfig(members(6), [1, 2, 3]);
  const b = majorityConfig(members(6), [4, 5, 6]);
  const joint = jointConfig(a, b);
  t.equal(joint.families.length, 2);
  t.ok(isQuorum(joint, positionMask([0, 1, 3, 4])), 'majority of each');
  t.notOk(isQuorum(joint, positionMask([0, 1, 2, 3])), 'all of a, one of b');
  t.same(voterPositions(joint), [0, 1, 2, 3, 4, 5]);
  t.throws(() => jointConfig(majorityConfig(members(2)), majorityConfig(members(2, [5, 6]))), RangeError, 'moved position');
  const differentId: Member[] = [{ id: 9, addr: 'x', position: 0 }];
  t.throws(() => jointConfig(majorityConfig(members(1)), majorityConfig(differentId)), RangeError, 'reused position');
  const mixed = jointConfig(gridConfig(members(9), 3), weightedConfig(members(9), members(9).map((m) => ({ id: m.id, weight: 1 }))));
  t.equal(checkPairwiseIntersection(mixed), null, 'joint of grid and weighted, checked exhaustively');
});

t.test('mixed families over many voters are undecided', async (t) => {
  const all = members(40);
  const weighted: QuorumFamily = { kind: 'weighted', weights: all.slice(0, 30).map((m) => ({ position: m.position, weight: 1 })), threshold: 15 };
  const explicit: QuorumFamily = { kind: 'explicit', quorums: [[30, 31, 32, 33, 34], [35, 36, 37, 38, 39]] };
  const config: ClusterConfig = { members: all, families: [weighted, explicit] };
  t.match(checkPairwiseIntersection(config), /^cannot verify that every two quorums intersect: 40 voters/);
  const safe: ClusterConfig = { members: all, families: [{ ...weighted, threshold: 16 }, explicit] };
  t.equal(checkPairwiseIntersection(safe), null, 'proved by the weighted family alone');
});

t.test('voters and learners', async (t) => {
  const config = majorityConfig(members(5), [1, 2, 3]);
  t.ok(isVoter(config, 1));
  t.notOk(isLearner(config, 1));
  t.ok(isLearner(config, 4));
  t.notOk(isVoter(config, 4));
  t.notOk(isVoter(config, 99), 'non-member');
  t.notOk(isLearner(config, 99), 'non-member');
  t.same(voterPositions(config), [0, 1, 2]);
  t.throws(() => majorityConfig(members(3), [7]), RangeError);
  t.throws(() => majorityConfig(members(3), []), RangeError);
});

t.test('validateConfig rejects bad configs', async (t) => {
  const good = majorityConfig(members(3));
  const cases: { name: string; config: ClusterConfig; reason: RegExp }[] = [
    { name: 'no members', config: { members: [], families: good.families }, reason: /no members/ },
    { name: 'no families', config: { members: members(3), families: [] }, reason: /no quorum families/ },
    { name: 'position 64', config: { members: members(1, [64]), families: [] }, reason: /invalid position 64/ },
    { name: 'duplicate id', config: { members: [...members(2), { id: 1, addr: 'a', position: 5 }], families: good.families }, reason: /member id 1 appears twice/ },
    { name: 'duplicate position', config: { members: [...members(2), { id: 7, addr: 'a', position: 0 }], families: good.families }, reason: /position 0 is used by two members/ },
    { name: 'unknown position', config: { members: members(2), families: [{ kind: 'threshold', positions: [0, 5], threshold: 2 }] }, reason: /position 5 belongs to no member/ },
    { name: 'threshold too high', config: { members: members(3), families: [{ kind: 'threshold', positions: [0, 1, 2], threshold: 4 }] }, reason: /invalid threshold 4/ },
    { name: 'threshold zero', config: { members: members(3), families: [{ kind: 'threshold', positions: [0, 1, 2], threshold: 0 }] }, reason: /invalid threshold 0/ },
    { name: 'empty explicit quorum', config: { members: members(3), families: [{ kind: 'explicit', quorums: [[]] }] }, reason: /explicit quorum 0 is empty/ },
    { name: 'negative weight', config: { members: members(2), families: [{ kind: 'weighted', weights: [{ position: 0, weight: -1 }], threshold: 1 }] }, reason: /invalid weight -1/ },
    { name: 'unreachable weight', config: { members: members(2), families: [{ kind: 'weighted', weights: [{ position: 0, weight: 1 }], threshold: 2 }] }, reason: /invalid weighted threshold 2/ },
  ];
  for (const { name, config, reason } of cases) t.match(validateConfig(config), reason, name);
  t.equal(validateConfig(good), null, 'a majority of 3 is valid');
});

t.test('positionMask rejects bad positions', async (t) => {
  t.equal(positionMask([0, 63]), (1n << 63n) | 1n);
  t.throws(() => positionMask([64]), RangeError);
  t.throws(() => positionMask([-1]), RangeError);
});
