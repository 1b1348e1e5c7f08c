/**
 * The reasons CloudFormation shows for a failed registration: each names what failed, the admin
 * API's answer, and the fix for that kind of failure.
 */
import { capturedFailure, DISCOVERY_FAILURES } from './discovery-messages';
import { AdminApiError } from '../../src/deployer/admin-client';
import { DeployError } from '../../src/deployer/context';
import { DiscoveryFailureKind } from '../../src/deployer/discovery-error';
import { authFailure, explainDiscoveryFailure, explainRegisterFailure } from '../../src/deployer/failure-reasons';
import { TransportError } from '../../src/deployer/http';
import { DeploymentResourceProperties } from '../../src/deployer/properties';

const ADMIN = 'https://admin.example.com:9070';
const LAMBDA_ARN = 'arn:aws:lambda:us-east-1:111111111111:function:greeter:7';
const ROLE_ARN = 'arn:aws:iam::111111111111:role/RestateInvoker';
const lambda: DeploymentResourceProperties = { AdminUrl: ADMIN, LambdaArn: LAMBDA_ARN, AssumeRoleArn: ROLE_ARN };
const http: DeploymentResourceProperties = { AdminUrl: ADMIN, Uri: 'https://services.example.com/' };

const discoveryError = (kind: DiscoveryFailureKind, status = 500) => {
  const f = capturedFailure(kind);
  return new AdminApiError('POST', `${ADMIN}/deployments`, status, f.message, f.code);
};
const answered = (kind: DiscoveryFailureKind) => `POST ${ADMIN}/deployments answered HTTP 500 (${capturedFailure(kind).code}): ${capturedFailure(kind).summary}`;

describe('discovery failures, in the terms of the fix', () => {
  test.each<[DiscoveryFailureKind, DeploymentResourceProperties, string]>([
    [
      'assume-role-denied',
      lambda,
      `Restate could not assume role ${ROLE_ARN}, for 60 s: check that the role exists and that its trust policy trusts Restate Cloud ` +
        '(the documented principal, with the environment id as sts:ExternalId).',
    ],
    [
      'invoke-denied',
      lambda,
      `Role ${ROLE_ARN} may not invoke ${LAMBDA_ARN}, for 60 s: the version's resource policy must allow lambda:InvokeFunction for the role ` +
        '(invokeGrant TEMPLATE or DEPLOYER; with NONE, grant it yourself).',
    ],
    ['function-not-found', lambda, 'Check that the version or alias exists in this account and region.'],
    ['handler-error', lambda, 'The function failed while answering discovery: check its logs, and that it serves a Restate endpoint (createEndpointHandler).'],
    ['not-restate', lambda, 'The function answered, but not as a Restate endpoint: serve the service with a Restate SDK endpoint.'],
    ['not-restate', http, 'The endpoint answered, but not as a Restate endpoint: serve the service with a Restate SDK endpoint.'],
    [
      'other',
      lambda,
      'Restate could not discover the service: check that the endpoint is reachable from the Restate environment and serves a Restate SDK endpoint, ' +
        'and that the invoker role may invoke it.',
    ],
    ['other', http, 'Restate could not discover the service: check that the endpoint is reachable from the Restate environment and serves a Restate SDK endpoint.'],
  ])('%s (%#)', (kind, props, fix) => {
    const endpoint = props.LambdaArn ? `Lambda ${LAMBDA_ARN}` : 'endpoint https://services.example.com/';
    expect(explainDiscoveryFailure(discoveryError(kind), endpoint, props)).toBe(`registering ${endpoint} failed: ${answered(kind)}. ${fix}`);
  });

  test('every captured kind has its own fix', () => {
    const fixes = DISCOVERY_FAILURES.map((f) => explainDiscoveryFailure(discoveryError(f.kind), 'x', lambda).split(`${f.summary}. `)[1]);
    expect(new Set(fixes).size).toBe(DISCOVERY_FAILURES.length);
  });

  test('the retry window is named as configured, and not at all when discovery is not retried', () => {
    const reason = (AuthRetrySeconds?: string) => explainDiscoveryFailure(discoveryError('assume-role-denied'), 'x', { ...lambda, AuthRetrySeconds });
    expect(reason('5')).toContain(`could not assume role ${ROLE_ARN}, for 5 s: check`);
    expect(reason('0')).toContain(`could not assume role ${ROLE_ARN}: check`);
    expect(explainDiscoveryFailure(discoveryError('invoke-denied'), 'x', { ...lambda, AuthRetrySeconds: '0' })).toContain(`may not invoke ${LAMBDA_ARN}: the version's`);
  });

  test('a Lambda registered without an invoker role (the server assumes its own) says so', () => {
    expect(explainDiscoveryFailure(discoveryError('assume-role-denied'), 'x', { AdminUrl: ADMIN, LambdaArn: LAMBDA_ARN })).toContain(
      'Restate could not assume role (no invoker role), for 60 s',
    );
  });

  test('a 400 without a Restate code is a discovery failure without a code in parentheses', () => {
    const e = new AdminApiError('POST', `${ADMIN}/deployments`, 400, 'bad status code: 404 Not Found');
    expect(explainRegisterFailure(e, 'endpoint https://services.example.com/', http).message).toBe(
      `registering endpoint https://services.example.com/ failed: POST ${ADMIN}/deployments answered HTTP 400: bad status code: 404 Not Found. ` +
        'Restate could not discover the service: check that the endpoint is reachable from the Restate environment and serves a Restate SDK endpoint.',
    );
  });
});

