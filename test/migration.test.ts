import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

// The README's migration table, checked: every row names a snippet pair in test/migration/,
// whose "before" compiles against @restatedev/restate-cdk 1.7.0 and whose "after" compiles
// against this library; and every public symbol and prop of the reference appears in the table.
//
// The snippets are stored as `.ts.txt` so that neither this package's tsc nor eslint sees the
// reference's imports; they are handed to the compiler as `.ts` files here. The reference
// package is installed by `npm run bench` (bench/run.sh) into bench/.work/ref, or found at
// $BENCH_REF_LIB; without it, the "before" half is skipped and the "after" half still runs.

const ROOT = path.join(__dirname, '..');
const SNIPPETS = path.join(__dirname, 'migration');
const REF = process.env.BENCH_REF_LIB ?? path.join(ROOT, 'bench', '.work', 'ref', 'node_modules', '@restatedev', 'restate-cdk');
const REF_VERSION = fs.readFileSync(path.join(ROOT, 'scripts', 'reference-version'), 'utf8').trim();
const haveRef = (() => {
  try {
    return JSON.parse(fs.readFileSync(path.join(REF, 'package.json'), 'utf8')).version === REF_VERSION;
  } catch {
    return false;
  }
})();
const describeWithRef = haveRef ? describe : describe.skip;
if (!haveRef) {
  // eslint-disable-next-line no-console
  console.warn(`@restatedev/restate-cdk ${REF_VERSION} not found at ${REF} (run npm run bench once): skipping the "before" snippets.`);
}

/** The `## Migrating from ...` section of README.md. */
function migrationSection(): string {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Migrating from `@restatedev/restate-cdk`');
  if (start < 0) throw new Error('README.md: no migration section');
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

interface Row {
  readonly text: string;
  readonly snippet: string;
}

/** The table's rows; the third column links the snippet pair `test/migration/<name>.{before,after}.ts.txt`. */
function rows(): Row[] {
  return migrationSection()
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('| ---') && !l.startsWith('| `@restatedev/restate-cdk` |'))
    .map((text) => {
      const match = /test\/migration\/([a-z0-9-]+)\.before\.ts\.txt/.exec(text);
      return { text, snippet: match?.[1] ?? '' };
    });
}

const virtual = (name: string, side: 'before' | 'after') => path.join(SNIPPETS, `${name}.${side}.ts`);

let compiled: { program: ts.Program; diagnostics: Map<string, string[]> } | undefined;

/** Compiles every snippet, "before" and "after", in one program (once: aws-cdk-lib is big). */
function compileAll(): { program: ts.Program; diagnostics: Map<string, string[]> } {
  if (!compiled) {
    const files = snippetNames.flatMap((n) => (haveRef ? [virtual(n, 'before'), virtual(n, 'after')] : n === 'self-hosted' ? [] : [virtual(n, 'after')]));
    compiled = compile(files);
  }
  return compiled;
}

/** Diagnostics of the given snippets. */
function diagnosticsOf(files: string[]): string[] {
  const { diagnostics } = compileAll();
  return [...(diagnostics.get('(global)') ?? []), ...files.flatMap((f) => diagnostics.get(f) ?? [`${f}: not compiled`])];
}

