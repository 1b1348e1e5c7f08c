import { httpRequest, HttpResult } from './http';

export interface DeploymentSummary {
  readonly id: string;
  readonly uri?: string;
  /** Lambda deployments: the function ARN and the role Restate assumes to invoke it. */
  readonly arn?: string;
  readonly assume_role_arn?: string;
  readonly metadata?: Record<string, string>;
  readonly additional_headers?: Record<string, string>;
  readonly services: ReadonlyArray<{ readonly name: string; readonly revision: number }>;
}

export interface ServiceSummary {
  readonly name: string;
  readonly deployment_id: string;
  readonly revision: number;
  readonly public: boolean;
  readonly handlers: ReadonlyArray<{ readonly name: string }>;
  /** Durations in Restate's friendly format, e.g. `1d 1h 1m 1s`. */
  readonly idempotency_retention?: string;
  readonly journal_retention?: string;
  readonly inactivity_timeout?: string;
  readonly abort_timeout?: string;
}

/**
 * The tests' own view of the server: talks to restate-server's admin API directly (not
 * through the proxies the handler uses), so what the handler did can be checked.
 */
export class AdminApi {
  constructor(private readonly adminUrl: string, private readonly ingressUrl: string) {}

  public async deployments(): Promise<DeploymentSummary[]> {
    const res = await this.ok('GET', '/deployments');
    return (JSON.parse(res.body) as { deployments: DeploymentSummary[] }).deployments;
  }

  public async deployment(id: string): Promise<DeploymentSummary | undefined> {
    return (await this.deployments()).find((d) => d.id === id);
  }

  /** Deployments whose URI is `uri` (compared without trailing slashes). */
  public async deploymentsAt(uri: string): Promise<DeploymentSummary[]> {
    const want = normalize(uri);
    return (await this.deployments()).filter((d) => d.uri !== undefined && normalize(d.uri) === want);
  }

  public async service(name: string): Promise<ServiceSummary | undefined> {
    const res = await httpRequest('GET', `${this.adminUrl}/services/${encodeURIComponent(name)}`);
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new Error(`GET /services/${name}: ${res.status} ${res.body}`);
    return JSON.parse(res.body) as ServiceSummary;
  }

  /** Registers a deployment directly (test setup that must not go through the handler). */
  public async register(uri: string, metadata?: Record<string, string>): Promise<string> {
    const res = await this.ok('POST', '/deployments', { uri, force: false, breaking: false, metadata });
    return (JSON.parse(res.body) as { id: string }).id;
  }

  /** Calls `<service>/<handler>` through the ingress with a JSON body. */
  /** Rows of a SQL query over the `sys_*` tables. */
  public async query(sql: string): Promise<Array<Record<string, unknown>>> {
    const res = await this.ok('POST', '/query', { query: sql });
    return (JSON.parse(res.body) as { rows: Array<Record<string, unknown>> }).rows;
  }

  public async invoke(service: string, handler: string, input: unknown): Promise<HttpResult> {
    return httpRequest('POST', `${this.ingressUrl}/${service}/${handler}`, { body: JSON.stringify(input), timeoutMs: 30_000 });
  }

  private async ok(method: string, path: string, body?: unknown): Promise<HttpResult> {
    const res = await httpRequest(method, `${this.adminUrl}${path}`, { body });
    if (res.status < 200 || res.status > 299) throw new Error(`${method} ${path}: ${res.status} ${res.body}`);
    return res;
  }
}

export function normalize(uri: string): string {
  return uri.replace(/\/+$/, '');
}
