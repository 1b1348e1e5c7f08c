import { App, RemovalPolicy, SecretValue, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { InvokeGrant, RestateCloudEnvironment, RestateEnvironment, ServiceDeployer, ServiceRegistration } from '../src';

// Basic construct assertions; the custom resource's behaviour is tested with the handler.

const ENV_ID = 'env_201hy10cd3h6426jy80tb32n6en';
const API_KEY_ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:restate/api-key-AbCdEf';
const HEADER_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:restate/header-GhIjKl';
const SECRET_VALUE = 'do-not-leak-this-value';

interface Fixture {
  app: App;
  stack: Stack;
  apiKey: secretsmanager.ISecret;
  env: RestateCloudEnvironment;
  fn: lambda.Function;
  deployer: ServiceDeployer;
}

function fixture(invokeGrant?: InvokeGrant): Fixture {
  const app = new App();
  const stack = new Stack(app, 'Stack');
  const apiKey = secretsmanager.Secret.fromSecretCompleteArn(stack, 'ApiKey', API_KEY_ARN);
  const env = new RestateCloudEnvironment(stack, 'Env', { environmentId: ENV_ID, apiKey });
  const fn = new lambda.Function(stack, 'Fn', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => {};'),
  });
  const deployer = new ServiceDeployer(stack, 'Deployer', { invokeGrant });
  return { app, stack, apiKey, env, fn, deployer };
}

function resourcesOfType(stack: Stack, type: string): Record<string, any> {
  return Template.fromStack(stack).findResources(type);
}

function only(resources: Record<string, any>): { logicalId: string; resource: any } {
  const entries = Object.entries(resources);
  expect(entries).toHaveLength(1);
  return { logicalId: entries[0][0], resource: entries[0][1] };
}

function logicalIdOf(stack: Stack, construct: { node: { defaultChild?: any } }): string {
  return stack.getLogicalId(construct.node.defaultChild);
}

/** The statements of every IAM policy attached to the deployer's role. */
function deployerStatements(f: Fixture): any[] {
  const roleId = logicalIdOf(f.stack, f.deployer.role as any);
  const policies = Object.values(resourcesOfType(f.stack, 'AWS::IAM::Policy')).filter((p) =>
    p.Properties.Roles.some((r: any) => r.Ref === roleId),
  );
  return policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
}

function logGroupStatement(f: Fixture) {
  const logGroupId = only(resourcesOfType(f.stack, 'AWS::Logs::LogGroup')).logicalId;
  return {
    Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    Effect: 'Allow',
    Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] },
  };
}

function secretReadStatement(arn: string) {
  return {
    Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
    Effect: 'Allow',
    Resource: arn,
  };
}

/** The one statement that lets the deployer keep invoke grants for `invokerRole`'s principal. */
function invokeGrantStatement(stack: Stack, invokerRole: iam.IRole) {
  return {
    Action: ['lambda:AddPermission', 'lambda:RemovePermission'],
    Condition: { StringEquals: { 'lambda:Principal': stack.resolve(invokerRole.roleArn) } },
    Effect: 'Allow',
    Resource: {
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':lambda:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':function:*:*']],
    },
  };
}

/** Every string in a JSON value, recursively. */
function allStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(allStrings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(allStrings);
  return [];
}

