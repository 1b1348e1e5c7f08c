import { CfnResource, Fn, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { DeploymentResourceProperties } from './deployer/properties';

/**
 * A service deployment registered with a Restate environment (a `Custom::RestateDeployment`).
 * Created by `ServiceDeployer.register()` and `ServiceDeployer.registerHttp()`.
 */
export class ServiceRegistration extends Construct {
  /** @internal */
  public static _create(
    scope: Construct,
    id: string,
    serviceToken: string,
    properties: DeploymentResourceProperties,
  ): ServiceRegistration {
    return new ServiceRegistration(scope, id, serviceToken, properties);
  }

  /** The underlying `Custom::RestateDeployment` resource. */
  public readonly resource: CfnResource;

  private constructor(scope: Construct, id: string, serviceToken: string, properties: DeploymentResourceProperties) {
    super(scope, id);
    // A plain CfnResource: the CustomResource L2 adds nothing needed here, and costs synth time
    // that adds up over hundreds of registrations.
    this.resource = new CfnResource(this, 'Resource', {
      type: 'Custom::RestateDeployment',
      properties: { ServiceToken: serviceToken, ...properties },
    });
  }

  /** The Restate deployment id, e.g. `dp_11pXug0mWsff2NOoRBZbOcV`, resolved at deploy time. */
  public get deploymentId(): string {
    // Made on first use: hundreds of registrations need not each mint unused tokens.
    return Token.asString(this.resource.getAtt('DeploymentId'));
  }

  /** The names of the services the deployment exposes, comma-separated, resolved at deploy time. */
  public get serviceNames(): string {
    return Token.asString(this.resource.getAtt('ServiceNames'));
  }

  /** The service names as a list, resolved at deploy time. */
  public get serviceNameList(): string[] {
    return Fn.split(',', this.serviceNames);
  }
}
