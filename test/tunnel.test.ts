/**
 * Private services through Restate Cloud's tunnel (issue 19), as construct tests:
 * the tunnel client's task definition (environment, the API key as an ECS secret only), its
 * network (no inbound rule), its roles statement by statement, the URLs through a tunnel
 * (http, https, in-process, regions), registrations through a deployer, and every synth-time
 * error with the value and the fix.
 */
import { App, CfnParameter, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import {
  RestateCloudEnvironment,
  RestateCloudRegion,
  RestateCloudTunnel,
  RestateCloudTunnelProps,
  RestateInProcessTunnel,
  ServiceDeployer,
} from '../src';

const ACCOUNT = '111111111111';
const REGION = 'us-east-1';
const ENV_ID = 'env_201hy10cd3h6426jy80tb32n6en';
const HOST_ID = '201hy10cd3h6426jy80tb32n6en';
const API_KEY_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:restate/cloud-api-key-AbCdEf`;
const PUBLIC_KEY = 'publickeyv1_73SG4ZRmRySfQZiRcP3fkyAFXEpfe3MZD2AhimecM9Lc';
const PUBLIC_KEY_2 = 'publickeyv1_2G8dCQhArfvGpzPw5Vx2ALciR4xCLHfS5YaT93XjNxX9';

type Resources = Record<string, { Type: string; Properties?: any; DependsOn?: string[] }>;

interface Fixture {
  readonly app: App;
  readonly stack: Stack;
  readonly environment: RestateCloudEnvironment;
  readonly vpc: ec2.IVpc;
}

function fixture(options: { keys?: string[]; region?: RestateCloudRegion; apiKeyJsonField?: string; environmentId?: string } = {}): Fixture {
  const app = new App();
  const stack = new Stack(app, 'Stack', { env: { account: ACCOUNT, region: REGION } });
  const environment = new RestateCloudEnvironment(stack, 'Restate', {
    environmentId: options.environmentId ?? ENV_ID,
    apiKey: secretsmanager.Secret.fromSecretCompleteArn(stack, 'ApiKey', API_KEY_ARN),
    apiKeyJsonField: options.apiKeyJsonField,
    region: options.region,
    requestSigningPublicKeys: 'keys' in options ? options.keys : [PUBLIC_KEY],
  });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  return { app, stack, environment, vpc };
}

function tunnelIn(f: Fixture, props: Partial<RestateCloudTunnelProps> = {}): RestateCloudTunnel {
  return new RestateCloudTunnel(f.stack, 'Tunnel', { environment: f.environment, tunnelName: 'prod-vpc', vpc: f.vpc, ...props });
}

function resources(stack: Stack): Resources {
  return Template.fromStack(stack).toJSON().Resources as Resources;
}

function logicalId(stack: Stack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as any);
}

function containerOf(f: Fixture, tunnel: RestateCloudTunnel): any {
  const definitions = resources(f.stack)[logicalId(f.stack, tunnel.taskDefinition)].Properties.ContainerDefinitions;
  expect(definitions).toHaveLength(1);
  return definitions[0];
}

function allStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(allStrings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(allStrings);
  return [];
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  return '(no error)';
}

describe('the tunnel client task', () => {
  test('environment: tunnel name, environment id, region, signing key, remote proxy off, drain in seconds', () => {
    const f = fixture();
    const container = containerOf(f, tunnelIn(f));
    expect(container.Environment).toEqual([
      { Name: 'RESTATE_TUNNEL_NAME', Value: 'prod-vpc' },
      { Name: 'RESTATE_ENVIRONMENT_ID', Value: ENV_ID },
      { Name: 'RESTATE_CLOUD_REGION', Value: 'us' },
      { Name: 'RESTATE_SIGNING_PUBLIC_KEY', Value: PUBLIC_KEY },
      { Name: 'RESTATE_REMOTE_PROXY', Value: 'false' },
      // The client parses a std Duration: seconds under __SECS ('110s' would stop it at start).
      { Name: 'RESTATE_SHUTDOWN_TIMEOUT__SECS', Value: '110' },
    ]);
  });

  test('the API key is an ECS secret (RESTATE_BEARER_TOKEN) from the environment\'s secret, by ARN', () => {
    const f = fixture();
    const container = containerOf(f, tunnelIn(f));
    expect(container.Secrets).toEqual([{ Name: 'RESTATE_BEARER_TOKEN', ValueFrom: API_KEY_ARN }]);
  });

  test('with apiKeyJsonField, the secret names the JSON field', () => {
    const f = fixture({ apiKeyJsonField: 'apiKey' });
    expect(containerOf(f, tunnelIn(f)).Secrets).toEqual([{ Name: 'RESTATE_BEARER_TOKEN', ValueFrom: `${API_KEY_ARN}:apiKey::` }]);
  });

  test('no plaintext key anywhere: no key variable, no dynamic reference, and a secret made in the stack is referenced by ARN only', () => {
    const f = fixture();
    const generated = new secretsmanager.Secret(f.stack, 'Generated', { generateSecretString: { passwordLength: 32 } });
    const environment = new RestateCloudEnvironment(f.stack, 'Other', {
      environmentId: ENV_ID,
      apiKey: generated,
      requestSigningPublicKeys: [PUBLIC_KEY],
    });
    const tunnel = new RestateCloudTunnel(f.stack, 'Tunnel', { environment, tunnelName: 'prod-vpc', vpc: f.vpc });
    const template = Template.fromStack(f.stack).toJSON();
    const container = containerOf(f, tunnel);
    expect(container.Secrets).toEqual([{ Name: 'RESTATE_BEARER_TOKEN', ValueFrom: { Ref: f.stack.getLogicalId(generated.node.defaultChild as any) } }]);
    expect(container.Environment.map((e: any) => e.Name)).not.toContain('RESTATE_BEARER_TOKEN');
    expect(container.Environment.filter((e: any) => /TOKEN|API_KEY|SECRET/.test(e.Name))).toEqual([]);
    expect(allStrings(template).filter((s) => /\{\{resolve:(secretsmanager|ssm-secure):/.test(s))).toEqual([]);
    expect(template.Outputs).toBeUndefined();
  });

  test('pinned image, read-only root filesystem, stop timeout 120 s, no health check (distroless), logs to its log group', () => {
    const f = fixture();
    const tunnel = tunnelIn(f);
    const container = containerOf(f, tunnel);
    expect(RestateCloudTunnel.DEFAULT_IMAGE).toBe('ghcr.io/restatedev/restate-cloud-tunnel-client:0.6.0');
    expect(container).toMatchObject({
      Name: 'restate-cloud-tunnel-client',
      Image: RestateCloudTunnel.DEFAULT_IMAGE,
      Essential: true,
      ReadonlyRootFilesystem: true,
      StopTimeout: 120,
      LogConfiguration: { LogDriver: 'awslogs', Options: { 'awslogs-group': { Ref: logicalId(f.stack, tunnel.logGroup as any) }, 'awslogs-stream-prefix': 'tunnel' } },
    });
    expect(container.HealthCheck).toBeUndefined();
    expect(container.PortMappings).toBeUndefined();
    Template.fromStack(f.stack).hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  test('defaults: 1 vCPU, 2 GiB, ARM64, two tasks, rolling deployments that keep the old tasks until new ones run', () => {
    const f = fixture();
    const tunnel = tunnelIn(f);
    const all = resources(f.stack);
    expect(all[logicalId(f.stack, tunnel.taskDefinition)].Properties).toMatchObject({
      Cpu: '1024',
      Memory: '2048',
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
      RequiresCompatibilities: ['FARGATE'],
    });
    expect(all[logicalId(f.stack, tunnel.service)].Properties).toMatchObject({
      DesiredCount: 2,
      LaunchType: 'FARGATE',
      AvailabilityZoneRebalancing: 'ENABLED',
      DeploymentConfiguration: { MinimumHealthyPercent: 100, MaximumPercent: 200, DeploymentCircuitBreaker: { Enable: true, Rollback: true } },
      NetworkConfiguration: {
        AwsvpcConfiguration: {
          AssignPublicIp: 'DISABLED',
          Subnets: f.vpc.privateSubnets.map((s) => f.stack.resolve(s.subnetId)),
        },
      },
    });
    Annotations.fromStack(f.stack).hasNoWarning('*', Match.anyValue());
  });

  test('sizes, count, architecture, image, log retention and drain are configurable', () => {
    const f = fixture();
    const tunnel = tunnelIn(f, {
      cpu: 512,
      memoryLimitMiB: 1024,
      desiredCount: 3,
      cpuArchitecture: ecs.CpuArchitecture.X86_64,
      image: ecs.ContainerImage.fromRegistry('registry.example.com/restate-cloud-tunnel-client:0.7.0'),
      drainTimeout: Duration.seconds(50),
      logRetention: 7,
    });
    const container = containerOf(f, tunnel);
    expect(container.Image).toBe('registry.example.com/restate-cloud-tunnel-client:0.7.0');
    expect(container.StopTimeout).toBe(60);
    expect(container.Environment).toContainEqual({ Name: 'RESTATE_SHUTDOWN_TIMEOUT__SECS', Value: '50' });
    const all = resources(f.stack);
    expect(all[logicalId(f.stack, tunnel.taskDefinition)].Properties).toMatchObject({ Cpu: '512', Memory: '1024', RuntimePlatform: { CpuArchitecture: 'X86_64' } });
    expect(all[logicalId(f.stack, tunnel.service)].Properties.DesiredCount).toBe(3);
    Template.fromStack(f.stack).hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
  });

  test.each([[Duration.seconds(111)], [Duration.minutes(2)], [Duration.millis(1500)]])('drainTimeout %s beyond what Fargate allows throws naming it', (drainTimeout) => {
    const f = fixture();
    expect(errorOf(() => tunnelIn(f, { drainTimeout }))).toMatch(/drainTimeout must be a whole number of seconds from 0 to 110, got .* s: Fargate stops a task at most 120 s after SIGTERM/);
  });

  test.each([[Duration.seconds(0), '0'], [Duration.seconds(110), '110']])('drainTimeout %s is accepted', (drainTimeout, seconds) => {
    const f = fixture();
    expect(containerOf(f, tunnelIn(f, { drainTimeout })).Environment).toContainEqual({ Name: 'RESTATE_SHUTDOWN_TIMEOUT__SECS', Value: seconds });
  });

  test('remoteProxy: true turns the proxies on and maps their ports, still without any inbound rule', () => {
    const f = fixture();
    const tunnel = tunnelIn(f, { remoteProxy: true });
    const container = containerOf(f, tunnel);
    expect(container.Environment).toContainEqual({ Name: 'RESTATE_REMOTE_PROXY', Value: 'true' });
    expect(container.PortMappings).toEqual([
      { ContainerPort: 8080, Name: 'ingress', Protocol: 'tcp' },
      { ContainerPort: 9070, Name: 'admin', Protocol: 'tcp' },
    ]);
    const groups = Object.values(resources(f.stack)).filter((r) => r.Type === 'AWS::EC2::SecurityGroup' && /tunnel/.test(r.Properties.GroupDescription));
    expect(groups.map((g) => g.Properties.SecurityGroupIngress)).toEqual([undefined]);
  });

  test('a region with another domain tells the client its suffix', () => {
    const f = fixture({ region: RestateCloudRegion.of({ name: 'cn', accountId: '123456789012', domain: 'restate.example' }) });
    expect(containerOf(f, tunnelIn(f)).Environment).toEqual(
      expect.arrayContaining([
        { Name: 'RESTATE_CLOUD_REGION', Value: 'cn' },
        { Name: 'RESTATE_CLOUD_SUFFIX', Value: 'restate.example.' },
      ]),
    );
  });

  test('a BYOC region goes to the client as its <id>.byoc name', () => {
    const f = fixture({ region: RestateCloudRegion.of({ name: 'abc123.byoc', accountId: '123456789012' }) });
    const environment = containerOf(f, tunnelIn(f)).Environment;
    expect(environment).toContainEqual({ Name: 'RESTATE_CLOUD_REGION', Value: 'abc123.byoc' });
    expect(environment.map((e: any) => e.Name)).not.toContain('RESTATE_CLOUD_SUFFIX');
  });
});

describe('network: outbound only', () => {
  test('the security group has no inbound rule and allows all outbound traffic; nothing else adds ingress to it', () => {
    const f = fixture();
    const tunnel = tunnelIn(f);
    const all = resources(f.stack);
    const [groupId] = tunnel.connections.securityGroups.map((g) => logicalId(f.stack, g));
    expect(all[groupId].Properties).toEqual({
      GroupDescription: 'Restate Cloud tunnel client: no inbound rules; outbound to Restate Cloud and to the services it serves',
      SecurityGroupEgress: [{ CidrIp: '0.0.0.0/0', Description: 'Allow all outbound traffic by default', IpProtocol: '-1' }],
      VpcId: { Ref: logicalId(f.stack, f.vpc as ec2.Vpc) },
    });
    expect(Object.values(all).filter((r) => r.Type === 'AWS::EC2::SecurityGroupIngress')).toEqual([]);
    expect(all[logicalId(f.stack, tunnel.service)].Properties.NetworkConfiguration.AwsvpcConfiguration.SecurityGroups).toEqual([{ 'Fn::GetAtt': [groupId, 'GroupId'] }]);
  });

  test('services let the tunnel in through connections: the rule lands on the service, not on the tunnel', () => {
    const f = fixture();
    const tunnel = tunnelIn(f);
    const serviceGroup = new ec2.SecurityGroup(f.stack, 'Greeter', { vpc: f.vpc });
    serviceGroup.connections.allowFrom(tunnel, ec2.Port.tcp(9080));
    const ingress = Object.values(resources(f.stack)).filter((r) => r.Type === 'AWS::EC2::SecurityGroupIngress');
    expect(ingress.map((r) => [r.Properties.GroupId, r.Properties.SourceSecurityGroupId, r.Properties.FromPort])).toEqual([
      [{ 'Fn::GetAtt': [logicalId(f.stack, serviceGroup), 'GroupId'] }, { 'Fn::GetAtt': [logicalId(f.stack, tunnel.connections.securityGroups[0]), 'GroupId'] }, 9080],
    ]);
  });

  test('own security groups are used as given, and no group is created', () => {
    const f = fixture();
    const own = new ec2.SecurityGroup(f.stack, 'Own', { vpc: f.vpc });
    const tunnel = tunnelIn(f, { securityGroups: [own] });
    expect(tunnel.connections.securityGroups).toEqual([own]);
    expect(Object.values(resources(f.stack)).filter((r) => r.Type === 'AWS::EC2::SecurityGroup')).toHaveLength(1);
  });
});

describe('least privilege, statement by statement', () => {
  function policiesOf(stack: Stack, roleId: string): any[] {
    return Object.values(resources(stack)).filter(
      (r) => (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') && JSON.stringify(r.Properties.Roles ?? []).includes(`"${roleId}"`),
    );
  }

  test('the execution role may write its log group and read exactly the API key secret; nothing else', () => {
    const f = fixture();
    const tunnel = tunnelIn(f);
    const roleId = logicalId(f.stack, tunnel.taskDefinition.executionRole as any);
    const role = resources(f.stack)[roleId].Properties;
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' } },
    ]);
    expect(role.ManagedPolicyArns).toBeUndefined();
    expect(role.Policies).toBeUndefined();
    const policies = policiesOf(f.stack, roleId);
    expect(policies.map((p) => p.Type)).toEqual(['AWS::IAM::Policy']);
    expect(policies[0].Properties.PolicyDocument.Statement).toEqual([
      { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::GetAtt': [logicalId(f.stack, tunnel.logGroup as any), 'Arn'] } },
      { Effect: 'Allow', Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: API_KEY_ARN },
    ]);
  });

  test('the task role (what the client itself may do in AWS) has no permissions at all', () => {
    const f = fixture();
    const tunnel = tunnelIn(f);
    const roleId = logicalId(f.stack, tunnel.taskDefinition.taskRole as any);
    const role = resources(f.stack)[roleId].Properties;
    expect(role.ManagedPolicyArns).toBeUndefined();
    expect(role.Policies).toBeUndefined();
    expect(policiesOf(f.stack, roleId)).toEqual([]);
  });
});

describe('where the tunnel runs', () => {
  test('neither vpc nor cluster: the error names both', () => {
    const f = fixture();
    expect(errorOf(() => new RestateCloudTunnel(f.stack, 'Tunnel', { environment: f.environment, tunnelName: 'prod-vpc' }))).toBe(
      "RestateCloudTunnel 'Tunnel': pass vpc (the VPC of the services to reach), or cluster.",
    );
  });

  test('a given cluster is used (and its VPC); no cluster is created', () => {
    const f = fixture();
    const cluster = new ecs.Cluster(f.stack, 'Shared', { vpc: f.vpc });
    const tunnel = new RestateCloudTunnel(f.stack, 'Tunnel', { environment: f.environment, tunnelName: 'prod-vpc', cluster });
    expect(tunnel.cluster).toBe(cluster);
    expect(Object.values(resources(f.stack)).filter((r) => r.Type === 'AWS::ECS::Cluster')).toHaveLength(1);
    expect(resources(f.stack)[logicalId(f.stack, tunnel.service)].Properties.Cluster).toEqual({ Ref: logicalId(f.stack, cluster) });
  });

  test('a VPC without private subnets: the error says why the tunnel needs egress and names vpcSubnets', () => {
    const f = fixture();
    const isolated = new ec2.Vpc(f.stack, 'Isolated', { maxAzs: 2, subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
    expect(errorOf(() => tunnelIn(f, { vpc: isolated }))).toMatch(
      /RestateCloudTunnel 'Tunnel': There are no 'Private' subnet groups in this VPC.* The tunnel client needs outbound internet access to reach Restate Cloud: pass vpcSubnets/,
    );
  });

  test('public subnets with assignPublicIp', () => {
    const f = fixture();
    const tunnel = tunnelIn(f, { vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC }, assignPublicIp: true });
    expect(resources(f.stack)[logicalId(f.stack, tunnel.service)].Properties.NetworkConfiguration.AwsvpcConfiguration).toMatchObject({
      AssignPublicIp: 'ENABLED',
      Subnets: f.vpc.publicSubnets.map((s) => f.stack.resolve(s.subnetId)),
    });
  });

  test('all tasks in one Availability Zone: a warning says to select subnets in two', () => {
    const f = fixture();
    tunnelIn(f, { vpcSubnets: { subnets: [f.vpc.privateSubnets[0]] } });
    Annotations.fromStack(f.stack).hasWarning('/Stack/Tunnel', Match.stringLikeRegexp('All 2 tunnel tasks run in .*: select subnets in two or more Availability Zones'));
  });

  test('the one-zone warning has an id to acknowledge it by', () => {
    const f = fixture();
    tunnelIn(f, { vpcSubnets: { subnets: [f.vpc.privateSubnets[0]] } });
    Annotations.fromStack(f.stack).hasWarning('/Stack/Tunnel', Match.stringLikeRegexp('\\[ack: restate-cloud-cdk:tunnelOneZone\\]'));
  });

  test('no one-zone warning for a single task, nor for zones unknown until deployed (an environment-agnostic stack)', () => {
    const f = fixture();
    tunnelIn(f, { vpcSubnets: { subnets: [f.vpc.privateSubnets[0]] }, desiredCount: 1 });
    Annotations.fromStack(f.stack).hasNoWarning('*', Match.stringLikeRegexp('tunnel tasks run in'));

    const agnostic = new Stack(new App(), 'Agnostic');
    const vpc = new ec2.Vpc(agnostic, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const environment = new RestateCloudEnvironment(agnostic, 'Restate', {
      environmentId: ENV_ID,
      apiKey: secretsmanager.Secret.fromSecretCompleteArn(agnostic, 'ApiKey', API_KEY_ARN),
      requestSigningPublicKeys: [PUBLIC_KEY],
    });
    new RestateCloudTunnel(agnostic, 'Tunnel', { environment, tunnelName: 'prod-vpc', vpc, vpcSubnets: { subnets: [vpc.privateSubnets[0]] } });
    Annotations.fromStack(agnostic).hasNoWarning('*', Match.stringLikeRegexp('tunnel tasks run in'));
  });
});

describe('tunnel names', () => {
  test.each([['Prod'], ['prod_vpc'], ['-prod'], ['prod-'], ['prod.vpc'], [''], ['a'.repeat(64)], ['prod vpc'], ['prod/vpc']])('%j is refused, naming it and the form', (tunnelName) => {
    const f = fixture();
    const expected = `invalid tunnelName ${JSON.stringify(tunnelName)}: expected lowercase letters, digits and hyphens`;
    expect(errorOf(() => tunnelIn(f, { tunnelName }))).toContain(`RestateCloudTunnel 'Tunnel': ${expected}`);
    expect(errorOf(() => new RestateInProcessTunnel({ environment: f.environment, tunnelName }))).toContain(`RestateInProcessTunnel: ${expected}`);
  });

  test('the whole error for a refused name', () => {
    expect(errorOf(() => tunnelIn(fixture(), { tunnelName: 'Prod' }))).toBe(
      'RestateCloudTunnel \'Tunnel\': invalid tunnelName "Prod": expected lowercase letters, digits and hyphens ' +
        "(at most 63, starting and ending with a letter or digit), e.g. 'prod-vpc'. Replicas of one tunnel share its name.",
    );
  });

  // From JavaScript, or a jsii language: a value that is not a string reads as a valid name to a pattern.
  test.each([[undefined], [5], [['prod']]])('%j, not a string, is refused', (tunnelName) => {
    expect(errorOf(() => tunnelIn(fixture(), { tunnelName: tunnelName as any }))).toContain(`invalid tunnelName ${JSON.stringify(tunnelName)}:`);
  });

  test.each([['a'], ['prod-vpc'], ['a'.repeat(63)], ['0-9']])('%j is accepted', (tunnelName) => {
    const f = fixture();
    expect(tunnelIn(f, { tunnelName }).tunnelName).toBe(tunnelName);
  });

  test('a token name passes through to the environment and the URLs', () => {
    const f = fixture();
    const name = new CfnParameter(f.stack, 'TunnelName').valueAsString;
    const tunnel = tunnelIn(f, { tunnelName: name });
    expect(f.stack.resolve(tunnel.urlFor('greeter.internal', 9080))).toEqual({
      'Fn::Join': ['', [`https://tunnel.us.restate.cloud:9080/${HOST_ID}/`, { Ref: 'TunnelName' }, '/http/greeter.internal/9080/']],
    });
    expect(containerOf(f, tunnel).Environment[0]).toEqual({ Name: 'RESTATE_TUNNEL_NAME', Value: { Ref: 'TunnelName' } });
  });
});

