// `traft run` option validation, and the CLI's exit codes for bad arguments.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { UsageError } from '../../controller/errors.js';
import { parseConcurrency, parseNemesis, parseRunOptions, replayCommand, RUN_DEFAULTS, type RawRunOptions } from '../../controller/options.js';

const defaults: RawRunOptions = { ...RUN_DEFAULTS };

t.test('defaults parse', async (t) => {
  const options = parseRunOptions('register', defaults, () => 42);
  t.equal(options.nodes, 5);
  t.equal(options.concurrency, 50, '10n with 5 nodes');
  t.equal(options.seed, 42, 'a missing seed comes from the random source');
  t.same(options.nemesis, ['kill', 'pause', 'partition']);
});

t.test('concurrency default follows rate', async (t) => {
  const { concurrency: _given, ...withoutConcurrency } = defaults;
  const rated = parseRunOptions('register', { ...withoutConcurrency, nodes: '3' }, () => 1);
  t.equal(rated.concurrency, 30, '10n with 3 nodes at a limited rate');
  const unlimited = parseRunOptions('register', { ...withoutConcurrency, nodes: '3', rate: '0' }, () => 1);
  t.equal(unlimited.concurrency, 900, '300n with 3 nodes at --rate 0');
  t.match(replayCommand(unlimited), /--concurrency 300n/, 'the replay names the concurrency used');
  const given = parseRunOptions('register', { ...withoutConcurrency, nodes: '3', rate: '0', concurrency: '4' }, () => 1);
  t.equal(given.concurrency, 4, 'a given concurrency wins at --rate 0');
});

t.test('concurrency forms', async (t) => {
  t.equal(parseConcurrency('7', 5), 7);
  t.equal(parseConcurrency('2n', 3), 6);
  for (const bad of ['0', 'n', '-1', '2x', '1.5', '']) t.throws(() => parseConcurrency(bad, 3), UsageError, `rejects ${JSON.stringify(bad)}`);
});

t.test('nemesis lists', async (t) => {
  t.same(parseNemesis('none'), []);
  t.same(parseNemesis('all'), ['kill', 'pause', 'partition']);
  t.same(parseNemesis('partition,kill,partition'), ['partition', 'kill']);
  t.throws(() => parseNemesis('kill,clock'), /unknown fault "clock"/);
  t.throws(() => parseNemesis(','), UsageError);
});

const badCases: { name: string; workload?: string; patch: Partial<RawRunOptions>; message: RegExp }[] = [
  { name: 'unknown workload', workload: 'queue', patch: {}, message: /unknown workload "queue"/ },
  { name: 'zero nodes', patch: { nodes: '0' }, message: /invalid --nodes "0"/ },
  { name: 'too many nodes', patch: { nodes: '99' }, message: /invalid --nodes "99"/ },
  { name: 'negative time limit', patch: { timeLimit: '-5' }, message: /invalid --time-limit/ },
  { name: 'text rate', patch: { rate: 'fast' }, message: /invalid --rate "fast"/ },
  { name: 'fractional seed', patch: { seed: '1.5' }, message: /invalid --seed "1.5"/ },
  { name: 'unknown bug', patch: { unsafe: 'no-such-bug' }, message: /unknown --unsafe "no-such-bug"/ },
  { name: 'partition on one node', patch: { nodes: '1', nemesis: 'partition' }, message: /a partition needs at least 2 nodes/ },
  { name: 'heartbeat above election', patch: { heartbeatMs: '500' }, message: /must be below --election-timeout-ms/ },
];

for (const { name, workload, patch, message } of badCases) {
  t.test(`rejects ${name}`, async (t) => {
    t.throws(() => parseRunOptions(workload ?? 'register', { ...defaults, ...patch }, () => 1), message);
  });
}

t.test('replay command round-trips', async (t) => {
  const options = parseRunOptions('bank', { ...defaults, nodes: '3', seed: '17', nemesis: 'kill,partition', unsafe: 'no-dedup', rate: '0' }, () => 1);
  const command = replayCommand(options);
  t.equal(command, 'traft run bank --nodes 3 --time-limit 60 --concurrency 10n --rate 0 --nemesis kill,partition --nemesis-interval 2 --seed 17 --unsafe no-dedup');
});

const cli = path.resolve(import.meta.dirname, '../../dist/controller/cli.js');

t.test('cli exits 64 on bad arguments', { skip: existsSync(cli) ? false : 'dist/controller/cli.js not built: run `make build`' }, async (t) => {
  const cases = [
    ['run', 'nope'],
    ['run', 'register', '--nodes', 'x'],
    ['run', 'register', '--no-such-flag'],
    ['frobnicate'],
    ['analyze', '/nonexistent/run'],
  ];
  for (const args of cases) {
    const result = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 20_000 });
    t.equal(result.status, 64, `traft ${args.join(' ')} exits 64`);
    const lines = result.stderr.trim().split('\n');
    t.equal(lines.length, 1, `one line on stderr: ${result.stderr.trim()}`);
    t.match(lines[0], /^traft: /);
    t.notMatch(result.stderr, /\n\s+at /, 'no stack trace');
  }
});

t.test('cli help hint names subcommand', { skip: existsSync(cli) ? false : 'dist/controller/cli.js not built' }, async (t) => {
  // The value is missing, so the command fails before it contacts the endpoint.
  const result = spawnSync(process.execPath, [cli, 'kv', 'put', 'k', '--endpoints', '127.0.0.1:1'], { encoding: 'utf8', timeout: 20_000 });
  t.equal(result.status, 64);
  t.match(result.stderr, /missing required argument 'value' \(see traft kv put --help\)/);
});

t.test('cli lists workloads and nemeses', { skip: existsSync(cli) ? false : 'dist/controller/cli.js not built' }, async (t) => {
  const workloads = spawnSync(process.execPath, [cli, 'workloads'], { encoding: 'utf8', timeout: 20_000 });
  t.equal(workloads.status, 0);
  for (const name of ['register', 'set', 'bank', 'counter', 'list-append']) t.match(workloads.stdout, new RegExp(`^${name} `, 'm'));
  const nemeses = spawnSync(process.execPath, [cli, 'nemeses'], { encoding: 'utf8', timeout: 20_000 });
  t.equal(nemeses.status, 0);
  for (const name of ['kill', 'pause', 'partition', 'majorities-ring', 'one-way']) t.match(nemeses.stdout, name);
});
