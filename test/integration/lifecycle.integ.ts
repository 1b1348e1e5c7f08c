/**
 * Whole stack histories, played the way CloudFormation plays them (harness/lifecycle.ts), from
 * templates the real constructs synthesize, against the deployer handler and a real
 * restate-server. After EVERY CloudFormation request, one expectation on what Restate serves:
 *
 *   { request, status, physicalId, servedBy, revision, greeting, deployments }
 *
 * - request: what CloudFormation sent, e.g. `Update Greeter (rollback)`;
 * - status / physicalId: the answer (deployment ids by the label of their endpoint: v1, v2);
 * - servedBy / revision: `GET /services/Greeter` (revision compared with the step before);
 * - greeting: a real ingress call of Greeter/greet (`v1` or `v2`, or `HTTP <status>`);
 * - deployments: every deployment the server has (`GET /deployments`), by label.
 *
 * Every case runs under RemovalPolicy.RETAIN and DESTROY, each on its own stack (its own name
 * and StackId) and its own service processes (so its own URIs), starting from a server without
 * deployments. A history goes on after a step that did not match (as CloudFormation would), and
 * the test then fails with every mismatch and the whole history (requests, answers, reasons).
 *
 * Cases 1-5 are the lifecycle of one registration; 6 checks the ownership metadata; 7 and 8
 * follow admin URLs that only one of a deploy's two templates names (the deployer's trust list
 * is the template's). `INTEG_VERBOSE=1` also prints every history that passed.
 *
 * Run with `npm run test:integration` (test/integration/run.sh).
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import { HttpRegistrationOptions } from '../../src';
import { IntegrationEnvironment } from './harness/integration-environment';
import {
  LifecycleStack,
  OperationOutcome,
  protocolProblems,
  RefusingAdminProxy,
  removeAllDeployments,
  ServiceView,
  StackDefinition,
  StackStatus,
  Step,
} from './harness/lifecycle';
import { ServiceProcess } from './harness/services';

jest.setTimeout(60_000);

let env: IntegrationEnvironment;
/** Service processes of the running case, stopped after it. */
let running: ServiceProcess[] = [];

beforeAll(async () => {
  env = await IntegrationEnvironment.start();
}, 120_000);

afterAll(async () => {
  await env?.stop();
});

afterEach(async () => {
  // The next history starts from a server without deployments.
  await removeAllDeployments(env);
  await Promise.all(running.map((s) => s.stop()));
  running = [];
});

type Policy = 'retain' | 'destroy';
const POLICIES: Policy[] = ['retain', 'destroy'];
const removalPolicy = (p: Policy) => (p === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY);

/** What one step must leave behind. `reason` defaults to any string. */
interface Expected {
  readonly request: string;
  readonly status: 'SUCCESS' | 'FAILED';
  readonly physicalId: unknown;
  readonly reason?: unknown;
  readonly servedBy: unknown;
  readonly revision: unknown;
  readonly greeting: unknown;
  readonly deployments: unknown;
}

/**
 * A stack history with its expectations: plays deploys and the stack deletion through the
 * lifecycle driver, observes Restate after every step and compares (one expect per step),
 * collecting mismatches; `verify()` fails with all of them and the whole history.
 */
class History {
  public readonly stack: LifecycleStack;
  public readonly view: ServiceView;
  private readonly mismatches: string[] = [];
  private expected: Expected[] = [];
  private seen = 0;
  private deploys = 0;

  /** `afterStep` runs after every step, before the observation (e.g. to end an outage). */
  constructor(name: string, endpoints: Record<string, string>, private readonly afterStep?: (step: Step) => void) {
    this.view = new ServiceView(env, 'Greeter', endpoints);
    this.stack = new LifecycleStack(env, { stackName: name, afterStep: (step) => this.check(step) });
  }

  public async deploy(run: {
    template: StackDefinition;
    laterResourceFails?: boolean;
    ends: StackStatus;
    steps: Expected[];
  }): Promise<OperationOutcome> {
    return this.play(`deploy ${++this.deploys}`, run.ends, run.steps, () => this.stack.deploy(run.template, { laterResourceFails: run.laterResourceFails }));
  }