describe('other registration failures', () => {
  const endpoint = `Lambda ${LAMBDA_ARN}`;

  test('401/403: the secret the key came from, and its field', () => {
    const e = new AdminApiError('POST', `${ADMIN}/deployments`, 403, 'forbidden');
    const secret = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:key-AbCdEf';
    expect(explainRegisterFailure(e, endpoint, { ...lambda, AuthTokenSecretArn: secret, AuthTokenJsonField: 'apiKey' }).message).toBe(
      `the admin API rejected the API key in secret ${secret} (field 'apiKey'): POST ${ADMIN}/deployments answered HTTP 403: forbidden. ` +
        'Put a valid API key with a role that may manage deployments into the secret.',
    );
    expect(authFailure(new AdminApiError('GET', `${ADMIN}/health`, 401, 'unauthorized'), { ...lambda, AuthTokenSecretArn: secret }).message).toBe(
      `the admin API rejected the API key in secret ${secret}: GET ${ADMIN}/health answered HTTP 401: unauthorized. ` +
        'Put a valid API key with a role that may manage deployments into the secret.',
    );
    expect(authFailure(new AdminApiError('GET', `${ADMIN}/health`, 401, 'unauthorized'), lambda).message).toContain(
      'the admin API rejected no API key (the environment has no authToken secret): GET',
    );
  });

  test('409: a new version, or breaking/force', () => {
    const e = new AdminApiError('POST', `${ADMIN}/deployments`, 409, 'breaking change in service Greeter');
    expect(explainRegisterFailure(e, endpoint, lambda).message).toBe(
      `registering ${endpoint} failed: POST ${ADMIN}/deployments answered HTTP 409: breaking change in service Greeter. ` +
        'The new revision conflicts with the registered one: register it as a new version/URL, or set breaking: true (or force: true) if that is intended.',
    );
  });

  test('any other answer is quoted as it is', () => {
    const e = new AdminApiError('POST', `${ADMIN}/deployments`, 422, 'bad request body');
    const explained = explainRegisterFailure(e, endpoint, lambda);
    expect(explained).toBeInstanceOf(DeployError);
    expect(explained.message).toBe(`registering ${endpoint} failed: POST ${ADMIN}/deployments answered HTTP 422: bad request body`);
  });

  test('no answer at all says so, with the cause and the URL', () => {
    const explained = explainRegisterFailure(new TransportError(`${ADMIN}/deployments`, 'ECONNREFUSED: connect'), endpoint, lambda);
    expect(explained.message).toBe(`registering ${endpoint} failed: no answer from the admin API: ECONNREFUSED: connect (${ADMIN}/deployments)`);
  });

  test('an error of the deployer itself passes through unchanged', () => {
    const bug = new TypeError('x is undefined');
    expect(explainRegisterFailure(bug, endpoint, lambda)).toBe(bug);
    const thrown = explainRegisterFailure('a string', endpoint, lambda);
    expect(thrown).not.toBeInstanceOf(DeployError);
    expect(thrown.message).toBe('a string');
  });
});