describe('deployer function', () => {
  test('nodejs22.x, arm64, 128 MiB, 300 s', () => {
    const f = fixture();
    const { resource } = only(
      Template.fromStack(f.stack).findResources('AWS::Lambda::Function', {
        Properties: { Description: Match.stringLikeRegexp('restate-cloud-cdk') },
      }),
    );
    expect(resource.Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      MemorySize: 128,
      Timeout: 300,
      Handler: 'index.handler',
    });
    expect(resource.Properties.Role).toEqual({ 'Fn::GetAtt': [logicalIdOf(f.stack, f.deployer.role as any), 'Arn'] });
    // Logs go to the deployer's own log group.
    const logGroupId = only(resourcesOfType(f.stack, 'AWS::Logs::LogGroup')).logicalId;
    expect(resource.Properties.LoggingConfig).toEqual({ LogGroup: { Ref: logGroupId } });
  });

  test('its log group keeps a month of logs and goes with the stack, unless told otherwise', () => {
    const f = fixture();
    const { resource } = only(resourcesOfType(f.stack, 'AWS::Logs::LogGroup'));
    expect(resource).toMatchObject({ Properties: { RetentionInDays: 30 }, DeletionPolicy: 'Delete' });

    const stack = new Stack(new App(), 'Other');
    new ServiceDeployer(stack, 'Deployer', { logRetention: 7, removalPolicy: RemovalPolicy.RETAIN });
    expect(only(resourcesOfType(stack, 'AWS::Logs::LogGroup')).resource).toMatchObject({ Properties: { RetentionInDays: 7 }, DeletionPolicy: 'Retain' });
  });

  test('its role is for Lambda alone, and says what it is for', () => {
    const f = fixture();
    const role = resourcesOfType(f.stack, 'AWS::IAM::Role')[logicalIdOf(f.stack, f.deployer.role as any)];
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
    ]);
    expect(role.Properties.Description).toBe('Restate service deployer: reads the API key secrets it is given and writes its own logs');
  });

  // lambda.Function adds this dependency for any role it is given.
  test("it is created after its role's policy, so that its first run may write its logs", () => {
    const f = fixture();
    const fnId = logicalIdOf(f.stack, f.deployer.deployerFunction as any);
    const policyId = only(resourcesOfType(f.stack, 'AWS::IAM::Policy')).logicalId;
    expect(resourcesOfType(f.stack, 'AWS::Lambda::Function')[fnId].DependsOn).toContain(policyId);
  });

  test('the deployer role has no managed policies', () => {
    const f = fixture();
    const role = resourcesOfType(f.stack, 'AWS::IAM::Role')[logicalIdOf(f.stack, f.deployer.role as any)];
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(role.Properties.Policies).toBeUndefined();
  });
});

