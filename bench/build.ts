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
}

const KIB = 1024;

/**
 * Bundles a Worker exactly as `wrangler deploy` would, without deploying it
 * (`wrangler deploy --dry-run --outdir`), and reads the sizes wrangler reports.
 */
export function buildWorker(outdir: string, options: { config?: string; minify?: boolean } = {}): Bundle {
  const args = ['wrangler', 'deploy', '--dry-run', '--outdir', outdir];
  if (options.config) args.push('--config', options.config);
  if (options.minify) args.push('--minify');
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
  };
}
