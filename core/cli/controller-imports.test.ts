/**
 * The controller process must stay small: its static import graph (what `secrets-sync run` loads) must not
 * contain @kubernetes/client-node (~85 MiB of RSS: it loads the generated client of every API group) nor undici.
 * Walks the graph from core/cli/main.ts as tsc emits it (type-only imports are erased; dynamic `import()`s are
 * lazy paths: demo, serve-provider, exec credentials) and, for every package reached, its dependencies.
 * integration/controller/process.test.ts checks the same at run time, with a resolve hook on the built CLI.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const FORBIDDEN = ['@kubernetes/client-node', 'undici'];
const pkgOf = (spec: string) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);

/** Static import specifiers of a TypeScript file, as emitted (erased type-only imports excluded). */
function staticImports(file: string): string[] {
  const out = ts.transpileModule(readFileSync(file, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false, isolatedModules: true },
    fileName: file,
  }).outputText;
  const sf = ts.createSourceFile(file + '.js', out, ts.ScriptTarget.ES2022, false, ts.ScriptKind.JS);
  const specs: string[] = [];
  for (const st of sf.statements) {
    if ((ts.isImportDeclaration(st) || ts.isExportDeclaration(st)) && st.moduleSpecifier && ts.isStringLiteral(st.moduleSpecifier)) {
      specs.push(st.moduleSpecifier.text);
    }
  }
  return specs;
}

function resolveSource(from: string, spec: string): string {
  const js = resolve(dirname(from), spec);
  for (const cand of [js.replace(/\.js$/, '.ts'), js, join(js, 'index.ts')]) if (existsSync(cand)) return cand;
  throw new Error(`cannot resolve ${spec} from ${from}`);
}

function controllerGraph(entry: string): { files: Map<string, string[]>; packages: Map<string, string> } {
  const files = new Map<string, string[]>();
  const packages = new Map<string, string>(); // package -> first importer
  const todo = [entry];
  while (todo.length) {
    const f = todo.pop()!;
    if (files.has(f)) continue;
    const specs = staticImports(f);
    files.set(f, specs);
    for (const s of specs) {
      if (s.startsWith('node:')) continue;
      if (s.startsWith('.')) todo.push(resolveSource(f, s));
      else if (!packages.has(pkgOf(s))) packages.set(pkgOf(s), f);
    }
  }
  return { files, packages };
}

/** A package's runtime dependencies, transitively (what it may load). */
function packageClosure(roots: string[]): Map<string, string> {
  const seen = new Map<string, string>(); // package -> who depends on it
  const todo: [string, string][] = roots.map((r) => [r, '(controller)']);
  while (todo.length) {
    const [name, via] = todo.pop()!;
    if (seen.has(name)) continue;
    seen.set(name, via);
    let pkgJson: string | undefined;
    for (let dir = REPO; ; dir = dirname(dir)) {
      const cand = join(dir, 'node_modules', name, 'package.json');
      if (existsSync(cand)) { pkgJson = cand; break; }
      if (dirname(dir) === dir) break;
    }
    if (!pkgJson) continue; // built in or optional and absent
    const pj = JSON.parse(readFileSync(pkgJson, 'utf8')) as { dependencies?: Record<string, string> };
    for (const d of Object.keys(pj.dependencies ?? {})) todo.push([d, name]);
  }
  return seen;
}

test('the controller (core/cli/main.ts, run path) imports neither @kubernetes/client-node nor undici', () => {
  const { files, packages } = controllerGraph(join(REPO, 'core/cli/main.ts'));
  expect(files.size).toBeGreaterThan(20); // the walk really followed the graph
  expect([...files.keys()]).toEqual(expect.arrayContaining([join(REPO, 'core/kube/informer-cache.ts'), join(REPO, 'core/kube/access.ts')]));
  const direct = [...packages].filter(([p]) => FORBIDDEN.includes(p)).map(([p, f]) => `${p} (imported by ${f})`);
  expect(direct).toEqual([]);
  const closure = packageClosure([...packages.keys()].filter((p) => p !== '@secrets-sync/plugin-sdk'));
  const indirect = FORBIDDEN.filter((p) => closure.has(p)).map((p) => `${p} (a dependency of ${closure.get(p)})`);
  expect(indirect).toEqual([]);
  // The walk sees the packages the controller really uses.
  expect([...packages.keys()]).toEqual(expect.arrayContaining(['yaml', 'tsyringe', '@grpc/grpc-js']));
});

test('client-node is still resolvable for the lazy exec / auth-provider path', () => {
  expect(() => createRequire(import.meta.url).resolve('@kubernetes/client-node')).not.toThrow();
});