describe('register', () => {
  test('the custom resource type is Custom::RestateDeployment', () => {
    const f = fixture();
    const registration = f.deployer.register(f.fn.currentVersion, f.env);
    expect(registration).toBeInstanceOf(ServiceRegistration);
    const template = Template.fromStack(f.stack);
    template.resourceCountIs('Custom::RestateDeployment', 1);
    expect(f.stack.resolve(registration.deploymentId)).toEqual({
      'Fn::GetAtt': [f.stack.getLogicalId(registration.resource), 'DeploymentId'],
    });
  });

  test('an unqualified function throws, naming currentVersion', () => {
    const f = fixture();
    expect(() => f.deployer.register(f.fn, f.env)).toThrow(/unqualified function.*currentVersion/);
  });

  test('a version: properties', () => {
    const f = fixture();
    const version = f.fn.currentVersion;
    const registration = f.deployer.register(version, f.env);
    const { resource } = only(resourcesOfType(f.stack, 'Custom::RestateDeployment'));
    const invokerRoleId = logicalIdOf(f.stack, f.env.invokerRole as any);
    const versionId = only(resourcesOfType(f.stack, 'AWS::Lambda::Version')).logicalId;
    expect(resource.Properties).toMatchObject({
      ServiceToken: { 'Fn::GetAtt': [logicalIdOf(f.stack, f.deployer.deployerFunction as any), 'Arn'] },
      AdminUrl: 'https://201hy10cd3h6426jy80tb32n6en.env.us.restate.cloud:9070',
      AuthTokenSecretArn: API_KEY_ARN,
      LambdaArn: { Ref: versionId },
      AssumeRoleArn: { 'Fn::GetAtt': [invokerRoleId, 'Arn'] },
      Force: 'false',
      Breaking: 'false',
      RemovalPolicy: 'retain',
      // The deployer records the stack name and the construct path from Owner.
      Owner: `Stack/${registration.node.path.replace(/^Stack\//, '')}`,
    });
    // Defaults are left to the deployer.
    for (const key of ['Private', 'PruneDrained', 'RevisionHistoryLimit', 'MaxPrunedPerRun', 'HealthTimeoutSeconds', 'AuthRetrySeconds', 'Metadata', 'AdditionalHeaders', 'SecretHeaders']) {
      expect(resource.Properties).not.toHaveProperty(key);
    }
    expect(resource.Properties.Uri).toBeUndefined();
    expect(resource.Properties.ConfigurationVersion).toBeUndefined();
  });

  test('options are rendered as strings', () => {
    const f = fixture();
    f.deployer.register(f.fn.currentVersion, f.env, {
      force: true,
      breaking: true,
      private: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pruneDrainedDeployments: true,
      revisionHistoryLimit: 2,
      expectedServices: ['Greeter'],
      metadata: { team: 'payments' },
    });
    const { resource } = only(resourcesOfType(f.stack, 'Custom::RestateDeployment'));
    expect(resource.Properties).toMatchObject({
      Force: 'true',
      Breaking: 'true',
      Private: 'true',
      RemovalPolicy: 'destroy',
      PruneDrained: 'true',
      RevisionHistoryLimit: '2',
      ExpectedServices: ['Greeter'],
      Metadata: { team: 'payments' },
    });
  });

  test('InvokeGrant.DEPLOYER: GrantInvoke on the registration, no Lambda permission in the template', () => {
    const f = fixture(InvokeGrant.DEPLOYER);
    f.deployer.register(f.fn.currentVersion, f.env);
    const { resource } = only(resourcesOfType(f.stack, 'Custom::RestateDeployment'));
    expect(resource.Properties.GrantInvoke).toBe('true');
    expect(resource.Properties.AssumeRoleArn).toEqual(f.stack.resolve(f.env.invokerRole!.roleArn));
    Template.fromStack(f.stack).resourceCountIs('AWS::Lambda::Permission', 0);
  });

  test('by default (InvokeGrant.TEMPLATE) a Lambda permission per version, and no GrantInvoke', () => {
    const f = fixture();
    f.deployer.register(f.fn.currentVersion, f.env);
    const { resource } = only(resourcesOfType(f.stack, 'Custom::RestateDeployment'));
    expect(resource.Properties.GrantInvoke).toBeUndefined();
    Template.fromStack(f.stack).resourceCountIs('AWS::Lambda::Permission', 1);
  });

  test('InvokeGrant.TEMPLATE: a Lambda permission the registration depends on, and no GrantInvoke', () => {
    const f = fixture();
    const version = f.fn.currentVersion;
    f.deployer.register(version, f.env, { invokeGrant: InvokeGrant.TEMPLATE });
    const permission = only(resourcesOfType(f.stack, 'AWS::Lambda::Permission'));
    expect(permission.resource.Properties).toEqual({
      Action: 'lambda:InvokeFunction',
      FunctionName: f.stack.resolve(version.functionArn),
      Principal: f.stack.resolve(f.env.invokerRole!.roleArn),
    });
    const { resource } = only(resourcesOfType(f.stack, 'Custom::RestateDeployment'));
    expect(resource.DependsOn).toEqual(expect.arrayContaining([permission.logicalId]));
    expect(resource.Properties.GrantInvoke).toBeUndefined();
  });

  test('the deployer-wide invokeGrant applies unless a registration overrides it', () => {
    const f = fixture();
    const deployer = new ServiceDeployer(f.stack, 'TemplateGrants', { invokeGrant: InvokeGrant.TEMPLATE });
    deployer.register(f.fn.currentVersion, f.env);
    const other = new lambda.Function(f.stack, 'Other', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => {};'),
    });
    deployer.register(other.currentVersion, f.env, { invokeGrant: InvokeGrant.DEPLOYER });
    Template.fromStack(f.stack).resourceCountIs('AWS::Lambda::Permission', 1);
    const grants = Object.values(resourcesOfType(f.stack, 'Custom::RestateDeployment')).map((r) => r.Properties.GrantInvoke);
    expect(grants.sort()).toEqual(['true', undefined]);
  });

  test('InvokeGrant.NONE: no permission, no GrantInvoke, and no Lambda rights for the deployer', () => {
    const f = fixture();
    f.deployer.register(f.fn.currentVersion, f.env, { invokeGrant: InvokeGrant.NONE });
    Template.fromStack(f.stack).resourceCountIs('AWS::Lambda::Permission', 0);
    const { resource } = only(resourcesOfType(f.stack, 'Custom::RestateDeployment'));
    expect(resource.Properties.GrantInvoke).toBeUndefined();
    expect(JSON.stringify(Template.fromStack(f.stack).findResources('AWS::IAM::Policy'))).not.toContain('lambda:AddPermission');
  });

  test('registering the same version twice with one environment is an error naming it', () => {
    const f = fixture();
    f.deployer.register(f.fn.currentVersion, f.env);
    expect(() => f.deployer.register(f.fn.currentVersion, f.env)).toThrow(/already registered .* register each handler once per environment/);
    const template = Template.fromStack(f.stack);
    template.resourceCountIs('Custom::RestateDeployment', 1);
  });

  test('a version that is not retained under a RETAINed deployment gives a warning with the fix', () => {
    const f = fixture();
    f.deployer.register(f.fn.currentVersion, f.env);
    Annotations.fromStack(f.stack).hasWarning('*', Match.stringLikeRegexp('currentVersionOptions'));
  });

  test('in a VPC the deployer role may manage its network interfaces', () => {
    const f = fixture();
    const vpc = new ec2.Vpc(f.stack, 'Vpc');
    const deployer = new ServiceDeployer(f.stack, 'VpcDeployer', { vpc });
    const role = f.stack.resolve((deployer.role.node.defaultChild as iam.CfnRole).managedPolicyArns);
    expect(JSON.stringify(role)).toContain('service-role/AWSLambdaVPCAccessExecutionRole');
  });

  test('an alias registers the alias ARN', () => {
    const f = fixture();
    const alias = new lambda.Alias(f.stack, 'Live', { aliasName: 'live', version: f.fn.currentVersion });
    f.deployer.register(alias, f.env);
    const { resource } = only(resourcesOfType(f.stack, 'Custom::RestateDeployment'));
    expect(resource.Properties.LambdaArn).toEqual(f.stack.resolve(alias.functionArn));
  });

  test('$LATEST gives a warning', () => {
    const f = fixture();
    f.deployer.register(f.fn.latestVersion, f.env);
    Annotations.fromStack(f.stack).hasWarning('*', Match.stringLikeRegexp('\\$LATEST'));
    const { resource } = only(resourcesOfType(f.stack, 'Custom::RestateDeployment'));
    expect(resource.Properties.ConfigurationVersion).toMatch(/^latest-/);
  });

  test('a retained specific version gives no warning', () => {
    const f = fixture();
    const retained = new lambda.Function(f.stack, 'Retained', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => {};'),
      currentVersionOptions: { removalPolicy: RemovalPolicy.RETAIN },
    });
    f.deployer.register(retained.currentVersion, f.env);
    Annotations.fromStack(f.stack).hasNoWarning('*', Match.anyValue());
  });

  test('an environment without invoker role: no AssumeRoleArn, no permission', () => {
    const f = fixture();
    const local = RestateEnvironment.fromAttributes({ adminUrl: 'http://localhost:9070/' });
    f.deployer.register(f.fn.currentVersion, local);
    const { resource } = only(resourcesOfType(f.stack, 'Custom::RestateDeployment'));
    expect(resource.Properties.AdminUrl).toBe('http://localhost:9070');
    expect(resource.Properties.AssumeRoleArn).toBeUndefined();
    expect(resource.Properties.AuthTokenSecretArn).toBeUndefined();
    Template.fromStack(f.stack).resourceCountIs('AWS::Lambda::Permission', 0);
  });
});

