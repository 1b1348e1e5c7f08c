import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { InvokeGrant, RestateCloudEnvironment, RestateCloudInvokerRole, ServiceDeployer } from '../src';
import {
  analyzeIamDocuments,
  countResources,
  describeSize,
  documentsOver,
  IAM_LIMITS,
  IamDocumentSize,
  largestPerKind,
  StackTemplate,
} from './support/iam-size';

// Scale: hundreds of handlers registered with one Restate Cloud environment. Every IAM
// document of the synthesized app is resolved with realistic ARNs (test/support/iam-size.ts)
// and must stay under its AWS limit with at least 20% headroom.

const HEADROOM = 0.8;
const ENV = { account: '123456789012', region: 'us-east-1' };
const ENV_ID = 'env_201hy10cd3h6426jy80tb32n6en';
const HANDLER_STACKS = ['orders-service-prod', 'payments-service-prod', 'inventory-service-prod', 'shipping-service-prod', 'billing-service-prod'];

jest.setTimeout(120_000);

const outdirs: string[] = [];
afterAll(() => {
  for (const dir of outdirs) fs.rmSync(dir, { recursive: true, force: true });
});

function newApp(): App {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'scale-test-'));
  outdirs.push(outdir);
  return new App({ outdir });
}

function synth(app: App): StackTemplate[] {
  return app.synth().stacks.map((s) => ({ stackName: s.stackName, template: s.template }));
}

/** A handler as a service team writes it: its own function, sharing the stack's execution role. */
function handler(scope: Construct, id: string, role: iam.IRole): lambda.IVersion {
  const fn = new lambda.Function(scope, id, {
    runtime: lambda.Runtime.NODEJS_22_X,
    architecture: lambda.Architecture.ARM_64,
    handler: 'index.handler',
    code: lambda.Code.fromInline(`exports.handler = async () => (${JSON.stringify(id)});`),
    role,
  });
  return fn.currentVersion;
}

function executionRole(scope: Construct): iam.Role {
  return new iam.Role(scope, 'HandlerExecutionRole', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaBasicExecutionRole')],
  });
}

function platform(app: App, stackName = 'restate-platform-prod') {
  const stack = new Stack(app, stackName, { env: ENV });
  const apiKey = secretsmanager.Secret.fromSecretNameV2(stack, 'ApiKey', 'restate/prod/api-key');
  const environment = new RestateCloudEnvironment(stack, 'RestateProd', { environmentId: ENV_ID, apiKey });
  return { stack, environment };
}

function handlerName(i: number): string {
  return `CheckoutHandler${String(i).padStart(3, '0')}`;
}

function expectHeadroom(sizes: IamDocumentSize[]): void {
  const over = documentsOver(sizes, HEADROOM).map(describeSize);
  expect(over).toEqual([]);
}

/** (resources with N handlers − resources with 0 − the handlers' own resources) / N. */
function extraResourcesPerHandler(withN: StackTemplate[], withZero: StackTemplate[], handlersOwn: number, n: number): number {
  return (countResources(withN).total - countResources(withZero).total - handlersOwn) / n;
}

/** Function + version per handler, as counted in apps with one and with no unregistered handler. */
let ownPerHandler: number | undefined;
function ownResourcesPerHandler(): number {
  const count = (n: number) => {
    const app = newApp();
    const stack = new Stack(app, 'bare', { env: ENV });
    const role = executionRole(stack);
    for (let i = 0; i < n; i++) handler(stack, handlerName(i), role);
    return countResources(synth(app)).total;
  };
  ownPerHandler ??= count(1) - count(0);
  return ownPerHandler;
}

