// The proxy mesh: one TCP proxy per directed node pair, owned by the controller, so network faults
// need no root. Node i reaches node j only through proxy(i→j); cutting that link destroys its open
// connections and resets new ones until it is healed. Optionally the bench's clients reach each
// node through a client link too, whose connections network faults drop but never cut. Proxies
// listen on and connect to 127.0.0.1 only.
import assert from 'node:assert/strict';
import net from 'node:net';
import type { Logger } from 'pino';

export const LOOPBACK = '127.0.0.1';
/** The `from` id of a client link: the bench's clients, which no node id equals. */
export const CLIENTS_ID = 0;

/** A forwarding proxy for one direction of one node pair. */
export class LinkProxy {
  private readonly sockets = new Set<net.Socket>();
  private cut = false;
  private constructor(
    readonly from: number,
    readonly to: number,
    private readonly server: net.Server,
    readonly port: number,
    private readonly targetPort: number,
    private readonly log: Logger,
  ) {
    server.on('connection', (client) => this.accept(client));
  }

  static async listen(from: number, to: number, targetPort: number, log: Logger): Promise<LinkProxy> {
    const server = net.createServer({ noDelay: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, LOOPBACK, () => resolve());
    });
    const address = server.address();
    assert(address !== null && typeof address === 'object', 'proxy server has no address after listen');
    return new LinkProxy(from, to, server, address.port, targetPort, log.child({ link: `${from}->${to}` }));
  }

  get isCut(): boolean {
    return this.cut;
  }

  /** Drops every open connection and resets new ones until heal(). */
  cutLink(): void {
    this.cut = true;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  heal(): void {
    this.cut = false;
  }

  /** Drops the open connections but accepts new ones: the messages in flight are lost. */
  dropConnections(): number {
    const dropped = this.sockets.size;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    return dropped;
  }

  async close(): Promise<void> {
    this.cutLink();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    if (this.cut) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect({ host: LOOPBACK, port: this.targetPort, noDelay: true });
    this.track(client);
    this.track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    const closeBoth = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', closeBoth);
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      this.log.debug({ code: error.code }, 'upstream connection failed');
      // A refused upstream (the node is down) resets the caller, as a direct connection would be.
      if (error.code === 'ECONNREFUSED') client.resetAndDestroy();
      closeBoth();
    });
    client.on('close', closeBoth);
    upstream.on('close', closeBoth);
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
  }
}

/** Every directed link between `nodeIds`, with operations on sets of links. */
export class ProxyMesh {
  private constructor(private readonly links: Map<string, LinkProxy>) {}

  /**
   * Starts a proxy for every ordered pair, and with `clientLinks` one from the clients to each
   * node. `listenPorts` maps a node id to the port it serves peers and clients on.
   */
  static async start(listenPorts: ReadonlyMap<number, number>, log: Logger, clientLinks = false): Promise<ProxyMesh> {
    const links = new Map<string, LinkProxy>();
    const mesh = new ProxyMesh(links);
    try {
      for (const from of listenPorts.keys()) {
        assert(from !== CLIENTS_ID, `node id ${CLIENTS_ID} is reserved for the clients' links`);
        for (const [to, port] of listenPorts) {
          if (from === to) continue;
          links.set(linkKey(from, to), await LinkProxy.listen(from, to, port, log));
        }
      }
      if (clientLinks) {
        for (const [to, port] of listenPorts) links.set(linkKey(CLIENTS_ID, to), await LinkProxy.listen(CLIENTS_ID, to, port, log));
      }
    } catch (error) {
      await mesh.close();
      throw error;
    }
    return mesh;
  }

  /** The address node `from` (or CLIENTS_ID) uses to reach node `to`. */
  addressFor(from: number, to: number): string {
    return `${LOOPBACK}:${this.link(from, to).port}`;
  }

  get hasClientLinks(): boolean {
    return [...this.links.values()].some((proxy) => proxy.from === CLIENTS_ID);
  }

  /** Cuts exactly the given directed links and heals every other one. */
  apply(cuts: readonly [number, number][]): void {
    const wanted = new Set(cuts.map(([from, to]) => linkKey(from, to)));
    for (const [key, proxy] of this.links) {
      if (wanted.has(key)) proxy.cutLink();
      else proxy.heal();
    }
  }

  healAll(): void {
    for (const proxy of this.links.values()) proxy.heal();
  }

  /** Every directed link between nodes as [from, to], in a stable order. */
  linkList(): [number, number][] {
    return [...this.links.values()].filter((proxy) => proxy.from !== CLIENTS_ID).map((proxy) => [proxy.from, proxy.to]);
  }

  /** Lists every client link as [CLIENTS_ID, to], in a stable order (empty without client links). */
  clientLinkList(): [number, number][] {
    return [...this.links.values()].filter((proxy) => proxy.from === CLIENTS_ID).map((proxy) => [proxy.from, proxy.to]);
  }

  /** Drops the open connections of one link without cutting it; returns how many sockets closed. */
  dropConnections(from: number, to: number): number {
    return this.link(from, to).dropConnections();
  }

  cutLinks(): [number, number][] {
    return [...this.links.values()].filter((proxy) => proxy.isCut).map((proxy) => [proxy.from, proxy.to]);
  }

  async close(): Promise<void> {
    await Promise.all([...this.links.values()].map((proxy) => proxy.close()));
  }

  private link(from: number, to: number): LinkProxy {
    const proxy = this.links.get(linkKey(from, to));
    assert(proxy !== undefined, `no proxy for link ${from}->${to}`);
    return proxy;
  }
}

function linkKey(from: number, to: number): string {
  return `${from}->${to}`;
}
