/**
 * Many registrations at once: CloudFormation creates independent resources in parallel, so a
 * stack with many handlers (or several stacks deploying together) sends the deployer many Create
 * events at the same time, all against one admin API. Played here against one real
 * restate-server, the deployer handler in-process, through the CloudFormation stand-in:
 *
 *   a. DISTINCT endpoints, each a service of its own;
 *   b. REVISIONS: endpoints that all serve the same service name (revisions of one service).
 *
 * Every registration must answer SUCCESS with its own deployment (no duplicate at the server),
 * and the ingress must serve every service: in b, the latest revision the server made.
 *
 * The endpoints are real SDK endpoints, many per process (harness/fixtures/restate-services.js:
 * endpoint i under the path prefix /e<i>, so each URL is a deployment with exactly one service).
 * The benchmark (bench/src/latency.ts) runs the same with 100 registrations, and with the
 * reference library's deployer. Run with `npm run test:integration` (test/integration/run.sh).
 */
import { ConcurrencyReport, ConcurrentDeployer, ConcurrentTarget, registerConcurrently } from './harness/concurrency';
import { IntegrationEnvironment } from './harness/integration-environment';
import { httpRegistrationProperties } from './harness/registration';
import { MultiServiceProcess } from './harness/services';
import { trustProperties } from './harness/trust';

/** Distinct services registered at once (as many as the benchmark). */
const DISTINCT = 100;
/** Revisions of one service registered at once. */
const REVISIONS = 20;

jest.setTimeout(120_000);

let env: IntegrationEnvironment;
const processes: MultiServiceProcess[] = [];

beforeAll(async () => {
  env = await IntegrationEnvironment.start();
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(processes.map((p) => p.stop()));
  await env?.stop();
});

function deployer(): ConcurrentDeployer {
  return {
    label: 'ours',
    cfn: env.cfn,
    answersDeploymentId: true,
    properties: (t) =>
      httpRegistrationProperties({
        adminUrl: env.authProxy.url,
        authTokenSecretArn: env.apiKeySecretArn,
        uri: t.endpoint,
        id: t.logicalId,
        expectedServices: [t.service],
      }),
  };
}

async function targets(prefix: string, specs: Array<{ name: string; version: string }>): Promise<ConcurrentTarget[]> {
  const services = await MultiServiceProcess.start(env.dir, specs);
  processes.push(services);
  return specs.map((s, i) => ({ endpoint: services.uri(i), kind: 'http', service: s.name, version: s.version, logicalId: `${prefix}${i}Registration` }));
}

function summary(r: ConcurrencyReport): string {
  return (
    `${r.count} at once (${r.scenario}): ${r.succeeded} SUCCESS, ${r.failed} FAILED, ${r.noAnswer} without answer; all answered after ${r.wallMs} ms; ` +
    `per registration p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms; admin API answers ${JSON.stringify(r.adminAnswers)}` +
    `${r.adminErrors.length ? `; admin errors ${JSON.stringify(r.adminErrors)}` : ''}` +
    `${r.serverLog.length ? `; server WARN/ERROR lines ${JSON.stringify(r.serverLog.slice(0, 5))}` : ''}` +
    `${r.revisions ? `; revisions made ${r.revisions.made}, served revision ${r.revisions.served} (v${r.revisions.servedVersion})` : ''}` +
    `${r.failureReasons.length ? `; FAILED reasons: ${r.failureReasons.map((f) => `${f.count}× ${JSON.stringify(f.example)}`).join(' | ')}` : ''}` +
    `${r.failedRevisions?.length ? `; revision given → revision serving per reason: ${r.failedRevisions.map((f) => `${f.own.join('/')} → ${f.servingPerReason}`).join(', ')}` : ''}`
  );
}

test(`${DISTINCT} distinct services at once, then ${REVISIONS} revisions of one service at once: every one SUCCESS with its own deployment, the ingress serves each (the latest revision)`, async () => {
  // The deployer trusts the admin URL and API key secret its template pins.
  trustProperties(httpRegistrationProperties({ adminUrl: env.authProxy.url, authTokenSecretArn: env.apiKeySecretArn, uri: 'http://127.0.0.1:1', id: 'Trust' }));
  const distinct = await targets('Distinct', Array.from({ length: DISTINCT }, (_, i) => ({ name: `Distinct${String(i).padStart(3, '0')}`, version: '1' })));
  const revisions = await targets('Revision', Array.from({ length: REVISIONS }, (_, i) => ({ name: 'Revisioned', version: `r${i + 1}` })));

  const a = await registerConcurrently({ deployer: deployer(), scenario: 'distinct', targets: distinct, admin: env.admin, proxy: env.authProxy, serverLogFile: `${env.server.baseDir}/server.log` });
  note(`a. ${summary(a)}`);
  const b = await registerConcurrently({ deployer: deployer(), scenario: 'revisions', targets: revisions, admin: env.admin, proxy: env.authProxy, serverLogFile: `${env.server.baseDir}/server.log` });
  note(`b. ${summary(b)}`);

  for (const r of [a, b]) {
    expect({
      scenario: r.scenario,
      failed: r.outcomes.filter((o) => o.status !== 'SUCCESS').map((o) => `${o.endpoint}: ${o.status}: ${o.reason}`),
      problems: r.problems,
      ingress: r.ingress,
    }).toEqual({ scenario: r.scenario, failed: [], problems: [], ingress: { ok: r.scenario === 'distinct' ? r.count : 1, checked: r.scenario === 'distinct' ? r.count : 1 } });
    // Every registration a deployment of its own.
    expect(r.deploymentsAtServer).toBe(r.count);
  }
  // b: as many revisions as registrations, and the ingress serves the latest.
  expect(b.revisions).toEqual({ made: REVISIONS, served: REVISIONS, servedVersion: expect.stringMatching(/^r\d+$/) });
});

/** A line in the test output. */
function note(text: string): void {
  process.stderr.write(`    [integ] ${text}\n`);
}
