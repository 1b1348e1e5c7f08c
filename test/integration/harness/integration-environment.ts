import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { AdminApi } from './admin-api';
import { AuthenticatingProxy } from './auth-proxy';
import { CloudFormationStandIn, DeployerHandler } from './cloudformation';
import { FakeSecretsManager } from './fake-secrets-manager';
import { OutputCapture } from './output-capture';
import { stopAllProcesses } from './processes';
import { secretArn } from './registration';
import { RestateServer, RestateServerOptions } from './restate-server';
import { freshDir, runEnvironment } from './run-env';
import { ServiceOptions, ServiceProcess } from './services';
import { TcpToggleProxy } from './tcp-proxy';

/** The module under test; loaded only after AWS_ENDPOINT_URL_SECRETS_MANAGER is set. */
export const HANDLER_MODULE = path.resolve(__dirname, '../../../src/deployer/deployer.lambda');

/**
 * Everything one integration test file needs, started in beforeAll and stopped in afterAll:
 *
 *   handler (in-process) ──▶ authProxy (bearer check, recording) ──▶ restate-server admin
 *                        └─▶ adminGate (TCP proxy: forward / refuse / hang) ──▶ restate-server admin
 *                        └─▶ secrets (fake Secrets Manager) and cfn (https ResponseURL)
 *   services: real SDK endpoints in child processes; admin/ingress: the tests' direct view.
 *
 * There is one restate-server per test file; files run one after the other (--runInBand),
 * so there is never more than one server at a time.
 */
export interface IntegrationEnvironmentOptions {
  /**
   * How the restate-server is configured, e.g. with a request-identity private key, or with
   * `environment` pointing its AWS SDK at loopback stand-ins (`AwsStandIn.serverEnvironment()`).
   */
  readonly server?: RestateServerOptions;
}

export class IntegrationEnvironment {
  public static async start(options: IntegrationEnvironmentOptions = {}): Promise<IntegrationEnvironment> {
    const env = runEnvironment();
    const dir = freshDir(env, 'deployer');
    const output = new OutputCapture(path.join(dir, 'handler-output.log'));
    const secrets = await FakeSecretsManager.start();
    const server = await RestateServer.start(freshDir(env, 'restate'), options.server);
    const apiKey = `rst_integ_${randomBytes(16).toString('hex')}`;
    const authProxy = await AuthenticatingProxy.start(server.adminUrl, apiKey);
    const adminGate = await TcpToggleProxy.create(server.adminPort, 'forward');

    const apiKeySecretArn = secretArn('restate/integ/api-key');
    secrets.putSecret(apiKeySecretArn, apiKey);

    // Before the handler module loads: it may create its SDK client at module scope.
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = secrets.url;
    output.start();
    let handler: DeployerHandler;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const mod = require(HANDLER_MODULE) as { handler?: unknown };
      if (typeof mod.handler !== 'function') throw new Error(`${HANDLER_MODULE} does not export a function 'handler'`);
      handler = mod.handler as DeployerHandler;
    } catch (e) {
      output.stop();
      throw e;
    }
    const cfn = await CloudFormationStandIn.start({ cert: env.tlsCert, key: env.tlsKey }, handler);
    const admin = new AdminApi(server.adminUrl, server.ingressUrl);
    return new IntegrationEnvironment(dir, server, admin, authProxy, adminGate, secrets, cfn, output, apiKey, apiKeySecretArn);
  }

  private readonly services: ServiceProcess[] = [];

  private constructor(
    /** Temporary directory of this file's run (logs, handler output). */
    public readonly dir: string,
    public readonly server: RestateServer,
    /** Direct access to the server's admin API and ingress, for assertions. */
    public readonly admin: AdminApi,
    /** Requires `Bearer <apiKey>`; records requests. */
    public readonly authProxy: AuthenticatingProxy,
    /** Toggleable TCP proxy in front of the admin API (no auth). */
    public readonly adminGate: TcpToggleProxy,
    public readonly secrets: FakeSecretsManager,
    public readonly cfn: CloudFormationStandIn,
    public readonly output: OutputCapture,
    public readonly apiKey: string,
    public readonly apiKeySecretArn: string,
  ) {}

  /** Starts a real SDK service; stopped in `stop()` at the latest. */
  public async startService(options: ServiceOptions): Promise<ServiceProcess> {
    const service = await ServiceProcess.start(this.dir, options);
    this.services.push(service);
    return service;
  }

  public async stop(): Promise<void> {
    this.output.stop();
    await Promise.allSettled(this.services.map((s) => s.stop()));
    await this.server.stop();
    await Promise.allSettled([this.authProxy.close(), this.adminGate.close(), this.secrets.close(), this.cfn.close()]);
    await stopAllProcesses();
  }
}
