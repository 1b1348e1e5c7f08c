/**
 * One benchmark sample, run as a fresh node process by bench/src/bench.ts:
 *
 *   node synth-app.js '{"lib":"ours","n":30,"perStack":0,"analyze":true,"outdir":"..."}'
 *
 * Builds the same app with either library — a Restate Cloud environment, a ServiceDeployer,
 * N Lambda handlers (each its own function sharing the stack's execution role, registered as
 * `fn.currentVersion`) — and times only app construction + app.synth(). Prints one JSON line.
 *
 * lib: 'ours' (restate-cloud-cdk, compiled into bench/.work/ours), 'ref'
 * (@restatedev/restate-cdk@1.7.0 in bench/.work/ref), or 'none' (handlers only, no library:
 * to count the handlers' own resources).
 *
 * perStack 0: everything in one stack. perStack k: environment (and invoker role) in a
 * platform stack, handlers in service stacks of at most k handlers, each with its own
 * ServiceDeployer (the topology both libraries support across stacks; a shared deployer in the
 * platform stack makes @restatedev/restate-cdk's invocation policy reference every service
 * stack, a dependency cycle).
 */
import * as fs from 'fs';
import { performance } from 'perf_hooks';
import {
  analyzeIamDocuments,
  countResources,
  IamDocumentKind,
  IamDocumentSize,
  largestDocument,
  largestPerKind,
  StackTemplate,
} from '../../test/support/iam-size';

// Loaded before the clock starts, for both libraries alike.
/* eslint-disable @typescript-eslint/no-require-imports */
const cdk = require('aws-cdk-lib') as typeof import('aws-cdk-lib');
const iam = require('aws-cdk-lib/aws-iam') as typeof import('aws-cdk-lib/aws-iam');
const lambda = require('aws-cdk-lib/aws-lambda') as typeof import('aws-cdk-lib/aws-lambda');
const secretsmanager = require('aws-cdk-lib/aws-secretsmanager') as typeof import('aws-cdk-lib/aws-secretsmanager');
require('aws-cdk-lib/aws-logs');

interface Input {
  readonly lib: 'ours' | 'ref' | 'none';
  readonly n: number;
  readonly perStack: number;
  readonly analyze: boolean;
  readonly outdir: string;
  /** Record a CPU profile of construction + synth into this file. */
  readonly profile?: string;
  /** ours only: register with this `InvokeGrant` instead of the default (`TEMPLATE`), for the cost breakdown. */
  readonly invokeGrant?: 'TEMPLATE' | 'DEPLOYER';
}

export interface SampleResult {
  readonly lib: string;
  readonly n: number;
  /** Wall-clock time of app construction + app.synth(). */
  readonly ms: number;
  /** CPU time (user + system, all threads of the process) of the same window. */
  readonly cpuMs?: number;
  /** Peak resident memory of the whole process (module loading included), KiB: `process.resourceUsage().maxRSS`. */
  readonly maxRssKiB?: number;
  readonly resources?: { total: number; byType: Record<string, number>; maxPerStack: number };
  readonly iam?: {
    readonly largest?: Summary;
    readonly largestPerKind: Partial<Record<IamDocumentKind, Summary>>;
    readonly overLimit: Summary[];
  };
  readonly error?: string;
}

interface Summary {
  kind: IamDocumentKind;
  name: string;
  size: number;
  limit: number;
  usage: number;
  statements: number;
}

const ENV = { account: '123456789012', region: 'us-east-1' };
const ENV_ID = 'env_201hy10cd3h6426jy80tb32n6en';
const SERVICE_STACKS = ['orders', 'payments', 'inventory', 'shipping', 'billing', 'catalog', 'pricing', 'search', 'accounts', 'notify'];

function serviceStackName(i: number): string {
  const base = SERVICE_STACKS[i % SERVICE_STACKS.length];
  const round = Math.floor(i / SERVICE_STACKS.length);
  return `${base}${round > 0 ? round + 1 : ''}-service-prod`;
}

function loadLibrary(lib: Input['lib']): any {
  if (lib === 'ours') return require(requiredEnv('BENCH_OURS_LIB'));
  if (lib === 'ref') return require(requiredEnv('BENCH_REF_LIB'));
  return undefined;
}

