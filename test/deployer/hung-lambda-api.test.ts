/**
 * A Lambda API that never answers: each AddPermission and RemovePermission call is bounded on
 * its own (10 s), so a hung call fails with its own reason, well before the deployer's time.
 */
import { DEPLOYMENT_ID, hangingAdmin, healthyAdmin, invoke, isLambda, LAMBDA_ARN, lambdaProps, useFakes } from './harness';

const fakes = useFakes();
let admin: Awaited<ReturnType<typeof hangingAdmin>>;
beforeAll(async () => {
  admin = await hangingAdmin((_method, path) => isLambda(path), healthyAdmin());
  // The deployer's Lambda client is made on first use: it talks to this server.
  process.env.AWS_ENDPOINT_URL_LAMBDA = admin.url;
});
afterAll(() => admin.stop());

const props = (extra = {}) => lambdaProps(admin.url, { GrantInvoke: 'true', ...extra });

test('a hung AddPermission fails the Create after 10 s, saying which call, without registering', async () => {
  const started = Date.now();
  const response = await invoke(fakes, 'Create', props(), { remainingMs: 30_000 });
  const tookMs = Date.now() - started;
  expect(response.Status).toBe('FAILED');
  expect(response.Reason).toMatch(new RegExp(`^could not grant .* lambda:InvokeFunction on ${LAMBDA_ARN}: lambda:AddPermission failed with \\w+: `));
  expect(tookMs).toBeGreaterThanOrEqual(9_000);
  expect(tookMs).toBeLessThan(20_000);
  expect(admin.hungUp.filter((c) => c.startsWith('POST /2015-03-31/'))).toHaveLength(1);
}, 30_000);

test('a hung RemovePermission leaves the statement after 10 s, and the Delete still succeeds', async () => {
  const started = Date.now();
  const response = await invoke(fakes, 'Delete', props({ RemovalPolicy: 'destroy' }), { physicalResourceId: DEPLOYMENT_ID, remainingMs: 30_000 });
  const tookMs = Date.now() - started;
  expect(response.Status).toBe('SUCCESS');
  expect(response.Reason).toMatch(new RegExp(`^Removed deployment ${DEPLOYMENT_ID}; the invoker role's invoke permission on ${LAMBDA_ARN} was not removed \\(\\w+: `));
  expect(tookMs).toBeGreaterThanOrEqual(9_000);
  expect(tookMs).toBeLessThan(20_000);
}, 30_000);