  public async destroy(run: { ends: StackStatus; steps: Expected[] }): Promise<OperationOutcome> {
    return this.play('stack deletion', run.ends, run.steps, () => this.stack.destroy());
  }

  /** Fails with every mismatch so far and the whole history. */
  public verify(): void {
    const history = `History of stack ${this.stack.stackName}:\n${this.stack.describe((id) => this.view.label(id))}`;
    if (this.mismatches.length > 0) throw new Error(`${this.mismatches.join('\n\n')}\n\n${history}`);
    if (process.env.INTEG_VERBOSE === '1') process.stderr.write(`${history}\n`);
  }

  private async play(what: string, ends: StackStatus, steps: Expected[], operation: () => Promise<OperationOutcome>): Promise<OperationOutcome> {
    this.expected = steps;
    this.seen = 0;
    let outcome: OperationOutcome;
    try {
      outcome = await operation();
    } catch (e) {
      // The harness itself broke (no answer, a template it cannot resolve): stop here.
      throw new Error(`${what}: ${(e as Error).stack ?? String(e)}\n\nHistory so far:\n${this.stack.describe((id) => this.view.label(id))}`);
    }
    const requests = outcome.steps.map((s) => s.label);
    this.soft(`${what}: requests and stack status`, () =>
      expect({ requests, stackStatus: outcome.status }).toEqual({ requests: steps.map((s) => s.request), stackStatus: ends }),
    );
    return outcome;
  }

  private async check(step: Step): Promise<void> {
    this.afterStep?.(step);
    this.view.noteRequest(step.invocation.event.RequestId);
    const served = await this.view.observe();
    const observed = {
      request: step.label,
      status: `${step.status}${protocolProblems(step.invocation)}`,
      physicalId: this.view.label(step.physicalId),
      reason: step.reason,
      servedBy: served.servedBy,
      revision: served.revision,
      greeting: served.greeting,
      deployments: served.deployments,
    };
    step.observed = `served by ${served.servedBy} (revision ${served.revisionNumber ?? '-'}, ${served.revision}), greeting ${served.greeting}, deployments [${served.deployments.join(', ')}]`;
    const expected = this.expected[this.seen++];
    if (!expected) {
      this.mismatches.push(`step ${step.index} (${step.label}): not expected at all`);
      return;
    }
    this.soft(`step ${step.index} (${step.label})`, () => expect(observed).toEqual({ reason: expect.any(String), ...expected }));
  }

  private soft(what: string, assertion: () => void): void {
    try {
      assertion();
    } catch (e) {
      this.mismatches.push(`${what}:\n${(e as Error).message}`);
    }
  }
}

/** Greeter v1 and v2, fresh processes (fresh URIs) for one history. */
async function greeters(): Promise<{ v1: ServiceProcess; v2: ServiceProcess }> {
  const [v1, v2] = await Promise.all([env.startService({ name: 'Greeter', version: 1 }), env.startService({ name: 'Greeter', version: 2 })]);
  running.push(v1, v2);
  return { v1, v2 };
}

/** A stack whose deployer registers `uri` as construct `id`. */
function registering(uri: string, policy: Policy, id = 'Greeter', options: HttpRegistrationOptions = {}): StackDefinition {
  return ({ deployer, environment }) => {
    deployer.registerHttp(uri, environment, { id, expectedServices: ['Greeter'], removalPolicy: removalPolicy(policy), ...options });
  };
}

