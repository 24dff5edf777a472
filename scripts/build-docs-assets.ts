import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Writes the files of the API reference page (`GET /docs`) into dist/docs, the `[assets]` directory of
 * wrangler.toml: our page and its script from src/docs/page, and Swagger UI's browser bundle,
 * stylesheet, icon and licences from the installed swagger-ui-dist (1.9 MB the repository does not
 * hold and the Worker bundle must not carry). Bundle, stylesheet, icon and script get a hash of their
 * content in their names, and index.html points at those names, so the Worker can let browsers keep
 * them for a year (src/docs/docs.routes.ts).
 *
 * It runs wherever wrangler.toml is read with the directory needed: wrangler's `[build] command`
 * (before `wrangler dev`, `wrangler deploy` and bench's `wrangler deploy --dry-run`) and
 * vitest.config.ts (the vitest plugin runs no build command, and refuses a missing directory).
 * Several of those may run at once from one checkout, so a run rewrites only what differs (and
 * atomically), and a second run is a no-op.
 */
const ROOT = resolve(import.meta.dirname, '..');
export const DOCS_ASSETS_DIR = join(ROOT, 'dist', 'docs');
const PAGE_SOURCES = join(ROOT, 'src', 'docs', 'page');

/** What the page loads from swagger-ui-dist, served under hashed names. */
const SWAGGER_UI_HASHED = ['swagger-ui-bundle.js', 'swagger-ui.css', 'favicon-32x32.png'];
/** Swagger UI's licence files (Apache-2.0 asks that they travel with it) → the names they are served under. */
const SWAGGER_UI_LICENCES: Record<string, string> = {
  // The bundle's first line points readers to this name, next to it.
  'swagger-ui-bundle.js.LICENSE.txt': 'swagger-ui-bundle.js.LICENSE.txt',
  LICENSE: 'swagger-ui-LICENSE.txt',
  NOTICE: 'swagger-ui-NOTICE.txt',
};

/** `swagger-ui.css` → `swagger-ui.3f2a9c0d1e4b5a67.css`. */
function hashedName(name: string, content: Buffer): string {
  const hash = createHash('sha256').update(content).digest('hex').slice(0, 16);
  const ext = extname(name);
  return `${basename(name, ext)}.${hash}${ext}`;
}

/** The files dist/docs must hold, by name. */
export function docsAssets(): Map<string, Buffer> {
  const require = createRequire(join(ROOT, 'package.json'));
  const swaggerUi = dirname(require.resolve('swagger-ui-dist/package.json'));
  const files = new Map<string, Buffer>();
  let page = readFileSync(join(PAGE_SOURCES, 'index.html'), 'utf8');
  /** Serves `content` under a hashed name, and makes the page's reference (`"/docs/<name>"`) point at it. */
  const addHashed = (name: string, content: Buffer) => {
    const served = hashedName(name, content);
    files.set(served, content);
    const reference = `"/docs/${name}"`;
    if (!page.includes(reference)) throw new Error(`src/docs/page/index.html does not reference ${reference}`);
    page = page.replaceAll(reference, `"/docs/${served}"`);
  };
  for (const name of SWAGGER_UI_HASHED) addHashed(name, readFileSync(join(swaggerUi, name)));
  for (const name of readdirSync(PAGE_SOURCES)) {
    if (name !== 'index.html') addHashed(name, readFileSync(join(PAGE_SOURCES, name)));
  }
  for (const [name, served] of Object.entries(SWAGGER_UI_LICENCES)) files.set(served, readFileSync(join(swaggerUi, name)));
  files.set('index.html', Buffer.from(page));
  return files;
}

/** Brings dist/docs to exactly `docsAssets()`; returns how many files it wrote or removed. */
export function buildDocsAssets(): number {
  const wanted = docsAssets();
  mkdirSync(DOCS_ASSETS_DIR, { recursive: true });
  let changes = 0;
  for (const name of readdirSync(DOCS_ASSETS_DIR)) {
    // Another run's file being written is that run's to rename.
    if (!wanted.has(name) && !name.endsWith('.tmp')) {
      rmSync(join(DOCS_ASSETS_DIR, name), { force: true, recursive: true });
      changes++;
    }
  }
  for (const [name, content] of wanted) {
    const path = join(DOCS_ASSETS_DIR, name);
    let current: Buffer | null = null;
    try {
      current = readFileSync(path);
    } catch {
      // Not there yet.
    }
    if (current?.equals(content)) continue;
    const temporary = `${path}.${process.pid}.tmp`;
    writeFileSync(temporary, content);
    renameSync(temporary, path);
    changes++;
  }
  return changes;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const changes = buildDocsAssets();
  console.log(`docs assets: ${DOCS_ASSETS_DIR} ${changes === 0 ? 'up to date' : `updated (${changes} files)`}`);
}