function requiredEnv(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run bench/run.sh)`);
  return v;
}

function main(): void {
  const input = JSON.parse(process.argv[2]) as Input;
  const L = loadLibrary(input.lib);
  if (!input.profile) {
    report(input, timed(input, L));
    return;
  }
  const inspector = require('inspector') as typeof import('inspector');
  const session = new inspector.Session();
  session.connect();
  session.post('Profiler.enable', () =>
    session.post('Profiler.setSamplingInterval', { interval: 1000 }, () =>
      session.post('Profiler.start', () => {
        const t = timed(input, L);
        session.post('Profiler.stop', (err, result) => {
          if (err) throw err;
          fs.writeFileSync(input.profile!, JSON.stringify(result.profile));
          session.disconnect();
          report(input, t);
        });
      }),
    ),
  );
}

interface Timed {
  readonly ms: number;
  readonly cpuMs?: number;
  readonly assembly?: import('aws-cdk-lib/cx-api').CloudAssembly;
  readonly error?: string;
}

/** App construction + app.synth(), and nothing else, on the clock. */
function timed(input: Input, L: any): Timed {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  try {
    const app = new cdk.App({ outdir: input.outdir });
    build(app, L, input);
    const assembly = app.synth();
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(c0);
    return { ms, cpuMs: (cpu.user + cpu.system) / 1000, assembly };
  } catch (e) {
    return { ms: performance.now() - t0, error: firstLine(e) };
  }
}

function report(input: Input, t: Timed): void {
  if (t.error || !t.assembly) {
    emit({ lib: input.lib, n: input.n, ms: t.ms, error: t.error });
    return;
  }
  const result: { -readonly [K in keyof SampleResult]: SampleResult[K] } = { lib: input.lib, n: input.n, ms: t.ms, cpuMs: t.cpuMs };
  if (input.analyze) {
    const stacks: StackTemplate[] = t.assembly.stacks.map((s) => ({ stackName: s.stackName, template: s.template }));
    const counts = countResources(stacks);
    result.resources = { ...counts, maxPerStack: Math.max(...stacks.map((s) => Object.keys(s.template.Resources ?? {}).length)) };
    const sizes = analyzeIamDocuments(stacks);
    const perKind = largestPerKind(sizes);
    result.iam = {
      largest: summary(largestDocument(sizes)),
      largestPerKind: Object.fromEntries(Object.entries(perKind).map(([k, v]) => [k, summary(v)])),
      overLimit: sizes.filter((s) => s.size > s.limit).map((s) => summary(s)!),
    };
  }
  emit(result);
}

function build(app: import('aws-cdk-lib').App, L: any, input: Input): void {
  const single = input.perStack <= 0;
  const platform = new cdk.Stack(app, single ? 'orders-service-prod' : 'restate-platform-prod', { env: ENV });
  let environment: unknown;
  if (L) {
    const apiKey = secretsmanager.Secret.fromSecretNameV2(platform, 'ApiKey', 'restate/prod/api-key');
    environment = new L.RestateCloudEnvironment(platform, 'RestateProd', { environmentId: ENV_ID, apiKey });
  }
  const serviceStacks: import('aws-cdk-lib').Stack[] = [];
  const stackFor = (i: number) => {
    if (single) return platform;
    const k = Math.floor(i / input.perStack);
    serviceStacks[k] ??= new cdk.Stack(app, serviceStackName(k), { env: ENV });
    return serviceStacks[k];
  };
  const roles = new Map<import('aws-cdk-lib').Stack, import('aws-cdk-lib/aws-iam').IRole>();
  const deployers = new Map<import('aws-cdk-lib').Stack, any>();
  for (let i = 0; i < input.n; i++) {
    const stack = stackFor(i);
    let role = roles.get(stack);
    if (!role) {
      role = new iam.Role(stack, 'HandlerExecutionRole', {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaBasicExecutionRole')],
      });
      roles.set(stack, role);
    }
    const id = `CheckoutHandler${String(i).padStart(3, '0')}`;
    const fn = new lambda.Function(stack, id, {
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: lambda.Code.fromInline(`exports.handler = async () => (${JSON.stringify(id)});`),
      role,
    });
    if (!L) {
      void fn.currentVersion;
      continue;
    }
    let deployer = deployers.get(stack);
    if (!deployer) {
      deployer = new L.ServiceDeployer(stack, 'ServiceDeployer');
      deployers.set(stack, deployer);
    }
    deployer.register(fn.currentVersion, environment, input.invokeGrant ? { invokeGrant: L.InvokeGrant[input.invokeGrant] } : undefined);
  }
  if (L && input.n === 0) new L.ServiceDeployer(platform, 'ServiceDeployer');
}

function summary(s: IamDocumentSize | undefined): Summary | undefined {
  if (!s) return undefined;
  return { kind: s.kind, name: s.name, size: s.size, limit: s.limit, usage: s.usage, statements: s.statements };
}

function firstLine(e: unknown): string {
  const text = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return text.split('\n')[0].slice(0, 300);
}

function emit(result: SampleResult): void {
  fs.writeSync(1, `${JSON.stringify({ ...result, maxRssKiB: process.resourceUsage().maxRSS })}\n`);
}

main();
