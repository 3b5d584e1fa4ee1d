// traft-server flag handling (in process, through parseServerOptions, and as a real process for
// the exit code), and `traft kv` against a running node.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parseServerOptions, UsageError } from '../../server/config.js';
import { runKv } from '../../server/client/kv-cli.js';
import { spawnServer, TestCluster, within } from './cluster.js';

const base = ['--id', '1', '--listen', '127.0.0.1:7101', '--data-dir', '/tmp/unused'];

t.test('valid flags parse with defaults', async (t) => {
  const options = parseServerOptions([...base, '--peers', '1=127.0.0.1:7101,2=127.0.0.1:7102']);
  t.equal(options.id, 1);
  t.equal(options.listenPort, 7101);
  t.same(options.peers.map((p) => p.id), [1, 2]);
  t.equal(options.electionTimeoutMs, 300);
  t.equal(options.heartbeatMs, 50);
  t.equal(options.fsync, true);
  t.equal(options.commitOrder, 'out-of-order');
  t.equal(options.unsafe, null);
});

t.test('invalid flags raise one clear error', async (t) => {
  const cases: [string[], RegExp][] = [
    [['--listen', '127.0.0.1:1', '--data-dir', 'd'], /--id is required/],
    [['--id', '1', '--listen', '127.0.0.1:1'], /--data-dir is required/],
    [['--id', 'x', '--data-dir', 'd'], /--id: id "x" is not an integer/],
    [[...base, '--peers', '2=nohost'], /--peers entry 2 "nohost" is not host:port/],
    [[...base, '--peers', '2=127.0.0.1:1,2=127.0.0.1:2'], /lists id 2 twice/],
    [[...base, '--unsafe', 'no-dedup'], /--unsafe no-dedup requires --admin/],
    [[...base, '--admin', '--unsafe', 'bogus'], /--unsafe "bogus" is not a known bug/],
    [[...base, '--election-timeout-ms', '0'], /--election-timeout-ms "0" is not a positive integer/],
    [[...base, '--heartbeat-ms', '500'], /--heartbeat-ms 500 must be below --election-timeout-ms 300/],
    [[...base, '--commit-order', 'sideways'], /sideways/],
    [[...base, '--no-such-flag'], /unknown option '--no-such-flag'/],
  ];
  for (const [argv, expected] of cases) {
    t.throws(() => parseServerOptions(argv), UsageError, argv.join(' '));
    t.throws(() => parseServerOptions(argv), expected, argv.join(' '));
  }
});

t.test('every planted bug is accepted with --admin', async (t) => {
  for (const bug of ['ack-before-fsync', 'no-dedup', 'accept-expired-vote', 'commit-on-minority']) {
    t.equal(parseServerOptions([...base, '--admin', '--unsafe', bug]).unsafe, bug, bug);
  }
});

t.test('config file is validated', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'traft-flags-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const good = join(dir, 'good.json');
  writeFileSync(good, JSON.stringify({ id: 3, listen: '127.0.0.1:7103', dataDir: join(dir, 'data'), heartbeatMs: 40 }));
  const options = parseServerOptions(['--config', good, '--heartbeat-ms', '60']);
  t.equal(options.id, 3, 'id from the file');
  t.equal(options.heartbeatMs, 60, 'flag overrides the file');

  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ id: 3, listen: '127.0.0.1:7103', dataDir: 'x', electionTimeoutMs: 'soon' }));
  t.throws(() => parseServerOptions(['--config', bad]), /--config .*bad.json: electionTimeoutMs is invalid/);
  const unknown = join(dir, 'unknown.json');
  writeFileSync(unknown, JSON.stringify({ id: 3, dataDir: 'x', colour: 'blue' }));
  t.throws(() => parseServerOptions(['--config', unknown]), /unknown.json: unknown setting "colour"; known settings are id, listen, peers/);
  const typo = join(dir, 'typo.json');
  writeFileSync(typo, JSON.stringify({ id: 3, dataDir: 'x', electionTimeotMs: 300 }));
  t.throws(() => parseServerOptions(['--config', typo]), /typo.json: unknown setting "electionTimeotMs"; did you mean "electionTimeoutMs"\?/);
  t.throws(() => parseServerOptions(['--config', join(dir, 'missing.json')]), /cannot be read \(ENOENT\)/);
});

t.test('server process exits 64 on bad flags', async (t) => {
  const node = spawnServer(['--id', '1', '--data-dir', '/tmp/unused', '--unsafe', 'no-dedup'], { id: 1, port: 0, dataDir: '' });
  const exit = await within(node.exited, 10_000, 'traft-server with bad flags');
  t.equal(exit.code, 64, 'exit code 64');
  t.same(node.stderr, ['traft-server: --unsafe no-dedup requires --admin; planted bugs are for test clusters only'], 'one line');
});

