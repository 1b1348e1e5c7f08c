import { DISCOVERY_FAILURE_CODES } from './discovery-error';
import { request, TransportError } from './http';

/** A non-2xx answer from the admin API. */
export class AdminApiError extends Error {
  constructor(
    readonly method: string,
    readonly url: string,
    readonly status: number,
    readonly apiMessage: string,
    readonly restateCode?: string,
  ) {
    super(`${method} ${url} answered HTTP ${status}: ${apiMessage}${restateCode && !apiMessage.includes(restateCode) ? ` (${restateCode})` : ''}`);
  }

  /**
   * Discovery of the endpoint failed. Restate 1.7 answers 400, or 500 with META0003 (the
   * endpoint could not be reached, or failed) or META0013 (its answer was not a Restate
   * endpoint's), after retrying discovery itself.
   */
  get isDiscoveryFailure(): boolean {
    return this.status === 400 || (DISCOVERY_FAILURE_CODES as ReadonlyArray<string | undefined>).includes(this.restateCode);
  }

  /** The key was rejected: retrying cannot help. */
  get isAuthError(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

export interface RegisterRequest {
  readonly uri?: string;
  readonly arn?: string;
  readonly assume_role_arn?: string;
  readonly additional_headers?: Record<string, string>;
  readonly use_http_11?: boolean;
  readonly force: boolean;
  readonly breaking: boolean;
  readonly metadata?: Record<string, string>;
}

export interface ServiceMetadata {
  readonly name: string;
  /** `Service`, `VirtualObject` or `Workflow`. */
  readonly ty?: string;
  readonly revision?: number;
  readonly public?: boolean;
}

export interface RegisterResponse {
  readonly id: string;
  readonly services: ServiceMetadata[];
  /** Configuration and deprecation notes about the deployment. */
  readonly info?: { readonly code?: string | null; readonly message: string }[];
}

/** `GET /services/{name}`: the parts that say which deployment serves it. */
export interface ServiceStatus {
  readonly name: string;
  readonly deployment_id: string;
  readonly revision: number;
  readonly public?: boolean;
  readonly ty?: string;
  /** Durations in Restate's friendly format, e.g. `1d 1h 1m 1s`. */
  readonly [setting: string]: unknown;
}

export interface Deployment {
  readonly id: string;
  readonly uri?: string;
  readonly arn?: string;
  readonly assume_role_arn?: string;
  readonly created_at?: string;
  readonly additional_headers?: Record<string, string>;
  readonly use_http_11?: boolean;
  readonly metadata?: Record<string, string>;
  readonly services?: { name: string; revision?: number }[];
}

export interface AdminClientOptions {
  readonly adminUrl: string;
  readonly token?: string;
  readonly insecure?: boolean;
  /** Trust only this CA (PEM). */
  readonly ca?: string;
  /** Aborts every request in flight: the deployer has stopped waiting. */
  readonly signal?: AbortSignal;
}

/** A typed client for the parts of Restate's admin API the deployer uses. */
export class AdminClient {
  readonly adminUrl: string;
  private readonly headers: Record<string, string>;

  private readonly transport: { insecure?: boolean; ca?: string; signal?: AbortSignal };

  constructor(options: AdminClientOptions) {
    this.transport = { insecure: options.insecure, ca: options.ca, signal: options.signal };
    this.adminUrl = options.adminUrl.replace(/\/+$/, '');
    this.headers = { 'content-type': 'application/json', 'accept': 'application/json' };
    if (options.token) this.headers.authorization = `Bearer ${options.token}`;
  }

  /** Resolves with the HTTP status of GET /health; rejects with TransportError when unreachable. */
  async healthStatus(timeoutMs: number): Promise<number> {
    const res = await this.send('GET', '/health', undefined, timeoutMs);
    if (res.status === 401 || res.status === 403) throw res.error();
    return res.status;
  }

  async register(body: RegisterRequest, timeoutMs: number): Promise<{ status: number; response: RegisterResponse }> {
    const { status, json } = await this.call('POST', '/deployments', body, timeoutMs);
    return { status, response: json as RegisterResponse };
  }

  async listDeployments(timeoutMs: number): Promise<Deployment[]> {
    const { json } = await this.call('GET', '/deployments', undefined, timeoutMs);
    return ((json as { deployments?: Deployment[] }).deployments ?? []);
  }

  /** `GET /deployments/{id}`; undefined when there is no such deployment. */
  async getDeployment(id: string, timeoutMs: number): Promise<Deployment | undefined> {
    const { status, json } = await this.call('GET', `/deployments/${encodeURIComponent(id)}`, undefined, timeoutMs, [404]);
    return status === 404 ? undefined : (json as Deployment);
  }

  async getService(name: string, timeoutMs: number): Promise<ServiceStatus> {
    const { json } = await this.call('GET', `/services/${encodeURIComponent(name)}`, undefined, timeoutMs);
    return json as ServiceStatus;
  }

  async deleteDeployment(id: string, timeoutMs: number): Promise<number> {
    const { status } = await this.call('DELETE', `/deployments/${encodeURIComponent(id)}?force=true`, undefined, timeoutMs, [404]);
    return status;
  }

  async setServicePublic(name: string, isPublic: boolean, timeoutMs: number): Promise<void> {
    await this.modifyService(name, { public: isPublic }, timeoutMs);
  }

  /** `PATCH /services/{name}`: visibility, retentions and timeouts. */
  async modifyService(name: string, changes: Record<string, unknown>, timeoutMs: number): Promise<void> {
    await this.call('PATCH', `/services/${encodeURIComponent(name)}`, changes, timeoutMs);
  }

  /** Number of invocations not yet completed that are pinned to `deploymentId`. */
  async inFlightInvocations(deploymentId: string, timeoutMs: number): Promise<number> {
    if (!/^[A-Za-z0-9_]+$/.test(deploymentId)) throw new Error(`unexpected deployment id ${JSON.stringify(deploymentId)}`);
    const query =
      `SELECT COUNT(*) AS count FROM sys_invocation_status WHERE pinned_deployment_id = '${deploymentId}' AND status != 'completed'`;
    const { json } = await this.call('POST', '/query', { query }, timeoutMs);
    const count = (json as { rows?: { count?: number | string }[] }).rows?.[0]?.count;
    return Number(count ?? 0);
  }

  /** One request; its answer, and the error that names it. */
  private async send(method: string, path: string, body: object | undefined, timeoutMs: number) {
    const url = `${this.adminUrl}${path}`;
    const res = await request({ method, url, headers: this.headers, body: body && JSON.stringify(body), timeoutMs, ...this.transport });
    return { ...res, error: () => new AdminApiError(method, url, res.status, ...errorMessage(res.body)) };
  }

  /** A request that must answer 2xx (or one of `okStatuses`); its JSON body, `{}` when none. */
  private async call(
    method: string,
    path: string,
    body: object | undefined,
    timeoutMs: number,
    okStatuses?: number[],
  ): Promise<{ status: number; json: unknown }> {
    const res = await this.send(method, path, body, timeoutMs);
    if (Math.floor(res.status / 100) !== 2 && !okStatuses?.includes(res.status)) throw res.error();
    let json: unknown = {};
    try {
      json = JSON.parse(res.body);
    } catch {
      // An empty body (202, 204) or one that is not JSON: read as {}.
    }
    return { status: res.status, json };
  }
}

export { TransportError };

/** The admin API's own error message (or the start of the body) and its Restate error code. */
function errorMessage(body: string): [string, string | undefined] {
  try {
    const parsed = JSON.parse(body) as { message?: string; restate_code?: string | null };
    if (parsed.message) return [parsed.message, parsed.restate_code ?? undefined];
  } catch {
    // not JSON
  }
  const text = body.trim().slice(0, 300);
  return [text.length > 0 ? text : '(empty body)', undefined];
}
