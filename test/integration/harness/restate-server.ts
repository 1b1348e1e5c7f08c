import * as fs from 'node:fs';
import * as path from 'node:path';
import { httpRequest } from './http';
import { freePort, LOOPBACK, waitUntil } from './ports';
import { ManagedProcess, readLog, spawnManaged } from './processes';

/** The restate-server binary itself: the npx wrapper leaves the binary running when killed. */
export const RESTATE_SERVER_BINARY = path.resolve(
  __dirname,
  '../../../node_modules/@restatedev/restate-server-linux-x64/bin/restate-server',
);

/** Optional server configuration; the defaults are what the deployer suite runs against. */
export interface RestateServerOptions {
  /**
   * A PEM file with an Ed25519 private key (PKCS#8): the server signs every request to a
   * service with it (request identity v1), as Restate Cloud does with its environment key.
   * Written as `[worker.invoker] request-identity-private-key-pem-file` (restate-server 1.7;
   * the root-level key of the same name is deprecated).
   *
   * @default - requests are not signed
   */
  readonly requestIdentityPrivateKeyPemFile?: string;

  /**
   * Extra environment variables of the server process, applied last (`undefined` removes a
   * variable it would inherit). E.g. `AwsStandIn.serverEnvironment()`: `AWS_ENDPOINT_URL` at
   * the loopback STS/Lambda stand-in, with dummy credentials, so that registering a Lambda ARN
   * never reaches AWS.
   *
   * @default - the test process's environment
   */
  readonly environment?: Readonly<Record<string, string | undefined>>;
}

/**
 * A real restate-server (npm @restatedev/restate-server) on random 127.0.0.1 ports with a
 * temporary base dir. `stop()` / `start()` keep ports and data, so a test can take the whole
 * server down and bring it back.
 */
export class RestateServer {
  public static async start(baseDir: string, options: RestateServerOptions = {}): Promise<RestateServer> {
    const server = new RestateServer(baseDir, await freePort(), await freePort(), await freePort(), options);
    await server.start();
    return server;
  }

  private process?: ManagedProcess;
  private readonly configFile: string;

  private constructor(
    public readonly baseDir: string,
    public readonly adminPort: number,
    public readonly ingressPort: number,
    public readonly fabricPort: number,
    public readonly options: RestateServerOptions = {},
  ) {
    this.configFile = path.join(baseDir, 'restate.toml');
    const keyFile = options.requestIdentityPrivateKeyPemFile;
    fs.writeFileSync(
      this.configFile,
      [
        'node-name = "integ"',
        'cluster-name = "integ"',
        `bind-address = "${LOOPBACK}:${fabricPort}"`,
        'listen-mode = "tcp"',
        'disable-telemetry = true',
        'default-num-partitions = 2',
        'rocksdb-total-memory-size = "256 MiB"',
        'log-disable-ansi-codes = true',
        'shutdown-timeout = "5s"',
        '',
        '[admin]',
        `bind-address = "${LOOPBACK}:${adminPort}"`,
        '',
        '[admin.query-engine]',
        'memory-size = "64 MiB"',
        '',
        '[ingress]',
        `bind-address = "${LOOPBACK}:${ingressPort}"`,
        '',
        ...(keyFile ? ['[worker.invoker]', `request-identity-private-key-pem-file = ${JSON.stringify(keyFile)}`, ''] : []),
      ].join('\n'),
    );
  }

  public get adminUrl(): string {
    return `http://${LOOPBACK}:${this.adminPort}`;
  }

  public get ingressUrl(): string {
    return `http://${LOOPBACK}:${this.ingressPort}`;
  }

  public get pid(): number | undefined {
    return this.process && !this.process.hasExited() ? this.process.pid : undefined;
  }

  /** Starts the server (again) and waits until admin /health and ingress health answer 200. */
  public async start(): Promise<void> {
    if (this.pid !== undefined) return;
    const p = spawnManaged('restate-server', RESTATE_SERVER_BINARY, ['--config-file', this.configFile, '--base-dir', this.baseDir, '--no-logo'], {
      cwd: this.baseDir,
      env: { ...process.env, RUST_LOG: undefined, RESTATE_LOG_FILTER: 'warn,restate=info', ...this.options.environment },
      logFile: path.join(this.baseDir, 'server.log'),
    });
    this.process = p;
    try {
      await waitUntil(
        'restate-server admin and ingress health',
        async () => {
          if (p.hasExited()) throw new Error(`restate-server exited (${await p.exited}):\n${readLog(p)}`);
          const admin = await httpRequest('GET', `${this.adminUrl}/health`, { timeoutMs: 1_000 });
          if (admin.status !== 200) return false;
          const ingress = await httpRequest('GET', `${this.ingressUrl}/restate/health`, { timeoutMs: 1_000 });
          return ingress.status === 200;
        },
        { timeoutMs: 60_000, intervalMs: 200 },
      );
    } catch (e) {
      await p.stop();
      throw new Error(`${(e as Error).message}\n--- server.log ---\n${readLog(p)}`);
    }
  }

  /** SIGTERM by process id, SIGKILL after a grace period. */
  public async stop(): Promise<void> {
    await this.process?.stop(8_000);
  }

  public log(): string {
    return this.process ? readLog(this.process) : '';
  }
}
