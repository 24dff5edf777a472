import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export interface Bundle {
  /** The bundled module Miniflare serves. */
  script: string;
  /** Wrangler's own "Total Upload: … / gzip: …" figures, in bytes. */
  upload_bytes: number;
  gzip_bytes: number;
  /** What the bundle is made of (esbuild's metafile), by package and by folder of src/, largest first. */
  parts: BundlePart[];
}

/** Bytes one package (or folder of ours) takes in the bundle, minified and before gzip. */
export interface BundlePart {
  name: string;
  bytes: number;
}

const KIB = 1024;

/** `node_modules/zod/v4/core/api.js` → `zod`; `src/api/app.ts` → `src/api`; zod's locales on their own line. */
function partOf(input: string): string {
  if (input.includes('node_modules/zod/v4/locales/')) return 'zod locales';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input)?.[1];
  if (pkg) return pkg;
  const ours = /(?:^|\/)(src\/[^/]+)(\/|$)/.exec(input);
  return ours ? (ours[2] ? ours[1]! : 'src/*.ts') : input;
}

/** Sums esbuild's `bytesInOutput` of the bundle's inputs by part. */
function bundleParts(metafile: string, script: string): BundlePart[] {
  const meta = JSON.parse(readFileSync(metafile, 'utf8')) as {
    outputs: Record<string, { inputs: Record<string, { bytesInOutput: number }> }>;
  };
  const output = Object.entries(meta.outputs).find(([path]) => path.endsWith(script))?.[1];
  const sums = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    sums.set(partOf(input), (sums.get(partOf(input)) ?? 0) + bytesInOutput);
  }
  return [...sums].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes);
}

/**
 * Bundles a Worker exactly as `wrangler deploy` would, without deploying it
 * (`wrangler deploy --dry-run --outdir --metafile`), and reads the sizes wrangler reports and what
 * the bundle is made of. By hand: `npx wrangler deploy --dry-run --outdir /tmp/bundle --metafile`.
 */
export function buildWorker(outdir: string, options: { config?: string } = {}): Bundle {
  const args = ['wrangler', 'deploy', '--dry-run', '--outdir', outdir, '--metafile'];
  if (options.config) args.push('--config', options.config);
  const result = spawnSync('npx', args, {
    encoding: 'utf8',
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', FORCE_COLOR: '0' },
  });
  const output = `${result.stdout}\n${result.stderr}`;
  if (result.status !== 0) throw new Error(`wrangler ${args.slice(1).join(' ')} failed:\n${output}`);
  const script = readdirSync(outdir).find((f) => f.endsWith('.js'));
  if (!script) throw new Error(`wrangler wrote no .js file to ${outdir}`);
  const path = join(outdir, script);
  const sizes = output.match(/Total Upload:\s*([\d.]+)\s*KiB\s*\/\s*gzip:\s*([\d.]+)\s*KiB/);
  return {
    script: path,
    // Wrangler prints KiB with two decimals; fall back to measuring if its wording ever changes.
    upload_bytes: sizes ? Math.round(Number(sizes[1]) * KIB) : readFileSync(path).byteLength,
    gzip_bytes: sizes ? Math.round(Number(sizes[2]) * KIB) : gzipSync(readFileSync(path)).byteLength,
    parts: bundleParts(join(outdir, 'bundle-meta.json'), script),
  };
}
