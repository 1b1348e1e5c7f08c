import * as crypto from 'crypto';

/**
 * A few read-only AWS calls (and one log-group delete) signed with Signature Version 4 by
 * hand, so the suite can check what `cdk destroy` left behind without depending on more AWS
 * SDK clients than the repo declares (client-sts and client-secrets-manager only). The
 * credentials come from client-sts's default provider chain, the same chain the CDK CLI uses.
 */

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface SigningTarget {
  readonly service: string;
  readonly region: string;
}

export interface PlainRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** RFC 3986 percent-encoding, as SigV4 wants it. */
function encode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function sha256Hex(data: string): string {
  return crypto.createHash('sha256').update(data, 'utf8').digest('hex');
}

function hmac(key: crypto.BinaryLike, data: string): Buffer {
  return crypto.createHmac('sha256', key).update(data, 'utf8').digest();
}

/**
 * Returns the headers to send: `request.headers` plus `x-amz-date`, `x-amz-security-token`
 * (for temporary credentials) and `authorization`. `host` is signed but not returned (fetch
 * sets it from the URL).
 */
export function signV4(request: PlainRequest, credentials: AwsCredentials, target: SigningTarget, now: Date = new Date()): Record<string, string> {
  const amzDate = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(request.headers)) headers[k.toLowerCase()] = v;
  headers['x-amz-date'] = amzDate;
  if (credentials.sessionToken) headers['x-amz-security-token'] = credentials.sessionToken;

  const toSign: Record<string, string> = { ...headers, host: request.url.host };
  const names = Object.keys(toSign).sort();
  const canonicalHeaders = names.map((n) => `${n}:${toSign[n].trim().replace(/\s+/g, ' ')}\n`).join('');
  const signedHeaders = names.join(';');
  // Non-S3 services: every path segment is encoded twice (the URL already holds it once).
  const canonicalPath = request.url.pathname.split('/').map((segment) => encode(segment)).join('/') || '/';
  const canonicalQuery = [...request.url.searchParams.entries()]
    .map(([k, v]) => [encode(k), encode(v)])
    .sort(([a, av], [b, bv]) => (a === b ? (av < bv ? -1 : av > bv ? 1 : 0) : a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonicalRequest = [request.method, canonicalPath, canonicalQuery, canonicalHeaders, signedHeaders, sha256Hex(request.body)].join('\n');
  const scope = `${day}/${target.region}/${target.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, day), target.region), target.service), 'aws4_request');
  const signature = crypto.createHmac('sha256', signingKey).update(stringToSign, 'utf8').digest('hex');
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return headers;
}

export interface AwsAnswer {
  readonly status: number;
  readonly body: string;
}

/** Signs and sends one request. */
export async function awsCall(
  credentials: () => Promise<AwsCredentials>,
  target: SigningTarget,
  request: PlainRequest,
): Promise<AwsAnswer> {
  const headers = signV4(request, await credentials(), target);
  const res = await fetch(request.url, {
    method: request.method,
    headers,
    body: request.method === 'GET' ? undefined : request.body,
    signal: AbortSignal.timeout(30_000),
  });
  return { status: res.status, body: await res.text() };
}

function domainOf(region: string): string {
  return region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
}

/** The first `<tag>` value in an XML document (query-protocol answers), unescaped. */
export function xmlValue(xml: string, tag: string): string | undefined {
  const m = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(xml);
  return m ? unescapeXml(m[1]) : undefined;
}

function unescapeXml(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}

function queryBody(params: Record<string, string>): string {
  return Object.entries(params).map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&');
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' };

export interface StackResource {
  readonly logicalId: string;
  readonly type: string;
  readonly physicalId: string;
}

/** CloudFormation, IAM, Lambda and CloudWatch Logs, each with the one call the suite needs. */
export class AwsLeftovers {
  constructor(private readonly credentials: () => Promise<AwsCredentials>, private readonly region: string) {}

  /** The stack's status, or undefined when CloudFormation says it does not exist. */
  public async stackStatus(stackName: string): Promise<string | undefined> {
    const res = await this.cloudFormation({ Action: 'DescribeStacks', StackName: stackName });
    if (res.status === 400 && /does not exist/.test(xmlValue(res.body, 'Message') ?? '')) return undefined;
    if (res.status !== 200) throw new Error(`cloudformation:DescribeStacks ${stackName}: HTTP ${res.status} ${xmlValue(res.body, 'Code') ?? ''} ${xmlValue(res.body, 'Message') ?? ''}`);
    return xmlValue(res.body, 'StackStatus');
  }

  /** The stack's resources (up to 100, plenty for the example). */
  public async stackResources(stackName: string): Promise<StackResource[]> {
    const res = await this.cloudFormation({ Action: 'DescribeStackResources', StackName: stackName });
    if (res.status !== 200) throw new Error(`cloudformation:DescribeStackResources ${stackName}: HTTP ${res.status} ${xmlValue(res.body, 'Code') ?? ''} ${xmlValue(res.body, 'Message') ?? ''}`);
    const members = res.body.match(/<member>[\s\S]*?<\/member>/g) ?? [];
    return members.map((m) => ({
      logicalId: xmlValue(m, 'LogicalResourceId') ?? '',
      type: xmlValue(m, 'ResourceType') ?? '',
      physicalId: xmlValue(m, 'PhysicalResourceId') ?? '',
    }));
  }

  /** True when the Lambda function still exists. */
  public async functionExists(name: string): Promise<boolean> {
    const url = new URL(`https://lambda.${this.region}.${domainOf(this.region)}/2015-03-31/functions/${encode(name)}`);
    const res = await awsCall(this.credentials, { service: 'lambda', region: this.region }, { method: 'GET', url, headers: {}, body: '' });
    if (res.status === 404) return false;
    if (res.status === 200) return true;
    throw new Error(`lambda:GetFunction ${name}: HTTP ${res.status} ${res.body.slice(0, 200)}`);
  }

  /** True when the IAM role still exists. */
  public async roleExists(roleName: string): Promise<boolean> {
    const cn = this.region.startsWith('cn-');
    const url = new URL(cn ? 'https://iam.cn-north-1.amazonaws.com.cn/' : 'https://iam.amazonaws.com/');
    const res = await awsCall(
      this.credentials,
      { service: 'iam', region: cn ? 'cn-north-1' : 'us-east-1' },
      { method: 'POST', url, headers: FORM, body: queryBody({ Action: 'GetRole', RoleName: roleName, Version: '2010-05-08' }) },
    );
    if (res.status === 404 || xmlValue(res.body, 'Code') === 'NoSuchEntity') return false;
    if (res.status === 200) return true;
    throw new Error(`iam:GetRole ${roleName}: HTTP ${res.status} ${xmlValue(res.body, 'Code') ?? ''} ${xmlValue(res.body, 'Message') ?? ''}`);
  }

  /** True when a log group named exactly `name` exists. */
  public async logGroupExists(name: string): Promise<boolean> {
    const res = await this.logs('DescribeLogGroups', { logGroupNamePrefix: name });
    if (res.status !== 200) throw new Error(`logs:DescribeLogGroups ${name}: HTTP ${res.status} ${res.body.slice(0, 200)}`);
    const groups = (JSON.parse(res.body) as { logGroups?: Array<{ logGroupName?: string }> }).logGroups ?? [];
    return groups.some((g) => g.logGroupName === name);
  }

  public async deleteLogGroup(name: string): Promise<void> {
    const res = await this.logs('DeleteLogGroup', { logGroupName: name });
    if (res.status !== 200 && !/ResourceNotFoundException/.test(res.body)) {
      throw new Error(`logs:DeleteLogGroup ${name}: HTTP ${res.status} ${res.body.slice(0, 200)}`);
    }
  }

  private cloudFormation(params: Record<string, string>): Promise<AwsAnswer> {
    const url = new URL(`https://cloudformation.${this.region}.${domainOf(this.region)}/`);
    return awsCall(this.credentials, { service: 'cloudformation', region: this.region }, {
      method: 'POST',
      url,
      headers: FORM,
      body: queryBody({ ...params, Version: '2010-05-15' }),
    });
  }

  private logs(operation: string, input: object): Promise<AwsAnswer> {
    const url = new URL(`https://logs.${this.region}.${domainOf(this.region)}/`);
    return awsCall(this.credentials, { service: 'logs', region: this.region }, {
      method: 'POST',
      url,
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `Logs_20140328.${operation}` },
      body: JSON.stringify(input),
    });
  }
}
