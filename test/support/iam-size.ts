import * as crypto from 'crypto';
import { permissionFunctionName, statementId } from '../../src/deployer/statement-id';

/**
 * Sizing of the IAM documents a synthesized CDK app would create, as AWS would store them.
 *
 * Templates are full of tokens (`Fn::GetAtt`, `Ref`, `Fn::Join`, `Fn::ImportValue`, ...), which
 * make policies look shorter (or longer) than they are once deployed. `TemplateResolver`
 * replaces every intrinsic with a realistic value: a 12-digit account, region us-east-1, and
 * physical names generated the way CloudFormation generates them
 * (`<stack name>-<logical id>-<12 random characters>`, truncated to the resource type's name
 * limit), e.g. `orders-service-prod-CheckoutHandler0A1B2C3D-AbCdEfGhIjKl`, with version `:12`.
 * `analyzeIamDocuments` then serializes each IAM document minified (IAM does not count
 * whitespace) and compares it with its AWS limit.
 *
 * Used by test/scale.test.ts and by the benchmark (bench/), so it must not import aws-cdk-lib:
 * it works on plain template JSON.
 */

/** AWS limits of IAM documents, in characters (whitespace not counted). */
export const IAM_LIMITS = {
  /** Aggregate size of all inline policies of one IAM role. */
  roleInlinePolicies: 10_240,
  /** One customer managed policy. */
  managedPolicy: 6_144,
  /** One Lambda function's (or version's, or alias's) resource-based policy. */
  lambdaResourcePolicy: 20_480,
  /** A role's trust policy (the default quota; it can be raised to 4,096). */
  trustPolicy: 2_048,
} as const;

/** Managed policies attached to one role (default quota). */
export const MAX_MANAGED_POLICIES_PER_ROLE = 10;

export type IamDocumentKind = 'role-inline-policies' | 'managed-policy' | 'lambda-resource-policy' | 'trust-policy';

export interface IamDocumentSize {
  readonly kind: IamDocumentKind;
  /** Role name, managed policy name or `function:qualifier`. */
  readonly name: string;
  /** The stack that declares the document (for aggregates: the stacks, comma-separated). */
  readonly stack: string;
  /** Minified JSON length, as IAM counts it. */
  readonly size: number;
  readonly limit: number;
  /** size / limit. */
  readonly usage: number;
  /** Number of statements in the document(s). */
  readonly statements: number;
  /** The resolved document(s), for inspection. */
  readonly documents: unknown[];
}

export interface StackTemplate {
  readonly stackName: string;
  readonly template: any;
}

export interface ResolverOptions {
  /** @default '123456789012' */
  readonly account?: string;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default 'aws' */
  readonly partition?: string;
  /** The number every published Lambda version gets. @default 12 */
  readonly lambdaVersion?: number;
}

/** The maximum length of generated physical names, per resource type. */
const NAME_LIMITS: Record<string, number> = {
  'AWS::Lambda::Function': 64,
  'AWS::IAM::Role': 64,
  'AWS::IAM::ManagedPolicy': 128,
  'AWS::IAM::Policy': 128,
  'AWS::Logs::LogGroup': 512,
  'AWS::SecretsManager::Secret': 256,
  'AWS::Lambda::Permission': 100,
};

