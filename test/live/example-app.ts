import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { RemovalPolicyName } from './config';

/**
 * The contract between the live suite and the example app in examples/lambda/, and the aws-cdk
 * CLI calls that synthesize, deploy and destroy it.
 *
 * The example takes these context values (`-c key=value`):
 *   environmentId     the Restate Cloud environment id (`env_...`)
 *   apiKeySecretName  the Secrets Manager secret holding the API key (a plain string)
 *   restateRegion     the Restate Cloud region, `us` or `eu`
 *   stackName         the CloudFormation stack name (unique per run)
 *   removalPolicy     `retain` or `destroy`: the registration's removal policy
 * and its one stack declares these outputs (CfnOutput ids directly under the stack):
 *   DeploymentId      ServiceRegistration.deploymentId
 *   InvokerRoleArn    the environment's invoker role ARN
 *   ServiceNames      ServiceRegistration.serviceNames (the first one is called), or
 *   ServiceName       the service to call through ingress
 *   HandlerName       (optional, default `greet`) the handler to call: it takes a JSON string
 *                     and answers with a JSON string that contains it
 *   HandlerArn        (optional) the Lambda version or alias ARN that was registered
 *
 * The app is synthesized once; deploy and destroy then use that cloud assembly, after the suite
 * has checked that it holds exactly one stack, named as asked, with the removal policy asked.
 */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const EXAMPLE_DIR = path.join(REPO_ROOT, 'examples', 'lambda');

export const CONTEXT = {
  environmentId: 'environmentId',
  apiKeySecretName: 'apiKeySecretName',
  restateRegion: 'restateRegion',
  stackName: 'stackName',
  removalPolicy: 'removalPolicy',
} as const;

export const OUTPUTS = {
  deploymentId: 'DeploymentId',
  invokerRoleArn: 'InvokerRoleArn',
  serviceNames: 'ServiceNames',
  serviceName: 'ServiceName',
  handlerName: 'HandlerName',
  handlerArn: 'HandlerArn',
} as const;

export const DEFAULT_HANDLER = 'greet';

export interface ExampleParameters {
  readonly environmentId: string;
  readonly apiKeySecretName: string;
  readonly restateRegion: string;
  readonly stackName: string;
  readonly removalPolicy: RemovalPolicyName;
  readonly awsRegion: string;
  /** Scratch directory of the run: cloud assembly and outputs file. */
  readonly workDir: string;
}

export interface ExampleOutputs {
  readonly deploymentId: string;
  readonly invokerRoleArn: string;
  readonly serviceName: string;
  readonly handlerName: string;
  readonly handlerArn?: string;
}

export interface RetainedResource {
  readonly logicalId: string;
  readonly type: string;
  readonly deletionPolicy: string;
}

export interface Assembly {
  readonly dir: string;
  /** Resources whose DeletionPolicy keeps them after `cdk destroy`. */
  readonly retained: RetainedResource[];
}

const PREPARE = 'run `npm run synth:example` first (it compiles the library when needed and links it for the examples)';

/**
 * What must hold before anything is created in the account (local files only): the example
 * exists, and the library it imports is compiled from the current sources.
 */
export function localProblems(): string[] {
  const problems: string[] = [];
  if (!fs.existsSync(path.join(EXAMPLE_DIR, 'cdk.json'))) {
    problems.push(`the example app is missing: ${path.relative(REPO_ROOT, path.join(EXAMPLE_DIR, 'cdk.json'))} not found`);
  }
  // The example imports lib/ (jsii output) and deploys the bundled deployer Lambda in assets/.
  const built: Array<[string, string]> = [
    ['lib/index.js', 'src'],
    ['assets/deployer/deployer.lambda/index.js', 'src/deployer'],
  ];
  for (const [file, sources] of built) {
    const full = path.join(REPO_ROOT, file);
    const mtime = fs.existsSync(full) ? fs.statSync(full).mtimeMs : undefined;
    if (mtime === undefined || mtime < newestMtime(path.join(REPO_ROOT, sources), (f) => f.endsWith('.ts'))) {
      problems.push(`${file} is ${mtime === undefined ? 'missing' : `older than ${sources}/`}: the example deploys the compiled library; ${PREPARE}`);
    }
  }
  if (!fs.existsSync(path.join(REPO_ROOT, 'examples', 'node_modules', 'restate-cloud-cdk', 'package.json'))) {
    problems.push(`examples/node_modules/restate-cloud-cdk (the link through which the example imports this repository) is missing; ${PREPARE}`);
  }
  return problems;
}

