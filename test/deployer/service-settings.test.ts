/**
 * Service configuration helpers: which configured services discovery did not produce, and
 * durations as Restate writes them back (friendly format or ISO 8601) and as people read them.
 */
import { AdminClient } from '../../src/deployer/admin-client';
import { Deadline } from '../../src/deployer/retry';
import { applyServiceConfiguration, human, parseDuration, SettingsError, unknownServices } from '../../src/deployer/service-settings';

describe('unknownServices', () => {
  test('names configured services that discovery did not produce, in order', () => {
    expect(unknownServices({ Services: { Greeter: {}, Counter: {}, Other: {} } }, ['Greeter'])).toEqual(['Counter', 'Other']);
    expect(unknownServices({ Services: { Greeter: {} } }, ['Greeter', 'Counter'])).toEqual([]);
  });

  test('a default alone, or no configuration, names none', () => {
    expect(unknownServices({ Default: { JournalRetentionSeconds: '60' } }, [])).toEqual([]);
    expect(unknownServices(undefined, ['Greeter'])).toEqual([]);
  });
});

describe('human', () => {
  test.each([
    [0, '0s'],
    [1, '1s'],
    [59, '59s'],
    [60, '1m'],
    [61, '1m 1s'],
    [3_600, '1h'],
    [3_660, '1h 1m'],
    [86_400, '1d'],
    [90_061, '1d 1h 1m 1s'],
    [172_800, '2d'],
  ])('%i s is %s', (seconds, text) => {
    expect(human(seconds)).toBe(text);
  });
});

describe('parseDuration', () => {
  test.each([
    ['1d 1h 1m 1s', 90_061],
    ['2h', 7_200],
    ['5 hours', 18_000],
    ['1 week', 604_800],
    ['2w', 1_209_600],
    ['3 days', 259_200],
    ['1day', 86_400],
    ['1hr 2hrs', 10_800],
    ['1 hour', 3_600],
    ['30 min 1 mins', 1_860],
    ['1 minute 2 minutes', 180],
    ['1sec 2secs', 3],
    ['1 second 2 seconds', 3],
    ['500ms', 0.5],
    ['1500 msec', 1.5],
    ['1 millisecond 1 milliseconds', 0.002],
    ['1.5s', 1.5],
    ['1h, 30m', 5_400],
    ['1H 30M', 5_400],
    ['PT7200S', 7_200],
    ['PT2H', 7_200],
    ['PT1H30M', 5_400],
    ['PT1H1M1.5S', 3_661.5],
    ['pt60s', 60],
    ['  PT60S  ', 60],
    ['PT', 0],
    ['PT12H', 43_200],
    ['PT1.25S', 1.25],
    ['1.25s', 1.25],
  ])('%j is %d s', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  test.each([['', 'empty'], ['soon', 'no number'], ['5 fortnights', 'unknown unit'], ['5h and more', 'text around it'], ['x5h', 'text before it'], ['5', 'no unit'], ['xPT5S', 'text before ISO'], ['PT5Sx', 'text after ISO']])(
    '%j is NaN (%s)',
    (text) => {
      expect(parseDuration(text)).toBeNaN();
    },
  );

  test('anything but a string is NaN', () => {
    expect(parseDuration(7_200)).toBeNaN();
    expect(parseDuration(undefined)).toBeNaN();
    expect(parseDuration(null)).toBeNaN();
  });
});

describe('applyServiceConfiguration', () => {
  /** An admin client that records PATCHes and reads back what was set, or `readBack`'s values. */
  const stubClient = (opts: { failPatch?: string; readBack?: Record<string, string> } = {}) => {
    const patches: [string, Record<string, unknown>][] = [];
    const client = {
      modifyService: async (name: string, changes: Record<string, unknown>) => {
        if (opts.failPatch) throw new Error(opts.failPatch);
        patches.push([name, changes]);
      },
      getService: async (name: string) => ({ name, deployment_id: 'dp_1', revision: 1, ...(opts.readBack ?? Object.fromEntries(patches.flatMap(([, c]) => Object.entries(c)))) }),
    } as unknown as AdminClient;
    return { client, patches };
  };
  const deadline = Deadline.in(10_000);
  beforeEach(() => jest.spyOn(console, 'log').mockImplementation(() => undefined));
  afterEach(() => jest.restoreAllMocks());

  test('no configuration: nothing is asked', async () => {
    const { client, patches } = stubClient();
    await expect(applyServiceConfiguration(client, undefined, [{ name: 'Greeter' }], deadline)).resolves.toEqual([]);
    expect(patches).toEqual([]);
  });

  test('a service without changes is left alone; one without a type counts as a workflow; each is logged', async () => {
    const { client, patches } = stubClient();
    const lines: string[] = [];
    (console.log as jest.Mock).mockImplementation((l: string) => lines.push(l));
    const applied = await applyServiceConfiguration(
      client,
      { Default: { WorkflowCompletionRetentionSeconds: '3600' }, Services: { Greeter: { AbortTimeoutSeconds: '30', IdempotencyRetentionSeconds: '86400' } } },
      [{ name: 'Greeter', ty: 'Service' }, { name: 'Checkout' }, { name: 'Counter', ty: 'VirtualObject' }],
      deadline,
    );
    expect(patches).toEqual([
      ['Greeter', { idempotency_retention: 'PT86400S', abort_timeout: 'PT30S' }],
      ['Checkout', { workflow_completion_retention: 'PT3600S' }],
    ]);
    expect(applied).toEqual(['Greeter {idempotency_retention 1d, abort_timeout 30s}', 'Checkout {workflow_completion_retention 1h}']);
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      { message: 'service configured', service: 'Greeter', idempotency_retention: 'PT86400S', abort_timeout: 'PT30S' },
      { message: 'service configured', service: 'Checkout', workflow_completion_retention: 'PT3600S' },
    ]);
  });

  test('a workflow retention named for a workflow is applied', async () => {
    const { client, patches } = stubClient();
    await applyServiceConfiguration(client, { Services: { Checkout: { WorkflowCompletionRetentionSeconds: '60' } } }, [{ name: 'Checkout', ty: 'Workflow' }], deadline);
    expect(patches).toEqual([['Checkout', { workflow_completion_retention: 'PT60S' }]]);
  });

  test('a PATCH that fails names the service, the changes and the error', async () => {
    const { client } = stubClient({ failPatch: 'PATCH x answered HTTP 500: down' });
    await expect(applyServiceConfiguration(client, { Default: { JournalRetentionSeconds: '0' } }, [{ name: 'Greeter', ty: 'Service' }], deadline)).rejects.toThrow(
      new SettingsError('could not configure service Greeter (journal_retention 0s): PATCH x answered HTTP 500: down'),
    );
  });

  test('every setting that reads back otherwise is named', async () => {
    const { client } = stubClient({ readBack: { journal_retention: '1d', inactivity_timeout: '5m' } });
    await expect(
      applyServiceConfiguration(client, { Default: { JournalRetentionSeconds: '60', InactivityTimeoutSeconds: '60' } }, [{ name: 'Greeter', ty: 'Service' }], deadline),
    ).rejects.toThrow('service Greeter was configured, but reads back journal_retention "1d" instead of 1m, inactivity_timeout "5m" instead of 1m.');
  });
});
