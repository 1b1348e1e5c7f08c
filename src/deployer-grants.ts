import * as crypto from 'crypto';
import { ArnFormat, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, IConstruct } from 'constructs';
import { acknowledgeFindings } from './nag-acknowledgement';
import { ServiceRegistration } from './service-registration';

/**
 * What the deployer's role is granted, and when: each grant made once, in place before the
 * registrations that need it are deployed, with the cdk-nag findings it raises acknowledged.
 */
export class DeployerGrants {
  private readonly made = new Map<string, iam.Grant>();

  /**
   * @param deployer the `ServiceDeployer`
   * @param role the deployer's execution role
   */
  constructor(private readonly deployer: Construct, private readonly role: iam.IRole) {}

  /** Lets the deployer read `secret` before `registration` is deployed. */
  public secretRead(secret: secretsmanager.ISecret, registration: ServiceRegistration): void {
    this.grantBefore(`secret|${secret.node.path}`, secret, registration, (grantee) => secret.grantRead(grantee));
  }

  /**
   * Lets the deployer add and remove resource-policy statements whose principal is
   * `invokerRole` (and no other), on functions of its account and region, before
   * `registration` is deployed. One statement per invoker role, however many handlers.
   */
  public invokeGrants(invokerRole: iam.IRole, registration: ServiceRegistration): void {
    this.grantBefore(`invoke|${invokerRole.node.path}`, invokerRole, registration, (grantee) => {
      const stack = Stack.of(this.deployer);
      // Versions and aliases only (function:NAME:QUALIFIER): never an unqualified function.
      const functions = stack.formatArn({ service: 'lambda', resource: 'function', resourceName: '*:*', arnFormat: ArnFormat.COLON_RESOURCE_NAME });
      const grant = iam.Grant.addToPrincipal({
        grantee,
        actions: ['lambda:AddPermission', 'lambda:RemovePermission'],
        resourceArns: [functions],
        conditions: { StringEquals: { 'lambda:Principal': invokerRole.roleArn } },
      });
      // After the grant: on aws-cdk-lib < 2.257 the policy it lands in is acknowledged too.
      acknowledgeFunctionWildcard(grantee, stack);
      return grant;
    });
  }

  /**
   * Makes one grant to the deployer's role, in place before `registration` is deployed. When
   * the registration and what is granted (`resource`) both live outside the deployer's stack,
   * the grant is made from the registration's stack (through an imported view of the role),
   * so that the deployer's stack never depends on a service's stack.
   */
  private grantBefore(key: string, resource: IConstruct, registration: ServiceRegistration, grant: (grantee: iam.IRole) => iam.Grant): void {
    const deployerStack = Stack.of(this.deployer);
    const registrationStack = Stack.of(registration);
    const local = registrationStack === deployerStack || Stack.of(resource) === deployerStack;
    // Stryker disable next-line StringLiteral: equivalent, the prefix is the same for every local key, so keys stay distinct and equal as before
    const fullKey = `${local ? '' : registrationStack.node.path}|${key}`;
    // A local grant lands in the role's default policy, which the deployer function (and so
    // every registration) already depends on; a remote one needs its own ordering.
    const existing = this.made.get(fullKey);
    // Stryker disable next-line ConditionalExpression,BlockStatement: equivalent, a cache: without it the grant is remade into the same rendered statement and ordering
    if (existing) {
      if (!local) existing.applyBefore(registration);
      return;
    }
    let grantee: iam.IRole = this.role;
    if (!local) {
      const id = `RestateDeployerRole${shortHash(this.deployer.node.path)}`;
      grantee =
        (registrationStack.node.tryFindChild(id) as iam.IRole | undefined) ??
        // Stryker disable next-line ObjectLiteral: equivalent, mutable defaults to true
        iam.Role.fromRoleArn(registrationStack, id, this.role.roleArn, { mutable: true });
    }
    const made = grant(grantee);
    if (!local) made.applyBefore(registration);
    // Stryker disable next-line all: equivalent, a cache: without it each grant is remade into the same rendered statement (PolicyDocument merges it) and ordering
    this.made.set(fullKey, made);
  }
}

/**
 * Acknowledges the cdk-nag (AwsSolutions) findings on what the deployer creates, so that users
 * who run cdk-nag need not: plain construct metadata (`Validations`, in aws-cdk-lib; below
 * aws-cdk-lib 2.257 also cdk-nag 2.x's), no dependency on cdk-nag. See `acknowledgeFindings`.
 */
export function acknowledgeDeployerFindings(fn: lambda.Function, role: iam.IRole, inVpc: boolean): void {
  acknowledgeFindings(fn, [{
    id: 'AwsSolutions-L1',
    reason:
      'The deployer runtime is pinned by restate-cloud-cdk for stable templates and moves to newer Node.js runtimes with library releases; the function runs only during deployments.',
  }]);
  if (inVpc) {
    acknowledgeFindings(role, [{
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
      reason:
        'AWS-managed policy with exactly the network-interface permissions a Lambda function in a VPC needs (ec2:CreateNetworkInterface and friends, which support no resource-level scoping).',
    }]);
  }
}

/**
 * The deployer's invoke-grant statement names every function of its account and region (the
 * handlers are not known to it in advance), limited by `lambda:Principal` to the invoker role.
 */
function acknowledgeFunctionWildcard(grantee: iam.IRole, stack: Stack): void {
  const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
  const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
  acknowledgeFindings(grantee, [{
    id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:lambda:${region}:${account}:function:*:*]`,
    reason:
      'The deployer adds and removes the invoker role\'s invoke statement on each handler it registers, which it learns only at deploy time; the condition lambda:Principal limits it to statements for the invoker role.',
  }]);
}

/** Eight hex digits of the hash of `parts`: stable construct ids. */
export function shortHash(...parts: unknown[]): string {
  return crypto.createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 8).toUpperCase();
}