/**
 * Deploy 1 registers Greeter v1; deploy 2 adds GreeterCanary (v2, `private: true`) whose Create
 * registers v2 and then fails, and CloudFormation rolls the update back (Delete of the canary
 * with the physical id its FAILED answer gave).
 *
 * How the Create fails after registering: the canary's admin URL is a proxy in front of the
 * authenticating proxy that refuses `PATCH /services/*` with 403 (an API key whose role may
 * register deployments but not change services), so making Greeter private fails once v2 is
 * registered. While that Create runs, the proxy also answers `DELETE /deployments/*` with 503
 * (a passing outage, over after the step), so the Create cannot take back what it registered
 * itself: the rollback Delete has to find it (by its `restate-cloud-cdk.created-by` metadata).
 *
 * `stableThroughGate`: Greeter's registration uses the same admin URL, so the deployer trusts
 * it before and after the update; otherwise the canary's admin URL is new to the stack.
 */
async function failedCreateAndRollback(policy: Policy, name: string, { stableThroughGate }: { stableThroughGate: boolean }): Promise<void> {
  const { v1, v2 } = await greeters();
  let outage = false;
  const gate = await RefusingAdminProxy.start(env.authProxy.url, (method, path) =>
    method === 'PATCH' && path.startsWith('/services/') ? 403 : method === 'DELETE' && outage ? 503 : false,
  );
  try {
    const h = new History(stackName(name, policy), { v1: v1.uri, v2: v2.uri }, () => (outage = false));
    const stable: StackDefinition = ({ deployer, environment, environmentAt }) => {
      deployer.registerHttp(v1.uri, stableThroughGate ? environmentAt(gate.url) : environment, {
        id: 'Greeter',
        expectedServices: ['Greeter'],
        removalPolicy: removalPolicy(policy),
      });
    };
    await h.deploy({
      template: stable,
      ends: 'CREATE_COMPLETE',
      steps: [{ request: 'Create Greeter', status: 'SUCCESS', physicalId: 'v1', servedBy: 'v1', revision: 'grew', greeting: 'v1', deployments: ['v1'] }],
    });
    outage = true;
    await h.deploy({
      template: (scope) => {
        stable(scope);
        scope.deployer.registerHttp(v2.uri, scope.environmentAt(gate.url), {
          id: 'GreeterCanary',
          expectedServices: ['Greeter'],
          private: true,
          removalPolicy: removalPolicy(policy),
        });
      },
      ends: 'UPDATE_ROLLBACK_COMPLETE',
      steps: [
        // v2 is registered and could not be removed: whether the deployer made v1 the latest
        // again right away is its choice.
        {
          request: 'Create GreeterCanary',
          status: 'FAILED',
          physicalId: 'restate-failed-create-<RequestId>',
          reason: expect.stringContaining('403'),
          servedBy: expect.stringMatching(/^v[12]$/),
          revision: expect.any(String),
          greeting: expect.stringMatching(/^v[12]$/),
          deployments: ['v1', 'v2'],
        },
        // Whatever the policy: nothing a failed Create did may survive its rollback, unless the
        // rolled-back deployer no longer trusts the admin URL (a limit of pinning at synth: the
        // key is not sent, and the reason names the leftover and how to remove it).
        stableThroughGate
          ? {
            request: 'Delete GreeterCanary (rollback cleanup)',
            status: 'SUCCESS',
            physicalId: 'restate-failed-create-<RequestId>',
            servedBy: 'v1',
            revision: expect.any(String),
            greeting: 'v1',
            deployments: ['v1'],
          }
          : {
            request: 'Delete GreeterCanary (rollback cleanup)',
            status: 'SUCCESS',
            physicalId: 'restate-failed-create-<RequestId>',
            reason: expect.stringMatching(/refused: this deployer was not configured to send .* restate-cloud-cdk\.created-by=/),
            servedBy: expect.stringMatching(/^v[12]$/),
            revision: expect.any(String),
            greeting: expect.stringMatching(/^v[12]$/),
            deployments: ['v1', 'v2'],
          },
      ],
    });
    h.verify();
    // The failure was the one meant: v2 was registered, then making it private was refused.
    expect(gate.refused).toContain('PATCH /services/Greeter → 403');
  } finally {
    await gate.close();
  }
}

const stackName = (c: string, policy: Policy) => `Lifecycle${c}${policy === 'retain' ? 'Retain' : 'Destroy'}`;