describe('registerHttp', () => {
  test('plain HTTP for a Cloud environment throws, naming HTTPS and allowInsecureHttp', () => {
    const f = fixture();
    expect(() => f.deployer.registerHttp('http://services.example.com', f.env)).toThrow(/HTTPS[\s\S]*allowInsecureHttp/);
  });

  test('plain HTTP with allowInsecureHttp is accepted', () => {
    const f = fixture();
    f.deployer.registerHttp('http://services.example.com', f.env, { allowInsecureHttp: true });
    const { resource } = only(resourcesOfType(f.stack, 'Custom::RestateDeployment'));
    expect(resource.Properties.Uri).toBe('http://services.example.com');
    expect(resource.Properties.RequireHttps).toBeUndefined();
  });

  test('HTTPS for a Cloud environment', () => {
    const f = fixture();
    f.deployer.registerHttp('https://services.example.com', f.env);
    const { resource } = only(resourcesOfType(f.stack, 'Custom::RestateDeployment'));
    expect(resource.Properties).toMatchObject({
      Uri: 'https://services.example.com',
      RequireHttps: 'true',
      Force: 'false',
      Breaking: 'false',
      RemovalPolicy: 'retain',
    });
    expect(resource.Properties.LambdaArn).toBeUndefined();
    expect(resource.Properties.AssumeRoleArn).toBeUndefined();
    Template.fromStack(f.stack).resourceCountIs('AWS::Lambda::Permission', 0);
  });

  test('an invalid URL throws naming it', () => {
    const f = fixture();
    expect(() => f.deployer.registerHttp('services.example.com', f.env)).toThrow(/"services\.example\.com"/);
  });

  test('secret headers: only the secret ARN is in the template, never the value', () => {
    const f = fixture();
    const headerSecret = secretsmanager.Secret.fromSecretCompleteArn(f.stack, 'HeaderSecret', HEADER_SECRET_ARN);
    f.deployer.registerHttp('https://services.example.com', f.env, {
      secretHeaders: { 'x-api-key': headerSecret },
      additionalHeaders: { 'x-team': 'payments' },
    });
    const template = Template.fromStack(f.stack).toJSON();
    const { resource } = only(resourcesOfType(f.stack, 'Custom::RestateDeployment'));
    expect(resource.Properties.SecretHeaders).toEqual([{ Name: 'x-api-key', SecretArn: HEADER_SECRET_ARN }]);
    expect(resource.Properties.AdditionalHeaders).toEqual({ 'x-team': 'payments' });
    const strings = allStrings(template);
    // No dynamic reference that CloudFormation would resolve into the value, anywhere.
    expect(strings.filter((s) => s.includes('resolve:secretsmanager'))).toEqual([]);
    expect(JSON.stringify(template)).not.toContain('SecretString');
  });

  test('a secret header from a secret with a known value: the value stays out of the registration', () => {
    const f = fixture();
    const headerSecret = new secretsmanager.Secret(f.stack, 'HeaderSecret', {
      secretStringValue: SecretValue.unsafePlainText(SECRET_VALUE),
    });
    f.deployer.registerHttp('https://services.example.com', f.env, { secretHeaders: { 'x-api-key': headerSecret } });
    const { resource } = only(resourcesOfType(f.stack, 'Custom::RestateDeployment'));
    expect(JSON.stringify(resource)).not.toContain(SECRET_VALUE);
    expect(allStrings(resource).filter((s) => s.includes('resolve:secretsmanager'))).toEqual([]);
    expect(resource.Properties.SecretHeaders).toEqual([
      { Name: 'x-api-key', SecretArn: f.stack.resolve(headerSecret.secretArn) },
    ]);
    // Only the user's own Secret resource carries the value (their choice), nothing of ours.
    const template = Template.fromStack(f.stack).toJSON();
    const carriers = Object.entries(template.Resources as Record<string, any>)
      .filter(([, r]) => JSON.stringify(r).includes(SECRET_VALUE))
      .map(([, r]) => r.Type);
    expect(carriers).toEqual(['AWS::SecretsManager::Secret']);
    expect(JSON.stringify(template.Outputs ?? {})).not.toContain(SECRET_VALUE);
  });
});

