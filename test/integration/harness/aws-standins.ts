import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { LambdaCode, LambdaInvocationContext } from './lambda-functions';
import { LOOPBACK } from './ports';
import { closeServer, listenOnLoopback, readAll } from './servers';

/**
 * STS and Lambda on 127.0.0.1, as far as registering a Lambda handler with Restate needs them:
 *
 * - STS `AssumeRole` (query protocol, XML answers): the role must exist (and have taken
 *   effect) and its trust policy must trust the caller; sessions get fresh credentials.
 * - Lambda `Invoke` (REST-JSON): the caller must hold a session of a role, and that role must
 *   be allowed `lambda:InvokeFunction` on exactly the invoked version or alias, by the
 *   version's resource policy (or the role's own identity policy). Then the function's code
 *   runs in this process: e.g. a real Restate SDK Lambda handler (lambda-functions.ts).
 * - Lambda `AddPermission`, `RemovePermission`, `GetPolicy`: the resource policies the
 *   deployer (InvokeGrant.DEPLOYER) keeps; `deployTemplate` applies a synthesized template's
 *   `AWS::Lambda::Permission` resources the way a CloudFormation deploy would
 *   (InvokeGrant.TEMPLATE).
 *
 * Every request must be SigV4-signed with credentials the stand-in knows (the signature is
 * verified); the caller's identity is that of the access key. Roles and grants can be made to
 * take effect only some seconds after they were added, like IAM's eventual consistency.
 * Errors have AWS's shapes, codes and message texts. Point clients at it with
 * `AWS_ENDPOINT_URL` (restate-server: `serverEnvironment()`) or `AWS_ENDPOINT_URL_LAMBDA`.
 */

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';