describe('the signing key', () => {
  test('no key: the error names requestSigningPublicKeys and signingPublicKey', () => {
    const f = fixture({ keys: undefined });
    expect(errorOf(() => tunnelIn(f))).toBe(
      "RestateCloudTunnel 'Tunnel': the environment 'Stack/Restate' has no request-signing public key, which the tunnel needs to accept only requests from that environment: " +
        "pass requestSigningPublicKeys (the 'publickeyv1_...' key from the environment's security settings in Restate Cloud) to RestateCloudEnvironment, or signingPublicKey here.",
    );
    expect(errorOf(() => new RestateInProcessTunnel({ environment: f.environment, tunnelName: 'greeter-v1' }))).toMatch(/^RestateInProcessTunnel: .* has no request-signing public key/);
  });

  test('two keys: the tunnel takes one, so the error asks which', () => {
    const f = fixture({ keys: [PUBLIC_KEY, PUBLIC_KEY_2] });
    expect(errorOf(() => new RestateCloudTunnel(f.stack, 'Ambiguous', { environment: f.environment, tunnelName: 'prod-vpc', vpc: f.vpc }))).toMatch(
      /has 2 request-signing public keys, but a tunnel verifies requests with exactly one: pass signingPublicKey/,
    );
    const tunnel = tunnelIn(f, { signingPublicKey: PUBLIC_KEY_2 });
    expect(containerOf(f, tunnel).Environment).toContainEqual({ Name: 'RESTATE_SIGNING_PUBLIC_KEY', Value: PUBLIC_KEY_2 });
  });

  test('an explicit key is validated like the environment\'s', () => {
    const f = fixture();
    expect(errorOf(() => tunnelIn(f, { signingPublicKey: 'publickeyv1_x' }))).toMatch(/invalid request-signing public key "publickeyv1_x"/);
  });
});

