/**
 * The reference library's deployer (@restatedev/restate-cdk 1.7.0, installed by bench/run.sh into
 * bench/.work/ref), run through the same harness as ours: its Lambda handler as shipped
 * (`dist/register-service-handler/entrypoint.mjs`, ES modules, loaded with import()), and the
 * ResourceProperties its `ServiceDeployer.register(version, environment)` writes, taken from a
 * template synthesized with the library itself.
 *
 * Its event format (dist/register-service-handler/index.d.mts): `adminUrl`, `serviceLambdaArn`,
 * `invokeRoleArn`, `authTokenSecretArn` (read from Secrets Manager, sent as a bearer token),
 * `servicePath` (only with `deployService(name, ...)`), `removalPolicy`, `private`, `insecure`,
 * `pruneDrainedDeployments`, `revisionHistoryLimit`, `maxPrunedPerRun`, `force`, `breaking`.
 * It registers Lambda ARNs only: the body it POSTs is `{arn, assume_role_arn, force, breaking}`.
 * It answers CloudFormation with the request id as PhysicalResourceId, and PUTs the response to
 * the ResponseURL's host and path without its port (a pre-signed S3 URL has none): its
 * CloudFormation stand-in listens on 443.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { pathToFileURL } from 'url';
import type { DeployerHandler } from '../../test/integration/harness/cloudformation';

/* eslint-disable @typescript-eslint/no-require-imports */

/** Where run.sh installed the reference; undefined when it is not there. */
export function referenceLibrary(): string | undefined {
  const dir = process.env.BENCH_REF_LIB;
  return dir && fs.existsSync(path.join(dir, 'dist', 'register-service-handler', 'entrypoint.mjs')) ? dir : undefined;
}

/** The reference's deployer Lambda handler, as its function runs it (`entrypoint.handler`). */
export async function loadReferenceHandler(lib: string): Promise<DeployerHandler> {
  // A real dynamic import (TypeScript would turn `import()` into `require()` under CommonJS).
  const importModule = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<{ handler: DeployerHandler }>;
  const mod = await importModule(pathToFileURL(path.join(lib, 'dist', 'register-service-handler', 'entrypoint.mjs')).href);
  if (typeof mod.handler !== 'function') throw new Error('the reference entrypoint exports no handler');
  return mod.handler;
}

export interface ReferenceTarget {
  readonly adminUrl: string;
  readonly authTokenSecretArn: string;
  readonly lambdaArn: string;
  readonly invokerRoleArn: string;
}

/**
 * ResourceProperties of the reference's registration for `target`: one app synthesized with the
 * reference library (as bench/src/synth-app.ts builds it: `new ServiceDeployer(stack, id)`,
 * `deployer.register(version, environment)`), its custom resource's properties with literal
 * values, scalars as strings (CloudFormation hands custom resources strings).
 */
export function referenceProperties(lib: string): (target: ReferenceTarget) => Record<string, unknown> {
  const cdk = require('aws-cdk-lib') as typeof import('aws-cdk-lib');
  const iam = require('aws-cdk-lib/aws-iam') as typeof import('aws-cdk-lib/aws-iam');
  const lambda = require('aws-cdk-lib/aws-lambda') as typeof import('aws-cdk-lib/aws-lambda');
  const secretsmanager = require('aws-cdk-lib/aws-secretsmanager') as typeof import('aws-cdk-lib/aws-secretsmanager');
  const L = require(lib) as any;
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-ref-synth-'));
  const placeholder: ReferenceTarget = {
    adminUrl: 'https://admin.placeholder.invalid:9070',
    authTokenSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:placeholder-AbCdEf',
    lambdaArn: 'arn:aws:lambda:us-east-1:123456789012:function:Placeholder:1',
    invokerRoleArn: 'arn:aws:iam::123456789012:role/PlaceholderInvoker',
  };
  let props: Record<string, unknown>;
  try {
    const app = new cdk.App({ outdir });
    const stack = new cdk.Stack(app, 'RefStack', { env: { account: '123456789012', region: 'us-east-1' } });
    const environment = L.RestateEnvironment.fromAttributes({
      adminUrl: placeholder.adminUrl,
      authToken: secretsmanager.Secret.fromSecretCompleteArn(stack, 'ApiKey', placeholder.authTokenSecretArn),
      invokerRole: iam.Role.fromRoleArn(stack, 'Invoker', placeholder.invokerRoleArn, { mutable: false }),
    });
    const version = lambda.Version.fromVersionArn(stack, 'Version', placeholder.lambdaArn);
    new L.ServiceDeployer(stack, 'ServiceDeployer').register(version, environment);
    const template = app.synth().getStackByName('RefStack').template as { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> };
    const resource = Object.values(template.Resources).find((r) => r.Type === 'Custom::RestateServiceDeployment');
    if (!resource) throw new Error('the reference app has no Custom::RestateServiceDeployment');
    const { ServiceToken: _token, ...rest } = resource.Properties ?? {};
    props = rest;
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
  const expected: Record<string, string> = {
    adminUrl: placeholder.adminUrl,
    authTokenSecretArn: placeholder.authTokenSecretArn,
    serviceLambdaArn: placeholder.lambdaArn,
    invokeRoleArn: placeholder.invokerRoleArn,
  };
  for (const [k, v] of Object.entries(expected)) {
    if (props[k] !== v) throw new Error(`the reference's ${k} is ${JSON.stringify(props[k])}, expected the literal ${v}`);
  }
  for (const [k, v] of Object.entries(props)) {
    if (typeof v === 'object') throw new Error(`the reference's ${k} is not a literal: ${JSON.stringify(v)}`);
    props[k] = String(v);
  }
  return (t) => ({
    ...props,
    adminUrl: t.adminUrl,
    authTokenSecretArn: t.authTokenSecretArn,
    serviceLambdaArn: t.lambdaArn,
    invokeRoleArn: t.invokerRoleArn,
  });
}
