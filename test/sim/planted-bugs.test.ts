// Every planted bug must be caught by the random simulator within a bounded number of seeds;
// the test fails when a bug goes unnoticed.
import t from 'tap';
import { CORE_UNSAFE_BUGS } from '../../server/core/types.js';
import { runRandomSeed } from '../../server/sim/random-run.js';
import { formatViolation } from '../../server/sim/cluster.js';

const SEEDS_MAX = Number(process.env.SIM_BUG_SEEDS ?? 100);
const STEPS = Number(process.env.SIM_BUG_STEPS ?? 3000);

for (const bug of CORE_UNSAFE_BUGS) {
  t.test(`random runs catch ${bug}`, async (t) => {
    let caught: string | null = null;
    let seed = 1;
    for (; seed <= SEEDS_MAX && caught === null; seed++) {
      const result = runRandomSeed({ seed, steps: STEPS, unsafe: bug });
      if (result.violations.length > 0) caught = `seed ${seed}: ${formatViolation(result.violations[0])}`;
    }
    t.ok(caught !== null, caught ?? `no violation in ${SEEDS_MAX} seeds of ${STEPS} steps`);
    if (caught !== null) t.comment(caught);
  });
}
