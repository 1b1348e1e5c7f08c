/**
 * Registration latency of the deployer Lambda against a real restate-server, reusing the
 * integration harness (test/integration/harness/). bench/run.sh runs this inside a private
 * network namespace (loopback only), with a throwaway TLS CA, fake AWS credentials and
 * AWS_EC2_METADATA_DISABLED=true, and passes BENCH_LATENCY_JSON, where the result goes.
 *
 * The code under test is the bundled deployer (assets/registration/deployer.lambda/index.js),
 * i.e. what ships in the Lambda, invoked in-process the way CloudFormation invokes it.
 */
import * as fs from 'fs';
import * as path from 'path';
import { AuthenticatingProxy } from '../../test/integration/harness/auth-proxy';
import { CloudFormationInvocation, CloudFormationStandIn, DeployerHandler } from '../../test/integration/harness/cloudformation';
import { FakeSecretsManager } from '../../test/integration/harness/fake-secrets-manager';
import { httpRequest } from '../../test/integration/harness/http';
import { OutputCapture } from '../../test/integration/harness/output-capture';
import { stopAllProcesses } from '../../test/integration/harness/processes';
import { httpRegistrationProperties, secretArn } from '../../test/integration/harness/registration';
import { RestateServer } from '../../test/integration/harness/restate-server';
import { freshDir, runEnvironment } from '../../test/integration/harness/run-env';
import { ServiceProcess } from '../../test/integration/harness/services';
import { TcpToggleProxy } from '../../test/integration/harness/tcp-proxy';
import { DeploymentResourceProperties } from '../../src/registration/properties';
import { adminTarget, TRUSTED_TARGETS_ENV } from '../../src/registration/trust';

const ROOT = path.resolve(__dirname, '../..');
const HANDLER = path.join(ROOT, 'assets', 'registration', 'deployer.lambda', 'index.js');
const REGISTRATIONS = 20;
const REREGISTRATIONS = 10;
const LATE_MS = 2_000;
const LATE_RUNS = 5;

