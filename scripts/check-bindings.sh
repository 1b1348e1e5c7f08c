#!/usr/bin/env bash
# Checks the library from the other jsii languages, offline:
#
#   1. jsii-rosetta extract --strict: every TypeScript snippet of README.md (and of doc comments)
#      and every TypeScript example app (examples/*/main.ts) compiles and translates to Python,
#      Java, C# and Go. README snippets use rosetta/default.ts-fixture unless they say otherwise.
#   2. jsii-pacmak --code-only: generates the Python, Java, .NET and Go bindings, with the
#      README's translated snippets (doc examples inherited from aws-cdk-lib, e.g.
#      iam.Role.customizeRoles, have no translation in our tablet and stay verbatim, as in a
#      normal build).
#   3. python3 -m compileall: the generated Python package byte-compiles; the names the Python
#      example imports from restate_cloud_cdk exist in it.
#
# Building the bindings into packages needs Maven Central, PyPI, NuGet and the Go proxy; this
# script needs no network. Output: .tmp/check-bindings/ (dist/<language>/, translations/).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
work="$root/.tmp/check-bindings"
# Rosetta compiles snippets in worker threads: one is plenty here, and leaves CPU to others.
export JSII_ROSETTA_MAX_WORKER_COUNT="${JSII_ROSETTA_MAX_WORKER_COUNT:-1}"

step() { echo "==> $*"; step_started=$(date +%s); }
done_step() { echo "    ok ($(( $(date +%s) - step_started )) s)"; }
started_all=$(date +%s)

# --- 0. an up-to-date assembly (.jsii embeds README.md) ----------------------------------------
reason=""
if [ ! -f .jsii ] || [ ! -f lib/index.js ]; then
  reason=".jsii is missing"
elif [ -n "$(find src -name '*.ts' -newer .jsii -print -quit)" ] || [ README.md -nt .jsii ]; then
  reason="src/ or README.md changed since the last compile"
elif [ ! -f assets/deployer/deployer.lambda/index.js ]; then
  reason="the deployer asset is missing"
fi
if [ -n "$reason" ]; then
  step "building the library first ($reason): npx projen bundle && npx projen compile"
  npx projen bundle
  npx projen compile
  done_step
fi

rm -rf "$work"
mkdir -p "$work/assembly" "$work/compile/node_modules" "$work/translations"

# Snippets import 'restate-cloud-cdk': resolve it to this repository, from the compile directory
# (README snippets) and from examples/ (example apps compile in their own directories).
bash "$root/scripts/link-library.sh" "$work/compile"
bash "$root/scripts/link-library.sh" "$root/examples"

