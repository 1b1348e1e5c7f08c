/**
 * The handler always answers CloudFormation: properties it refuses (FAILED for Create and
 * Update, SUCCESS for Delete), and running out of time (the request in flight hangs up; FAILED
 * for Create with the failed-create id, SUCCESS for Delete, naming what it was doing).
 */
import * as http from 'http';
import { AddressInfo } from 'net';
import { deploymentEvent, Route, trustProps } from './fakes';
import { DEPLOYMENT_ID, FAILED_CREATE_ID, healthyAdmin, invoke, lambdaProps, useFakes } from './harness';
import { handler } from '../../src/deployer/deployer.lambda';

const fakes = useFakes();
const props = (extra = {}) => lambdaProps(fakes.admin.url, extra);

/** An admin API that is healthy but never answers `hangs` requests; says when a client hung up. */
async function hangingAdmin(hangs: (method: string, path: string) => boolean, route: Route = healthyAdmin()) {
  const hungUp: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (hangs(req.method!, req.url!)) {
        res.on('close', () => hungUp.push(`${req.method} ${req.url}`));
        return;
      }
      const text = Buffer.concat(chunks).toString('utf8');
      const body = text ? JSON.parse(text) : undefined;
      const answer = route({ method: req.method!, path: req.url!, headers: req.headers, body }) ?? { status: 404 };
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hungUp,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('refused properties', () => {
  test('Create: FAILED with the reason, the failed-create id, and no admin call', async () => {
    const response = await invoke(fakes, 'Create', props({ Force: 'maybe' }));
    expect(response).toMatchObject({
      Status: 'FAILED',
      PhysicalResourceId: FAILED_CREATE_ID,
      Reason: "property Force is not 'true' or 'false': \"maybe\". The custom resource was not written by ServiceDeployer; nothing was done.",
    });
    expect(fakes.admin.requests).toHaveLength(0);
  });

  test('Update: FAILED, keeping the physical id', async () => {
    const response = await invoke(fakes, 'Update', props({ Force: 'maybe' }), { physicalResourceId: 'dp_old' });
    expect(response).toMatchObject({ Status: 'FAILED', PhysicalResourceId: 'dp_old' });
  });

  test('Delete: SUCCESS, so that the stack goes on, and nothing is removed', async () => {
    const response = await invoke(fakes, 'Delete', props({ Force: 'maybe', RemovalPolicy: 'destroy' }), { physicalResourceId: 'dp_old' });
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'dp_old' });
    expect(response.Reason).toMatch(/^Delete was not completed \(property Force is not 'true' or 'false': "maybe"\. .*\); the stack goes on\.$/);
    expect(fakes.admin.requests).toHaveLength(0);
  });

  test('an Update whose previous properties are not ServiceDeployer\'s still registers', async () => {
    const response = await invoke(fakes, 'Update', props(), { physicalResourceId: DEPLOYMENT_ID, oldProps: { Evil: 'x' } });
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: DEPLOYMENT_ID });
  });

  test('a Create without ResourceProperties is refused', async () => {
    const event = deploymentEvent('Create', props(), fakes.cfn.url);
    delete (event as { ResourceProperties?: unknown }).ResourceProperties;
    trustProps(props());
    const before = fakes.cfn.requests.length;
    await handler(event, { getRemainingTimeInMillis: () => 60_000 });
    expect(fakes.cfn.requests.slice(before).map((r) => r.body.Reason)).toEqual([
      'ResourceProperties is not an object. The custom resource was not written by ServiceDeployer; nothing was done.',
    ]);
  });
});

describe('running out of time', () => {
  test('Create: FAILED with the failed-create id, naming the phase, and the registration in flight hangs up', async () => {
    const admin = await hangingAdmin((method, path) => method === 'POST' && path === '/deployments');
    try {
      const p = props({ AdminUrl: admin.url });
      // 2 s left: the deployer works for 1 s of it.
      const response = await invoke(fakes, 'Create', p, { remainingMs: 2_000 });
      expect(response).toMatchObject({ Status: 'FAILED', PhysicalResourceId: FAILED_CREATE_ID });
      expect(response.Reason).toBe(
        `The deployer ran out of time while registering Lambda ${p.LambdaArn} at ${admin.url}/deployments. Raise the ServiceDeployer timeout or check the admin API.`,
      );
      await new Promise((r) => setTimeout(r, 50));
      expect(admin.hungUp).toEqual(['POST /deployments']);
    } finally {
      await admin.stop();
    }
  });

  test('Update: FAILED, keeping the physical id', async () => {
    const admin = await hangingAdmin((method, path) => method === 'POST' && path === '/deployments');
    try {
      const response = await invoke(fakes, 'Update', props({ AdminUrl: admin.url }), { remainingMs: 2_000, physicalResourceId: 'dp_old' });
      expect(response).toMatchObject({ Status: 'FAILED', PhysicalResourceId: 'dp_old' });
    } finally {
      await admin.stop();
    }
  });

  test('Delete: SUCCESS, leaving the deployment in place, naming the phase', async () => {
    const admin = await hangingAdmin((method) => method === 'GET');
    try {
      const response = await invoke(fakes, 'Delete', props({ AdminUrl: admin.url, RemovalPolicy: 'destroy' }), { remainingMs: 2_000, physicalResourceId: 'dp_abc' });
      expect(response).toMatchObject({
        Status: 'SUCCESS',
        PhysicalResourceId: 'dp_abc',
        Reason: `Ran out of time while removing deployment dp_abc at ${admin.url}; the deployment was left in place.`,
      });
    } finally {
      await admin.stop();
    }
  });

  test('the last error is named with the phase', async () => {
    let posts = 0;
    const admin = await hangingAdmin(
      (method, path) => method === 'POST' && path === '/deployments' && posts++ > 0,
      healthyAdmin((r) => (r.method === 'POST' && r.path === '/deployments' ? { status: 503, body: { message: 'busy' } } : undefined)),
    );
    try {
      const p = props({ AdminUrl: admin.url });
      const response = await invoke(fakes, 'Create', p, { remainingMs: 4_000 });
      expect(response.Reason).toBe(
        `The deployer ran out of time while registering Lambda ${p.LambdaArn} at ${admin.url}/deployments ` +
          `(last: POST ${admin.url}/deployments answered HTTP 503: busy). Raise the ServiceDeployer timeout or check the admin API.`,
      );
    } finally {
      await admin.stop();
    }
  });
});