describe('URLs through a tunnel', () => {
  test('http by default, https on request', () => {
    const f = fixture();
    const tunnel = tunnelIn(f);
    expect(tunnel.urlFor('greeter.restate.internal', 9080)).toBe(`https://tunnel.us.restate.cloud:9080/${HOST_ID}/prod-vpc/http/greeter.restate.internal/9080/`);
    expect(tunnel.urlFor('10.0.1.17', 8443, { https: true })).toBe(`https://tunnel.us.restate.cloud:9080/${HOST_ID}/prod-vpc/https/10.0.1.17/8443/`);
  });

  test('eu, BYOC and other domains', () => {
    const eu = fixture({ region: RestateCloudRegion.EU });
    expect(tunnelIn(eu).urlFor('greeter', 9080)).toBe(`https://tunnel.eu.restate.cloud:9080/${HOST_ID}/prod-vpc/http/greeter/9080/`);
    const byoc = fixture({ region: RestateCloudRegion.of({ name: 'abc123.byoc', accountId: '123456789012' }) });
    expect(tunnelIn(byoc).urlFor('greeter', 9080)).toBe(`https://tunnel.abc123.byoc.restate.cloud:9080/${HOST_ID}/prod-vpc/http/greeter/9080/`);
    const other = fixture({ region: RestateCloudRegion.of({ name: 'cn', accountId: '123456789012', domain: 'restate.example' }) });
    expect(tunnelIn(other).urlFor('greeter', 9080)).toBe(`https://tunnel.cn.restate.example:9080/${HOST_ID}/prod-vpc/http/greeter/9080/`);
  });

  test('tokens: an environment id parameter, a load balancer DNS name, a port parameter', () => {
    const app = new App();
    const stack = new Stack(app, 'Stack');
    const environmentId = new CfnParameter(stack, 'EnvId').valueAsString;
    const environment = new RestateCloudEnvironment(stack, 'Restate', {
      environmentId,
      apiKey: secretsmanager.Secret.fromSecretCompleteArn(stack, 'ApiKey', API_KEY_ARN),
      requestSigningPublicKeys: [PUBLIC_KEY],
    });
    const tunnel = new RestateCloudTunnel(stack, 'Tunnel', { environment, tunnelName: 'prod-vpc', vpc: new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 }) });
    const port = new CfnParameter(stack, 'Port', { type: 'Number' }).valueAsNumber;
    const host = new CfnParameter(stack, 'Host').valueAsString;
    expect(stack.resolve(tunnel.urlFor(host, port))).toEqual({
      'Fn::Join': [
        '',
        [
          'https://tunnel.us.restate.cloud:9080/',
          { 'Fn::Select': [1, { 'Fn::Split': ['env_', { Ref: 'EnvId' }] }] },
          '/prod-vpc/http/',
          { Ref: 'Host' },
          '/',
          { Ref: 'Port' },
          '/',
        ],
      ],
    });
  });

  test.each([
    ['http://greeter', 9080, 'invalid host "http://greeter"'],
    ['greeter:9080', 9080, 'invalid host "greeter:9080"'],
    ['greeter/x', 9080, 'invalid host "greeter/x"'],
    ['', 9080, 'invalid host ""'],
    ['greeter', 0, 'invalid port 0'],
    ['greeter', 65536, 'invalid port 65536'],
    ['greeter', 90.5, 'invalid port 90.5'],
  ])('urlFor(%j, %j) throws naming the value', (host, port, message) => {
    const f = fixture();
    expect(errorOf(() => tunnelIn(f).urlFor(host, port))).toContain(`RestateCloudTunnel 'Tunnel'.urlFor(): ${message}`);
  });

  test('the whole error for a refused host; a host that is not a string is refused too', () => {
    const f = fixture();
    expect(errorOf(() => tunnelIn(f).urlFor('greeter/x', 9080))).toBe(
      "RestateCloudTunnel 'Tunnel'.urlFor(): invalid host \"greeter/x\": expected a DNS name or IPv4 address the tunnel can reach, " +
        "such as 'greeter.restate.internal' or '10.0.1.17', without scheme, port or path.",
    );
    expect(errorOf(() => tunnelIn(fixture()).urlFor(5 as any, 9080))).toContain('invalid host 5:');
  });

  test('a one-character host is accepted', () => {
    expect(tunnelIn(fixture()).urlFor('a', 9080)).toBe(`https://tunnel.us.restate.cloud:9080/${HOST_ID}/prod-vpc/http/a/9080/`);
  });

  test.each([[1], [65535]])('port %j is accepted', (port) => {
    const f = fixture();
    expect(tunnelIn(f).urlFor('greeter', port)).toBe(`https://tunnel.us.restate.cloud:9080/${HOST_ID}/prod-vpc/http/greeter/${port}/`);
  });

  test('tunnelServerUrl: https, every trailing slash dropped; a token as given; a query refused', () => {
    expect(tunnelIn(fixture(), { tunnelServerUrl: 'https://tunnel.test:9080//' }).urlFor('greeter', 9080)).toBe(
      `https://tunnel.test:9080/${HOST_ID}/prod-vpc/http/greeter/9080/`,
    );
    const f = fixture();
    const base = new CfnParameter(f.stack, 'TunnelServer').valueAsString;
    expect(f.stack.resolve(tunnelIn(f, { tunnelServerUrl: base }).urlFor('greeter', 9080))).toEqual({
      'Fn::Join': ['', [{ Ref: 'TunnelServer' }, `/${HOST_ID}/prod-vpc/http/greeter/9080/`]],
    });
    expect(errorOf(() => tunnelIn(fixture(), { tunnelServerUrl: 'https://tunnel.test:9080/?x=1' }))).toBe(
      "RestateCloudTunnel 'Tunnel': invalid tunnelServerUrl \"https://tunnel.test:9080/?x=1\": expected an absolute http(s) URL without query, such as 'http://127.0.0.1:9080'.",
    );
  });

  test('tunnelServerUrl (tests, stand-ins) replaces the base only', () => {
    const f = fixture();
    const tunnel = tunnelIn(f, { tunnelServerUrl: 'http://127.0.0.1:4567/' });
    expect(tunnel.urlFor('127.0.0.1', 9080)).toBe(`http://127.0.0.1:4567/${HOST_ID}/prod-vpc/http/127.0.0.1/9080/`);
    expect(containerOf(f, tunnel).Environment).toContainEqual({ Name: 'RESTATE_CLOUD_REGION', Value: 'us' });
    expect(errorOf(() => tunnelIn(fixture(), { tunnelServerUrl: 'tunnel.local:9080' }))).toContain('invalid tunnelServerUrl "tunnel.local:9080"');
  });

  test('in-process: the constant destination /http/in-process/9080/', () => {
    const f = fixture();
    const inProcess = new RestateInProcessTunnel({ environment: f.environment, tunnelName: 'greeter-v1' });
    expect(inProcess.deploymentUrl).toBe(`https://tunnel.us.restate.cloud:9080/${HOST_ID}/greeter-v1/http/in-process/9080/`);
  });
});

