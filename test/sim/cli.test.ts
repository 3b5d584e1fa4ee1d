// The simulator CLI: flag validation, exit codes and the summary line.
import t from 'tap';
import { parseSeeds, runCli } from '../../server/sim/cli.js';

function run(argv: string[]): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = runCli(argv, { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

t.test('seed lists parse', async (t) => {
  t.same(parseSeeds('1-3'), [1, 2, 3]);
  t.same(parseSeeds('5,7-8'), [5, 7, 8]);
  t.throws(() => parseSeeds('3-1'));
  t.throws(() => parseSeeds('a'));
});

const badFlags: [string, string[], RegExp][] = [
  ['missing seeds', ['--steps', '10'], /--seeds/],
  ['bad seeds', ['--seeds', 'x'], /invalid seed list "x"/],
  ['bad steps', ['--seeds', '1', '--steps', '0'], /invalid --steps "0"/],
  ['bad nodes', ['--seeds', '1', '--nodes', '9'], /invalid --nodes "9"; use an integer from 3 to 7/],
  ['unknown bug', ['--seeds', '1', '--unsafe', 'nope'], /unknown planted bug "nope"/],
  ['unknown flag', ['--seeds', '1', '--bogus'], /unknown option/],
  ['extra argument', ['--seeds', '1', 'extra'], /too many arguments\. Expected 0 arguments but got 1; run with --help/],
];

for (const [name, argv, pattern] of badFlags) {
  t.test(`rejects ${name}`, async (t) => {
    const result = run(argv);
    t.equal(result.code, 64);
    t.match(result.err, pattern);
    t.equal(result.err.trim().split('\n').length, 1, 'one line');
    t.equal(result.out, '');
  });
}

t.test('clean run exits 0', async (t) => {
  const result = run(['--seeds', '1-2', '--steps', '300', '--nodes', '3']);
  t.equal(result.code, 0, result.out);
  t.match(result.out, /2 seeds, 0 with violations; \d+ simulated steps in .* steps\/s \(\d+ steps\/min\)/);
});

t.test('planted bug run exits 1', async (t) => {
  const result = run(['--seeds', '1-5', '--steps', '1500', '--unsafe', 'commit-on-minority']);
  t.equal(result.code, 1);
  t.match(result.out, /^seed \d+: I-/m);
  t.match(result.out, /first failing seed \d+, last \d+ events before the violation/);
  t.match(result.out, /replay: npm run sim -- --seeds \d+ --steps 1500 --unsafe commit-on-minority/);
});
