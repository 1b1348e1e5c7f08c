/**
 * How a registered Lambda handler is made invokable by the environment's invoker role.
 */
export enum InvokeGrant {
  /**
   * The deployer adds `lambda:InvokeFunction` for the invoker role to the handler's resource
   * policy before registering it, and removes it when it removes the deployment (a retained
   * deployment keeps it, so invocations pinned to it still run). One CloudFormation resource
   * per handler. The deployer's role may add and remove resource-policy statements whose
   * principal is the invoker role, on functions of its account and region.
   */
  DEPLOYER = 'DEPLOYER',

  /**
   * An `AWS::Lambda::Permission` per handler in the template, deployed before the
   * registration. Two CloudFormation resources per handler; the deployer gets no Lambda
   * permissions. The statement lives as long as the template holds it, also when a
   * retained deployment still has invocations pinned to an older version.
   */
  TEMPLATE = 'TEMPLATE',

  /**
   * No grant: the invoker role is given invoke on the handler some other way.
   */
  NONE = 'NONE',
}