describe('deployer permissions', () => {
  test('before any registration: only its own log group', () => {
    const f = fixture();
    expect(deployerStatements(f)).toEqual([logGroupStatement(f)]);
  });

  test('Lambda registration with InvokeGrant.DEPLOYER: GetSecretValue only on the API key secret, logs only to its own log group, invoke grants only for the invoker role', () => {
    const f = fixture(InvokeGrant.DEPLOYER);
    f.deployer.register(f.fn.currentVersion, f.env);
    const expected = [logGroupStatement(f), secretReadStatement(API_KEY_ARN), invokeGrantStatement(f.stack, f.env.invokerRole!)];
    expect(deployerStatements(f)).toEqual(expected);
  });

  test('a hundred Lambda registrations with InvokeGrant.DEPLOYER: still one invoke-grant statement', () => {
    const f = fixture(InvokeGrant.DEPLOYER);
    for (let i = 0; i < 100; i++) {
      const fn = new lambda.Function(f.stack, `Handler${i}`, {
        runtime: lambda.Runtime.NODEJS_22_X,
        handler: 'index.handler',
        code: lambda.Code.fromInline(`exports.handler = async () => ${i};`),
      });
      f.deployer.register(fn.currentVersion, f.env);
    }
    const expected = [logGroupStatement(f), secretReadStatement(API_KEY_ARN), invokeGrantStatement(f.stack, f.env.invokerRole!)];
    expect(deployerStatements(f)).toEqual(expected);
  });

  test('by default (InvokeGrant.TEMPLATE) the deployer gets no Lambda rights', () => {
    const f = fixture();
    f.deployer.register(f.fn.currentVersion, f.env);
    expect(deployerStatements(f)).toEqual([logGroupStatement(f), secretReadStatement(API_KEY_ARN)]);
  });

  test('secret headers add exactly their secrets, once each', () => {
    const f = fixture(InvokeGrant.DEPLOYER);
    const headerSecret = secretsmanager.Secret.fromSecretCompleteArn(f.stack, 'HeaderSecret', HEADER_SECRET_ARN);
    f.deployer.register(f.fn.currentVersion, f.env);
    f.deployer.registerHttp('https://a.example.com', f.env, { secretHeaders: { 'x-api-key': headerSecret } });
    f.deployer.registerHttp('https://b.example.com', f.env, { secretHeaders: { 'x-api-key': headerSecret } });
    const statements = deployerStatements(f);
    expect(statements).toEqual([
      logGroupStatement(f),
      secretReadStatement(API_KEY_ARN),
      invokeGrantStatement(f.stack, f.env.invokerRole!),
      secretReadStatement(HEADER_SECRET_ARN),
    ]);
  });

  test('two environments: one statement per API key secret', () => {
    const f = fixture(InvokeGrant.DEPLOYER);
    const otherArn = 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:restate/eu-key-MnOpQr';
    const otherKey = secretsmanager.Secret.fromSecretCompleteArn(f.stack, 'OtherKey', otherArn);
    const other = new RestateCloudEnvironment(f.stack, 'Other', {
      environmentId: 'env_0abc123def456ghi789jkl0mno',
      apiKey: otherKey,
    });
    f.deployer.register(f.fn.currentVersion, f.env);
    f.deployer.register(f.fn.currentVersion, other);
    expect(deployerStatements(f)).toEqual([
      logGroupStatement(f),
      secretReadStatement(API_KEY_ARN),
      invokeGrantStatement(f.stack, f.env.invokerRole!),
      secretReadStatement(otherArn),
      invokeGrantStatement(f.stack, other.invokerRole!),
    ]);
  });

  test('no wildcard resource in any of the deployer policies, but the condition-bound invoke grants', () => {
    const f = fixture();
    const named = secretsmanager.Secret.fromSecretNameV2(f.stack, 'Named', 'restate/named');
    f.deployer.register(f.fn.currentVersion, f.env, { invokeGrant: InvokeGrant.TEMPLATE });
    f.deployer.registerHttp('https://a.example.com', f.env, { secretHeaders: { 'x-api-key': named } });
    const statements = deployerStatements(f);
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements) {
      expect(statement.Effect).toBe('Allow');
      expect(statement.Resource).toBeDefined();
      expect(statement.NotResource).toBeUndefined();
      expect(statement.NotAction).toBeUndefined();
      for (const s of allStrings(statement.Resource)) expect(s).not.toContain('*');
      for (const a of allStrings(statement.Action)) expect(a).not.toContain('*');
    }
  });
});

