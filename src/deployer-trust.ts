import { Lazy, Reference, Stack, Token, Tokenization } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { AdminTarget, HeaderTarget, normalizeUrl } from './deployer/trust';

/**
 * Which secret the deployer may send where, collected from its registrations at synth and
 * rendered into its environment (see `deployer/trust.ts`), so that a custom resource event
 * cannot pair a secret with a URL of its choosing.
 */
export class DeployerTrust {
  private readonly admin = new Map<string, AdminTarget>();
  private readonly headers = new Map<string, HeaderTarget>();

  /** @param deployer the `ServiceDeployer`, whose stack the values must resolve in */
  constructor(private readonly deployer: Construct) {}

  /** The API key in a secret may go to an admin URL, with a TLS setting. */
  public trustAdmin(target: AdminTarget): void {
    this.add(this.admin, target, 'the admin URL and API key secret');
  }

  /** A header's secret may go to an endpoint (`what` names the endpoint in errors). */
  public trustHeader(target: HeaderTarget, what: string): void {
    this.add(this.headers, target, what);
  }

  /** The environment variable's value, made when the template is written. */
  public render(): string {
    return Lazy.string({
      produce: () => Stack.of(this.deployer).toJsonString({ admin: [...this.admin.values()], headers: [...this.headers.values()] }),
    });
  }

  /**
   * Adds a pairing of secret and URL. Values resolve in the deployer's stack: a token of
   * another stack (e.g. a secret created there) would make the deployer's stack depend on it,
   * so it is refused with the fix instead.
   */
  private add<T extends string[]>(into: Map<string, T>, target: T, what: string): void {
    const deployerStack = Stack.of(this.deployer);
    for (const value of target) {
      // Stryker disable next-line ConditionalExpression: equivalent, a literal has no tokens, so no foreign reference is found either way
      if (!Token.isUnresolved(value)) continue;
      // Pseudo parameters (a stack's account, region, partition) resolve in any stack.
      const foreign = Tokenization.reverseString(value).tokens.find(
        (t) => t instanceof Reference && !(t.target instanceof Stack) && Stack.of(t.target) !== deployerStack,
      ) as Reference | undefined;
      if (foreign) {
        throw new Error(
          `ServiceDeployer: ${what} must be known to the deployer's stack ${deployerStack.stackName}, which pins each secret to the URL it may be sent to, ` +
            `but ${foreign.target.node.path} belongs to stack ${Stack.of(foreign.target).stackName}. ` +
            (foreign.target instanceof secretsmanager.CfnSecret
              ? 'Import the secret in the deployer\'s stack by its ARN or name (Secret.fromSecretCompleteArn / fromSecretNameV2), or create the ServiceDeployer in that stack.'
              : 'Create the ServiceDeployer in that stack, or pass a literal value.'),
        );
      }
    }
    const key = JSON.stringify(deployerStack.resolve(target.map((v, i) => (i === 0 ? normalizeUrl(v) : v))));
    // Stryker disable next-line ConditionalExpression: equivalent, the same key is stored again with the same value, and Map.set keeps its position
    if (!into.has(key)) into.set(key, target.map((v, i) => (i === 0 && !Token.isUnresolved(v) ? normalizeUrl(v) : v)) as T);
  }
}