describe('100 handlers in one stack, one execution role, one environment', () => {
  const N = 100;
  let sizes: IamDocumentSize[];
  let templates: StackTemplate[];
  let baseline: StackTemplate[];

  function build(n: number): StackTemplate[] {
    const app = newApp();
    const { stack, environment } = platform(app, 'orders-service-prod');
    const role = executionRole(stack);
    const deployer = new ServiceDeployer(stack, 'ServiceDeployer');
    for (let i = 0; i < n; i++) deployer.register(handler(stack, handlerName(i), role), environment);
    return synth(app);
  }

  beforeAll(() => {
    templates = build(N);
    baseline = build(0);
    sizes = analyzeIamDocuments(templates);
  });

  test('every IAM document keeps at least 20% headroom with realistic ARNs', () => {
    expectHeadroom(sizes);
    // Sanity: every kind of document was found and sized.
    const largest = largestPerKind(sizes);
    expect(largest['trust-policy']).toBeDefined();
    expect(largest['role-inline-policies']).toBeDefined();
    expect(sizes.filter((s) => s.kind === 'lambda-resource-policy')).toHaveLength(N);
  });

  test('the invoker role has no inline policy; each handler version carries one statement for it (its AWS::Lambda::Permission)', () => {
    const invokerRoleName = sizes.find((s) => s.kind === 'trust-policy' && /InvokerRole/.test(s.name))!.name;
    expect(sizes.filter((s) => s.kind === 'role-inline-policies' && s.name === invokerRoleName)).toEqual([]);
    for (const policy of sizes.filter((s) => s.kind === 'lambda-resource-policy')) {
      expect(policy.name).toMatch(/^orders-service-prod-CheckoutHandler\d{3}[0-9A-F]{8}-[A-Za-z0-9]{12}:12$/);
      expect(policy.statements).toBe(1);
      const statement = (policy.documents[0] as any).Statement[0];
      expect(statement.Principal).toEqual({ AWS: expect.stringMatching(new RegExp(`^arn:aws:iam::${ENV.account}:role/orders-service-prod-RestateProdInvokerRole`)) });
      expect(statement.Resource).toMatch(new RegExp(`^arn:aws:lambda:us-east-1:${ENV.account}:function:.+:12$`));
    }
  });

  test('the shared execution role gains nothing from the registrations', () => {
    const execution = sizes.find((s) => s.kind === 'trust-policy' && /HandlerExecutionRole/.test(s.name))!;
    expect(sizes.filter((s) => s.kind === 'role-inline-policies' && s.name === execution.name)).toEqual([]);
  });

  test('two extra CloudFormation resources per registered handler: the registration and its permission', () => {
    const extra = extraResourcesPerHandler(templates, baseline, N * ownResourcesPerHandler(), N);
    expect(extra).toBe(2);
    const byType = countResources(templates).byType;
    expect(byType['AWS::Lambda::Permission']).toBe(N);
    expect(byType['Custom::RestateDeployment']).toBe(N);
  });

  test('with InvokeGrant.DEPLOYER: one extra resource per handler, and the same headroom', () => {
    const app = newApp();
    const { stack, environment } = platform(app, 'orders-service-prod');
    const role = executionRole(stack);
    const deployer = new ServiceDeployer(stack, 'ServiceDeployer', { invokeGrant: InvokeGrant.DEPLOYER });
    for (let i = 0; i < N; i++) deployer.register(handler(stack, handlerName(i), role), environment);
    const withDeployerGrants = synth(app);
    expect(extraResourcesPerHandler(withDeployerGrants, baseline, N * ownResourcesPerHandler(), N)).toBe(1);
    expect(countResources(withDeployerGrants).byType['AWS::Lambda::Permission']).toBeUndefined();
    const deployerSizes = analyzeIamDocuments(withDeployerGrants);
    expectHeadroom(deployerSizes);
    expect(deployerSizes.filter((s) => s.kind === 'lambda-resource-policy')).toHaveLength(N);
  });

  test('the template stays well under CloudFormation limits (500 resources, 1 MB)', () => {
    const [t] = templates;
    expect(Object.keys(t.template.Resources).length).toBeLessThanOrEqual(500);
    expect(JSON.stringify(t.template).length).toBeLessThan(1_000_000 * HEADROOM);
  });
});