function say(line: string): void {
  process.stderr.write(`latency: ${line}\n`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

function expectSuccess(what: string, inv: CloudFormationInvocation): void {
  if (inv.response.Status !== 'SUCCESS') {
    throw new Error(`${what}: ${inv.response.Status}: ${inv.response.Reason ?? '(no reason)'}`);
  }
}

async function main(): Promise<void> {
  const out = process.env.BENCH_LATENCY_JSON;
  if (!out) throw new Error('BENCH_LATENCY_JSON is not set (run bench/run.sh)');
  if (process.env.AWS_EC2_METADATA_DISABLED !== 'true') throw new Error('AWS_EC2_METADATA_DISABLED must be true');
  if (!fs.existsSync(HANDLER)) throw new Error(`${HANDLER} is missing: run npx projen bundle`);

  const env = runEnvironment();
  const dir = freshDir(env, 'bench');
  const output = new OutputCapture(path.join(dir, 'handler-output.log'));
  const secrets = await FakeSecretsManager.start();
  const closers: Array<() => Promise<void>> = [() => secrets.close()];
  try {
    const server = await RestateServer.start(freshDir(env, 'restate'));
    closers.push(() => server.stop());
    const version = await httpRequest('GET', `${server.adminUrl}/version`);
    const restateServerVersion = (JSON.parse(version.body) as { version?: string }).version ?? 'unknown';
    say(`restate-server ${restateServerVersion} on ${server.adminUrl} (pid ${server.pid})`);

    const apiKey = `rst_bench_${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
    const apiKeyArn = secretArn('restate/bench/api-key');
    secrets.putSecret(apiKeyArn, apiKey);
    const authProxy = await AuthenticatingProxy.start(server.adminUrl, apiKey);
    closers.push(() => authProxy.close());
    const gate = await TcpToggleProxy.create(Number(new URL(authProxy.url).port), 'refuse');
    closers.push(() => gate.close());

    const service = await ServiceProcess.start(dir, { name: 'Greeter', version: 1 });
    closers.push(() => service.stop());
    say(`Greeter service (restate-sdk) on ${service.uri} (pid ${service.pid})`);

    // The handler may create its SDK client at module scope: point it at the fake first.
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = secrets.url;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const handler = (require(HANDLER) as { handler: DeployerHandler }).handler;
    const cfn = await CloudFormationStandIn.start({ cert: env.tlsCert, key: env.tlsKey }, handler);
    closers.push(() => cfn.close());

    const props = (i: string, adminUrl: string, uri: string) =>
      httpRegistrationProperties({ adminUrl, authTokenSecretArn: apiKeyArn, uri, id: `Greeter${i}`, expectedServices: ['Greeter'] });

    // The deployer trusts the admin URLs a synthesized app would declare (RESTATE_TRUSTED_TARGETS).
    process.env[TRUSTED_TARGETS_ENV] = JSON.stringify({
      admin: [authProxy.url, gate.url].map((adminUrl) => adminTarget(props('Trust', adminUrl, service.uri) as unknown as DeploymentResourceProperties)),
      headers: [],
    });

    output.start();
    // 1. Create registrations, each a new endpoint URL (the SDK serves any path prefix).
    const samples: number[] = [];
    const deploymentIds: string[] = [];
    for (let i = 0; i < REGISTRATIONS; i++) {
      const inv = await cfn.invokeAsCloudFormation('Create', props(`R${i}`, authProxy.url, `${service.uri}/bench/r${i}`), { logicalResourceId: `GreeterR${i}` });
      expectSuccess(`registration ${i}`, inv);
      samples.push(inv.elapsedMs);
      deploymentIds.push(inv.response.PhysicalResourceId);
    }
    // 2. Idempotent re-registrations of one endpoint (restate answers 200, same deployment).
    const again: number[] = [];
    for (let i = 0; i < REREGISTRATIONS; i++) {
      const inv = await cfn.invokeAsCloudFormation('Create', props('R0', authProxy.url, `${service.uri}/bench/r0`), { logicalResourceId: 'GreeterR0' });
      expectSuccess(`re-registration ${i}`, inv);
      if (inv.response.PhysicalResourceId !== deploymentIds[0]) throw new Error(`re-registration ${i} answered ${inv.response.PhysicalResourceId}, expected ${deploymentIds[0]}`);
      again.push(inv.elapsedMs);
    }
    // 3. The admin API comes up LATE_MS after the event: connections are refused until then.
    const late: Array<{ elapsedMs: number; status: string }> = [];
    for (let i = 0; i < LATE_RUNS; i++) {
      await gate.setMode('refuse');
      const opening = new Promise<void>((resolve) => setTimeout(() => void gate.setMode('forward').then(resolve), LATE_MS));
      const inv = await cfn.invokeAsCloudFormation('Create', props(`Late${i}`, gate.url, `${service.uri}/bench/late${i}`), { logicalResourceId: `GreeterLate${i}` });
      await opening;
      late.push({ elapsedMs: inv.elapsedMs, status: inv.response.Status });
      expectSuccess(`late admin API run ${i}`, inv);
    }
    output.stop();

    const sdkVersion = (JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', '@restatedev', 'restate-sdk', 'package.json'), 'utf8')) as { version: string }).version;
    const result = {
      ok: true,
      restateServerVersion,
      sdkVersion,
      registrations: {
        count: samples.length,
        medianMs: median(samples),
        p90Ms: percentile(samples, 90),
        minMs: Math.min(...samples),
        maxMs: Math.max(...samples),
        samplesMs: samples,
        distinctDeployments: new Set(deploymentIds).size,
      },
      reregistrations: { count: again.length, medianMs: median(again), samplesMs: again },
      lateAdmin: { delayMs: LATE_MS, runs: late, medianMs: median(late.map((l) => l.elapsedMs)) },
    };
    fs.writeFileSync(out, JSON.stringify(result, null, 2));
    say(`registrations: median ${Math.round(result.registrations.medianMs)} ms; re-registrations: median ${Math.round(result.reregistrations.medianMs)} ms; admin ${LATE_MS} ms late: median ${Math.round(result.lateAdmin.medianMs)} ms`);
  } catch (e) {
    output.stop();
    fs.writeFileSync(out, JSON.stringify({ ok: false, error: e instanceof Error ? e.message.split('\n')[0] : String(e) }));
    say(`FAILED: ${e instanceof Error ? e.stack : String(e)}`);
    say(`handler output: ${path.join(dir, 'handler-output.log')}`);
    process.exitCode = 1;
  } finally {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await stopAllProcesses();
  }
}

void main();
