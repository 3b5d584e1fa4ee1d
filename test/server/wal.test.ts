// A real traft-server against a damaged data dir. A torn WAL tail is truncated and the node
// serves again. A flipped byte before the tail makes the server exit non-zero within 10 s, with
// one line naming the file.
import { closeSync, openSync, readdirSync, readSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { sleep, spawnServer, TestCluster, within } from './cluster.js';

/** WAL segment files of a data dir, in name order, with their sizes. */
function walSegments(dataDir: string): { path: string; bytes: number }[] {
  const found: { path: string; bytes: number }[] = [];
  const visit = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        visit(path);
      } else if (/^wal-.*\.log$/.test(entry.name)) {
        found.push({ path, bytes: statSync(path).size });
      }
    }
  };
  visit(dataDir);
  return found.sort((a, b) => a.path.localeCompare(b.path));
}

/** Writes `count` keys to the 1-node `cluster` and kills it with SIGKILL; returns the acked count. */
async function writeAndKill(cluster: TestCluster, count: number): Promise<number> {
  await cluster.waitForLeader();
  const client = await cluster.client();
  let acked = 0;
  for (let i = 0; i < count; i++) {
    const outcome = await client.put(`k${i}`, i);
    if (outcome.type === 'ok') {
      acked++;
    }
  }
  await cluster.kill9(1);
  return acked;
}

function startSingle(): Promise<TestCluster> {
  return TestCluster.start({ size: 1, extraArgs: ['--checkpoint-every-applied', '0'] });
}

t.test('torn WAL tail is truncated on restart', async (t) => {
  const cluster = await startSingle();
  t.teardown(() => cluster.stop());
  t.equal(await writeAndKill(cluster, 20), 20, 'every write acknowledged before the kill');
  const segments = walSegments(cluster.spec(1).dataDir);
  t.ok(segments.length > 0, 'the data dir has WAL segments');
  const last = segments[segments.length - 1]!;

  // Append a partial record header and garbage after the last complete record.
  const fd = openSync(last.path, 'a');
  writeSync(fd, Buffer.from([0x40, 0x00, 0x00, 0x00, 0xde, 0xad]));
  closeSync(fd);

  const node = cluster.startNode(1);
  await cluster.waitForLeader();
  const client = await cluster.client();
  for (const i of [0, 10, 19]) {
    const read = await cluster.untilOk(() => client.get(`k${i}`));
    t.same(read.type === 'ok' ? read.value : read, i, `k${i} survived the torn tail`);
  }
  t.equal((await client.put('after', 1)).type, 'ok', 'node accepts writes after truncating');
  t.ok(
    node.stdout.some((line) => /torn|truncat/i.test(line)),
    'the truncation is logged',
  );
});

t.test('flipped byte mid-WAL refuses to start', async (t) => {
  const cluster = await startSingle();
  t.teardown(() => cluster.stop());
  t.equal(await writeAndKill(cluster, 30), 30, 'every write acknowledged before the kill');
  const segments = walSegments(cluster.spec(1).dataDir);
  const first = segments[0]!;
  t.ok(first.bytes > 64, `segment ${first.path} has ${first.bytes} bytes`);

  // Flip one byte in the middle of the first segment, well before its tail.
  const offset = Math.floor(first.bytes / 2);
  const fd = openSync(first.path, 'r+');
  const byte = Buffer.alloc(1);
  readSync(fd, byte, 0, 1, offset);
  byte[0] = byte[0]! ^ 0xff;
  writeSync(fd, byte, 0, 1, offset);
  closeSync(fd);

  const started = Date.now();
  const node = spawnServer(cluster.argsFor(cluster.spec(1)), cluster.spec(1));
  cluster.nodes.set(1, node);
  const exit = await within(node.exited, 10_000, 'server with a corrupted WAL');
  t.ok(Date.now() - started < 10_000, 'exits within 10 s');
  t.not(exit.code, 0, `exit code ${exit.code} is non-zero`);
  await sleep(50);
  const errorLines = node.stderr.filter((line) => line.startsWith('traft-server:'));
  t.equal(errorLines.length, 1, 'one error line on stderr');
  const fileName = first.path.split('/').pop()!;
  t.match(errorLines[0] ?? '', fileName, 'the error names the file');
  t.notMatch(node.stderr.join('\n'), /\n\s+at /, 'no stack trace');
});