const RANDOM_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** 12 pseudo-random alphanumerics, stable for a given seed (like CloudFormation's suffixes). */
export function randomSuffix(seed: string, length = 12): string {
  const bytes = crypto.createHash('sha256').update(seed).digest();
  let out = '';
  for (let i = 0; i < length; i++) out += RANDOM_ALPHABET[bytes[i] % RANDOM_ALPHABET.length];
  return out;
}

/** `<stack>-<logicalId>-<random>`, truncated the way CloudFormation does to fit `limit`. */
export function generatedPhysicalName(stackName: string, logicalId: string, limit = 64): string {
  const suffix = randomSuffix(`${stackName}/${logicalId}`);
  const room = limit - suffix.length - 1;
  let stackPart = stackName;
  let idPart = logicalId;
  // CloudFormation shortens both parts; keep at least half the room for the logical id.
  while (stackPart.length + 1 + idPart.length > room) {
    if (stackPart.length > Math.floor(room / 2)) stackPart = stackPart.slice(0, -1);
    else idPart = idPart.slice(0, -1);
  }
  return `${stackPart}-${idPart}-${suffix}`;
}

class NoValue {}
const NO_VALUE = new NoValue();

/**
 * Resolves CloudFormation intrinsics in the templates of one app to realistic literal values.
 */
export class TemplateResolver {
  public readonly account: string;
  public readonly region: string;
  public readonly partition: string;
  public readonly lambdaVersion: number;
  private readonly stacks = new Map<string, any>();
  private readonly exports = new Map<string, { stackName: string; value: unknown }>();
  private readonly resolving = new Set<string>();

  constructor(stacks: readonly StackTemplate[], options: ResolverOptions = {}) {
    this.account = options.account ?? '123456789012';
    this.region = options.region ?? 'us-east-1';
    this.partition = options.partition ?? 'aws';
    this.lambdaVersion = options.lambdaVersion ?? 12;
    for (const { stackName, template } of stacks) {
      this.stacks.set(stackName, template);
      for (const output of Object.values<any>(template.Outputs ?? {})) {
        if (output.Export?.Name !== undefined) {
          const name = this.resolve(stackName, output.Export.Name);
          this.exports.set(String(name), { stackName, value: output.Value });
        }
      }
    }
  }

  public get stackNames(): string[] {
    return [...this.stacks.keys()];
  }

  public template(stackName: string): any {
    const t = this.stacks.get(stackName);
    if (!t) throw new Error(`no stack named ${stackName}`);
    return t;
  }

  /** Deeply resolves `value`, found in stack `stackName`, to literals. */
  public resolve(stackName: string, value: unknown): any {
    const out = this.resolveValue(stackName, value);
    return out === NO_VALUE ? undefined : out;
  }

  /** The realistic physical name (what `Ref` returns for most types) of a resource. */
  public physicalName(stackName: string, logicalId: string): string {
    const resource = this.resource(stackName, logicalId);
    const props = resource.Properties ?? {};
    const nameProp: Record<string, string> = {
      'AWS::Lambda::Function': 'FunctionName',
      'AWS::IAM::Role': 'RoleName',
      'AWS::IAM::ManagedPolicy': 'ManagedPolicyName',
      'AWS::IAM::Policy': 'PolicyName',
      'AWS::Logs::LogGroup': 'LogGroupName',
      'AWS::SecretsManager::Secret': 'Name',
    };
    const prop = nameProp[resource.Type];
    if (prop && props[prop] !== undefined) return String(this.resolve(stackName, props[prop]));
    if (resource.Type === 'AWS::Logs::LogGroup') return `/aws/${generatedPhysicalName(stackName, logicalId, 200)}`;
    return generatedPhysicalName(stackName, logicalId, NAME_LIMITS[resource.Type] ?? 64);
  }

  private resource(stackName: string, logicalId: string): any {
    const resource = this.template(stackName).Resources?.[logicalId];
    if (!resource) throw new Error(`${stackName} has no resource ${logicalId}`);
    return resource;
  }

  private arn(service: string, resource: string, region = this.region, account = this.account): string {
    return `arn:${this.partition}:${service}:${region}:${account}:${resource}`;
  }

  private ref(stackName: string, name: string): unknown {
    const pseudo: Record<string, () => unknown> = {
      'AWS::Partition': () => this.partition,
      'AWS::Region': () => this.region,
      'AWS::AccountId': () => this.account,
      'AWS::URLSuffix': () => 'amazonaws.com',
      'AWS::StackName': () => stackName,
      'AWS::StackId': () => this.arn('cloudformation', `stack/${stackName}/${uuidFrom(stackName)}`),
      'AWS::NoValue': () => NO_VALUE,
      'AWS::NotificationARNs': () => [],
    };
    if (pseudo[name]) return pseudo[name]();
    const template = this.template(stackName);
    const parameter = template.Parameters?.[name];
    if (parameter) return parameter.Default ?? `${name}-value`;
    const resource = this.resource(stackName, name);
    const physical = () => this.physicalName(stackName, name);
    switch (resource.Type) {
      case 'AWS::IAM::ManagedPolicy':
        return `arn:${this.partition}:iam::${this.account}:policy${this.resolve(stackName, resource.Properties?.Path) ?? '/'}${physical()}`;
      case 'AWS::SecretsManager::Secret':
        return this.arn('secretsmanager', `secret:${physical()}-${randomSuffix(`${stackName}/${name}/secret`, 6)}`);
      case 'AWS::Lambda::Version':
        return `${this.functionArnOf(stackName, resource.Properties.FunctionName)}:${this.lambdaVersion}`;
      case 'AWS::Lambda::Alias':
        return `${this.functionArnOf(stackName, resource.Properties.FunctionName)}:${this.resolve(stackName, resource.Properties.Name)}`;
      case 'AWS::Lambda::Permission':
      case 'AWS::IAM::Policy':
        return generatedPhysicalName(stackName, name, NAME_LIMITS[resource.Type]);
      default:
        return physical();
    }
  }

  /** A function ARN from a FunctionName property (name, partial or full ARN, or token). */
  private functionArnOf(stackName: string, functionName: unknown): string {
    const resolved = String(this.resolve(stackName, functionName));
    if (resolved.startsWith('arn:')) return resolved;
    return this.arn('lambda', `function:${resolved}`);
  }

  private getAtt(stackName: string, logicalId: string, attribute: string): unknown {
    const resource = this.resource(stackName, logicalId);
    const physical = () => this.physicalName(stackName, logicalId);
    switch (`${resource.Type}.${attribute}`) {
      case 'AWS::Lambda::Function.Arn':
        return this.arn('lambda', `function:${physical()}`);
      case 'AWS::Lambda::Version.Version':
        return String(this.lambdaVersion);
      case 'AWS::Lambda::Version.FunctionArn':
        return this.ref(stackName, logicalId);
      case 'AWS::IAM::Role.Arn': {
        const path = this.resolve(stackName, resource.Properties?.Path) ?? '/';
        return `arn:${this.partition}:iam::${this.account}:role${path}${physical()}`;
      }
      case 'AWS::IAM::Role.RoleId':
        return `AROA${randomSuffix(`${stackName}/${logicalId}/id`, 17).toUpperCase()}`;
      case 'AWS::Logs::LogGroup.Arn':
        return this.arn('logs', `log-group:${physical()}:*`);
      case 'AWS::SecretsManager::Secret.Id':
        return this.ref(stackName, logicalId);
      default:
        if (resource.Type.startsWith('Custom::') || resource.Type === 'AWS::CloudFormation::CustomResource') {
          return `dp_${randomSuffix(`${stackName}/${logicalId}/${attribute}`, 23)}`;
        }
        if (attribute === 'Arn') {
          const service = resource.Type.split('::')[1].toLowerCase();
          return this.arn(service, physical());
        }
        return `${physical()}-${attribute}`;
    }
  }

  private resolveValue(stackName: string, value: unknown): unknown {
    if (value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) {
      return value.map((v) => this.resolveValue(stackName, v)).filter((v) => v !== NO_VALUE);
    }
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj);
    if (keys.length === 1 && (keys[0] === 'Ref' || keys[0].startsWith('Fn::'))) {
      return this.intrinsic(stackName, keys[0], obj[keys[0]]);
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) {
      const r = this.resolveValue(stackName, v);
      if (r !== NO_VALUE) out[k] = r;
    }
    return out;
  }

  private intrinsic(stackName: string, fn: string, arg: any): unknown {
    const r = (v: unknown) => this.resolveValue(stackName, v);
    switch (fn) {
      case 'Ref':
        return this.ref(stackName, String(arg));
      case 'Fn::GetAtt': {
        const [logicalId, attribute] = Array.isArray(arg) ? arg : String(arg).split(/\.(.*)/);
        return this.getAtt(stackName, logicalId, String(r(attribute)));
      }
      case 'Fn::Join': {
        const [sep, parts] = arg;
        const list = r(parts) as unknown[];
        return list.map(String).join(String(sep));
      }
      case 'Fn::Select': {
        const [index, list] = arg;
        return (r(list) as unknown[])[Number(r(index))];
      }
      case 'Fn::Split': {
        const [sep, source] = arg;
        return String(r(source)).split(String(sep));
      }
      case 'Fn::Sub': {
        const [text, vars] = Array.isArray(arg) ? arg : [arg, {}];
        const resolvedVars = r(vars) as Record<string, unknown>;
        return String(text).replace(/\$\{([^}!]+)\}/g, (_m, name: string) => {
          if (name in resolvedVars) return String(resolvedVars[name]);
          const [id, att] = name.split(/\.(.*)/);
          return String(att ? this.getAtt(stackName, id, att) : this.ref(stackName, id));
        });
      }
      case 'Fn::ImportValue': {
        const name = String(r(arg));
        const exported = this.exports.get(name);
        if (!exported) throw new Error(`${stackName} imports ${name}, which no stack exports`);
        const key = `import:${name}`;
        if (this.resolving.has(key)) throw new Error(`circular import of ${name}`);
        this.resolving.add(key);
        try {
          return this.resolveValue(exported.stackName, exported.value);
        } finally {
          this.resolving.delete(key);
        }
      }
      case 'Fn::GetAZs':
        return ['a', 'b', 'c'].map((z) => `${this.region}${z}`);
      case 'Fn::FindInMap': {
        const [map, top, second] = arg;
        return this.template(stackName).Mappings?.[String(r(map))]?.[String(r(top))]?.[String(r(second))];
      }
      case 'Fn::If': {
        const [condition, whenTrue, whenFalse] = arg;
        return this.condition(stackName, condition) ? r(whenTrue) : r(whenFalse);
      }
      case 'Fn::Base64':
        return Buffer.from(String(r(arg))).toString('base64');
      default:
        throw new Error(`unsupported intrinsic ${fn} in ${stackName}: ${JSON.stringify(arg)}`);
    }
  }

  private condition(stackName: string, name: string): boolean {
    const expr = this.template(stackName).Conditions?.[name];
    if (expr === undefined) throw new Error(`${stackName} has no condition ${name}`);
    return this.evaluate(stackName, expr);
  }

  private evaluate(stackName: string, expr: any): boolean {
    if (expr.Condition) return this.condition(stackName, expr.Condition);
    const [fn] = Object.keys(expr);
    const args = expr[fn];
    switch (fn) {
      case 'Fn::Equals':
        return JSON.stringify(this.resolve(stackName, args[0])) === JSON.stringify(this.resolve(stackName, args[1]));
      case 'Fn::Not':
        return !this.evaluate(stackName, args[0]);
      case 'Fn::And':
        return args.every((a: any) => this.evaluate(stackName, a));
      case 'Fn::Or':
        return args.some((a: any) => this.evaluate(stackName, a));
      default:
        throw new Error(`unsupported condition function ${fn}`);
    }
  }
}

