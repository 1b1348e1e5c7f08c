import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { RestateCloudEnvironment, ServiceDeployer } from '../src';

/**
 * Replaces what changes whenever the bundled deployer code changes (asset hashes and the S3
 * keys derived from them), so the snapshot pins the template's shape, not the build output.
 */
function normalize(template: unknown): unknown {
  return JSON.parse(JSON.stringify(template).replace(/[0-9a-f]{64}(\.zip)?/g, (_m, zip) => `ASSET_HASH${zip ?? ''}`));
}

test('a Restate Cloud environment with one Lambda handler registered', () => {
  const app = new App();
  const stack = new Stack(app, 'RestateServices', { env: { account: '111111111111', region: 'us-east-1' } });

  const apiKey = secretsmanager.Secret.fromSecretNameV2(stack, 'ApiKey', 'restate/api-key');
  const environment = new RestateCloudEnvironment(stack, 'Restate', {
    environmentId: 'env_201hy10cd3h6426jy80tb32n6en',
    apiKey,
  });

  const greeter = new lambda.Function(stack, 'Greeter', {
    runtime: lambda.Runtime.NODEJS_22_X,
    architecture: lambda.Architecture.ARM_64,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({});'),
  });

  const deployer = new ServiceDeployer(stack, 'ServiceDeployer');
  deployer.register(greeter.currentVersion, environment, { expectedServices: ['Greeter'] });

  expect(normalize(Template.fromStack(stack).toJSON())).toMatchSnapshot();
});
