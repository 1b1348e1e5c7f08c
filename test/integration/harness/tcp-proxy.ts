import * as net from 'node:net';
import { freePort, LOOPBACK } from './ports';

/**
 * How the proxy treats new connections:
 * - 'forward': pipe to the target;
 * - 'refuse': nothing listens on the port (connection refused), like a server that is down;
 * - 'hang': accept the connection and never answer, like a black-holed load balancer.
 */
export type ProxyMode = 'forward' | 'refuse' | 'hang';

/**
 * A TCP proxy on a fixed 127.0.0.1 port in front of another 127.0.0.1 port. Switching it to
 * 'refuse' closes the listener and cuts every open connection, which simulates "the admin
 * API is down" without touching the real server; 'forward' brings it back on the same port.
 */
export class TcpToggleProxy {
  public static async create(targetPort: number, mode: ProxyMode = 'forward'): Promise<TcpToggleProxy> {
    const proxy = new TcpToggleProxy(await freePort(), targetPort);
    await proxy.setMode(mode);
    return proxy;
  }

  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private currentMode: ProxyMode = 'refuse';
  /** Connections accepted since creation (for "no retry storm" assertions). */
  public connections = 0;

  private constructor(public readonly port: number, private readonly targetPort: number) {}

  public get url(): string {
    return `http://${LOOPBACK}:${this.port}`;
  }

  public get mode(): ProxyMode {
    return this.currentMode;
  }

  public async setMode(mode: ProxyMode): Promise<void> {
    if (mode === 'refuse') {
      await this.closeListener();
    } else {
      await this.ensureListening();
    }
    // Switching between forward and hang cuts existing connections too.
    this.destroySockets();
    this.currentMode = mode;
  }

  public async close(): Promise<void> {
    await this.setMode('refuse');
  }

  private async ensureListening(): Promise<void> {
    if (this.server) return;
    const server = net.createServer((client) => this.onConnection(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, LOOPBACK, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
  }

  private async closeListener(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.destroySockets();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private destroySockets(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  private onConnection(client: net.Socket): void {
    this.connections++;
    this.track(client);
    if (this.currentMode === 'hang') return;
    const upstream = net.connect(this.targetPort, LOOPBACK);
    this.track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  }
}
