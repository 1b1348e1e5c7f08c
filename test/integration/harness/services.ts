import * as fs from 'node:fs';
import * as path from 'node:path';
import { LOOPBACK, waitUntil } from './ports';
import { ManagedProcess, readLog, spawnManaged } from './processes';

const FIXTURE = path.join(__dirname, 'fixtures', 'restate-service.js');
let started = 0;

export interface ServiceOptions {
  /** Service name. */
  readonly name: string;
  /** 1: handlers `greet`, `nap` (durable sleep for the input's ms); 2: also `farewell`. */
  readonly version: 1 | 2;
  /** The endpoint answers 401 unless every request carries this header with this value. */
  readonly requiredHeader?: { readonly name: string; readonly value: string };
  /**
   * Extra environment variables of the service process, e.g. a Lambda function's
   * `Environment.Variables` from a synthesized template. `RESTATE_IDENTITY_KEYS`
   * (comma-separated `publickeyv1_...` keys) makes the endpoint verify request signatures
   * (`withIdentityV1`), as RestateRequestIdentity's wiring does.
   */
  readonly environment?: Readonly<Record<string, string>>;
  /** Listen on this port (e.g. to replace a stopped service at the same URI). Default: any free port. */
  readonly port?: number;
}

/**
 * A real Restate service (@restatedev/restate-sdk, HTTP/2 cleartext) in its own Node process,
 * on a port of 127.0.0.1 the OS picks. Stopped by process id.
 */
export class ServiceProcess {
  public static async start(dir: string, options: ServiceOptions): Promise<ServiceProcess> {
    const logFile = path.join(dir, `service-${options.name}-v${options.version}-${Date.now()}-${++started}.log`);
    const env: NodeJS.ProcessEnv = {
      ...options.environment,
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'production',
      SERVICE_NAME: options.name,
      SERVICE_VERSION: String(options.version),
    };
    if (options.port !== undefined) env.PORT = String(options.port);
    if (options.requiredHeader) env.REQUIRED_HEADER = `${options.requiredHeader.name}=${options.requiredHeader.value}`;
    const p = spawnManaged(`service ${options.name} v${options.version}`, process.execPath, [FIXTURE], {
      cwd: path.resolve(__dirname, '../../..'),
      env,
      logFile,
    });
    let port = 0;
    await waitUntil(`${options.name} v${options.version} to listen`, async () => {
      if (p.hasExited()) throw new Error(`service exited (${await p.exited}):\n${readLog(p)}`);
      const m = /LISTENING (\d+)/.exec(fs.readFileSync(logFile, 'utf8'));
      if (m) port = Number(m[1]);
      return port > 0;
    }, { timeoutMs: 20_000, intervalMs: 50 });
    return new ServiceProcess(p, options, port);
  }

  private constructor(private readonly process: ManagedProcess, public readonly options: ServiceOptions, public readonly port: number) {}

  /** The deployment URI to register. */
  public get uri(): string {
    return `http://${LOOPBACK}:${this.port}`;
  }

  public get pid(): number {
    return this.process.pid;
  }

  public log(): string {
    return readLog(this.process);
  }

  public async stop(): Promise<void> {
    await this.process.stop(3_000);
  }
}

const MULTI_FIXTURE = path.join(__dirname, 'fixtures', 'restate-services.js');

/** One endpoint of a MultiServiceProcess: a service name and the version its greet reports. */
export interface EndpointSpec {
  readonly name: string;
  /** Any string; greet answers `Hello, <who>! (<name> v<version>)`. '2' also adds `farewell`. */
  readonly version: string;
}

/**
 * Many real SDK endpoints in one Node process (fixtures/restate-services.js): endpoint i binds
 * exactly one service and is served under the path prefix `/e<i>`, so that `uri(i)` registers as
 * a deployment of its own with that one service. For many registrations at once on a 2-core
 * machine: one process per endpoint would cost ~50 MB and a Node start each.
 */
export class MultiServiceProcess {
  public static async start(dir: string, endpoints: readonly EndpointSpec[]): Promise<MultiServiceProcess> {
    const logFile = path.join(dir, `services-${endpoints.length}-${Date.now()}-${++started}.log`);
    const p = spawnManaged(`${endpoints.length} services`, process.execPath, [MULTI_FIXTURE], {
      cwd: path.resolve(__dirname, '../../..'),
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'production', SERVICES: JSON.stringify(endpoints) },
      logFile,
    });
    let port = 0;
    await waitUntil(`${endpoints.length} services to listen`, async () => {
      if (p.hasExited()) throw new Error(`services exited (${await p.exited}):\n${readLog(p)}`);
      const m = /LISTENING (\d+)/.exec(fs.readFileSync(logFile, 'utf8'));
      if (m) port = Number(m[1]);
      return port > 0;
    }, { timeoutMs: 20_000, intervalMs: 50 });
    return new MultiServiceProcess(p, endpoints, port);
  }

  private constructor(private readonly process: ManagedProcess, public readonly endpoints: readonly EndpointSpec[], public readonly port: number) {}

  /** The deployment URI of endpoint `i`. */
  public uri(i: number): string {
    if (i < 0 || i >= this.endpoints.length) throw new Error(`no endpoint ${i}`);
    return `http://${LOOPBACK}:${this.port}/e${i}`;
  }

  public get pid(): number {
    return this.process.pid;
  }

  public async stop(): Promise<void> {
    await this.process.stop(3_000);
  }
}
