import { Annotations, CfnDeletionPolicy, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { DEFAULTS } from './deployer/properties';
import { IRestateEnvironment } from './environment';
import { RegistrationOptions } from './service-deployer-options';
import { protocolOf } from './url';

/**
 * A version replaced on the next code change is deleted by CloudFormation unless retained,
 * while a RETAINed Restate deployment may still have invocations pinned to it.
 */
export function versionIsDeletedUnderRetainedDeployment(handler: lambda.IFunction, removalPolicy: RemovalPolicy | undefined): boolean {
  if ((removalPolicy ?? DEFAULTS.removalPolicy) !== RemovalPolicy.RETAIN) return false;
  const cfn = handler.node.defaultChild;
  if (!(cfn instanceof lambda.CfnVersion)) return false;
  const policy = cfn.cfnOptions.deletionPolicy;
  return policy !== CfnDeletionPolicy.RETAIN && policy !== CfnDeletionPolicy.RETAIN_EXCEPT_ON_CREATE;
}

/**
 * The version or alias name of a qualified handler (a Version, an Alias, or a function imported
 * by a qualified ARN); undefined when unqualified.
 */
export function qualifierOf(handler: lambda.IFunction): string | undefined {
  const h = handler as unknown as { version?: unknown; aliasName?: unknown };
  if (typeof h.aliasName === 'string') return h.aliasName;
  if (typeof h.version === 'string') return h.version;
  if (!Token.isUnresolved(handler.functionArn)) {
    // arn:partition:lambda:region:account:function:name[:qualifier]
    const parts = handler.functionArn.split(':');
    if (parts.length === 8 && parts[5] === 'function' && parts[7].length > 0) return parts[7];
  }
  return undefined;
}

/**
 * A handler in another account or region than the deployer can be granted only by its own
 * account (and Restate Cloud assumes the invoker role of this one): say so at synth.
 */
export function checkSameEnvironment(handler: lambda.IFunction, deployer: Construct): void {
  const stack = Stack.of(deployer);
  const where = handler.env;
  const differs = (a: string, b: string) => !Token.isUnresolved(a) && !Token.isUnresolved(b) && a !== b;
  if (differs(where.account, stack.account) || differs(where.region, stack.region)) {
    throw new Error(
      `ServiceDeployer.register(): '${handler.node.path}' is in account ${where.account}, region ${where.region}, but the deployer's stack is in account ${stack.account}, region ${stack.region}: ` +
        'the invoker role can only be granted, and the deployer only register, handlers of its own account and region. Create a ServiceDeployer (and invoker role) in the handler\'s account and region.',
    );
  }
  if (Token.isUnresolved(stack.account) && !Token.isUnresolved(where.account) && !handler.node.scopes.includes(stack)) {
    Annotations.of(handler).addWarningV2(
      'restate-cloud-cdk:handlerEnvironmentUnknown',
      `This handler is in account ${where.account}, region ${where.region}; the deployer's stack has no fixed account, so that cannot be checked at synth. Set env on the stack.`,
    );
  }
}

/**
 * Restate Cloud requires HTTPS: the API key is refused an unencrypted or unverified admin API
 * unless explicitly allowed. A private CA is preferred over skipping verification.
 */
export function checkAdminTls(adminUrl: string, environment: IRestateEnvironment, options: RegistrationOptions): void {
  if (options.insecureSkipTlsVerify && options.adminCaCertificate) {
    throw new Error('ServiceDeployer: insecureSkipTlsVerify and adminCaCertificate exclude each other: pass adminCaCertificate alone, which verifies against that CA.');
  }
  if (options.adminCaCertificate !== undefined && !/^-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----\s*$/.test(options.adminCaCertificate.trim())) {
    throw new Error('ServiceDeployer: adminCaCertificate must be a PEM certificate (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----).');
  }
  if (!environment.requireHttps) return;
  if (options.insecureSkipTlsVerify) {
    throw new Error(
      `ServiceDeployer: insecureSkipTlsVerify is refused for ${adminUrl}: this environment requires HTTPS (Restate Cloud), and the API key must only go to a verified admin API. ` +
        'Remove insecureSkipTlsVerify, or pass adminCaCertificate for a private CA.',
    );
  }
  if (!Token.isUnresolved(adminUrl) && protocolOf(adminUrl) === 'http:' && !options.allowInsecureAdminUrl) {
    throw new Error(
      `ServiceDeployer: admin URL ${adminUrl} is plain HTTP, but this environment requires HTTPS (Restate Cloud), and the API key would travel unencrypted: ` +
        'use its https:// admin URL, or pass allowInsecureAdminUrl: true if a private proxy terminates TLS.',
    );
  }
}