describe('registering through a tunnel', () => {
  function registrations(stack: Stack): Array<{ id: string } & Resources[string]> {
    return Object.entries(resources(stack))
      .filter(([, r]) => r.Type === 'Custom::RestateDeployment')
      .map(([id, r]) => ({ id, ...r }));
  }

  test('the tunnel URL, discovery retried for 3 minutes, after the tunnel\'s ECS service, under the tunnel', () => {
    const f = fixture();
    const tunnel = tunnelIn(f);
    const deployer = new ServiceDeployer(f.stack, 'Deployer');
    const registration = tunnel.register(deployer, 'greeter.restate.internal', 9080, { expectedServices: ['Greeter'] });
    expect(registration.node.scope).toBe(tunnel);
    const [r] = registrations(f.stack);
    expect(r.Properties).toMatchObject({
      Uri: `https://tunnel.us.restate.cloud:9080/${HOST_ID}/prod-vpc/http/greeter.restate.internal/9080/`,
      DiscoveryRetrySeconds: '180',
      RequireHttps: 'true',
      ExpectedServices: ['Greeter'],
      AuthTokenSecretArn: API_KEY_ARN,
      AdminUrl: `https://${HOST_ID}.env.us.restate.cloud:9070`,
    });
    expect(r.DependsOn).toEqual([logicalId(f.stack, tunnel.service)]);
  });

  test('https, useHttp11, an explicit discoveryRetryTimeout and scope go through', () => {
    const f = fixture();
    const tunnel = tunnelIn(f);
    const deployer = new ServiceDeployer(f.stack, 'Deployer');
    const registration = tunnel.register(deployer, 'internal-alb.example.com', 443, {
      https: true,
      useHttp11: true,
      discoveryRetryTimeout: Duration.seconds(30),
      scope: deployer,
      id: 'Greeter',
    });
    expect(registration.node.path).toBe('Stack/Deployer/Greeter');
    const [r] = registrations(f.stack);
    expect(r.Properties).toMatchObject({
      Uri: `https://tunnel.us.restate.cloud:9080/${HOST_ID}/prod-vpc/https/internal-alb.example.com/443/`,
      UseHttp11: 'true',
      DiscoveryRetrySeconds: '30',
    });
    expect(r.Properties.Https).toBeUndefined();
    expect(r.DependsOn).toEqual([logicalId(f.stack, tunnel.service)]);
  });

  test('in-process: the deployment URL, retried for 3 minutes, after the given service', () => {
    const f = fixture();
    const inProcess = new RestateInProcessTunnel({ environment: f.environment, tunnelName: 'greeter-v1' });
    const task = new ecs.FargateTaskDefinition(f.stack, 'Task');
    task.addContainer('App', { image: ecs.ContainerImage.fromRegistry('example/greeter:1') });
    const service = new ecs.FargateService(f.stack, 'Greeter', { cluster: new ecs.Cluster(f.stack, 'Cluster', { vpc: f.vpc }), taskDefinition: task, minHealthyPercent: 100 });
    inProcess.register(new ServiceDeployer(f.stack, 'Deployer'), service, { expectedServices: ['Greeter'] });
    const [r] = registrations(f.stack);
    expect(r.Properties).toMatchObject({ Uri: inProcess.deploymentUrl, DiscoveryRetrySeconds: '180', ExpectedServices: ['Greeter'] });
    // The whole service construct: its CloudFormation service (and its security group).
    expect(r.DependsOn).toContain(logicalId(f.stack, service));
  });
});

