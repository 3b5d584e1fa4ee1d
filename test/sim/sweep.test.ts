// A randomized sweep with the safe core: every seed must run without a violation. Sized to finish
// well under three minutes on two cores; the CLI runs the long sweeps.
import t from 'tap';
import { runRandomSeed } from '../../server/sim/random-run.js';
import { formatViolation } from '../../server/sim/cluster.js';

const SEEDS = Number(process.env.SIM_SWEEP_SEEDS ?? 80);
const STEPS = Number(process.env.SIM_SWEEP_STEPS ?? 2500);

t.test(`sweep of ${SEEDS} seeds`, async (t) => {
  let steps = 0;
  let okOps = 0;
  for (let seed = 1; seed <= SEEDS; seed++) {
    const result = runRandomSeed({ seed, steps: STEPS });
    steps += result.steps;
    okOps += result.okOps;
    const first = result.violations[0];
    t.equal(first, undefined, first === undefined ? `seed ${seed} clean` : `seed ${seed}: ${formatViolation(first)}\n${result.trace.slice(-30).join('\n')}`);
  }
  t.ok(okOps > SEEDS * 5, `clients completed ${okOps} ops, so the workload actually ran`);
  t.ok(steps >= SEEDS * STEPS, `${steps} steps simulated`);
});

t.test('same seed replays identically', async (t) => {
  const a = runRandomSeed({ seed: 4242, steps: 1500 });
  const b = runRandomSeed({ seed: 4242, steps: 1500 });
  t.equal(a.steps, b.steps);
  t.equal(a.ops, b.ops);
  t.same(a.trace, b.trace);
  t.same(a.violations, b.violations);
  t.same(a.finalHashes, b.finalHashes, 'same final state on every node');
  t.equal(a.historyJson, b.historyJson, 'same client history');
  t.ok(a.ops > 10, `the run did work (${a.ops} ops)`);
  const other = runRandomSeed({ seed: 4243, steps: 1500 });
  t.not(other.historyJson, a.historyJson, 'another seed gives another history');
});

t.test('full checks agree with gated checks', async (t) => {
  // The default run skips checking a node whose Ready carried no state change; checking after
  // every call must find nothing more.
  for (let seed = 1; seed <= 5; seed++) {
    const gated = runRandomSeed({ seed, steps: 1500 });
    const full = runRandomSeed({ seed, steps: 1500, checkEveryStep: true });
    t.same(full.violations, gated.violations, `seed ${seed}`);
    t.equal(full.historyJson, gated.historyJson, `seed ${seed} runs the same schedule`);
  }
});