export function functionArn(name: string, qualifier?: string | number): string {
  return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}${qualifier === undefined ? '' : `:${qualifier}`}`;
}

export function roleArn(name: string): string {
  return `arn:aws:iam::${ACCOUNT}:role/${name}`;
}

/** Who signs with a long-term access key. */
export interface CallerIdentity {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Required in `x-amz-security-token` when set. */
  readonly sessionToken?: string;
  /** The identity in error messages (`User: <arn> is not authorized ...`). */
  readonly arn: string;
  /** What trust policies match (`aws:PrincipalArn`); the caller's role for a role session. */
  readonly principalArn: string;
}

export interface RoleDefinition {
  /** Principals (`aws:PrincipalArn`) the role's trust policy allows `sts:AssumeRole`. */
  readonly trustedPrincipals: readonly string[];
  /** The trust policy's `sts:ExternalId` condition, if any. */
  readonly externalId?: string;
  /** Identity policy: `lambda:InvokeFunction` allowed on these ARNs (`*` matches anything). */
  readonly invokeAllowedOn?: readonly string[];
  /** The role exists (and can be assumed) only this many seconds from now; `Infinity`: never. */
  readonly effectiveAfterSeconds?: number;
}

export interface PermissionStatement {
  readonly sid: string;
  readonly action: string;
  /** A role (or user) ARN. */
  readonly principal: string;
  /** The qualified ARN the policy belongs to. */
  readonly resource: string;
  readonly addedAt: number;
  /** When Invoke starts honouring it (`Infinity`: never). */
  readonly effectiveAt: number;
  /** Who added it: `api` (AddPermission) or `template:<stack>/<logical id>`. */
  readonly source: string;
}

export type AwsService = 'sts' | 'lambda';

/** One request the stand-in answered. */
export interface AwsRequestRecord {
  readonly at: number;
  readonly service: AwsService;
  /** `AssumeRole`, `Invoke`, `AddPermission`, `RemovePermission`, `GetPolicy`, or what was asked. */
  readonly action: string;
  readonly accessKeyId?: string;
  /** The caller's identity ARN (for a session: the assumed-role ARN). */
  readonly caller?: string;
  /** The role the caller's session belongs to. */
  readonly sessionOf?: string;
  /** AssumeRole: the role; Lambda: the qualified function ARN. */
  readonly target?: string;
  readonly status: number;
  /** AWS error code of a failed request. */
  readonly errorCode?: string;
  readonly errorMessage?: string;
  /** AssumeRole: the credentials issued. */
  readonly issuedAccessKeyId?: string;
  readonly roleSessionName?: string;
  readonly externalId?: string;
  /** Invoke: the Restate request the function handled (e.g. `POST /invoke/Greeter/greet`). */
  readonly restateRequest?: string;
  /** Invoke: the status code the function's answer carried, or `Unhandled` when its code threw. */
  readonly functionResult?: string;
}

/** A record being filled in while its request is handled. */
type RecordDraft = { -readonly [K in keyof AwsRequestRecord]?: AwsRequestRecord[K] } & { at: number; service: AwsService; action: string };

interface Session {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly roleArn: string;
  readonly sessionName: string;
  readonly expiresAt: number;
}

interface StoredRole extends RoleDefinition {
  readonly effectiveAt: number;
}

class AwsError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly type: 'Sender' | 'Receiver' = 'Sender',
  ) {
    super(message);
  }
}

const STS_NS = 'https://sts.amazonaws.com/doc/2011-06-15/';
const LAMBDA_PREFIX = '/2015-03-31/functions/';

export class AwsStandIn {
  public static async start(): Promise<AwsStandIn> {
    const standIn = new AwsStandIn();
    await listenOnLoopback(standIn.server);
    return standIn;
  }

  /** The identity restate-server signs with (its environment's dummy credentials). */
  public readonly restateServer: CallerIdentity = {
    accessKeyId: `AKIA${randomId(16)}`,
    secretAccessKey: randomBytes(30).toString('base64'),
    arn: 'arn:aws:sts::654654156625:assumed-role/RestateCloud/restate-server',
    principalArn: 'arn:aws:iam::654654156625:role/RestateCloud',
  };
  /** The deployer running in-process: run.sh's dummy credentials (`test`/`test`/`test`). */
  public readonly deployer: CallerIdentity = {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test',
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
    sessionToken: process.env.AWS_SESSION_TOKEN,
    arn: `arn:aws:sts::${ACCOUNT}:assumed-role/IntegStack-DeployerRole/IntegStack-DeployerFunction`,
    principalArn: `arn:aws:iam::${ACCOUNT}:role/IntegStack-DeployerRole`,
  };
  public readonly requests: AwsRequestRecord[] = [];

  private readonly server: http.Server;
  private readonly callers = new Map<string, CallerIdentity>();
  private readonly sessions = new Map<string, Session>();
  private readonly roles = new Map<string, StoredRole>();
  private readonly functions = new Map<string, LambdaCode>();
  /** Resource policies by qualified ARN (unqualified: the function's own, i.e. $LATEST's). */
  private readonly policies = new Map<string, PermissionStatement[]>();
  /** Seconds AddPermission statements take to take effect, by qualified ARN. */
  private readonly propagation = new Map<string, number>();
  private readonly policyChangesDenied = new Set<string>();
  /** Per stack: the template permissions deployed (logical id → statement). */
  private readonly stacks = new Map<string, Map<string, { statement: PermissionStatement; retain: boolean }>>();

  private constructor() {
    for (const c of [this.restateServer, this.deployer]) this.callers.set(c.accessKeyId, c);
    this.server = http.createServer((req, res) => this.onRequest(req, res));
    this.server.keepAliveTimeout = 2_000;
  }

  public get url(): string {
    return `http://${LOOPBACK}:${(this.server.address() as AddressInfo).port}`;
  }

  /**
   * restate-server's environment: its AWS SDK reaches this stand-in (and nothing else) for
   * STS and Lambda, with dummy credentials of its own and no instance metadata.
   */
  public serverEnvironment(): Record<string, string | undefined> {
    return {
      // restate-server 1.7.12 honours the catch-all for both (measured); the service-specific
      // ones are set too, so that no inherited value can point it anywhere else.
      AWS_ENDPOINT_URL: this.url,
      AWS_ENDPOINT_URL_STS: this.url,
      AWS_ENDPOINT_URL_LAMBDA: this.url,
      AWS_ACCESS_KEY_ID: this.restateServer.accessKeyId,
      AWS_SECRET_ACCESS_KEY: this.restateServer.secretAccessKey,
      AWS_SESSION_TOKEN: undefined,
      AWS_REGION: REGION,
      AWS_DEFAULT_REGION: REGION,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_PROFILE: undefined,
    };
  }

  // --- IAM -----------------------------------------------------------------------------------

  public putRole(arn: string, role: RoleDefinition): void {
    this.roles.set(arn, { ...role, effectiveAt: Date.now() + (role.effectiveAfterSeconds ?? 0) * 1000 });
  }

  /** When the role took (or takes) effect; undefined if there is no such role. */
  public roleEffectiveAt(arn: string): number | undefined {
    return this.roles.get(arn)?.effectiveAt;
  }

  // --- Lambda ----------------------------------------------------------------------------------

  /** A function version or alias (qualified ARN) and the code it runs. */
  public putFunction(qualifiedArn: string, code: LambdaCode): void {
    parseFunctionArn(qualifiedArn);
    this.functions.set(qualifiedArn, code);
  }

  /** AddPermission statements on `qualifiedArn` take effect only this many seconds after (Infinity: never). */
  public setGrantPropagation(qualifiedArn: string, seconds: number): void {
    this.propagation.set(qualifiedArn, seconds);
  }

  /** AddPermission and RemovePermission on `qualifiedArn` are denied to every caller. */
  public denyPolicyChanges(qualifiedArn: string): void {
    this.policyChangesDenied.add(qualifiedArn);
  }

  /** Adds a statement directly (as a console user or another stack would). */
  public addPermission(
    qualifiedArn: string,
    principal: string,
    { sid = `manual-${randomId(8).toLowerCase()}`, effectiveAfterSeconds = 0, source = 'manual' }: { sid?: string; effectiveAfterSeconds?: number; source?: string } = {},
  ): PermissionStatement {
    const now = Date.now();
    const statement: PermissionStatement = {
      sid,
      action: 'lambda:InvokeFunction',
      principal,
      resource: qualifiedArn,
      addedAt: now,
      effectiveAt: now + effectiveAfterSeconds * 1000,
      source,
    };
    this.policies.set(qualifiedArn, [...(this.policies.get(qualifiedArn) ?? []).filter((s) => s.sid !== sid), statement]);
    return statement;
  }

  public policy(qualifiedArn: string): PermissionStatement[] {
    return [...(this.policies.get(qualifiedArn) ?? [])];
  }

  /** Whether `principal` may invoke `qualifiedArn` right now (resource or identity policy). */
  public mayInvoke(principal: string, qualifiedArn: string, at = Date.now()): boolean {
    const byResource = (this.policies.get(qualifiedArn) ?? []).some(
      (s) => s.principal === principal && (s.action === 'lambda:InvokeFunction' || s.action === 'lambda:*') && s.effectiveAt <= at,
    );
    const role = this.roles.get(principal);
    const byIdentity = role !== undefined && role.effectiveAt <= at && (role.invokeAllowedOn ?? []).some((p) => wildcardMatch(p, qualifiedArn));
    return byResource || byIdentity;
  }

  // --- CloudFormation ------------------------------------------------------------------------

  /**
   * Deploys the `AWS::Lambda::Permission` resources of a synthesized template the way
   * CloudFormation would: permissions new in this template (by logical id) are added now,
   * before the resources that depend on them (the registration). Permissions of the previous
   * template of `stackName` that this one no longer has are deleted by `cleanup()` — call it
   * after the registration's Update, as CloudFormation's cleanup phase — unless their
   * `DeletionPolicy` is `Retain` (or `RetainExceptOnCreate`).
   *
   * `refs` resolves `Ref` and `Fn::GetAtt` (`<logical id>` or `<logical id>.<attribute>`) of
   * resources whose physical values only a deploy would know (e.g. a version's ARN).
   */
  public deployTemplate(
    stackName: string,
    template: CloudFormationTemplate,
    { refs = {}, effectiveAfterSeconds = 0 }: { refs?: Record<string, string>; effectiveAfterSeconds?: number } = {},
  ): TemplateDeployment {
    const deployed = this.stacks.get(stackName) ?? new Map<string, { statement: PermissionStatement; retain: boolean }>();
    this.stacks.set(stackName, deployed);
    const added: PermissionStatement[] = [];
    const kept = new Set<string>();
    const replaced: Array<{ statement: PermissionStatement; retain: boolean }> = [];
    for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
      if (resource.Type !== 'AWS::Lambda::Permission') continue;
      const p = resource.Properties ?? {};
      const target = resolveValue(p.FunctionName, refs);
      const principal = resolveValue(p.Principal, refs);
      const action = resolveValue(p.Action, refs);
      if (action !== 'lambda:InvokeFunction') throw new Error(`${logicalId}: unsupported action ${action}`);
      const retain = resource.DeletionPolicy === 'Retain' || resource.DeletionPolicy === 'RetainExceptOnCreate';
      const previous = deployed.get(logicalId);
      kept.add(logicalId);
      if (previous && previous.statement.resource === target && previous.statement.principal === principal) {
        deployed.set(logicalId, { statement: previous.statement, retain });
        continue;
      }
      // A changed FunctionName or Principal replaces the resource: the old one goes at cleanup.
      if (previous) replaced.push(previous);
      if (!this.functionExists(target)) {
        throw new Error(`${logicalId}: CloudFormation would fail: Function not found: ${target}`);
      }
      const sid = `${stackName}-${logicalId}-${randomId(12)}`.slice(0, 100);
      const statement = this.addPermission(target, principal, { sid, effectiveAfterSeconds, source: `template:${stackName}/${logicalId}` });
      deployed.set(logicalId, { statement, retain });
      added.push(statement);
    }
    const gone = [...deployed.entries()].filter(([id]) => !kept.has(id));
    return {
      added,
      cleanup: () => {
        const removed: PermissionStatement[] = [];
        const retained: PermissionStatement[] = [];
        for (const entry of [...gone.map(([, e]) => e), ...replaced]) {
          if (entry.retain) {
            retained.push(entry.statement);
          } else {
            this.removeStatement(entry.statement.resource, entry.statement.sid);
            removed.push(entry.statement);
          }
        }
        for (const [id] of gone) deployed.delete(id);
        return { removed, retained };
      },
    };
  }

  // --- requests --------------------------------------------------------------------------------

  /** Index for `since()`. */
  public mark(): number {
    return this.requests.length;
  }

  public since(mark: number): AwsRequestRecord[] {
    return this.requests.slice(mark);
  }

  public async close(): Promise<void> {
    await closeServer(this.server);
  }

  /** A qualified ARN: that version or alias exists; an unqualified one: the function does. */
  private functionExists(arn: string): boolean {
    if (this.functions.has(arn)) return true;
    const { name, qualifier } = parseFunctionArn(arn);
    return qualifier === undefined && [...this.functions.keys()].some((k) => parseFunctionArn(k).name === name);
  }

  private removeStatement(qualifiedArn: string, sid: string): boolean {
    const statements = this.policies.get(qualifiedArn) ?? [];
    const left = statements.filter((s) => s.sid !== sid);
    this.policies.set(qualifiedArn, left);
    return left.length !== statements.length;
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    void readAll(req).then(async (body) => {
      const rawUrl = req.url ?? '/';
      const path = rawUrl.split('?')[0];
      const service: AwsService = path.startsWith(LAMBDA_PREFIX) ? 'lambda' : 'sts';
      const record: RecordDraft = { at: Date.now(), service, action: 'unknown' };
      try {
        if (service === 'sts') {
          const params = new URLSearchParams(req.method === 'POST' ? body.toString('utf8') : rawUrl.split('?')[1] ?? '');
          record.action = params.get('Action') ?? 'unknown';
          const caller = this.authenticate(req, body, 'sts', record);
          if (record.action !== 'AssumeRole') throw new AwsError(400, 'InvalidAction', `Could not find operation ${record.action} for version ${params.get('Version') ?? 'NO_VERSION_SPECIFIED'}`);
          const xml = this.assumeRole(caller, params, record);
          this.answer(res, record, 200, { 'content-type': 'text/xml' }, xml);
        } else {
          await this.lambda(req, res, rawUrl, body, record);
        }
      } catch (e) {
        const err = e instanceof AwsError ? e : new AwsError(500, service === 'sts' ? 'InternalFailure' : 'ServiceException', `stand-in failure: ${(e as Error).message}`, 'Receiver');
        record.errorCode = err.code;
        record.errorMessage = err.message;
        const requestId = randomUUID();
        if (service === 'sts') {
          this.answer(res, record, err.status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }, stsError(err, requestId));
        } else {
          this.answer(
            res,
            record,
            err.status,
            { 'content-type': 'application/json', 'x-amzn-errortype': err.code, 'x-amzn-requestid': requestId },
            JSON.stringify({ Type: err.type === 'Sender' ? 'User' : 'Service', Message: err.message }),
          );
        }
      }
    });
  }

  private answer(
    res: http.ServerResponse,
    record: RecordDraft,
    status: number,
    headers: http.OutgoingHttpHeaders,
    body: string,
  ): void {
    this.requests.push({ ...record, status });
    res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  /** SigV4: the key must be known, the signature valid, a session's token present. */
  private authenticate(req: http.IncomingMessage, body: Buffer, service: AwsService, record: RecordDraft): CallerIdentity & { session?: Session } {
    const auth = parseAuthorization(req.headers.authorization);
    if (!auth) {
      throw service === 'sts'
        ? new AwsError(403, 'MissingAuthenticationToken', 'Request is missing Authentication Token')
        : new AwsError(403, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
    }
    record.accessKeyId = auth.accessKeyId;
    const session = this.sessions.get(auth.accessKeyId);
    const caller: (CallerIdentity & { session?: Session }) | undefined = session
      ? {
        accessKeyId: session.accessKeyId,
        secretAccessKey: session.secretAccessKey,
        sessionToken: session.sessionToken,
        arn: assumedRoleArn(session.roleArn, session.sessionName),
        principalArn: session.roleArn,
        session,
      }
      : this.callers.get(auth.accessKeyId);
    if (!caller) {
      throw service === 'sts'
        ? new AwsError(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.')
        : new AwsError(403, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
    }
    record.caller = caller.arn;
    if (session) record.sessionOf = session.roleArn;
    if (auth.service !== service) {
      throw new AwsError(403, service === 'sts' ? 'SignatureDoesNotMatch' : 'InvalidSignatureException', `Credential should be scoped to correct service: '${service}'. `);
    }
    if (!verifySignature(req, body, auth, caller.secretAccessKey)) {
      throw new AwsError(
        403,
        service === 'sts' ? 'SignatureDoesNotMatch' : 'InvalidSignatureException',
        'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
      );
    }
    if (caller.sessionToken !== undefined && req.headers['x-amz-security-token'] !== caller.sessionToken) {
      throw service === 'sts'
        ? new AwsError(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.')
        : new AwsError(403, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
    }
    if (session && session.expiresAt <= Date.now()) {
      throw new AwsError(403, 'ExpiredTokenException', 'The security token included in the request is expired');
    }
    return caller;
  }

  private assumeRole(caller: CallerIdentity, params: URLSearchParams, record: RecordDraft): string {
    const arn = params.get('RoleArn') ?? '';
    const sessionName = params.get('RoleSessionName') ?? '';
    record.target = arn;
    record.roleSessionName = sessionName;
    record.externalId = params.get('ExternalId') ?? undefined;
    if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) {
      throw new AwsError(400, 'ValidationError', `1 validation error detected: Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`);
    }
    const role = this.roles.get(arn);
    const trusted =
      role !== undefined &&
      role.effectiveAt <= Date.now() &&
      role.trustedPrincipals.includes(caller.principalArn) &&
      (role.externalId === undefined || role.externalId === params.get('ExternalId'));
    if (!trusted) {
      // IAM answers the same for a role that does not exist and one that does not trust the caller.
      throw new AwsError(403, 'AccessDenied', `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${arn}`);
    }
    const duration = Number(params.get('DurationSeconds') ?? '3600');
    const session: Session = {
      accessKeyId: `ASIA${randomId(16)}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(96).toString('base64'),
      roleArn: arn,
      sessionName,
      expiresAt: Date.now() + duration * 1000,
    };
    this.sessions.set(session.accessKeyId, session);
    record.issuedAccessKeyId = session.accessKeyId;
    const roleName = arn.split('/').pop();
    const roleId = `AROA${createHash('sha256').update(arn).digest('hex').slice(0, 17).toUpperCase()}`;
    return [
      `<AssumeRoleResponse xmlns="${STS_NS}">`,
      '  <AssumeRoleResult>',
      '    <AssumedRoleUser>',
      `      <AssumedRoleId>${roleId}:${xmlEscape(sessionName)}</AssumedRoleId>`,
      `      <Arn>arn:aws:sts::${ACCOUNT}:assumed-role/${xmlEscape(roleName ?? '')}/${xmlEscape(sessionName)}</Arn>`,
      '    </AssumedRoleUser>',
      '    <Credentials>',
      `      <AccessKeyId>${session.accessKeyId}</AccessKeyId>`,
      `      <SecretAccessKey>${session.secretAccessKey}</SecretAccessKey>`,
      `      <SessionToken>${session.sessionToken}</SessionToken>`,
      `      <Expiration>${new Date(session.expiresAt).toISOString().replace(/\.\d+Z$/, 'Z')}</Expiration>`,
      '    </Credentials>',
      '  </AssumeRoleResult>',
      '  <ResponseMetadata>',
      `    <RequestId>${randomUUID()}</RequestId>`,
      '  </ResponseMetadata>',
      '</AssumeRoleResponse>',
    ].join('\n');
  }

  private async lambda(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    rawUrl: string,
    body: Buffer,
    record: RecordDraft,
  ): Promise<void> {
    const [path, query = ''] = rawUrl.split('?');
    const rest = path.slice(LAMBDA_PREFIX.length).split('/');
    const fnName = decodeURIComponent(rest[0] ?? '');
    const qualifierParam = new URLSearchParams(query).get('Qualifier') ?? undefined;
    const method = req.method ?? 'GET';
    if (method === 'POST' && rest[1] === 'invocations' && rest.length === 2) record.action = 'Invoke';
    else if (method === 'POST' && rest[1] === 'policy' && rest.length === 2) record.action = 'AddPermission';
    else if (method === 'GET' && rest[1] === 'policy' && rest.length === 2) record.action = 'GetPolicy';
    else if (method === 'DELETE' && rest[1] === 'policy' && rest.length === 3) record.action = 'RemovePermission';
    else record.action = `${method} ${path}`;
    const caller = this.authenticate(req, body, 'lambda', record);
    const target = qualifiedTarget(fnName, qualifierParam);
    record.target = target;

    switch (record.action) {
      case 'Invoke':
        return this.invoke(res, caller, target, req, body, record);
      case 'AddPermission': {
        this.checkPolicyChange(caller, target, 'lambda:AddPermission');
        if (!this.functionExists(target)) throw new AwsError(404, 'ResourceNotFoundException', `Function not found: ${target}`);
        const input = parseJson(body) as { StatementId?: string; Action?: string; Principal?: string };
        if (!input.StatementId || !input.Action || !input.Principal) {
          throw new AwsError(400, 'ValidationException', '1 validation error detected: StatementId, Action and Principal are required');
        }
        if ((this.policies.get(target) ?? []).some((s) => s.sid === input.StatementId)) {
          throw new AwsError(409, 'ResourceConflictException', `The statement id (${input.StatementId}) provided already exists. Please provide a new statement id, or remove the existing statement.`);
        }
        const statement = this.addPermission(target, input.Principal, {
          sid: input.StatementId,
          effectiveAfterSeconds: this.propagation.get(target) ?? 0,
          source: 'api',
        });
        const json = JSON.stringify({ Statement: JSON.stringify(policyStatement(statement)) });
        return this.answer(res, record, 201, { 'content-type': 'application/json', 'x-amzn-requestid': randomUUID() }, json);
      }
      case 'RemovePermission': {
        this.checkPolicyChange(caller, target, 'lambda:RemovePermission');
        if (!this.functionExists(target)) throw new AwsError(404, 'ResourceNotFoundException', `Function not found: ${target}`);
        const sid = decodeURIComponent(rest[2]);
        if ((this.policies.get(target) ?? []).length === 0) throw new AwsError(404, 'ResourceNotFoundException', 'No policy is associated with the given resource.');
        if (!this.removeStatement(target, sid)) throw new AwsError(404, 'ResourceNotFoundException', `Statement ${sid} is not found in resource policy.`);
        return this.answer(res, record, 204, { 'x-amzn-requestid': randomUUID() }, '');
      }
      case 'GetPolicy': {
        if (!this.functionExists(target)) throw new AwsError(404, 'ResourceNotFoundException', `Function not found: ${target}`);
        const statements = this.policies.get(target) ?? [];
        if (statements.length === 0) throw new AwsError(404, 'ResourceNotFoundException', 'The resource you requested does not exist.');
        const json = JSON.stringify({
          Policy: JSON.stringify({ Version: '2012-10-17', Id: 'default', Statement: statements.map(policyStatement) }),
          RevisionId: randomUUID(),
        });
        return this.answer(res, record, 200, { 'content-type': 'application/json', 'x-amzn-requestid': randomUUID() }, json);
      }
      default:
        throw new AwsError(404, 'UnknownOperationException', 'Unknown operation');
    }
  }

  private checkPolicyChange(caller: CallerIdentity, target: string, action: string): void {
    if (this.policyChangesDenied.has(target)) {
      throw new AwsError(403, 'AccessDeniedException', `User: ${caller.arn} is not authorized to perform: ${action} on resource: ${target} because no identity-based policy allows the ${action} action`);
    }
  }

  private async invoke(
    res: http.ServerResponse,
    caller: CallerIdentity,
    target: string,
    req: http.IncomingMessage,
    body: Buffer,
    record: RecordDraft,
  ): Promise<void> {
    if (!this.mayInvoke(caller.principalArn, target)) {
      throw new AwsError(
        403,
        'AccessDeniedException',
        `User: ${caller.arn} is not authorized to perform: lambda:InvokeFunction on resource: ${target} because no resource-based policy allows the lambda:InvokeFunction action`,
      );
    }
    const code = this.functions.get(target);
    if (!code) throw new AwsError(404, 'ResourceNotFoundException', `Function not found: ${target}`);
    const invocationType = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
    if (invocationType !== 'RequestResponse') throw new AwsError(400, 'InvalidParameterValueException', `unsupported invocation type ${invocationType} in the stand-in`);
    let event: unknown;
    try {
      event = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
    } catch (e) {
      throw new AwsError(400, 'InvalidRequestContentException', `Could not parse request body into json: ${(e as Error).message}`);
    }
    const ev = event as { path?: string; rawPath?: string; httpMethod?: string; requestContext?: { http?: { method?: string } } };
    record.restateRequest = `${ev.httpMethod ?? ev.requestContext?.http?.method ?? '?'} ${ev.path ?? ev.rawPath ?? '?'}`;
    const { name, qualifier } = parseFunctionArn(target);
    const started = Date.now();
    const context: LambdaInvocationContext = {
      functionName: name,
      functionVersion: /^\d+$/.test(qualifier ?? '') ? qualifier! : '1',
      invokedFunctionArn: target,
      awsRequestId: randomUUID(),
      memoryLimitInMB: '128',
      logGroupName: `/aws/lambda/${name}`,
      logStreamName: `2026/01/01/[${qualifier ?? '$LATEST'}]${randomId(32).toLowerCase()}`,
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => Math.max(0, started + 60_000 - Date.now()),
    };
    const headers = { 'content-type': 'application/json', 'x-amz-executed-version': context.functionVersion, 'x-amzn-requestid': context.awsRequestId };
    let result: unknown;
    try {
      result = await code(event, context);
    } catch (e) {
      const err = e as Error;
      record.functionResult = 'Unhandled';
      const payload = JSON.stringify({ errorType: err?.name ?? 'Error', errorMessage: err?.message ?? String(e), trace: String(err?.stack ?? '').split('\n') });
      return this.answer(res, record, 200, { ...headers, 'x-amz-function-error': 'Unhandled' }, payload);
    }
    const status = (result as { statusCode?: unknown } | undefined)?.statusCode;
    record.functionResult = status === undefined ? 'no statusCode' : String(status);
    return this.answer(res, record, 200, headers, JSON.stringify(result ?? null));
  }
}

// --- CloudFormation templates ------------------------------------------------------------------

export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
  readonly DependsOn?: string | string[];
}

export interface CloudFormationTemplate {
  readonly Resources: Record<string, TemplateResource>;
}

export interface TemplateDeployment {
  /** Statements this deploy added (new logical ids). */
  readonly added: PermissionStatement[];
  /** CloudFormation's cleanup phase: deletes the permissions this template dropped, unless retained. */
  cleanup(): { removed: PermissionStatement[]; retained: PermissionStatement[] };
}

/** A template value: literal, `Ref`, `Fn::GetAtt` or `Fn::Join`, resolved through `refs`. */
export function resolveValue(value: unknown, refs: Record<string, string>): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if (v && typeof v.Ref === 'string') {
    const r = refs[v.Ref];
    if (r === undefined) throw new Error(`no value for { Ref: ${v.Ref} } in refs`);
    return r;
  }
  if (v && Array.isArray(v['Fn::GetAtt'])) {
    const [id, attr] = v['Fn::GetAtt'] as [string, string];
    const r = refs[`${id}.${attr}`] ?? refs[id];
    if (r === undefined) throw new Error(`no value for { Fn::GetAtt: [${id}, ${attr}] } in refs`);
    return r;
  }
  if (v && Array.isArray(v['Fn::Join'])) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map((p) => resolveValue(p, refs)).join(sep);
  }
  throw new Error(`cannot resolve template value ${JSON.stringify(value)}`);
}

// --- helpers -------------------------------------------------------------------------------------

function policyStatement(s: PermissionStatement): Record<string, unknown> {
  return { Sid: s.sid, Effect: 'Allow', Principal: { AWS: s.principal }, Action: s.action, Resource: s.resource };
}

function stsError(err: AwsError, requestId: string): string {
  return [
    `<ErrorResponse xmlns="${STS_NS}">`,
    '  <Error>',
    `    <Type>${err.type}</Type>`,
    `    <Code>${xmlEscape(err.code)}</Code>`,
    `    <Message>${xmlEscape(err.message)}</Message>`,
    '  </Error>',
    `  <RequestId>${requestId}</RequestId>`,
    '</ErrorResponse>',
  ].join('\n');
}

function assumedRoleArn(role: string, sessionName: string): string {
  const [, , , , account, resource] = role.split(':');
  return `arn:aws:sts::${account}:assumed-role/${resource.slice('role/'.length).split('/').pop()}/${sessionName}`;
}

function parseFunctionArn(arn: string): { name: string; qualifier?: string } {
  const m = /^arn:aws:lambda:([a-z0-9-]+):(\d{12}):function:([A-Za-z0-9_-]+)(?::(\$LATEST|[A-Za-z0-9_-]+))?$/.exec(arn);
  if (!m) throw new AwsError(400, 'ValidationException', `1 validation error detected: Value '${arn}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern`);
  return { name: m[3], qualifier: m[4] };
}

/** The qualified ARN a Lambda API call is about (name, partial or full ARN, `Qualifier`). */
function qualifiedTarget(functionName: string, qualifier?: string): string {
  const arn = functionName.startsWith('arn:') ? functionName : functionArn(functionName);
  const parsed = parseFunctionArn(arn);
  if (qualifier !== undefined) {
    if (parsed.qualifier !== undefined && parsed.qualifier !== qualifier) {
      throw new AwsError(400, 'InvalidParameterValueException', 'The derived qualifier from the function name does not match the specified qualifier.');
    }
    return functionArn(parsed.name, qualifier);
  }
  return arn;
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8') || '{}');
  } catch {
    throw new AwsError(400, 'InvalidRequestContentException', 'Could not parse request body into json');
  }
}

function wildcardMatch(pattern: string, value: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(value);
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

function randomId(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  return [...randomBytes(length)].map((b) => alphabet[b % alphabet.length]).join('');
}

// --- SigV4 ----------------------------------------------------------------------------------------

interface SigV4Authorization {
  readonly accessKeyId: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: string[];
  readonly signature: string;
}

function parseAuthorization(header: string | undefined): SigV4Authorization | undefined {
  if (!header?.startsWith('AWS4-HMAC-SHA256 ')) return undefined;
  const fields = new Map<string, string>();
  for (const part of header.slice('AWS4-HMAC-SHA256 '.length).split(',')) {
    const i = part.indexOf('=');
    if (i > 0) fields.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
  }
  const credential = (fields.get('Credential') ?? '').split('/');
  if (credential.length !== 5 || credential[4] !== 'aws4_request') return undefined;
  return {
    accessKeyId: credential[0],
    date: credential[1],
    region: credential[2],
    service: credential[3],
    signedHeaders: (fields.get('SignedHeaders') ?? '').split(';').filter((h) => h.length > 0),
    signature: fields.get('Signature') ?? '',
  };
}

/** RFC 3986 encoding as SigV4 wants it (unreserved characters stay). */
function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, '%20'));
  } catch {
    return s;
  }
}

function verifySignature(req: http.IncomingMessage, body: Buffer, auth: SigV4Authorization, secret: string): boolean {
  const [rawPath, rawQuery = ''] = (req.url ?? '/').split('?');
  // Non-S3 services: the (already encoded) path is encoded once more.
  const canonicalUri = uriEncode(rawPath).replace(/%2F/g, '/');
  const canonicalQuery = rawQuery
    .split('&')
    .filter((p) => p.length > 0)
    .map((p) => {
      const i = p.indexOf('=');
      const k = i < 0 ? p : p.slice(0, i);
      const v = i < 0 ? '' : p.slice(i + 1);
      return [uriEncode(safeDecode(k)), uriEncode(safeDecode(v))];
    })
    .sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const values = new Map<string, string[]>();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i].toLowerCase();
    values.set(name, [...(values.get(name) ?? []), req.rawHeaders[i + 1].trim().replace(/\s+/g, ' ')]);
  }
  const canonicalHeaders = auth.signedHeaders.map((h) => `${h}:${(values.get(h) ?? []).join(',')}\n`).join('');
  const payloadHash = String(req.headers['x-amz-content-sha256'] ?? createHash('sha256').update(body).digest('hex'));
  const canonicalRequest = [req.method, canonicalUri, canonicalQuery, canonicalHeaders, auth.signedHeaders.join(';'), payloadHash].join('\n');
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
  const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${secret}`, auth.date), auth.region), auth.service), 'aws4_request');
  const expected = Buffer.from(hmac(signingKey, stringToSign).toString('hex'));
  const given = Buffer.from(auth.signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
