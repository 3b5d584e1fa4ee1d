import t from 'tap';
import fc from 'fast-check';
import { ballotEquals, ballotLess, compareBallots, formatBallot, maxBallot, ZERO_BALLOT } from './ballot.js';

t.test('ballot order table', async (t) => {
  const cases = [
    { a: { term: 1, id: 1 }, b: { term: 1, id: 2 }, expected: -1 },
    { a: { term: 2, id: 1 }, b: { term: 1, id: 9 }, expected: 1 },
    { a: { term: 3, id: 4 }, b: { term: 3, id: 4 }, expected: 0 },
    { a: null, b: ZERO_BALLOT, expected: 0 },
    { a: undefined, b: { term: 0, id: 1 }, expected: -1 },
    { a: { term: 0, id: 1 }, b: null, expected: 1 },
  ];
  for (const { a, b, expected } of cases) {
    t.equal(Math.sign(compareBallots(a, b)), expected, `${formatBallot(a)} vs ${formatBallot(b)}`);
  }
});

t.test('ballot helpers', async (t) => {
  t.ok(ballotLess({ term: 1, id: 3 }, { term: 2, id: 1 }));
  t.notOk(ballotLess({ term: 2, id: 1 }, { term: 2, id: 1 }));
  t.ok(ballotEquals(null, undefined));
  t.same(maxBallot({ term: 1, id: 3 }, { term: 1, id: 2 }), { term: 1, id: 3 });
  t.same(maxBallot(null, undefined), ZERO_BALLOT);
  t.equal(formatBallot({ term: 12, id: 3 }), '12.3');
  t.equal(formatBallot(null), '0.0');
});

t.test('ballot order is total and antisymmetric', async (t) => {
  const ballot = fc.record({ term: fc.integer({ min: 0, max: 5 }), id: fc.integer({ min: 0, max: 5 }) });
  fc.assert(
    fc.property(ballot, ballot, ballot, (a, b, c) => {
      t.equal(Math.sign(compareBallots(a, b)), -Math.sign(compareBallots(b, a)));
      if (compareBallots(a, b) <= 0 && compareBallots(b, c) <= 0) t.ok(compareBallots(a, c) <= 0, 'transitive');
      t.equal(compareBallots(a, b) === 0, a.term === b.term && a.id === b.id);
      return true;
    }),
    { numRuns: 200 },
  );
});
