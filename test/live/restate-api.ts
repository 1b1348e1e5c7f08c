/**
 * The suite's own view of the Restate Cloud environment: its admin API (port 9070) and ingress
 * (port 8080), both HTTPS with `Authorization: Bearer <API key>`. The key is only ever placed in
 * that header, never in an error message.
 */

/** Metadata keys the deployer writes on every deployment: `<stack name>/<construct path>`, the stack name. */
export const OWNER_METADATA_KEY = 'restate-cloud-cdk.owner';
export const STACK_METADATA_KEY = 'restate-cloud-cdk.stack';

export interface Deployment {
  readonly id: string;
  readonly arn?: string;
  readonly assume_role_arn?: string | null;
  readonly uri?: string;
  readonly metadata?: Record<string, string>;
  readonly services: ReadonlyArray<{ readonly name: string; readonly revision: number }>;
}

export interface HttpAnswer {
  readonly status: number;
  readonly body: string;
}

const CALL_TIMEOUT_MS = 30_000;

export class RestateCloudApi {
  public readonly adminUrl: string;
  public readonly ingressUrl: string;

  constructor(environmentId: string, restateRegion: string, private readonly apiKey: string) {
    const host = `${environmentId.replace(/^env_/, '')}.env.${restateRegion}.restate.cloud`;
    this.adminUrl = `https://${host}:9070`;
    this.ingressUrl = `https://${host}:8080`;
  }

  public async deployments(): Promise<Deployment[]> {
    const res = await this.expect('GET', `${this.adminUrl}/deployments`, [200]);
    return (JSON.parse(res.body) as { deployments: Deployment[] }).deployments;
  }

  public async deployment(id: string): Promise<Deployment | undefined> {
    return (await this.deployments()).find((d) => d.id === id);
  }

  /** Deployments the deployer registered for `stackName` (by their owner metadata). */
  public async deploymentsOfStack(stackName: string): Promise<Deployment[]> {
    return (await this.deployments()).filter(
      (d) => d.metadata?.[STACK_METADATA_KEY] === stackName || d.metadata?.[OWNER_METADATA_KEY]?.startsWith(`${stackName}/`),
    );
  }

  /** `DELETE /deployments/{id}?force=true`: 202 accepted (asynchronous) or 404 already gone. */
  public async deleteDeployment(id: string): Promise<number> {
    const res = await this.expect('DELETE', `${this.adminUrl}/deployments/${encodeURIComponent(id)}?force=true`, [202, 200, 404]);
    return res.status;
  }

  /** Waits until `id` is no longer listed (deletion is asynchronous); false when it stays. */
  public async waitUntilGone(id: string, timeoutMs = 60_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!(await this.deployment(id))) return true;
      if (Date.now() > deadline) return false;
      await sleep(2_000);
    }
  }

  /** Calls `<service>/<handler>` through the ingress with a JSON body. */
  public async invoke(service: string, handler: string, input: unknown): Promise<HttpAnswer> {
    return this.request('POST', `${this.ingressUrl}/${encodeURIComponent(service)}/${encodeURIComponent(handler)}`, input);
  }

  public async request(method: string, url: string, body?: unknown): Promise<HttpAnswer> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.apiKey}`, accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
      });
    } catch (e) {
      throw new Error(`${method} ${url}: no answer (${causeOf(e)})`);
    }
    return { status: res.status, body: await res.text() };
  }

  private async expect(method: string, url: string, statuses: number[]): Promise<HttpAnswer> {
    const res = await this.request(method, url);
    if (!statuses.includes(res.status)) {
      const hint = res.status === 401 || res.status === 403 ? ' (is the API key right, and does its role allow the admin API?)' : '';
      throw new Error(`${method} ${url}: HTTP ${res.status}${hint}: ${truncate(res.body)}`);
    }
    return res;
  }
}

export function truncate(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}...` : flat;
}

function causeOf(e: unknown): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError') return `timed out after ${CALL_TIMEOUT_MS / 1000}s`;
  return err?.cause?.code ?? err?.cause?.message ?? err?.message ?? String(e);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
