import * as crypto from 'crypto';
import { App, Stack, StackProps } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { InvokeGrant, RestateCloudEnvironment, ServiceDeployer } from '../src';
import { asVersion } from './support/as-version';

// Which grants the deployer's role gets, where they are made (the deployer's stack, or the
// stack of a registration) and how registrations are ordered after them.

const ENV_ID = 'env_201hy10cd3h6426jy80tb32n6en';
const API_KEY_ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:restate/api-key-AbCdEf';

function threeStacks(props: StackProps = {}) {
  const app = new App();
  const platform = new Stack(app, 'Platform', props);
  const apiKey = secretsmanager.Secret.fromSecretCompleteArn(platform, 'ApiKey', API_KEY_ARN);
  const env = new RestateCloudEnvironment(platform, 'Env', { environmentId: ENV_ID, apiKey });
  const deployerStack = new Stack(app, 'Deployers', props);
  const deployer = new ServiceDeployer(deployerStack, 'Deployer', { invokeGrant: InvokeGrant.DEPLOYER });
  const service = new Stack(app, 'Service', props);
  return { app, platform, env, deployerStack, deployer, service };
}

function newFunction(stack: Stack, id: string): lambda.Function {
  return new lambda.Function(stack, id, {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline(`exports.handler = async () => '${id}';`),
  });
}

function policies(stack: Stack): Array<[string, any]> {
  return Object.entries(Template.fromStack(stack).findResources('AWS::IAM::Policy'));
}

function registrations(stack: Stack): any[] {
  return Object.values(Template.fromStack(stack).findResources('Custom::RestateDeployment'));
}

describe('grants made from a registration\'s stack', () => {
  test('two registrations in one remote stack share one grant, and both wait for it', () => {
    const { env, deployer, service } = threeStacks();
    deployer.register(newFunction(service, 'A').currentVersion, env);
    deployer.register(newFunction(service, 'B').currentVersion, env);
    const found = policies(service);
    expect(found).toHaveLength(1);
    const [[policyId, policy]] = found;
    const statements = policy.Properties.PolicyDocument.Statement;
    expect(statements.filter((s: any) => JSON.stringify(s.Action).includes('lambda:AddPermission'))).toHaveLength(1);
    expect(statements.filter((s: any) => JSON.stringify(s.Action).includes('secretsmanager:GetSecretValue'))).toHaveLength(1);
    const regs = registrations(service);
    expect(regs).toHaveLength(2);
    for (const r of regs) expect(r.DependsOn).toContain(policyId);
  });

  test("the deployer's role is imported once per remote stack, under an id made from the deployer's path", () => {
    const { env, deployer, service } = threeStacks();
    deployer.register(newFunction(service, 'A').currentVersion, env);
    const expectedId = `RestateDeployerRole${crypto.createHash('sha256').update(JSON.stringify([deployer.node.path])).digest('hex').slice(0, 8).toUpperCase()}`;
    const imported = service.node.tryFindChild(expectedId);
    expect(imported).toBeDefined();
    expect(service.node.children.filter((c) => c.node.id.startsWith('RestateDeployerRole'))).toHaveLength(1);
    expect(service.resolve((imported as iam.IRole).roleArn)).toEqual(service.resolve(deployer.role.roleArn));
  });

  test('registrations in two remote stacks: a grant in each', () => {
    const { app, env, deployer, service } = threeStacks();
    const other = new Stack(app, 'Other');
    deployer.register(newFunction(service, 'A').currentVersion, env);
    deployer.register(newFunction(other, 'B').currentVersion, env);
    for (const stack of [service, other]) {
      const [[policyId]] = policies(stack);
      expect(registrations(stack)[0].DependsOn).toContain(policyId);
    }
  });

  test("a registration in the deployer's own stack: the grants land in the deployer role's default policy, no ordering needed", () => {
    const { env, deployer, deployerStack } = threeStacks();
    deployer.register(newFunction(deployerStack, 'A').currentVersion, env);
    deployer.register(newFunction(deployerStack, 'B').currentVersion, env);
    const found = policies(deployerStack);
    expect(found).toHaveLength(1);
    const statements = found[0][1].Properties.PolicyDocument.Statement;
    expect(statements.filter((s: any) => JSON.stringify(s.Action).includes('lambda:AddPermission'))).toHaveLength(1);
    expect(deployerStack.node.children.filter((c) => c.node.id.startsWith('RestateDeployerRole'))).toHaveLength(0);
    for (const r of registrations(deployerStack)) expect(r.DependsOn).toBeUndefined();
  });

  test('two secrets and two invoker roles: each granted, none taken for another', () => {
    const { app, deployer, deployerStack } = threeStacks();
    const keyA = secretsmanager.Secret.fromSecretCompleteArn(deployerStack, 'KeyA', 'arn:aws:secretsmanager:us-east-1:111111111111:secret:a-AbCdEf');
    const keyB = secretsmanager.Secret.fromSecretCompleteArn(deployerStack, 'KeyB', 'arn:aws:secretsmanager:us-east-1:111111111111:secret:b-AbCdEf');
    const envA = new RestateCloudEnvironment(deployerStack, 'EnvA', { environmentId: ENV_ID, apiKey: keyA });
    const envB = new RestateCloudEnvironment(deployerStack, 'EnvB', { environmentId: 'env_0abc123def456ghi789jkl0mno', apiKey: keyB });
    const version = newFunction(deployerStack, 'A').currentVersion;
    deployer.register(version, envA);
    deployer.register(version, envB);
    app.synth();
    const statements = policies(deployerStack).flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
    const text = JSON.stringify(statements);
    expect(text).toContain('secret:a-AbCdEf');
    expect(text).toContain('secret:b-AbCdEf');
    const invoke = statements.filter((s: any) => JSON.stringify(s.Action).includes('lambda:AddPermission'));
    const principals = invoke.flatMap((s: any) => [].concat(s.Condition.StringEquals['lambda:Principal']));
    expect(principals).toHaveLength(2);
  });

  test("a secret of the deployer's stack, read for a registration elsewhere: granted in the deployer's stack", () => {
    const { app, env, deployerStack, deployer, service } = threeStacks();
    const header = secretsmanager.Secret.fromSecretNameV2(deployerStack, 'Header', 'orders/header');
    deployer.registerHttp('https://orders.example.com', env, { scope: service, secretHeaders: { 'x-key': header } });
    app.synth();
    const deployerStatements = policies(deployerStack).flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
    expect(JSON.stringify(deployerStatements)).toContain('orders/header');
    const serviceStatements = policies(service).flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
    expect(JSON.stringify(serviceStatements)).not.toContain('orders/header');
  });
});

