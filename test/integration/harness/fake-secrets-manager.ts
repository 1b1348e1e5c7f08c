import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { LOOPBACK } from './ports';
import { closeServer, listenOnLoopback, readAll } from './servers';

/**
 * Answers the AWS JSON 1.1 protocol's `secretsmanager.GetSecretValue` on 127.0.0.1. Point the
 * SDK at it with `AWS_ENDPOINT_URL_SECRETS_MANAGER` (honoured by @aws-sdk/client-secrets-manager
 * 3.x). Known ARNs answer with their SecretString, denied ARNs with AccessDeniedException,
 * anything else with ResourceNotFoundException.
 */
export class FakeSecretsManager {
  public static async start(): Promise<FakeSecretsManager> {
    const fake = new FakeSecretsManager();
    await listenOnLoopback(fake.server);
    return fake;
  }

  /** SecretIds asked for, in order. */
  public readonly requests: string[] = [];
  private readonly secrets = new Map<string, string>();
  private readonly denied = new Set<string>();
  private readonly server: http.Server;

  private constructor() {
    this.server = http.createServer((req, res) => this.onRequest(req, res));
  }

  public get url(): string {
    return `http://${LOOPBACK}:${(this.server.address() as AddressInfo).port}`;
  }

  public putSecret(arn: string, secretString: string): void {
    this.secrets.set(arn, secretString);
  }

  public deny(arn: string): void {
    this.denied.add(arn);
  }

  public async close(): Promise<void> {
    await closeServer(this.server);
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    void readAll(req).then((body) => {
      const target = req.headers['x-amz-target'];
      let input: { SecretId?: string } = {};
      try {
        input = JSON.parse(body.toString('utf8') || '{}') as { SecretId?: string };
      } catch {
        return this.error(res, 'SerializationException', 'invalid JSON body');
      }
      if (req.method !== 'POST' || target !== 'secretsmanager.GetSecretValue') {
        return this.error(res, 'UnknownOperationException', `unsupported operation ${String(target)}`);
      }
      const id = input.SecretId ?? '';
      this.requests.push(id);
      if (this.denied.has(id)) {
        return this.error(
          res,
          'AccessDeniedException',
          `User: arn:aws:sts::123456789012:assumed-role/DeployerRole/deployer is not authorized to perform: secretsmanager:GetSecretValue on resource: ${id} because no identity-based policy allows the secretsmanager:GetSecretValue action`,
        );
      }
      const secret = this.secrets.get(id);
      if (secret === undefined) {
        return this.error(res, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
      }
      const name = id.split(':').pop() ?? id;
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': `req-${this.requests.length}` });
      res.end(
        JSON.stringify({
          ARN: id,
          Name: name,
          SecretString: secret,
          VersionId: '00000000-0000-4000-8000-000000000001',
          VersionStages: ['AWSCURRENT'],
          CreatedDate: 1_700_000_000,
        }),
      );
    });
  }

  private error(res: http.ServerResponse, type: string, message: string): void {
    res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': type, 'x-amzn-requestid': `req-${this.requests.length}` });
    res.end(JSON.stringify({ __type: type, message }));
  }
}