/** Compiles the given snippets in one program; returns the diagnostics per file. */
function compile(files: string[]): { program: ts.Program; diagnostics: Map<string, string[]> } {
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2022.d.ts'],
    module: ts.ModuleKind.Node16,
    moduleResolution: ts.ModuleResolutionKind.Node16,
    esModuleInterop: true,
    types: ['node'],
    typeRoots: [path.join(ROOT, 'node_modules', '@types')],
    paths: {
      '@restatedev/restate-cdk': [path.join(REF, 'dist', 'index.d.ts')],
      'restate-cloud-cdk': [path.join(ROOT, 'src', 'index.ts')],
      // One aws-cdk-lib for both libraries, as in an app that uses both.
      'aws-cdk-lib': [path.join(ROOT, 'node_modules', 'aws-cdk-lib')],
      'aws-cdk-lib/*': [path.join(ROOT, 'node_modules', 'aws-cdk-lib', '*')],
      'constructs': [path.join(ROOT, 'node_modules', 'constructs')],
    },
  };
  const host = ts.createCompilerHost(options);
  const isSnippet = (f: string) => path.resolve(f).startsWith(SNIPPETS + path.sep) && f.endsWith('.ts') && !f.endsWith('.d.ts');
  const fileExists = host.fileExists.bind(host);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.fileExists = (f) => (isSnippet(f) ? fs.existsSync(`${f}.txt`) : fileExists(f));
  host.readFile = (f) => (isSnippet(f) ? fs.readFileSync(`${f}.txt`, 'utf8') : readFile(f));
  host.getSourceFile = (f, lang, onError, create) =>
    isSnippet(f) ? ts.createSourceFile(f, fs.readFileSync(`${f}.txt`, 'utf8'), lang, true) : getSourceFile(f, lang, onError, create);
  const program = ts.createProgram(files, options, host);
  const result = new Map<string, string[]>(files.map((f) => [f, []]));
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const file = d.file?.fileName ?? '(global)';
    const where = d.file && d.start !== undefined ? `:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}` : '';
    const list = result.get(file) ?? [];
    list.push(`${path.relative(ROOT, file)}${where}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    result.set(file, list);
  }
  return { program, diagnostics: result };
}

const table = rows();
const snippetNames = fs
  .readdirSync(SNIPPETS)
  .filter((f) => f.endsWith('.before.ts.txt'))
  .map((f) => f.replace('.before.ts.txt', ''))
  .sort();

describe('migration table', () => {
  test('every row links a snippet pair, and every pair has a row', () => {
    expect(table.filter((r) => !r.snippet).map((r) => r.text)).toEqual([]);
    expect([...new Set(table.map((r) => r.snippet))].sort()).toEqual(snippetNames);
    for (const name of snippetNames) expect(fs.existsSync(path.join(SNIPPETS, `${name}.after.ts.txt`))).toBe(true);
  });

  test('"after" snippets leave the reference behind, except for the self-hosted server constructs', () => {
    for (const name of snippetNames) {
      const after = fs.readFileSync(path.join(SNIPPETS, `${name}.after.ts.txt`), 'utf8');
      expect({ name, importsReference: after.includes("from '@restatedev/restate-cdk'") }).toEqual({ name, importsReference: name === 'self-hosted' });
    }
  });

  // The one snippet that imports the reference on the "after" side needs it installed.
  const afterNames = snippetNames.filter((n) => haveRef || n !== 'self-hosted');

  test('"after" snippets compile against restate-cloud-cdk', () => {
    expect(diagnosticsOf(afterNames.map((n) => virtual(n, 'after')))).toEqual([]);
  });

  describeWithRef('against @restatedev/restate-cdk ' + REF_VERSION, () => {
    test('"before" snippets compile against the reference', () => {
      expect(diagnosticsOf(snippetNames.map((n) => virtual(n, 'before')))).toEqual([]);
    });

    test('every public symbol and prop of the reference has a row, and is used in a "before" snippet', () => {
      const section = migrationSection();
      const befores = snippetNames.map((n) => fs.readFileSync(path.join(SNIPPETS, `${n}.before.ts.txt`), 'utf8')).join('\n');
      const names = referenceApi();
      expect(names.length).toBeGreaterThan(30);
      expect(names.filter((n) => !section.includes(n))).toEqual([]);
      expect(names.filter((n) => !befores.includes(n))).toEqual([]);
    });
  });
});

/** Symbols the self-hosted row covers as a whole: kept from the reference, props unchanged. */
const SELF_HOSTED = ['SingleNodeRestateDeployment', 'SingleNodeRestateProps', 'TlsTermination', 'FargateRestateDeployment', 'RestateFargateProps', 'TracingMode'];

/**
 * The reference's exported symbols, and the public/protected members and constructor props of
 * every one not kept as a whole (see SELF_HOSTED).
 */
function referenceApi(): string[] {
  const index = path.join(REF, 'dist', 'index.d.ts');
  const { program } = compileAll();
  const checker = program.getTypeChecker();
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(index)!)!;
  const names = new Set<string>();
  const isPrivate = (s: ts.Symbol) =>
    (s.declarations ?? []).some((d) => ts.canHaveModifiers(d) && (ts.getModifiers(d) ?? []).some((m) => m.kind === ts.SyntaxKind.PrivateKeyword));
  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    names.add(exported.name);
    if (SELF_HOSTED.includes(exported.name)) continue;
    const decl = exported.declarations?.[0];
    if (!decl) continue;
    if (ts.isClassDeclaration(decl)) {
      for (const member of decl.members) {
        const sym = member.name ? checker.getSymbolAtLocation(member.name) : undefined;
        if (sym && !isPrivate(sym)) names.add(sym.name);
        if (ts.isConstructorDeclaration(member)) {
          for (const param of member.parameters.slice(2)) {
            for (const prop of checker.getPropertiesOfType(checker.getNonNullableType(checker.getTypeAtLocation(param)))) names.add(prop.name);
          }
        }
      }
    } else if (ts.isInterfaceDeclaration(decl)) {
      for (const prop of checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(exported))) names.add(prop.name);
    }
  }
  return [...names].sort();
}