describe('500 handlers over five service stacks, environment and invoker role in a platform stack', () => {
  const PER_STACK = 100;
  const N = PER_STACK * HANDLER_STACKS.length;

  /**
   * - 'shared': one ServiceDeployer in the platform stack serves every service stack;
   * - 'per-stack': each service stack has its own ServiceDeployer.
   */
  function build(mode: 'shared' | 'per-stack', perStack: number): { app: App; stacks: Stack[] } {
    const app = newApp();
    const { stack: platformStack, environment } = platform(app);
    const sharedDeployer = mode === 'shared' ? new ServiceDeployer(platformStack, 'ServiceDeployer') : undefined;
    const stacks: Stack[] = [platformStack];
    for (const name of HANDLER_STACKS) {
      const stack = new Stack(app, name, { env: ENV });
      stacks.push(stack);
      const role = executionRole(stack);
      const deployer = sharedDeployer ?? new ServiceDeployer(stack, 'ServiceDeployer');
      for (let i = 0; i < perStack; i++) deployer.register(handler(stack, handlerName(i), role), environment);
    }
    return { app, stacks };
  }

  for (const mode of ['shared', 'per-stack'] as const) {
    describe(`deployer: ${mode}`, () => {
      let templates: StackTemplate[];
      let baseline: StackTemplate[];
      let sizes: IamDocumentSize[];
      let stacks: Stack[];

      beforeAll(() => {
        const built = build(mode, PER_STACK);
        stacks = built.stacks;
        templates = synth(built.app);
        baseline = synth(build(mode, 0).app);
        sizes = analyzeIamDocuments(templates);
      });

      test('synthesizes without circular dependencies: service stacks depend on the platform stack only', () => {
        expect(templates).toHaveLength(1 + HANDLER_STACKS.length);
        const [platformStack, ...serviceStacks] = stacks;
        expect(platformStack.dependencies).toEqual([]);
        for (const s of serviceStacks) expect(s.dependencies.map((d) => d.stackName)).toEqual([platformStack.stackName]);
      });

      test('every IAM document keeps at least 20% headroom with realistic ARNs', () => {
        expectHeadroom(sizes);
        expect(sizes.filter((s) => s.kind === 'lambda-resource-policy')).toHaveLength(N);
      });

      test('the invoker role has no inline policy at all; every handler grants it in its own resource policy', () => {
        const invoker = sizes.find((s) => s.kind === 'trust-policy' && /InvokerRole/.test(s.name))!;
        expect(sizes.filter((s) => s.kind === 'role-inline-policies' && s.name === invoker.name)).toEqual([]);
        const invokerArn = `arn:aws:iam::${ENV.account}:role/${invoker.name}`;
        for (const policy of sizes.filter((s) => s.kind === 'lambda-resource-policy')) {
          expect((policy.documents[0] as any).Statement).toEqual([expect.objectContaining({ Principal: { AWS: invokerArn } })]);
        }
      });

      test('the deployer roles\' policies do not grow with the number of handlers', () => {
        const deployerPolicies = sizes.filter((s) => s.kind === 'role-inline-policies' && /ServiceDeployer/.test(s.name));
        expect(deployerPolicies).toHaveLength(mode === 'shared' ? 1 : HANDLER_STACKS.length);
        for (const p of deployerPolicies) expect(p.statements).toBeLessThanOrEqual(3);
      });

      test('two extra CloudFormation resources per registered handler: the registration and its permission', () => {
        const extra = extraResourcesPerHandler(templates, baseline, N * ownResourcesPerHandler(), N);
        expect(extra).toBe(2);
      });

      test('each service stack stays under CloudFormation\'s 500 resources', () => {
        for (const t of templates) expect(Object.keys(t.template.Resources).length).toBeLessThanOrEqual(500);
      });
    });
  }
});

