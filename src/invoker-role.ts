import { Annotations, Duration, Lazy, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { RestateCloudRegion } from './cloud-region';
import { validateEnvironmentId } from './environment-id';
import { addInvokePermission } from './template-permission';

/**
 * Properties of a `RestateCloudInvokerRole`.
 */
export interface RestateCloudInvokerRoleProps {
  /**
   * The Restate Cloud environment ids (`env_...`) allowed to assume this role. Each is bound
   * by the `sts:ExternalId` condition, so one role may serve several environments (e.g. dev
   * and prod) without any of them being able to act for another account's environment.
   * More can be added later with `trustEnvironment()`.
   */
  readonly environmentIds: string[];

  /**
   * The Restate Cloud region the environments live in; its account and RestateCloud role are
   * the only principal trusted.
   *
   * @default RestateCloudRegion.US
   */
  readonly region?: RestateCloudRegion;

  /**
   * A name for the role.
   *
   * @default - CloudFormation generates a unique name
   */
  readonly roleName?: string;

  /**
   * A description of the role.
   *
   * @default 'Lets Restate Cloud invoke registered Lambda handlers'
   */
  readonly description?: string;

  /**
   * The path of the role.
   *
   * @default '/'
   */
  readonly path?: string;

  /**
   * A permissions boundary for the role.
   *
   * @default - no permissions boundary
   */
  readonly permissionsBoundary?: iam.IManagedPolicy;

  /**
   * The maximum session duration for sessions Restate Cloud opens with this role.
   *
   * @default Duration.hours(1)
   */
  readonly maxSessionDuration?: Duration;
}

/**
 * The IAM role Restate Cloud assumes to invoke your Lambda handlers.
 *
 * Its trust policy is exactly the one Restate Cloud documents: `sts:AssumeRole` for the
 * region's account principal, conditioned on `sts:ExternalId` (the environment id) and
 * `aws:PrincipalArn` (the region's RestateCloud role), and `sts:TagSession` for the same
 * principal. It holds no permissions until handlers are granted with `allowInvoke()`.
 */
export class RestateCloudInvokerRole extends iam.Role {
  /** The Restate Cloud region whose principal this role trusts. */
  public readonly region: RestateCloudRegion;

  private readonly trustedEnvironmentIds: string[];
  /** Ids whose form a `RestateCloudEnvironment` checks already: not reported twice. */
  private readonly validatedIds = new Set<string>();

  constructor(scope: Construct, id: string, props: RestateCloudInvokerRoleProps) {
    const region = props.region ?? RestateCloudRegion.US;
    const environmentIds: string[] = [];
    const principal = new iam.ArnPrincipal(region.accountPrincipalArn).withConditions({
      StringEquals: {
        'aws:PrincipalArn': region.principalArn,
        // Lazy so that trustEnvironment() can add ids after construction; a single id renders
        // as a plain string, exactly as documented.
        'sts:ExternalId': Lazy.any({
          produce: () => (environmentIds.length === 1 ? environmentIds[0] : [...environmentIds]),
        }),
      },
    });
    super(scope, id, {
      assumedBy: principal,
      roleName: props.roleName,
      description: props.description ?? 'Lets Restate Cloud invoke registered Lambda handlers',
      path: props.path,
      permissionsBoundary: props.permissionsBoundary,
      maxSessionDuration: props.maxSessionDuration,
    });
    this.region = region;
    this.trustedEnvironmentIds = environmentIds;
    this.assumeRolePolicy!.addStatements(
      new iam.PolicyStatement({
        actions: ['sts:TagSession'],
        principals: [new iam.ArnPrincipal(region.accountPrincipalArn)],
      }),
    );
    for (const environmentId of props.environmentIds ?? []) {
      this.trustEnvironment(environmentId);
    }
    this.node.addValidation({
      validate: () => {
        const errors: string[] = [];
        if (this.trustedEnvironmentIds.length === 0) {
          errors.push(
            'RestateCloudInvokerRole trusts no environment: pass environmentIds, or call trustEnvironment(environmentId).',
          );
        }
        for (const envId of this.trustedEnvironmentIds) {
          const error = this.validatedIds.has(envId) ? undefined : validateEnvironmentId(envId);
          if (error) errors.push(`RestateCloudInvokerRole: ${error}`);
        }
        return errors;
      },
    });
  }

  /**
   * The environment ids this role trusts, in the order they were added.
   */
  public get environmentIds(): string[] {
    return [...this.trustedEnvironmentIds];
  }

  /**
   * Lets another Restate Cloud environment (of the same region) assume this role, bound by
   * its id as `sts:ExternalId`. Adding an id twice has no effect.
   */
  public trustEnvironment(environmentId: string): void {
    if (this.trustedEnvironmentIds.includes(environmentId)) return;
    if (Token.isUnresolved(environmentId) && this.trustedEnvironmentIds.some((e) => Token.isUnresolved(e))) {
      Annotations.of(this).addWarningV2(
        'restate-cloud-cdk:multipleTokenEnvironmentIds',
        'Several environment ids are unresolved tokens; they cannot be deduplicated at synth time.',
      );
    }
    this.trustedEnvironmentIds.push(environmentId);
  }

  /** @internal */
  public _validatedElsewhere(environmentId: string): void {
    this.validatedIds.add(environmentId);
  }

  /**
   * Allows this role to invoke `handler` (a function version or alias): `lambda:InvokeFunction`
   * on exactly that handler and nothing else, as a statement in the handler's resource policy.
   *
   * The role's own policies stay empty, so hundreds of handlers never reach IAM's inline
   * policy size limit. Idempotent: allowing the same handler twice returns the same permission.
   *
   * @returns the `AWS::Lambda::Permission` that carries the grant
   */
  public allowInvoke(handler: lambda.IFunction): lambda.CfnPermission {
    return addInvokePermission(this, handler);
  }

  /**
   * Allows this role to invoke `handler`.
   *
   * @deprecated use `allowInvoke(handler)`: next to the `grantPassRole(grantee)` and
   * `grantAssumeRole(grantee)` this role inherits, which grant others a use of the role,
   * `grantInvoke` read as if the handler were granted something.
   */
  public grantInvoke(handler: lambda.IFunction): lambda.CfnPermission {
    return this.allowInvoke(handler);
  }
}
