// The link proxy against a real loopback echo server: forwarding, cutting, refusing and healing.
import net from 'node:net';
import { pino } from 'pino';
import t from 'tap';
import { CLIENTS_ID, LinkProxy, LOOPBACK, ProxyMesh } from '../../controller/proxy.js';

const silent = pino({ level: 'silent' });

async function echoServer(t: { teardown(fn: () => unknown): void }): Promise<number> {
  const server = net.createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, () => resolve()));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as net.AddressInfo).port;
}

/** Connects, sends `text` and resolves with what comes back, or with the error code. */
function roundTrip(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: LOOPBACK, port });
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(`timeout after "${received}"`);
    }, 2000);
    socket.on('connect', () => socket.write(text));
    socket.on('data', (chunk) => {
      received += chunk.toString();
      if (received.length >= text.length) {
        clearTimeout(timer);
        socket.end();
        resolve(received);
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(`error ${error.code}`);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(received.length >= text.length ? received : `closed after "${received}"`);
    });
  });
}

t.test('proxy forwards, cuts and heals', async (t) => {
  const port = await echoServer(t);
  const proxy = await LinkProxy.listen(1, 2, port, silent);
  t.teardown(() => proxy.close());

  t.equal(await roundTrip(proxy.port, 'hello'), 'hello', 'forwards both ways');

  const open = net.connect({ host: LOOPBACK, port: proxy.port });
  await new Promise<void>((resolve) => open.on('connect', () => resolve()));
  await new Promise((resolve) => setTimeout(resolve, 50));
  const closed = new Promise<void>((resolve) => open.on('close', () => resolve()));
  open.on('error', () => undefined);
  proxy.cutLink();
  await closed;
  t.pass('cutting destroys an open connection');

  const refused = await roundTrip(proxy.port, 'again');
  t.not(refused, 'again', `a new connection is refused while cut (${refused})`);

  proxy.heal();
  t.equal(await roundTrip(proxy.port, 'healed'), 'healed', 'healing lets traffic through again');
});

t.test('mesh wires every directed pair', async (t) => {
  const ports = new Map<number, number>();
  for (const id of [1, 2, 3]) ports.set(id, await echoServer(t));
  const mesh = await ProxyMesh.start(ports, silent);
  t.teardown(() => mesh.close());

  const port = (from: number, to: number) => Number(mesh.addressFor(from, to).split(':')[1]);
  t.match(mesh.addressFor(1, 2), /^127\.0\.0\.1:\d+$/, 'addresses are on loopback');
  t.not(port(1, 2), port(2, 1), 'each direction has its own proxy');

  mesh.apply([[1, 2]]);
  t.same(mesh.cutLinks(), [[1, 2]]);
  t.not(await roundTrip(port(1, 2), 'x'), 'x', '1->2 is cut');
  t.equal(await roundTrip(port(2, 1), 'y'), 'y', '2->1 still works');

  mesh.apply([[2, 3]]);
  t.same(mesh.cutLinks(), [[2, 3]], 'apply replaces the previous cut');
  t.equal(await roundTrip(port(1, 2), 'z'), 'z', '1->2 healed by the new apply');

  mesh.healAll();
  t.same(mesh.cutLinks(), []);
});

t.test('client links are never cut', async (t) => {
  const ports = new Map<number, number>();
  for (const id of [1, 2, 3]) ports.set(id, await echoServer(t));
  const mesh = await ProxyMesh.start(ports, silent, true);
  t.teardown(() => mesh.close());

  t.ok(mesh.hasClientLinks);
  t.same(mesh.clientLinkList(), [[CLIENTS_ID, 1], [CLIENTS_ID, 2], [CLIENTS_ID, 3]]);
  t.equal(mesh.linkList().length, 6, 'node links leave out the client links');
  const clientPort = Number(mesh.addressFor(CLIENTS_ID, 2).split(':')[1]);
  mesh.apply([[1, 2], [3, 2]]);
  t.equal(await roundTrip(clientPort, 'c'), 'c', 'a partition leaves the client link open');
  t.ok(mesh.dropConnections(CLIENTS_ID, 2) >= 0, 'client links drop their connections');
});

t.test('refused upstream resets the caller', async (t) => {
  // A port that was just free and is closed again: connecting to it is refused.
  const unused = net.createServer();
  await new Promise<void>((resolve) => unused.listen(0, LOOPBACK, () => resolve()));
  const deadPort = (unused.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => unused.close(() => resolve()));
  const proxy = await LinkProxy.listen(CLIENTS_ID, 1, deadPort, silent);
  t.teardown(() => proxy.close());
  t.equal(await roundTrip(proxy.port, 'x'), 'error ECONNRESET', 'the caller sees a reset, not a clean close');
});