function uuidFrom(seed: string): string {
  const h = crypto.createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** The size IAM counts for a policy document: minified JSON, whitespace outside strings removed. */
export function iamSize(document: unknown): number {
  return JSON.stringify(document).length;
}

function statementCount(document: any): number {
  const s = document?.Statement;
  return Array.isArray(s) ? s.length : s ? 1 : 0;
}

function asList<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** How Lambda writes the principal of an AddPermission call into the policy. */
function lambdaPrincipal(principal: string): unknown {
  if (principal === '*') return '*';
  if (/^\d{12}$/.test(principal)) return { AWS: `arn:aws:iam::${principal}:root` };
  if (principal.startsWith('arn:')) return { AWS: principal };
  return { Service: principal };
}

/**
 * Every IAM document of the app, resolved with realistic ARNs and sized:
 * - per role, the aggregate of its inline policies (`Policies` of the role plus every
 *   `AWS::IAM::Policy` attached to it, from any stack);
 * - each customer managed policy;
 * - per Lambda function and qualifier, the resource policy that its `AWS::Lambda::Permission`s
 *   (from any stack) and the deployer's deploy-time grants (`Custom::RestateDeployment` with
 *   `GrantInvoke`) add up to, as Lambda stores it
 *   (`{"Version","Id":"default","Statement":[{"Sid","Effect","Principal","Action","Resource","Condition"?}]}`);
 * - each role's trust policy.
 */
export function analyzeIamDocuments(stacks: readonly StackTemplate[], options: ResolverOptions = {}): IamDocumentSize[] {
  const resolver = new TemplateResolver(stacks, options);
  const inline = new Map<string, { stacks: Set<string>; documents: unknown[] }>();
  const results: IamDocumentSize[] = [];
  const addInline = (roleName: string, stackName: string, document: unknown) => {
    const entry = inline.get(roleName) ?? { stacks: new Set<string>(), documents: [] };
    entry.stacks.add(stackName);
    entry.documents.push(document);
    inline.set(roleName, entry);
  };
  const resourcePolicies = new Map<string, { stacks: Set<string>; statements: unknown[] }>();
  const addStatement = (key: string, stackName: string, statement: unknown) => {
    const entry = resourcePolicies.get(key) ?? { stacks: new Set<string>(), statements: [] };
    entry.stacks.add(stackName);
    entry.statements.push(statement);
    resourcePolicies.set(key, entry);
  };

  for (const stackName of resolver.stackNames) {
    const resources = resolver.template(stackName).Resources ?? {};
    for (const [logicalId, resource] of Object.entries<any>(resources)) {
      const props = resource.Properties ?? {};
      switch (resource.Type) {
        case 'AWS::IAM::Role': {
          const roleName = resolver.physicalName(stackName, logicalId);
          const trust = resolver.resolve(stackName, props.AssumeRolePolicyDocument);
          results.push(sized('trust-policy', roleName, stackName, [trust], IAM_LIMITS.trustPolicy));
          for (const policy of asList<any>(props.Policies)) {
            addInline(roleName, stackName, resolver.resolve(stackName, policy.PolicyDocument));
          }
          break;
        }
        case 'AWS::IAM::Policy': {
          const document = resolver.resolve(stackName, props.PolicyDocument);
          for (const role of asList<unknown>(props.Roles)) {
            addInline(roleNameOf(String(resolver.resolve(stackName, role))), stackName, document);
          }
          break;
        }
        case 'AWS::IAM::ManagedPolicy': {
          const name = resolver.physicalName(stackName, logicalId);
          const document = resolver.resolve(stackName, props.PolicyDocument);
          results.push(sized('managed-policy', name, stackName, [document], IAM_LIMITS.managedPolicy));
          break;
        }
        case 'AWS::Lambda::Permission': {
          const target = String(resolver.resolve(stackName, props.FunctionName));
          const functionArn = target.startsWith('arn:') ? target : `arn:aws:lambda:${resolver.region}:${resolver.account}:function:${target}`;
          const key = qualifiedKey(functionArn);
          const condition: Record<string, Record<string, unknown>> = {};
          const add = (op: string, k: string, v: unknown) => {
            if (v !== undefined) condition[op] = { ...(condition[op] ?? {}), [k]: resolver.resolve(stackName, v) };
          };
          add('StringEquals', 'AWS:SourceAccount', props.SourceAccount);
          add('ArnLike', 'AWS:SourceArn', props.SourceArn);
          add('StringEquals', 'aws:PrincipalOrgID', props.PrincipalOrgID);
          add('StringEquals', 'lambda:FunctionUrlAuthType', props.FunctionUrlAuthType);
          add('StringEquals', 'lambda:EventSourceToken', props.EventSourceToken);
          const statement: Record<string, unknown> = {
            Sid: generatedPhysicalName(stackName, logicalId, NAME_LIMITS['AWS::Lambda::Permission']),
            Effect: 'Allow',
            Principal: lambdaPrincipal(String(resolver.resolve(stackName, props.Principal))),
            Action: resolver.resolve(stackName, props.Action),
            Resource: functionArn,
          };
          if (Object.keys(condition).length > 0) statement.Condition = condition;
          addStatement(key, stackName, statement);
          break;
        }
        case 'Custom::RestateDeployment': {
          // The statement the deployer adds at deploy time (InvokeGrant.DEPLOYER), as Lambda stores it.
          if (props.GrantInvoke !== 'true' || !props.LambdaArn || !props.AssumeRoleArn) break;
          const roleArn = String(resolver.resolve(stackName, props.AssumeRoleArn));
          const functionArn = permissionFunctionName(String(resolver.resolve(stackName, props.LambdaArn)));
          addStatement(qualifiedKey(functionArn), stackName, {
            Sid: statementId(roleArn, String(resolver.resolve(stackName, props.AdminUrl))),
            Effect: 'Allow',
            Principal: { AWS: roleArn },
            Action: 'lambda:InvokeFunction',
            Resource: functionArn,
          });
          break;
        }
        default:
          break;
      }
    }
  }

  for (const [roleName, { stacks: from, documents }] of inline) {
    results.push(sized('role-inline-policies', roleName, [...from].join(','), documents, IAM_LIMITS.roleInlinePolicies));
  }
  for (const [key, { stacks: from, statements }] of resourcePolicies) {
    const document = { Version: '2012-10-17', Id: 'default', Statement: statements };
    results.push(sized('lambda-resource-policy', key, [...from].join(','), [document], IAM_LIMITS.lambdaResourcePolicy));
  }
  return results;
}

/** `function:qualifier`: Lambda keeps one resource policy per version or alias. */
function qualifiedKey(functionArn: string): string {
  const parts = functionArn.split(':');
  return parts.length > 7 ? `${parts[6]}:${parts[7]}` : `${parts[6]}:$LATEST`;
}

/** The role name in a role reference (a name, or an ARN from an imported role). */
function roleNameOf(reference: string): string {
  return reference.startsWith('arn:') ? reference.split('/').pop() ?? reference : reference;
}

function sized(kind: IamDocumentKind, name: string, stack: string, documents: unknown[], limit: number): IamDocumentSize {
  const size = documents.reduce<number>((n, d) => n + iamSize(d), 0);
  const statements = documents.reduce<number>((n, d) => n + statementCount(d), 0);
  return { kind, name, stack, size, limit, usage: size / limit, statements, documents };
}

/** The largest document of each kind (by usage of its limit). */
export function largestPerKind(sizes: readonly IamDocumentSize[]): Partial<Record<IamDocumentKind, IamDocumentSize>> {
  const out: Partial<Record<IamDocumentKind, IamDocumentSize>> = {};
  for (const s of sizes) {
    const current = out[s.kind];
    if (!current || s.usage > current.usage) out[s.kind] = s;
  }
  return out;
}

/** The document that uses the largest share of its limit. */
export function largestDocument(sizes: readonly IamDocumentSize[]): IamDocumentSize | undefined {
  return sizes.reduce<IamDocumentSize | undefined>((max, s) => (!max || s.usage > max.usage ? s : max), undefined);
}

/** Documents over `headroom` of their limit (0.8 = at least 20% headroom required). */
export function documentsOver(sizes: readonly IamDocumentSize[], headroom = 1): IamDocumentSize[] {
  return sizes.filter((s) => s.size > s.limit * headroom);
}

/** One line per document, for failure messages and reports. */
export function describeSize(s: IamDocumentSize): string {
  return `${s.kind} ${s.name} (${s.stack}): ${s.size}/${s.limit} chars (${(s.usage * 100).toFixed(1)}%), ${s.statements} statement(s)`;
}

/** Counts resources per type over all templates. */
export function countResources(stacks: readonly StackTemplate[]): { total: number; byType: Record<string, number> } {
  const byType: Record<string, number> = {};
  let total = 0;
  for (const { template } of stacks) {
    for (const resource of Object.values<any>(template.Resources ?? {})) {
      byType[resource.Type] = (byType[resource.Type] ?? 0) + 1;
      total++;
    }
  }
  return { total, byType };
}