/** `cdk synth` into the run's directory, then checks the assembly against the contract. */
export async function synthExample(p: ExampleParameters): Promise<Assembly> {
  const dir = path.join(p.workDir, 'cdk.out');
  // The example's committed handler is a placeholder: deploy the real Greeter service, bundled.
  const handlerDir = path.join(p.workDir, 'greeter');
  execFileSync(
    'npx',
    ['esbuild', path.join(REPO_ROOT, 'examples', 'lambda', 'service', 'greeter.ts'), '--bundle', '--minify', '--platform=node', '--format=esm',
      `--outfile=${path.join(handlerDir, 'index.mjs')}`, '--log-level=warning'],
    { cwd: REPO_ROOT, stdio: 'inherit' },
  );
  await runCdk(['synth', '--quiet', '--output', dir, ...contextArgs(p), '--context', `handlerDir=${handlerDir}`], p);
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as {
    artifacts?: Record<string, { type: string; properties?: { stackName?: string; templateFile?: string } }>;
  };
  const stacks = Object.entries(manifest.artifacts ?? {}).filter(([, a]) => a.type === 'aws:cloudformation:stack');
  const names = stacks.map(([id, a]) => a.properties?.stackName ?? id);
  if (stacks.length !== 1 || names[0] !== p.stackName) {
    throw new Error(
      `the example synthesized stack(s) [${names.join(', ')}], expected exactly one named ${p.stackName}: it must name its stack after the ${CONTEXT.stackName} context value`,
    );
  }
  const template = JSON.parse(fs.readFileSync(path.join(dir, stacks[0][1].properties?.templateFile ?? `${stacks[0][0]}.template.json`), 'utf8')) as {
    Resources?: Record<string, { Type: string; DeletionPolicy?: string; Properties?: Record<string, unknown> }>;
    Outputs?: Record<string, unknown>;
  };
  const resources = Object.entries(template.Resources ?? {});
  const registrations = resources.filter(([, r]) => r.Type.startsWith('Custom::Restate'));
  if (registrations.length === 0) throw new Error('the example registers no deployment (no Custom::Restate* resource in its template)');
  const policies = registrations.map(([, r]) => String(r.Properties?.RemovalPolicy ?? 'retain'));
  if (policies.some((rp) => rp !== p.removalPolicy)) {
    throw new Error(`the example's registration has removal policy ${policies.join(', ')}, expected ${p.removalPolicy}: it must honour the ${CONTEXT.removalPolicy} context value`);
  }
  const outputs = Object.keys(template.Outputs ?? {});
  const missing: string[] = [OUTPUTS.deploymentId, OUTPUTS.invokerRoleArn].filter((o) => !outputs.some((k) => matchesOutput(k, o)));
  if (!outputs.some((k) => matchesOutput(k, OUTPUTS.serviceName) || matchesOutput(k, OUTPUTS.serviceNames))) missing.push(`${OUTPUTS.serviceNames} or ${OUTPUTS.serviceName}`);
  if (missing.length > 0) throw new Error(`the example's stack lacks the output(s) ${missing.join(', ')} (it has: ${outputs.join(', ') || 'none'})`);
  const retained = resources
    .filter(([, r]) => r.DeletionPolicy !== undefined && r.DeletionPolicy !== 'Delete')
    .map(([logicalId, r]) => ({ logicalId, type: r.Type, deletionPolicy: r.DeletionPolicy! }));
  return { dir, retained };
}

/** `cdk deploy` of the synthesized assembly; returns the stack outputs. */
export async function deployExample(p: ExampleParameters, assembly: Assembly): Promise<ExampleOutputs> {
  const outputsFile = path.join(p.workDir, 'outputs.json');
  await runCdk(
    ['deploy', '--app', assembly.dir, '--all', '--require-approval', 'never', '--ci', '--progress', 'events', '--outputs-file', outputsFile],
    p,
  );
  return readOutputs(outputsFile, p.stackName);
}

/** `cdk destroy --force` of the synthesized assembly (its one stack: the run's own). */
export async function destroyExample(p: ExampleParameters, assembly: Assembly): Promise<void> {
  await runCdk(['destroy', '--app', assembly.dir, '--all', '--force'], p);
}