t.test('server exits 64 when data dir is a file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'traft-flags-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'plain-file');
  writeFileSync(file, 'not a directory');
  for (const dataDir of [file, join(file, 'below')]) {
    const node = spawnServer(['--id', '1', '--data-dir', dataDir], { id: 1, port: 0, dataDir });
    const exit = await within(node.exited, 10_000, 'traft-server with a file as data dir');
    t.equal(exit.code, 64, `${dataDir}: exit code 64`);
    t.same(node.stderr, [`traft-server: --data-dir ${dataDir} is a file or lies under one; pass a directory path`], `${dataDir}: one line`);
  }
});

t.test('server exits 64 when port is in use', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'traft-flags-'));
  const holder = createServer();
  await new Promise<void>((resolveListen) => holder.listen(0, '127.0.0.1', resolveListen));
  t.teardown(async () => {
    await new Promise<void>((resolveClose) => holder.close(() => resolveClose()));
    rmSync(dir, { recursive: true, force: true });
  });
  const port = (holder.address() as AddressInfo).port;

  const node = spawnServer(['--id', '1', '--listen', `127.0.0.1:${port}`, '--data-dir', join(dir, 'data')], { id: 1, port, dataDir: join(dir, 'data') });
  const exit = await within(node.exited, 10_000, 'traft-server on a port in use');
  t.equal(exit.code, 64, 'exit code 64');
  t.equal(node.stderr.length, 1, 'one line');
  t.match(node.stderr[0], /--listen 127\.0\.0\.1:\d+ cannot be bound: .*EADDRINUSE.*; the port is in use, so pick a free one$/);
});

t.test('help states units and defaults', async (t) => {
  const node = spawnServer(['--help'], { id: 0, port: 0, dataDir: '' });
  const exit = await within(node.exited, 10_000, 'traft-server --help');
  t.equal(exit.code, 0, 'exit code 0');
  const help = node.stdout.join('\n');
  t.match(help, /--election-timeout-ms <ms>.*milliseconds.*\(default: 300\)/s);
  t.match(help, /--heartbeat-ms <ms>.*milliseconds.*\(default: 50\)/s);
  t.match(help, /--unsafe <name>/);
});

t.test('traft kv unreachable endpoint exits 1', async (t) => {
  // A port that was free a moment ago, so the connection is refused.
  const server = createServer();
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolveClose) => server.close(() => resolveClose()));

  const err: string[] = [];
  const io = { out: () => undefined, err: (line: string) => err.push(line) };
  const code = await runKv(['--endpoints', `127.0.0.1:${port}`, '--timeout-ms', '1000', 'get', 'k'], io);
  // No connection was ever made, so the request never left the client: a definite failure.
  t.equal(code, 1, 'failed outcome');
  t.equal(err.length, 1, 'one line');
  t.match(err[0], /^traft kv: failed: not executed/);
  t.notMatch(err[0], /Resolution note:\s*$/, 'no empty grpc-js note at the end');
});

t.test('traft kv put and get', async (t) => {
  const cluster = await TestCluster.start({ size: 1 });
  t.teardown(() => cluster.stop());
  await cluster.waitForLeader();
  const endpoints = cluster.endpoints.join(',');
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (line: string) => out.push(line), err: (line: string) => err.push(line) };

  t.equal(await runKv(['--endpoints', endpoints, 'put', 'greeting', 'hello'], io), 0, 'put exits 0');
  t.equal(await runKv(['--endpoints', endpoints, 'get', 'greeting'], io), 0, 'get exits 0');
  t.same(out, ['OK', '"hello"'], 'put prints OK and get prints the JSON value');

  t.equal(await runKv(['--endpoints', endpoints, 'cas', 'greeting', 'wrong', 'x'], io), 1, 'failed cas exits 1');
  t.match(err.join('\n'), /failed: cas-mismatch \(current value "hello"\)/);
  t.equal(await runKv(['--endpoints', endpoints, 'append', 'list', '[1]'], io), 0, 'append exits 0');
  t.equal(await runKv(['--endpoints', 'not-an-endpoint', 'get', 'k'], io), 64, 'bad endpoint exits 64');
  t.equal(await runKv(['--endpoints', endpoints, 'status'], io), 0, 'status exits 0');
  t.match(out[out.length - 1], /"role":"leader"/, 'status prints the role');
});