describe.each(POLICIES)('removal policy %s', (policy) => {
  const retain = policy === 'retain';

  test('1. update to a new URI, then the cleanup Delete of the old deployment: Restate serves v2', async () => {
    const { v1, v2 } = await greeters();
    const h = new History(stackName('Update', policy), { v1: v1.uri, v2: v2.uri });

    await h.deploy({
      template: registering(v1.uri, policy),
      ends: 'CREATE_COMPLETE',
      steps: [{ request: 'Create Greeter', status: 'SUCCESS', physicalId: 'v1', servedBy: 'v1', revision: 'grew', greeting: 'v1', deployments: ['v1'] }],
    });
    await h.deploy({
      template: registering(v2.uri, policy),
      ends: 'UPDATE_COMPLETE',
      steps: [
        { request: 'Update Greeter', status: 'SUCCESS', physicalId: 'v2', servedBy: 'v2', revision: 'grew', greeting: 'v2', deployments: ['v1', 'v2'] },
        {
          request: 'Delete Greeter (cleanup)',
          status: 'SUCCESS',
          physicalId: 'v1',
          servedBy: 'v2',
          revision: 'same',
          greeting: 'v2',
          deployments: retain ? ['v1', 'v2'] : ['v2'],
        },
      ],
    });
    h.verify();
  });

  test('2. update to v2, a later resource fails: UPDATE_ROLLBACK re-registers v1 and promotes it, then deletes v2\'s physical id: Restate serves v1', async () => {
    const { v1, v2 } = await greeters();
    const h = new History(stackName('Rollback', policy), { v1: v1.uri, v2: v2.uri });

    await h.deploy({
      template: registering(v1.uri, policy),
      ends: 'CREATE_COMPLETE',
      steps: [{ request: 'Create Greeter', status: 'SUCCESS', physicalId: 'v1', servedBy: 'v1', revision: 'grew', greeting: 'v1', deployments: ['v1'] }],
    });
    await h.deploy({
      template: registering(v2.uri, policy),
      laterResourceFails: true,
      ends: 'UPDATE_ROLLBACK_COMPLETE',
      steps: [
        { request: 'Update Greeter', status: 'SUCCESS', physicalId: 'v2', servedBy: 'v2', revision: 'grew', greeting: 'v2', deployments: ['v1', 'v2'] },
        // Back to v1's properties, from v2's physical id: v1 is registered already, and must
        // become the latest again (re-registered with force: a new revision).
        {
          request: 'Update Greeter (rollback)',
          status: 'SUCCESS',
          physicalId: 'v1',
          reason: expect.stringContaining('promoted'),
          servedBy: 'v1',
          revision: 'grew',
          greeting: 'v1',
          deployments: ['v1', 'v2'],
        },
        // The physical id the rolled-back update introduced, with its (v2's) properties.
        {
          request: 'Delete Greeter (rollback cleanup)',
          status: 'SUCCESS',
          physicalId: 'v2',
          servedBy: 'v1',
          revision: 'same',
          greeting: 'v1',
          deployments: retain ? ['v1', 'v2'] : ['v1'],
        },
      ],
    });
    h.verify();
  });

  test('3. a changed logical id (same URI, another construct id): Create of the new resource, cleanup Delete of the old one: the deployment stays and is served', async () => {
    const { v1 } = await greeters();
    const h = new History(stackName('Rename', policy), { v1: v1.uri });

    await h.deploy({
      template: registering(v1.uri, policy, 'Greeter'),
      ends: 'CREATE_COMPLETE',
      steps: [{ request: 'Create Greeter', status: 'SUCCESS', physicalId: 'v1', servedBy: 'v1', revision: 'grew', greeting: 'v1', deployments: ['v1'] }],
    });
    await h.deploy({
      template: registering(v1.uri, policy, 'GreeterRenamed'),
      ends: 'UPDATE_COMPLETE',
      steps: [
        // The same endpoint: the same deployment, now owned by the new resource.
        {
          request: 'Create GreeterRenamed',
          status: 'SUCCESS',
          physicalId: 'v1',
          servedBy: 'v1',
          revision: expect.stringMatching(/^(grew|same)$/),
          greeting: 'v1',
          deployments: ['v1'],
        },
        {
          request: 'Delete Greeter (cleanup)',
          status: 'SUCCESS',
          physicalId: 'v1',
          // DESTROY must not remove what another resource owns, and must say so.
          reason: retain ? expect.any(String) : expect.stringContaining('owned by'),
          servedBy: 'v1',
          revision: 'same',
          greeting: 'v1',
          deployments: ['v1'],
        },
      ],
    });
    // The new owner's Delete then does what its policy says.
    await h.destroy({
      ends: 'DELETE_COMPLETE',
      steps: [
        {
          request: 'Delete GreeterRenamed (stack deletion)',
          status: 'SUCCESS',
          physicalId: 'v1',
          servedBy: retain ? 'v1' : 'none',
          revision: retain ? 'same' : 'none',
          greeting: retain ? 'v1' : 'HTTP 404',
          deployments: retain ? ['v1'] : [],
        },
      ],
    });
    h.verify();
  });

  test('4. a Create that registered and then failed, and its rollback Delete: nothing of it remains, Restate serves what it served before', async () => {
    await failedCreateAndRollback(policy, 'FailedCreate', { stableThroughGate: true });
  });

  test('5. stack deletion at the end of a history: every Delete answers SUCCESS; RETAIN keeps the deployments, DESTROY removes them', async () => {
    const { v1, v2 } = await greeters();
    const h = new History(stackName('Deletion', policy), { v1: v1.uri, v2: v2.uri });
    const first = registering(v1.uri, policy, 'Greeter');

    await h.deploy({
      template: first,
      ends: 'CREATE_COMPLETE',
      steps: [{ request: 'Create Greeter', status: 'SUCCESS', physicalId: 'v1', servedBy: 'v1', revision: 'grew', greeting: 'v1', deployments: ['v1'] }],
    });
    await h.deploy({
      template: (scope) => {
        first(scope);
        registering(v2.uri, policy, 'GreeterNext')(scope);
      },
      ends: 'UPDATE_COMPLETE',
      steps: [{ request: 'Create GreeterNext', status: 'SUCCESS', physicalId: 'v2', servedBy: 'v2', revision: 'grew', greeting: 'v2', deployments: ['v1', 'v2'] }],
    });
    await h.destroy({
      ends: 'DELETE_COMPLETE',
      steps: [
        {
          request: 'Delete GreeterNext (stack deletion)',
          status: 'SUCCESS',
          physicalId: 'v2',
          servedBy: retain ? 'v2' : 'v1',
          revision: retain ? 'same' : 'fell',
          greeting: retain ? 'v2' : 'v1',
          deployments: retain ? ['v1', 'v2'] : ['v1'],
        },
        {
          request: 'Delete Greeter (stack deletion)',
          status: 'SUCCESS',
          physicalId: 'v1',
          servedBy: retain ? 'v2' : 'none',
          revision: retain ? 'same' : 'none',
          greeting: retain ? 'v2' : 'HTTP 404',
          deployments: retain ? ['v1', 'v2'] : [],
        },
      ],
    });
    h.verify();
  });
});

