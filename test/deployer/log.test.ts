/**
 * The deployer's log (CloudWatch): one JSON line per step, saying what it is doing and how it
 * went, so that a person following a deploy sees the progress without the admin API's answers.
 */
import { DEPLOYMENT_ID, healthyAdmin, invoke, LAMBDA_ARN, lambdaProps, listing, LOGICAL_ID, ownedMetadata, ROLE_ARN, useFakes } from './harness';
import { statementId } from '../../src/deployer/statement-id';

const fakes = useFakes();
const props = (extra = {}) => lambdaProps(fakes.admin.url, { GrantInvoke: 'true', ...extra });

test('a Create: request, health, grant, registration, visibility, response', async () => {
  const started = Date.now();
  await invoke(fakes, 'Create', props({ Private: 'true', Breaking: 'true' }));
  const waited = fakes.logs.find((l) => l.message === 'admin API healthy')!.waitedMs;
  expect(waited).toBeGreaterThanOrEqual(0);
  expect(waited).toBeLessThanOrEqual(Date.now() - started);
  const statement = { functionName: LAMBDA_ARN, statementId: statementId(ROLE_ARN, fakes.admin.url) };
  expect(fakes.logs).toEqual([
    { message: 'request', requestType: 'Create', logicalResourceId: LOGICAL_ID, adminUrl: fakes.admin.url, endpoint: LAMBDA_ARN },
    { message: 'admin API healthy', url: `${fakes.admin.url}/health`, attempts: 1, waitedMs: expect.any(Number) },
    { message: 'invoke permission added', ...statement, principal: ROLE_ARN },
    { message: 'registering', endpoint: `Lambda ${LAMBDA_ARN}`, adminUrl: fakes.admin.url, force: false, breaking: true },
    { message: 'registered', deploymentId: DEPLOYMENT_ID, created: true, services: ['Greeter'] },
    { message: 'visibility set', service: 'Greeter', public: false },
    { message: 'responded', status: 'SUCCESS', physicalResourceId: DEPLOYMENT_ID, to: `${fakes.cfn.url}/cfn-response` },
  ]);
});

test('a Delete under DESTROY: request, the grant removed, the outcome, response', async () => {
  fakes.admin.route = healthyAdmin(listing([]));
  await invoke(fakes, 'Delete', props({ RemovalPolicy: 'destroy' }), { physicalResourceId: DEPLOYMENT_ID });
  expect(fakes.logs).toEqual([
    {
      message: 'request',
      requestType: 'Delete',
      logicalResourceId: LOGICAL_ID,
      physicalResourceId: DEPLOYMENT_ID,
      adminUrl: fakes.admin.url,
      endpoint: LAMBDA_ARN,
    },
    { message: 'invoke permission removed', functionName: LAMBDA_ARN, statementId: statementId(ROLE_ARN, fakes.admin.url) },
    {
      message: 'delete',
      deploymentId: DEPLOYMENT_ID,
      outcome: `Removed deployment ${DEPLOYMENT_ID}; removed the invoker role's invoke permission on ${LAMBDA_ARN}.`,
    },
    { message: 'responded', status: 'SUCCESS', physicalResourceId: DEPLOYMENT_ID, to: `${fakes.cfn.url}/cfn-response` },
  ]);
});

test('a failure logs the reason before answering; an HTTP endpoint is named by its URL', async () => {
  fakes.admin.route = healthyAdmin((r) => (r.method === 'POST' && r.path === '/deployments' ? { status: 422, body: { message: 'bad request body' } } : undefined));
  const uri = 'https://services.example.com/greeter/';
  const response = await invoke(fakes, 'Create', lambdaProps(fakes.admin.url, { LambdaArn: undefined, AssumeRoleArn: undefined, Uri: uri }));
  expect(fakes.logs[0]).toMatchObject({ message: 'request', endpoint: uri });
  expect(fakes.logs.slice(-2)).toEqual([
    { message: 'failed', reason: response.Reason },
    { message: 'responded', status: 'FAILED', physicalResourceId: 'restate-failed-create-req-1', to: `${fakes.cfn.url}/cfn-response` },
  ]);
});

test('an existing deployment made to serve again: why it was re-registered', async () => {
  fakes.admin.route = healthyAdmin((r) => {
    if (r.method === 'POST' && r.path === '/deployments') return { status: 200, body: { id: DEPLOYMENT_ID, services: [{ name: 'Greeter', revision: 1, public: true }] } };
    if (r.method === 'GET' && r.path === '/services/Greeter') {
      // Another deployment served Greeter until the re-registration.
      const reRegistered = fakes.admin.requests.filter((q) => q.method === 'POST' && q.path === '/deployments').length > 1;
      return { status: 200, body: { name: 'Greeter', deployment_id: reRegistered ? DEPLOYMENT_ID : 'dp_other', revision: reRegistered ? 3 : 2 } };
    }
    if (r.method === 'GET' && r.path === `/deployments/${DEPLOYMENT_ID}`) return { status: 200, body: { id: DEPLOYMENT_ID, arn: LAMBDA_ARN, assume_role_arn: ROLE_ARN, metadata: ownedMetadata() } };
    return undefined;
  });
  const response = await invoke(fakes, 'Update', props(), { physicalResourceId: DEPLOYMENT_ID });
  expect(response.Status).toBe('SUCCESS');
  expect(fakes.logs.filter((l) => l.message.includes('registered'))).toEqual([
    { message: 'registered', deploymentId: DEPLOYMENT_ID, created: false, services: ['Greeter'] },
    { message: 're-registered', deploymentId: DEPLOYMENT_ID, why: ['[Greeter was served by dp_other (revision 2)]'] },
  ]);
});
