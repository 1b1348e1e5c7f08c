import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { AwsCredentials } from './aws-signed';

/**
 * The suite's AWS SDK calls: who am I, the confused-deputy probe, and the API key secret.
 * Credentials come from the SDK's default chain (AWS_PROFILE, keys, web identity, SSO, ...).
 */
export class AwsClients {
  public readonly sts: STSClient;
  public readonly secrets: SecretsManagerClient;

  constructor(region: string) {
    this.sts = new STSClient({ region });
    this.secrets = new SecretsManagerClient({ region });
  }

  /** Resolved credentials of the default chain, for the hand-signed calls. */
  public readonly credentials = async (): Promise<AwsCredentials> => this.sts.config.credentials();

  public async callerIdentity(): Promise<{ account: string; arn: string }> {
    const res = await this.sts.send(new GetCallerIdentityCommand({}));
    if (!res.Account || !res.Arn) throw new Error('sts:GetCallerIdentity answered without Account/Arn');
    return { account: res.Account, arn: res.Arn };
  }

  /**
   * Tries `sts:AssumeRole` on `roleArn` as the deploying identity. Resolves with a description
   * when STS denies it with AccessDenied; throws when it is allowed or fails in any other way.
   */
  public async expectAssumeRoleDenied(roleArn: string, sessionName: string, externalId?: string): Promise<string> {
    let assumed: string | undefined;
    try {
      const res = await this.sts.send(
        new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: sessionName, ExternalId: externalId, DurationSeconds: 900 }),
      );
      assumed = res.AssumedRoleUser?.Arn ?? '(no ARN)';
    } catch (e) {
      const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
      if (err.name === 'AccessDenied') return `AccessDenied (HTTP ${err.$metadata?.httpStatusCode ?? '?'})`;
      throw new Error(`expected AccessDenied, got ${err.name ?? 'an error'}: ${err.message ?? String(e)}`);
    }
    throw new Error(`sts:AssumeRole SUCCEEDED as ${assumed}: the invoker role trusts more than Restate Cloud's principal`);
  }

  public async createSecret(name: string, value: string, runId: string): Promise<string> {
    const res = await this.secrets.send(
      new CreateSecretCommand({
        Name: name,
        SecretString: value,
        Description: `Restate Cloud API key for restate-cloud-cdk live test run ${runId}; deleted at the end of the run`,
        Tags: [{ Key: 'restate-cloud-cdk-live', Value: runId }],
      }),
    );
    if (!res.ARN) throw new Error(`secretsmanager:CreateSecret ${name} answered without an ARN`);
    return res.ARN;
  }

  public async readSecret(name: string): Promise<string> {
    const res = await this.secrets.send(new GetSecretValueCommand({ SecretId: name }));
    const key = res.SecretString?.trim();
    if (!key) throw new Error(`secret ${name} holds no SecretString (the API key must be stored as a plain string)`);
    return key;
  }

  /** Deletes at once, without the recovery window. */
  public async deleteSecret(name: string): Promise<void> {
    await this.secrets.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true }));
  }

  public destroy(): void {
    this.sts.destroy();
    this.secrets.destroy();
  }
}
