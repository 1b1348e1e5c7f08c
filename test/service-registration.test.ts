import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { RestateCloudEnvironment, ServiceDeployer, ServiceRegistration } from '../src';

// The ServiceRegistration a ServiceDeployer returns: its resource and deploy-time attributes.

const ENV_ID = 'env_201hy10cd3h6426jy80tb32n6en';
const API_KEY_ARN = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:restate/api-key-AbCdEf';

function scene() {
  const stack = new Stack(new App(), 'Stack');
  const apiKey = secretsmanager.Secret.fromSecretCompleteArn(stack, 'ApiKey', API_KEY_ARN);
  const env = new RestateCloudEnvironment(stack, 'Env', { environmentId: ENV_ID, apiKey });
  const deployer = new ServiceDeployer(stack, 'Deployer');
  const registration = deployer.registerHttp('https://services.example.com', env);
  return { stack, deployer, registration };
}

describe('ServiceRegistration', () => {
  test('a Custom::RestateDeployment whose ServiceToken is the deployer function, with the registration properties beside it', () => {
    const { stack, deployer, registration } = scene();
    expect(registration).toBeInstanceOf(ServiceRegistration);
    expect(registration.resource.cfnResourceType).toBe('Custom::RestateDeployment');
    const resources = Template.fromStack(stack).findResources('Custom::RestateDeployment');
    const logicalId = stack.getLogicalId(registration.resource);
    expect(Object.keys(resources)).toEqual([logicalId]);
    const properties = resources[logicalId].Properties;
    expect(properties.ServiceToken).toEqual(stack.resolve(deployer.deployerFunction.functionArn));
    expect(properties.Uri).toBe('https://services.example.com');
    expect(properties.AdminUrl).toBe('https://201hy10cd3h6426jy80tb32n6en.env.us.restate.cloud:9070');
  });

  test('deploymentId and serviceNames are the resource attributes DeploymentId and ServiceNames', () => {
    const { stack, registration } = scene();
    const logicalId = stack.getLogicalId(registration.resource);
    expect(stack.resolve(registration.deploymentId)).toEqual({ 'Fn::GetAtt': [logicalId, 'DeploymentId'] });
    expect(stack.resolve(registration.serviceNames)).toEqual({ 'Fn::GetAtt': [logicalId, 'ServiceNames'] });
  });

  test('serviceNameList splits serviceNames at commas', () => {
    const { stack, registration } = scene();
    const logicalId = stack.getLogicalId(registration.resource);
    expect(stack.resolve(registration.serviceNameList)).toEqual({ 'Fn::Split': [',', { 'Fn::GetAtt': [logicalId, 'ServiceNames'] }] });
  });
});