/**
 * Found while writing the cases above: the deployer trusts only the admin URLs (and API key
 * secrets) its function's RESTATE_TRUSTED_TARGETS names, and that variable belongs to the
 * template CloudFormation has deployed at the time of each request. After a successful update
 * (cleanup phase) it is the new template's; in an update rollback's cleanup phase the function
 * has been rolled back, so it is the old template's.
 */
describe.each(POLICIES)('admin URLs that only one of the two templates names (removal policy %s)', (policy) => {
  const retain = policy === 'retain';

  test('7. a registration moved to another admin URL: the cleanup Delete of the old deployment is refused the key, and says so', async () => {
    const { v1, v2 } = await greeters();
    // A second admin URL of the same environment (e.g. a private endpoint): forwards everything.
    const other = await RefusingAdminProxy.start(env.authProxy.url, () => false);
    try {
      const h = new History(stackName('Moved', policy), { v1: v1.uri, v2: v2.uri });
      await h.deploy({
        template: registering(v1.uri, policy),
        ends: 'CREATE_COMPLETE',
        steps: [{ request: 'Create Greeter', status: 'SUCCESS', physicalId: 'v1', servedBy: 'v1', revision: 'grew', greeting: 'v1', deployments: ['v1'] }],
      });
      await h.deploy({
        template: ({ deployer, environmentAt }) => {
          deployer.registerHttp(v2.uri, environmentAt(other.url), { id: 'Greeter', expectedServices: ['Greeter'], removalPolicy: removalPolicy(policy) });
        },
        ends: 'UPDATE_COMPLETE',
        steps: [
          { request: 'Update Greeter', status: 'SUCCESS', physicalId: 'v2', servedBy: 'v2', revision: 'grew', greeting: 'v2', deployments: ['v1', 'v2'] },
          // With the old properties (the old admin URL), sent to the updated deployer, which no
          // longer trusts that URL with the key: RETAIN needs no call; DESTROY leaves v1 and says
          // how to remove it (a limit of pinning at synth, documented in the README).
          {
            request: 'Delete Greeter (cleanup)',
            status: 'SUCCESS',
            physicalId: 'v1',
            reason: retain ? expect.stringContaining('Retained') : expect.stringMatching(/was not removed \(refused: .*Remove it by hand/),
            servedBy: 'v2',
            revision: 'same',
            greeting: 'v2',
            deployments: ['v1', 'v2'],
          },
        ],
      });
      h.verify();
    } finally {
      await other.close();
    }
  });

  test('8. a failed Create whose admin URL is new to the stack, that could not undo itself, and its rollback Delete (sent to the rolled-back deployer): refused, naming the leftover', async () => {
    await failedCreateAndRollback(policy, 'FailedCreateNewUrl', { stableThroughGate: false });
  });
});

test('6. a registered deployment records the CloudFormation resource that owns it and the request that created it', async () => {
  const { v1, v2 } = await greeters();
  const h = new History('LifecycleMetadata', { v1: v1.uri, v2: v2.uri });
  const created = await h.deploy({
    template: registering(v1.uri, 'retain'),
    ends: 'CREATE_COMPLETE',
    steps: [{ request: 'Create Greeter', status: 'SUCCESS', physicalId: 'v1', servedBy: 'v1', revision: 'grew', greeting: 'v1', deployments: ['v1'] }],
  });
  const updated = await h.deploy({
    template: registering(v2.uri, 'retain'),
    ends: 'UPDATE_COMPLETE',
    steps: [
      { request: 'Update Greeter', status: 'SUCCESS', physicalId: 'v2', servedBy: 'v2', revision: 'grew', greeting: 'v2', deployments: ['v1', 'v2'] },
      { request: 'Delete Greeter (cleanup)', status: 'SUCCESS', physicalId: 'v1', servedBy: 'v2', revision: 'same', greeting: 'v2', deployments: ['v1', 'v2'] },
    ],
  });
  h.verify();

  const metadataOf = async (step: Step) => (await env.admin.deployment(step.physicalId))?.metadata;
  for (const step of [created.steps[0], updated.steps[0]]) {
    expect({ request: step.label, metadata: await metadataOf(step) }).toEqual({
      request: step.label,
      metadata: expect.objectContaining({
        'restate-cloud-cdk.owner': 'LifecycleMetadata/Deployer/Greeter',
        'restate-cloud-cdk.stack': 'LifecycleMetadata',
        'restate-cloud-cdk.construct': 'Deployer/Greeter',
        'restate-cloud-cdk.stack-id': h.stack.stackId,
        'restate-cloud-cdk.logical-id': step.logicalId,
        'restate-cloud-cdk.created-by': step.invocation.event.RequestId,
      }),
    });
  }
});