function contextArgs(p: ExampleParameters): string[] {
  return [
    [CONTEXT.environmentId, p.environmentId],
    [CONTEXT.apiKeySecretName, p.apiKeySecretName],
    [CONTEXT.restateRegion, p.restateRegion],
    [CONTEXT.stackName, p.stackName],
    [CONTEXT.removalPolicy, p.removalPolicy],
  ].flatMap(([k, v]) => ['--context', `${k}=${v}`]);
}

/** An output declared below the stack gets a path prefix and a hash suffix in its logical id. */
function matchesOutput(key: string, name: string): boolean {
  return key === name || new RegExp(`${name}[0-9A-F]{8}$`).test(key);
}

function readOutputs(file: string, stackName: string): ExampleOutputs {
  let all: Record<string, Record<string, string>>;
  try {
    all = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, Record<string, string>>;
  } catch (e) {
    throw new Error(`cdk deploy wrote no readable outputs file ${file}: ${(e as Error).message}`);
  }
  const outputs = all[stackName];
  if (!outputs) throw new Error(`no outputs of ${stackName} in ${file} (stacks: ${Object.keys(all).join(', ') || 'none'})`);
  const find = (name: string): string | undefined => {
    const keys = Object.keys(outputs).filter((k) => matchesOutput(k, name));
    return keys.length === 1 ? outputs[keys[0]] : undefined;
  };
  const required = (name: string, value: string | undefined): string => {
    if (!value) throw new Error(`stack ${stackName} has no output ${name} (outputs: ${Object.keys(outputs).join(', ') || 'none'})`);
    return value;
  };
  const serviceName = find(OUTPUTS.serviceName) ?? find(OUTPUTS.serviceNames)?.split(',')[0]?.trim();
  return {
    deploymentId: required(OUTPUTS.deploymentId, find(OUTPUTS.deploymentId)),
    invokerRoleArn: required(OUTPUTS.invokerRoleArn, find(OUTPUTS.invokerRoleArn)),
    serviceName: required(`${OUTPUTS.serviceName} or ${OUTPUTS.serviceNames}`, serviceName),
    handlerName: find(OUTPUTS.handlerName) ?? DEFAULT_HANDLER,
    handlerArn: find(OUTPUTS.handlerArn),
  };
}

function newestMtime(dir: string, include: (file: string) => boolean): number {
  let newest = 0;
  if (!fs.existsSync(dir)) return newest;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(full, include));
    else if (include(full)) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

/** The one CLI child running right now, so a signal can stop it (by its pid, nothing else). */
let current: ChildProcess | undefined;

export function stopRunningCdk(signal: NodeJS.Signals): void {
  if (current && current.exitCode === null && current.pid) {
    try {
      process.kill(current.pid, signal);
    } catch {
      // already gone
    }
  }
}

const CDK_TIMEOUT_MS = 45 * 60_000;

async function runCdk(args: string[], p: ExampleParameters): Promise<void> {
  const cdk = require.resolve('aws-cdk/bin/cdk');
  const command = args[0];
  console.log(`---- cdk ${args.join(' ')} --no-notices  (in ${path.relative(process.cwd(), EXAMPLE_DIR) || '.'})`);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_REGION: p.awsRegion,
    AWS_DEFAULT_REGION: p.awsRegion,
    CDK_DISABLE_CLI_TELEMETRY: 'true',
    CDK_DISABLE_VERSION_CHECK: 'true',
  };
  // The API key never reaches the CLI or the app: the deployer reads it from the secret.
  delete env.RESTATE_API_KEY;

  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [cdk, ...args, '--no-notices'], { cwd: EXAMPLE_DIR, env, stdio: ['ignore', 'pipe', 'pipe'] });
    current = child;
    let atLineStart = true;
    const relay = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      process.stdout.write(`${atLineStart ? '    | ' : ''}${text.replace(/\n(?!$)/g, '\n    | ')}`);
      atLineStart = text.endsWith('\n');
    };
    child.stdout?.on('data', relay);
    child.stderr?.on('data', relay);
    const timer = setTimeout(() => {
      console.log(`---- cdk ${command} still running after ${CDK_TIMEOUT_MS / 60_000} minutes: stopping it`);
      if (child.pid) process.kill(child.pid, 'SIGTERM');
    }, CDK_TIMEOUT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      current = undefined;
      reject(new Error(`cdk ${command} did not start: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      current = undefined;
      if (!atLineStart) process.stdout.write('\n');
      if (code === 0) resolve();
      else reject(new Error(`cdk ${command} failed (${signal ? `signal ${signal}` : `exit code ${code}`}); its output is above`));
    });
  });
}
