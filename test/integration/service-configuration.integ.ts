/**
 * Service configuration against a real restate-server: applied after every registration,
 * read back, kept across a new revision, per-service values over defaults, unknown names
 * refused, and which value wins over the SDK's own service options.
 * Run with `npm run test:integration` (test/integration/run.sh).
 */
import { CloudFormationInvocation } from './harness/cloudformation';
import { IntegrationEnvironment } from './harness/integration-environment';
import { httpRegistrationProperties } from './harness/registration';
import { trustProperties } from './harness/trust';

jest.setTimeout(90_000);

let env: IntegrationEnvironment;

beforeAll(async () => {
  env = await IntegrationEnvironment.start();
}, 120_000);

afterAll(async () => {
  await env?.stop();
});

async function create(id: string, uri: string, serviceConfiguration: unknown): Promise<CloudFormationInvocation> {
  const props = httpRegistrationProperties({
    adminUrl: env.authProxy.url,
    authTokenSecretArn: env.apiKeySecretArn,
    uri,
    id,
    overrides: { ServiceConfiguration: serviceConfiguration },
  });
  trustProperties(props);
  return env.cfn.invokeAsCloudFormation('Create', props, { logicalResourceId: id });
}

const settings = async (name: string) => {
  const s = (await env.admin.service(name))!;
  return {
    revision: s.revision,
    idempotency: s.idempotency_retention,
    journal: s.journal_retention,
    inactivity: s.inactivity_timeout,
    abort: s.abort_timeout,
  };
};

describe('service configuration (restate-server 1.7.12)', () => {
  test('applied and read back; per-service values over the defaults; kept across a new revision, since it is applied again', async () => {
    const v1 = await env.startService({ name: 'Configured', version: 1 });
    const config = {
      Default: { IdempotencyRetentionSeconds: '7200', JournalRetentionSeconds: '3600', AbortTimeoutSeconds: '900' },
      Services: { Configured: { JournalRetentionSeconds: '90061', InactivityTimeoutSeconds: '90' } },
    };
    const first = await create('ConfiguredV1', v1.uri, config);
    expect({ status: first.response.Status, reason: first.response.Reason }).toEqual({
      status: 'SUCCESS',
      reason: expect.stringContaining('configured Configured {idempotency_retention 2h, journal_retention 1d 1h 1m 1s, inactivity_timeout 1m 30s, abort_timeout 15m}'),
    });
    expect(await settings('Configured')).toEqual({ revision: 1, idempotency: '2h', journal: '1d 1h 1m 1s', inactivity: '1m 30s', abort: '15m' });

    // A new revision resets the configuration in Restate; the deployer applies it again.
    const v2 = await env.startService({ name: 'Configured', version: 2 });
    const second = await create('ConfiguredV2', v2.uri, config);
    expect(second.response.Status).toBe('SUCCESS');
    expect(await settings('Configured')).toEqual({ revision: 2, idempotency: '2h', journal: '1d 1h 1m 1s', inactivity: '1m 30s', abort: '15m' });
  });

  test('what Restate itself does on a new revision: the configuration is back to the defaults (why it is applied every time)', async () => {
    const v1 = await env.startService({ name: 'Reset', version: 1 });
    expect((await create('ResetV1', v1.uri, { Default: { JournalRetentionSeconds: '7200' } })).response.Status).toBe('SUCCESS');
    expect((await settings('Reset')).journal).toBe('2h');
    const v2 = await env.startService({ name: 'Reset', version: 2 });
    await env.admin.register(v2.uri);
    expect(await settings('Reset')).toMatchObject({ revision: 2, journal: '1d' });
  });

  test('a service name that discovery did not produce fails the registration, naming it', async () => {
    const v1 = await env.startService({ name: 'Named', version: 1 });
    const inv = await create('NamedWrong', v1.uri, { Services: { Nameed: { JournalRetentionSeconds: '60' } } });
    expect(inv.response.Status).toBe('FAILED');
    expect(inv.response.Reason).toContain('found service(s) [Named], but serviceConfigurations names [Nameed]');
    // Nothing of that Create stays registered.
    expect(await env.admin.deploymentsAt(v1.uri)).toEqual([]);
  });

  test("the configuration wins over the service's own SDK options", async () => {
    // The SDK declares a 5-minute journal retention and a 2-minute inactivity timeout at discovery.
    const sdk = await env.startService({
      name: 'WithSdkOptions',
      version: 1,
      environment: { SERVICE_OPTIONS: JSON.stringify({ journalRetention: 300_000, inactivityTimeout: 120_000 }) },
    });
    const inv = await create('WithSdkOptions', sdk.uri, { Default: { JournalRetentionSeconds: '7200' } });
    expect(inv.response.Status).toBe('SUCCESS');
    // Ours wins where both set it; the SDK's value stays where only the SDK sets it.
    expect(await settings('WithSdkOptions')).toMatchObject({ journal: '2h', inactivity: '2m' });
  });

  test('the server sends no info notes for a current SDK (so the reason has none)', async () => {
    const v1 = await env.startService({ name: 'Quiet', version: 1 });
    const inv = await create('Quiet', v1.uri, undefined);
    expect(inv.response.Status).toBe('SUCCESS');
    expect(inv.response.Reason).not.toContain('Restate noted');
  });
});