describe('in-process tunnels: the container', () => {
  function container(f: Fixture, props: { authTokenVariable?: string } = {}) {
    const task = new ecs.FargateTaskDefinition(f.stack, 'Task');
    const app = task.addContainer('App', { image: ecs.ContainerImage.fromRegistry('example/greeter:1') });
    new RestateInProcessTunnel({ environment: f.environment, tunnelName: 'greeter-v1', ...props }).addToContainer(app);
    const definition = resources(f.stack)[f.stack.getLogicalId(task.node.defaultChild as any)].Properties.ContainerDefinitions[0];
    return { task, definition };
  }

  test('RESTATE_INPROC_* for connectTunnel, the API key as an ECS secret only', () => {
    const f = fixture();
    const { task, definition } = container(f);
    expect(definition.Environment).toEqual([
      { Name: 'RESTATE_INPROC_TUNNEL_NAME', Value: 'greeter-v1' },
      { Name: 'RESTATE_INPROC_ENVIRONMENT_ID', Value: ENV_ID },
      { Name: 'RESTATE_INPROC_CLOUD_REGION', Value: 'us' },
      { Name: 'RESTATE_INPROC_SIGNING_PUBLIC_KEY', Value: PUBLIC_KEY },
    ]);
    expect(definition.Secrets).toEqual([{ Name: 'RESTATE_AUTH_TOKEN', ValueFrom: API_KEY_ARN }]);
    const executionRoleId = f.stack.getLogicalId(task.executionRole!.node.defaultChild as any);
    const statements = Object.values(resources(f.stack))
      .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(executionRoleId))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(statements).toEqual([{ Effect: 'Allow', Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: API_KEY_ARN }]);
  });

  test('another variable for the key', () => {
    const f = fixture();
    expect(container(f, { authTokenVariable: 'CLOUD_KEY' }).definition.Secrets).toEqual([{ Name: 'CLOUD_KEY', ValueFrom: API_KEY_ARN }]);
  });

  test.each([['RESTATE_INPROC_AUTH_TOKEN_FILE'], ['1KEY'], ['MY-KEY'], ['']])('authTokenVariable %j is refused', (authTokenVariable) => {
    const f = fixture();
    expect(errorOf(() => new RestateInProcessTunnel({ environment: f.environment, tunnelName: 'greeter-v1', authTokenVariable }))).toContain(
      `RestateInProcessTunnel: invalid authTokenVariable ${JSON.stringify(authTokenVariable)}`,
    );
  });
});