describe('registrations from another stack than the deployer', () => {
  test("a secret header created in the service's stack fails synth: the deployer cannot pin it to its URL without depending on that stack", () => {
    const app = new App();
    const platform = new Stack(app, 'Platform');
    const apiKey = secretsmanager.Secret.fromSecretCompleteArn(platform, 'ApiKey', API_KEY_ARN);
    const env = new RestateCloudEnvironment(platform, 'Env', { environmentId: ENV_ID, apiKey });
    const deployer = new ServiceDeployer(platform, 'Deployer');
    const service = new Stack(app, 'Service');
    const token = new secretsmanager.Secret(service, 'EndpointToken');
    expect(() => deployer.registerHttp('https://orders.example.com/restate', env, { scope: service, secretHeaders: { 'x-token': token } })).toThrow(
      /the secret of header 'x-token' and the URL it goes to must be known to the deployer's stack Platform.*Service\/EndpointToken\/Resource belongs to stack Service.*Secret.fromSecretCompleteArn/,
    );
  });

  test("a secret header of the service's stack, imported by name, is granted from that stack, before the registration", () => {
    const app = new App();
    const platform = new Stack(app, 'Platform');
    const apiKey = secretsmanager.Secret.fromSecretCompleteArn(platform, 'ApiKey', API_KEY_ARN);
    const env = new RestateCloudEnvironment(platform, 'Env', { environmentId: ENV_ID, apiKey });
    const deployer = new ServiceDeployer(platform, 'Deployer');
    const service = new Stack(app, 'Service');
    const token = secretsmanager.Secret.fromSecretNameV2(service, 'EndpointToken', 'orders/endpoint-token');
    deployer.registerHttp('https://orders.example.com/restate', env, { scope: service, secretHeaders: { 'x-token': token } });
    app.synth();

    const serviceTemplate = Template.fromStack(service);
    const policies = serviceTemplate.findResources('AWS::IAM::Policy');
    expect(Object.keys(policies)).toHaveLength(1);
    const [policyId, policy] = Object.entries(policies)[0] as [string, any];
    expect(policy.Properties.PolicyDocument.Statement).toEqual([
      expect.objectContaining({
        Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        Resource: service.resolve(`${token.secretArn}-??????`),
      }),
    ]);
    const registration = Object.values(serviceTemplate.findResources('Custom::RestateDeployment'))[0] as any;
    expect(registration.DependsOn).toContain(policyId);
    // The platform stack knows nothing of the service stack.
    expect(JSON.stringify(Template.fromStack(platform).toJSON())).not.toContain('Fn::ImportValue');
    expect(platform.dependencies).toEqual([]);
    expect(service.dependencies).toEqual([platform]);
  });
});

