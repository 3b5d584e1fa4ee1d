// Ctrl-C in the middle of a run: the controller stops every server it started, exits 130, and
// leaves a partial history that parses and passes `traft check`.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { readJsonlHistory } from '../../checker/history/jsonl.js';

const root = path.resolve(import.meta.dirname, '../..');
const cli = path.join(root, 'dist/controller/cli.js');
const server = path.join(root, 'dist/server/main.js');
const missing = [cli, server].filter((file) => !existsSync(file));

/** True when `pid` runs; an exited process that its new parent has not reaped yet (a zombie) does not count. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

async function countLines(file: string): Promise<number> {
  const text = await readFile(file, 'utf8');
  return text.split('\n').filter((line) => line.trim().length > 0).length;
}

t.test('SIGINT mid-run stops every server', { skip: missing.length > 0 ? `not built: ${missing.join(', ')}; run \`make build\`` : false }, async (t) => {
  const store = await mkdtemp(path.join(tmpdir(), 'traft-interrupt-'));
  t.teardown(() => rm(store, { recursive: true, force: true }));

  const child = spawn(process.execPath, [cli, 'run', 'register', '--nodes', '3', '--time-limit', '60', '--nemesis', 'kill,pause', '--nemesis-interval', '2', '--rate', '200', '--seed', '5', '--store', store], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const serverPids: number[] = [];
  t.teardown(() => {
    // Only reached when the controller failed to clean up; the assertions below report it.
    if (child.exitCode === null) child.kill('SIGKILL');
    for (const pid of serverPids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  });

  const runDir = await waitFor('the run folder', 20_000, async () => {
    const runs = await readdir(path.join(store, 'register'));
    return runs.length === 1 ? path.join(store, 'register', runs[0]!) : undefined;
  });
  const history = path.join(runDir, 'history.jsonl');
  await waitFor('100 ops in the history', 60_000, async () => ((await countLines(history)) >= 100 ? true : undefined));

  const readServerPids = async (): Promise<number[]> => {
    const controllerLog = await readFile(path.join(runDir, 'controller.log'), 'utf8');
    return controllerLog
      .split('\n')
      .filter((line) => line.includes('"server started"'))
      .map((line) => (JSON.parse(line) as { pid: number }).pid);
  };
  serverPids.push(...(await readServerPids()));
  t.ok(serverPids.length >= 3, `the controller log names the server pids (${serverPids.join(', ')})`);
  t.ok(serverPids.some(isAlive), 'servers run before the interrupt');

  child.kill('SIGINT');
  const code = await Promise.race([exited, new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 20_000))]);
  t.equal(code, 130, `the controller exits 130 after SIGINT (output: ${output.slice(-500)})`);

  // Restarts by the nemesis add pids, so the list is read again once the controller is gone.
  for (const pid of await readServerPids()) if (!serverPids.includes(pid)) serverPids.push(pid);
  // SIGKILL is delivered at once, but the kernel may take a moment to tear a process down.
  await waitFor('every server to exit', 5_000, async () => (serverPids.some(isAlive) ? undefined : true)).catch(() => undefined);
  for (const pid of serverPids) t.notOk(isAlive(pid), `server pid ${pid} is gone`);

  let parsed = 0;
  for await (const _op of readJsonlHistory(history)) parsed += 1;
  t.ok(parsed >= 100, `the partial history parses (${parsed} ops)`);

  const check = spawnSync(process.execPath, [cli, 'check', history], { encoding: 'utf8', timeout: 120_000 });
  t.equal(check.status, 0, `traft check accepts the partial history: ${check.stdout.trim()} ${check.stderr.trim()}`);
});