describe('the invoke grant', () => {
  test('versions and aliases of the stack\'s account and region only, for the invoker role only', () => {
    const { env, deployer, deployerStack } = threeStacks({ env: { account: '111111111111', region: 'us-east-1' } });
    deployer.register(newFunction(deployerStack, 'A').currentVersion, env);
    const statements = policies(deployerStack).flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
    const invoke = statements.filter((s: any) => JSON.stringify(s.Action).includes('lambda:AddPermission'));
    expect(invoke).toHaveLength(1);
    expect(invoke[0].Action).toEqual(['lambda:AddPermission', 'lambda:RemovePermission']);
    expect(invoke[0].Effect).toBe('Allow');
    expect(deployerStack.resolve(invoke[0].Resource)).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':lambda:us-east-1:111111111111:function:*:*']],
    });
    expect(Object.keys(invoke[0].Condition)).toEqual(['StringEquals']);
    expect(Object.keys(invoke[0].Condition.StringEquals)).toEqual(['lambda:Principal']);
  });
});

describe('the acknowledged cdk-nag findings of the deployer', () => {

  function suppressions(stack: Stack): string[] {
    return Object.values(Template.fromStack(stack).toJSON().Resources as Record<string, any>)
      .flatMap((r) => (r.Metadata?.cdk_nag?.rules_to_suppress ?? []).map((s: any) => `${r.Type} ${s.id}${s.applies_to ? ` ${s.applies_to.join(',')}` : ''}`))
      .sort();
  }

  test('the function wildcard finding names the literal account and region of a stack with a fixed environment', () => {
    const found = asVersion('2.168.0', () => {
      const { env, deployer, deployerStack } = threeStacks({ env: { account: '111111111111', region: 'eu-central-1' } });
      deployer.register(newFunction(deployerStack, 'A').currentVersion, env);
      return suppressions(deployerStack);
    });
    expect(found).toContain('AWS::IAM::Policy AwsSolutions-IAM5 Resource::arn:<AWS::Partition>:lambda:eu-central-1:111111111111:function:*:*');
    expect(found).toContain('AWS::Lambda::Function AwsSolutions-L1');
    expect(found.filter((s) => s.includes('AwsSolutions-IAM4'))).toEqual([]);
  });

  test('without a fixed environment it names the pseudo parameters', () => {
    const found = asVersion('2.168.0', () => {
      const { env, deployer, deployerStack } = threeStacks();
      deployer.register(newFunction(deployerStack, 'A').currentVersion, env);
      return suppressions(deployerStack);
    });
    expect(found).toContain('AWS::IAM::Policy AwsSolutions-IAM5 Resource::arn:<AWS::Partition>:lambda:<AWS::Region>:<AWS::AccountId>:function:*:*');
  });

  test('each acknowledgement gives its reason', () => {
    const reasons = asVersion('2.168.0', () => {
      const { env, deployer, deployerStack } = threeStacks();
      deployer.register(newFunction(deployerStack, 'A').currentVersion, env);
      return Object.values(Template.fromStack(deployerStack).toJSON().Resources as Record<string, any>)
        .flatMap((r) => r.Metadata?.cdk_nag?.rules_to_suppress ?? [])
        .map((s: any) => `${s.id}: ${s.reason}`);
    });
    expect(reasons).toContain(
      'AwsSolutions-L1: The deployer runtime is pinned by restate-cloud-cdk for stable templates and moves to newer Node.js runtimes with library releases; the function runs only during deployments.',
    );
    expect(reasons).toContain(
      "AwsSolutions-IAM5: The deployer adds and removes the invoker role's invoke statement on each handler it registers, which it learns only at deploy time; the condition lambda:Principal limits it to statements for the invoker role.",
    );
  });

  test('in a VPC the managed network-interface policy is acknowledged on the role, with its reason', () => {
    const found = asVersion('2.168.0', () => {
      const stack = new Stack(new App(), 'Stack');
      const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
        vpcId: 'vpc-0123456789abcdef0',
        availabilityZones: ['us-east-1a'],
        privateSubnetIds: ['subnet-0123456789abcdef0'],
      });
      new ServiceDeployer(stack, 'Deployer', { vpc });
      return Object.values(Template.fromStack(stack).toJSON().Resources as Record<string, any>)
        .flatMap((r) => (r.Metadata?.cdk_nag?.rules_to_suppress ?? []).map((s: any) => `${r.Type} ${s.id} ${(s.applies_to ?? []).join(',')}: ${s.reason}`));
    });
    expect(found).toContain(
      'AWS::IAM::Role AwsSolutions-IAM4 Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole: ' +
        'AWS-managed policy with exactly the network-interface permissions a Lambda function in a VPC needs (ec2:CreateNetworkInterface and friends, which support no resource-level scoping).',
    );
  });
});