describe('invoke grants across stacks', () => {
  function app() {
    const a = new App();
    const platform = new Stack(a, 'Platform');
    const apiKey = secretsmanager.Secret.fromSecretCompleteArn(platform, 'ApiKey', API_KEY_ARN);
    const env = new RestateCloudEnvironment(platform, 'Env', { environmentId: ENV_ID, apiKey });
    const deployerStack = new Stack(a, 'Deployers');
    const deployer = new ServiceDeployer(deployerStack, 'Deployer', { invokeGrant: InvokeGrant.DEPLOYER });
    const service = new Stack(a, 'Service');
    const fn = new lambda.Function(service, 'Fn', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => {};'),
    });
    deployer.register(fn.currentVersion, env);
    a.synth();
    return { platform, deployerStack, service, env };
  }

  test("environment, deployer and handler in three stacks: the grant is made from the handler's stack, before its registration", () => {
    const { platform, deployerStack, service, env } = app();
    const policies = Template.fromStack(service).findResources('AWS::IAM::Policy');
    expect(Object.keys(policies)).toHaveLength(1);
    const [policyId, policy] = Object.entries(policies)[0] as [string, any];
    // The API key's secret (of the platform stack) is granted from there too.
    expect(policy.Properties.PolicyDocument.Statement).toEqual([
      secretReadStatement(API_KEY_ARN),
      expect.objectContaining({
        Action: ['lambda:AddPermission', 'lambda:RemovePermission'],
        Condition: { StringEquals: { 'lambda:Principal': { 'Fn::ImportValue': expect.stringContaining('Platform') } } },
      }),
    ]);
    const registration = Object.values(Template.fromStack(service).findResources('Custom::RestateDeployment'))[0] as any;
    expect(registration.DependsOn).toContain(policyId);
    // The deployer's stack depends on nothing; the platform stack on nothing either.
    expect(deployerStack.dependencies).toEqual([]);
    expect(platform.dependencies).toEqual([]);
    expect(service.dependencies.map((s) => s.stackName).sort()).toEqual(['Deployers', 'Platform']);
    expect(env.invokerRole).toBeDefined();
  });
});
