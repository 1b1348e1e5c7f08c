import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as cdk from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ts from 'typescript';
import * as restateCloudCdk from '../src';

// The README's Quickstart, run as written (inside a Stack's constructor, as its rosetta fixture
// says): it must synthesize without a single warning.

const README = path.join(__dirname, '..', 'README.md');

/** The first `ts` code block after `## Quickstart`. */
function quickstartSnippet(): string {
  const readme = fs.readFileSync(README, 'utf8');
  const section = readme.slice(readme.indexOf('\n## Quickstart'));
  const match = /```ts[^\n]*\n([\s\S]*?)```/.exec(section);
  if (!match) throw new Error('README.md: no ts code block under ## Quickstart');
  return match[1];
}

/** Runs `snippet` with `this` bound to a fresh stack, its imports taken from aws-cdk-lib and ../src. */
function synthesizeSnippet(snippet: string, cwd: string): cdk.Stack {
  const imports = snippet.split('\n').filter((l) => l.startsWith('import '));
  const body = snippet.split('\n').filter((l) => !l.startsWith('import ')).join('\n');
  const source = `${imports.join('\n')}\nexport function run(this: any) {\n${body}\n}\n`;
  const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2020 } }).outputText;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const localRequire = (name: string) => (name === 'restate-cloud-cdk' ? restateCloudCdk : require(name));
  const module = { exports: {} as any };
  new Function('require', 'module', 'exports', js)(localRequire, module, module.exports);
  const app = new cdk.App();
  const stack = new cdk.Stack(app, 'Quickstart', { env: { account: '111111111111', region: 'us-east-1' } });
  const previous = process.cwd();
  process.chdir(cwd);
  try {
    module.exports.run.call(stack);
    app.synth();
  } finally {
    process.chdir(previous);
  }
  return stack;
}

test('the README quickstart synthesizes without warnings', () => {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'quickstart-'));
  try {
    // The snippet's `lambda.Code.fromAsset('dist/greeter')`, relative to the app's folder.
    fs.mkdirSync(path.join(cwd, 'dist', 'greeter'), { recursive: true });
    fs.writeFileSync(path.join(cwd, 'dist', 'greeter', 'index.js'), 'exports.handler = async () => ({});\n');
    const stack = synthesizeSnippet(quickstartSnippet(), cwd);

    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
    expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
    const template = Template.fromStack(stack);
    template.resourceCountIs('Custom::RestateDeployment', 1);
    // The registered version outlives code changes, as the versionNotRetained warning asks.
    template.hasResource('AWS::Lambda::Version', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  } finally {
    fs.rmSync(cwd, { recursive: true, force: true });
  }
});
