import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * `npm test` runs this first: it fails when the folders of `src/` import each other in a loop, or
 * when any two files do. Type-only imports are left out: they vanish from the bundle and cannot
 * make a module load before its dependency.
 *
 * Hand-written rather than madge or dependency-cruiser: those pull in a TypeScript parser and a few
 * dozen packages to answer a question that fifty lines answer for our one import style.
 */
const ROOT = resolve(import.meta.dirname, '..', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

/** Relative imports that load code at run time. */
function valueImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  const pattern = /^(?:import|export)\s+(type\s+)?(?:([^'";]*?)\s+from\s+)?'(\.[^']+)'/gms;
  for (const match of text.matchAll(pattern)) {
    const [, typeOnly, clause = '', spec = ''] = match;
    if (typeOnly) continue;
    const names = /^\{([^}]*)\}$/.exec(clause.trim())?.[1];
    if (names !== undefined && names.split(',').every((n) => n.trim() === '' || n.trim().startsWith('type '))) continue;
    const target = resolve(dirname(file), spec);
    found.push(target.endsWith('.ts') ? target : `${target}.ts`);
  }
  return found.map((t) => (statSync(t, { throwIfNoEntry: false }) ? t : t.replace(/\.ts$/, '/index.ts')));
}

/** A folder directly under src/, or the file itself for files at the top. */
const owner = (file: string): string => relative(ROOT, file).split('/')[0]!;

function cycles(graph: Map<string, Set<string>>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return found;
}

const files = new Map<string, Set<string>>();
const folders = new Map<string, Set<string>>();
for (const file of sourceFiles(ROOT)) {
  const imports = valueImports(file);
  files.set(file, new Set(imports));
  for (const target of imports) {
    if (owner(target) === owner(file)) continue;
    folders.set(owner(file), (folders.get(owner(file)) ?? new Set()).add(owner(target)));
  }
}

const loops = [
  ...cycles(folders).map((loop) => `folders: ${loop.join(' → ')}`),
  ...cycles(files).map((loop) => `files: ${loop.map((f) => relative(ROOT, f)).join(' → ')}`),
];
if (loops.length > 0) {
  console.error(`Import cycles in src/:\n  ${loops.join('\n  ')}`);
  process.exit(1);
}
console.log(`No import cycles among ${files.size} files in ${folders.size} folders of src/.`);
