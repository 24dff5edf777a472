import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { z } from '../src/zod-lean.ts';

/**
 * `npm test` runs this: it fails when src/ calls a `z.…` that src/zod-lean.ts (the `zod` of the
 * deployed bundle, see wrangler.toml's `[alias]`) does not provide. Such a call type-checks and passes
 * the tests, which load the real zod, and would only be `undefined` in the deployed Worker.
 *
 * It bundles src/ with every package left as an import, so types are gone and what remains of `z` is
 * what runs: each `z.name` after an import of `z` from `zod` or `@hono/zod-openapi` (which re-exports
 * zod's `z`). The bundler is the esbuild that wrangler bundles with, reached through wrangler.
 */
interface EsbuildApi {
  build(options: Record<string, unknown>): Promise<{ outputFiles: { text: string }[] }>;
}

const ROOT = resolve(import.meta.dirname, '..');
const requireFromRoot = createRequire(resolve(ROOT, 'package.json'));
const esbuild = createRequire(requireFromRoot.resolve('wrangler/package.json'))('esbuild') as EsbuildApi;

/** Listed for a library, not for our code: @hono/zod-openapi extends `z.ZodType.prototype`. */
const FOR_LIBRARIES = new Set(['ZodType']);

const { outputFiles } = await esbuild.build({
  entryPoints: [resolve(ROOT, 'src/index.ts')],
  absWorkingDir: ROOT,
  bundle: true,
  write: false,
  format: 'esm',
  platform: 'neutral',
  packages: 'external',
  treeShaking: false,
  logLevel: 'error',
});
const code = outputFiles[0]!.text;

/** The local names the bundle gave `z` (esbuild renames clashes to z2, z3, …), and other values imported from zod. */
const aliases = new Set<string>();
const used = new Set<string>();
for (const [, clause = '', from] of code.matchAll(/^import\s+(.+?)\s+from\s+"(zod|@hono\/zod-openapi)";$/gm)) {
  const star = /^\*\s+as\s+([\w$]+)$/.exec(clause)?.[1];
  if (star && from === 'zod') aliases.add(star);
  const named = /\{([^}]*)\}/.exec(clause)?.[1] ?? '';
  for (const spec of named.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [imported = '', local = imported] = spec.split(/\s+as\s+/);
    if (imported === 'z') aliases.add(local);
    else if (from === 'zod') used.add(imported);
  }
  const defaultName = /^([\w$]+)\s*(?:,|$)/.exec(clause)?.[1];
  if (defaultName && from === 'zod') aliases.add(defaultName);
}

const body = code.replace(/^import\s.+;$/gm, '');
const problems: string[] = [];
for (const alias of aliases) {
  const name = alias.replace(/\$/g, '\\$');
  for (const [, member = ''] of body.matchAll(new RegExp(`(?<![\\w$.])${name}\\.([A-Za-z_$][\\w$]*)`, 'g'))) used.add(member);
  // `z` handed over as a value (an argument, an assignment): what it is used for cannot be seen here.
  for (const [match] of body.matchAll(new RegExp(`(?:[(,=:]|\\.\\.\\.)\\s*${name}\\s*[),;}]`, 'g'))) {
    problems.push(`zod's \`z\` is passed around as a value (\`${match.trim()}\`); call its members directly so this check can see them.`);
  }
}

const provided = new Set(Object.keys(z));
const missing = [...used].filter((name) => !provided.has(name)).sort();
if (missing.length > 0) {
  problems.push(
    `src/ uses ${missing.map((n) => `z.${n}`).join(', ')}, which src/zod-lean.ts does not provide: ` +
      'the deployed Worker would read undefined. Add them to the object in src/zod-lean.ts.',
  );
}
const unused = [...provided].filter((name) => !used.has(name) && !FOR_LIBRARIES.has(name)).sort();
if (unused.length > 0) {
  console.warn(`check-zod-lean: src/zod-lean.ts provides ${unused.map((n) => `z.${n}`).join(', ')}, which src/ does not call: dropping them shrinks the bundle.`);
}

if (problems.length > 0) {
  console.error(`check-zod-lean: ${problems.join('\n')}`);
  process.exit(1);
}
console.log(`check-zod-lean: the bundle's zod provides all ${used.size} members src/ calls.`);