# --- 1. rosetta ----------------------------------------------------------------------------------
# A copy of the assembly whose README also includes every example app as a literate snippet
# (`lit=`: rosetta compiles the whole file, in its own directory, without fixture). Working on
# a copy keeps the tablet (.jsii.tabl.json) out of the repository.
step "jsii-rosetta extract --strict (README.md + examples/*/main.ts)"
cp package.json "$work/assembly/"
[ -d rosetta ] && cp -r rosetta "$work/assembly/"
node - "$root" "$work/assembly" <<'NODE'
const fs = require('fs');
const path = require('path');
const [root, dir] = process.argv.slice(2);
const assembly = JSON.parse(fs.readFileSync(path.join(root, '.jsii'), 'utf8'));
const examples = fs.readdirSync(path.join(root, 'examples'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && fs.existsSync(path.join(root, 'examples', d.name, 'main.ts')))
  .map((d) => path.join(root, 'examples', d.name, 'main.ts'));
let readme = assembly.readme?.markdown ?? '';
readme += '\n\n## Example apps (added by scripts/check-bindings.sh)\n';
const names = {}; // README line of each example's code block -> example name
for (const file of examples) {
  const lit = path.relative(dir, file).split(path.sep).join('/');
  readme += `\n### ${path.relative(root, file)}\n\n`;
  names[readme.split('\n').length] = path.basename(path.dirname(file));
  readme += `\`\`\`ts lit=${lit}\n${fs.readFileSync(file, 'utf8')}\`\`\`\n`;
}
fs.writeFileSync(path.join(dir, 'snippet-names.json'), JSON.stringify(names));
assembly.readme = { markdown: readme };
fs.writeFileSync(path.join(dir, '.jsii'), JSON.stringify(assembly));
console.log(`    ${examples.length} example app(s): ${examples.map((f) => path.relative(root, f)).join(', ')}`);
NODE
# (The "packages necessary to compile examples missing from supplied directory: , , ," warning
# is a jsii-rosetta 6.0 bug - it awaits nothing and always fires - and is filtered out.)
set +e
npx jsii-rosetta extract --strict --directory "$work/compile" "$work/assembly/.jsii" 2>&1 \
  | grep -v -e '^!!' -e 'packages necessary to compile examples missing from supplied directory: [, ]*$'
status=${PIPESTATUS[0]}
set -e
failures=()
tablet="$work/assembly/.jsii.tabl.json"
if [ "$status" -ne 0 ] || [ ! -f "$tablet" ]; then
  echo "FAILED: jsii-rosetta extract --strict: a snippet does not compile or translate (see above)" >&2
  failures+=("rosetta")
else
# Keep the translations for reading: translations/<snippet>.<language>.
node - "$tablet" "$work/translations" "$work/assembly/snippet-names.json" <<'NODE'
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const [tabletFile, outdir, namesFile] = process.argv.slice(2);
let raw = fs.readFileSync(tabletFile);
if (raw[0] === 0x1f && raw[1] === 0x8b) raw = zlib.gunzipSync(raw);
const tablet = JSON.parse(raw.toString('utf8'));
const names = JSON.parse(fs.readFileSync(namesFile, 'utf8'));
const ext = { python: 'py', java: 'java', csharp: 'cs', go: 'go', $: 'ts' };
let n = 0;
for (const snippet of Object.values(tablet.snippets ?? {})) {
  const api = snippet.location?.api ?? {};
  const line = snippet.location?.field?.line;
  const base = api.api === 'moduleReadme'
    ? names[line] ?? `README-L${line}`
    : `${api.fqn ?? 'snippet'}${api.memberName ? '.' + api.memberName : ''}-${n}`;
  n++;
  for (const [lang, tr] of Object.entries(snippet.translations ?? {})) {
    fs.writeFileSync(path.join(outdir, `${base}.${ext[lang] ?? lang}`), tr.source ?? '');
  }
}
console.log(`    ${n} snippet(s) translated to python, java, csharp, go: ${path.relative(process.cwd(), outdir)}/`);
NODE
  done_step
fi

# --- 2. pacmak ---------------------------------------------------------------------------------
step "jsii-pacmak --code-only --target python --target java --target dotnet --target go"
set +e
npx jsii-pacmak --code-only \
  --target python --target java --target dotnet --target go \
  --outdir "$work/dist" --force --no-npmignore \
  $([ -f "$tablet" ] && echo --rosetta-tablet "$tablet") \
  . 2>&1 | grep -v '^!!'
status=${PIPESTATUS[0]}
set -e
[ "$status" -eq 0 ] || { echo "FAILED: jsii-pacmak exited with $status" >&2; exit 1; }
for lang in python java dotnet go; do
  [ -d "$work/dist/$lang" ] || { echo "FAILED: jsii-pacmak generated no $lang bindings" >&2; exit 1; }
done
done_step

# --- 3. Python -----------------------------------------------------------------------------------
module=$(node -p 'require("./package.json").jsii.targets.python.module')
step "python3 -m compileall $module (generated) + names imported by examples/python-lambda/app.py"
pkg="$work/dist/python/src/$module"
[ -f "$pkg/__init__.py" ] || { echo "FAILED: no generated Python package at $pkg" >&2; exit 1; }
PYTHONPYCACHEPREFIX="$work/pycache" python3 -m compileall -q "$work/dist/python/src" >/dev/null || {
  echo "FAILED: the generated Python package does not byte-compile" >&2
  exit 1
}
python3 - "$pkg/__init__.py" "$module" examples/python-lambda/app.py <<'PY'
import ast
import sys

init_file, module, app = sys.argv[1:]
generated = {
    node.name
    for node in ast.parse(open(init_file).read()).body
    if isinstance(node, ast.ClassDef)
}
missing = []
for node in ast.walk(ast.parse(open(app).read(), app)):
    if isinstance(node, ast.ImportFrom) and node.module == module:
        missing += [a.name for a in node.names if a.name not in generated]
if missing:
    sys.exit(f"FAILED: {app} imports {missing} from {module}, which the generated package lacks")
print(f"    {app}: every name it imports from {module} exists")
PY
done_step

if [ ${#failures[@]} -gt 0 ]; then
  echo "bindings FAILED: ${failures[*]} ($(( $(date +%s) - started_all )) s)" >&2
  exit 1
fi
echo "bindings ok: rosetta strict, pacmak python/java/dotnet/go, Python byte-compiled ($(( $(date +%s) - started_all )) s)"