test('a four-stack app synthesizes: environment, deployer and two service stacks', () => {
  const app = newApp();
  const { stack: platformStack, environment } = platform(app);
  const deployerStack = new Stack(app, 'restate-deployer-prod', { env: ENV });
  const deployer = new ServiceDeployer(deployerStack, 'ServiceDeployer');
  const serviceStacks = ['orders-service-prod', 'payments-service-prod'].map((name) => {
    const stack = new Stack(app, name, { env: ENV });
    const role = executionRole(stack);
    for (let i = 0; i < 10; i++) deployer.register(handler(stack, handlerName(i), role), environment);
    deployer.registerHttp(`https://${name}.example.com/restate`, environment);
    return stack;
  });
  const templates = synth(app);
  expect(templates.map((t) => t.stackName).sort()).toEqual(
    ['orders-service-prod', 'payments-service-prod', 'restate-deployer-prod', 'restate-platform-prod'],
  );
  expect(platformStack.dependencies).toEqual([]);
  // The API key is referenced by a literal ARN (fromSecretNameV2 in an environment-specific stack).
  expect(deployerStack.dependencies).toEqual([]);
  for (const s of serviceStacks) {
    expect(s.dependencies.map((d) => d.stackName).sort()).toEqual(['restate-deployer-prod', 'restate-platform-prod']);
  }
  expectHeadroom(analyzeIamDocuments(templates));
});

test('a handler registered with ten environments (ten invoker roles) keeps 20% headroom in its resource policy', () => {
  const app = newApp();
  const stack = new Stack(app, 'orders-service-prod', { env: ENV });
  const apiKey = secretsmanager.Secret.fromSecretNameV2(stack, 'ApiKey', 'restate/api-key');
  const version = handler(stack, handlerName(0), executionRole(stack));
  const deployer = new ServiceDeployer(stack, 'ServiceDeployer');
  for (let i = 0; i < 10; i++) {
    const environmentId = `env_201hy10cd3h6426jy80tb32n${String(i).padStart(3, '0')}`;
    deployer.register(version, new RestateCloudEnvironment(stack, `RestateEnvironment${i}`, { environmentId, apiKey }));
  }
  const sizes = analyzeIamDocuments(synth(app));
  const policies = sizes.filter((s) => s.kind === 'lambda-resource-policy');
  expect(policies).toHaveLength(1);
  expect(policies[0].statements).toBe(10);
  expectHeadroom(sizes);
});

test('the invoker role trust policy keeps 20% headroom with ten trusted environments', () => {
  const app = newApp();
  const stack = new Stack(app, 'restate-platform-prod', { env: ENV });
  const environmentIds = Array.from({ length: 10 }, (_, i) => `env_201hy10cd3h6426jy80tb32n${String(i).padStart(3, '0')}`);
  new RestateCloudInvokerRole(stack, 'InvokerRole', { environmentIds });
  const sizes = analyzeIamDocuments(synth(app));
  const trust = sizes.find((s) => s.kind === 'trust-policy')!;
  expect(JSON.stringify(trust.documents[0])).toContain(environmentIds[9]);
  expect(trust.size).toBeLessThanOrEqual(IAM_LIMITS.trustPolicy * HEADROOM);
  expectHeadroom(sizes);
});

describe('HTTP endpoints of a service stack registered through the platform stack\'s shared deployer', () => {
  // With `scope` in the service stack, the registration and the grants for the service's
  // secrets live there: the platform stack never depends on a service stack.
  function build(endpoint: 'url-token' | 'secret-header'): App {
    const app = newApp();
    const { stack: platformStack, environment } = platform(app);
    const deployer = new ServiceDeployer(platformStack, 'ServiceDeployer');
    const stack = new Stack(app, 'orders-service-prod', { env: ENV });
    const role = executionRole(stack);
    const version = handler(stack, handlerName(0), role);
    deployer.register(version, environment);
    if (endpoint === 'url-token') {
      const url = (version.lambda as lambda.Function).addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM }).url;
      deployer.registerHttp(url, environment, { scope: stack });
    } else {
      // Imported by name: the shared deployer pins it to the endpoint without depending on this stack.
      const token = secretsmanager.Secret.fromSecretNameV2(stack, 'EndpointToken', 'orders/restate-token');
      deployer.registerHttp('https://orders.example.com/restate', environment, { scope: stack, secretHeaders: { 'x-restate-token': token } });
    }
    return app;
  }

  test('a URL from the service stack synthesizes without a dependency cycle', () => {
    expect(() => build('url-token').synth()).not.toThrow();
  });

  test('a secret header from the service stack synthesizes without a dependency cycle', () => {
    expect(() => build('secret-header').synth()).not.toThrow();
  });
});
