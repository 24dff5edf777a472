import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { unstable_getMiniflareWorkerOptions } from 'wrangler';
import { childPids } from './processes';

/** The part of Miniflare's API the bench uses. */
interface MiniflareInstance {
  ready: Promise<URL>;
  dispose(): Promise<void>;
}
type MiniflareClass = new (options: Record<string, unknown>) => MiniflareInstance;

/**
 * The Miniflare (and workerd) that ships with wrangler, the one `wrangler dev` runs. The top-level
 * `miniflare` in node_modules is the newer beta the vitest plugin brings, which wants Node 22.
 */
async function loadMiniflare(): Promise<MiniflareClass> {
  const require = createRequire(import.meta.url);
  const entry = require.resolve('miniflare', { paths: [dirname(require.resolve('wrangler'))] });
  return ((await import(pathToFileURL(entry).href)) as { Miniflare: MiniflareClass }).Miniflare;
}

/** A Worker bundle served by workerd through Miniflare on a loopback port. */
export interface ServedWorker {
  url: string;
  /** The workerd process serving it, for CPU accounting; null when it cannot be told apart. */
  pid: number | null;
  /** The last 8 KB of workerd's and the Worker's log lines (console.*), for error messages. */
  logs(): string;
  dispose(): Promise<void>;
}

export interface ServeOptions {
  /** A wrangler config; its bindings, Durable Objects, KV, R2 and compatibility settings are used. */
  config: string;
  script: string;
  /** Extra bindings (vars and secrets), overriding the config's. */
  bindings?: Record<string, string>;
  /** Directory for DO, KV and R2 data (so storage can be measured); a temporary one when absent. */
  persistDir?: string;
  /** A loopback port to listen on (e.g. the same one again after a restart); one the kernel picks when absent. */
  port?: number;
  /** Also called with every log line, e.g. to keep them all in a file. */
  onLog?: (line: string) => void;
}

let miniflare: Promise<MiniflareClass> | undefined;

/**
 * Serves a built bundle with Miniflare directly (no `wrangler dev` proxy in front, no file
 * watching), on a kernel-chosen loopback port, with the bindings its wrangler config declares
 * (Durable Objects on the SQLite backend, as `new_sqlite_classes` asks).
 */
export async function serveWorker(options: ServeOptions): Promise<ServedWorker> {
  miniflare ??= loadMiniflare();
  const Miniflare = await miniflare;
  let logs = '';
  const keep = (line: string) => {
    logs = `${logs}${line}\n`.slice(-8192);
    options.onLog?.(line);
  };
  // The same translation of wrangler.toml that `wrangler dev` and the vitest plugin use.
  const { workerOptions: configured } = unstable_getMiniflareWorkerOptions(options.config) as unknown as {
    workerOptions: Record<string, unknown>;
  };
  // Without the static assets of /docs: declared, they put Miniflare's asset router in front of every
  // request (about 0.9 ms of CPU each here), while Cloudflare routes before the Worker runs; nothing
  // served from here is measured or called under /docs.
  const { assets: _docs, ...fromConfig } = configured;
  const before = new Set(childPids('workerd'));
  const persist = options.persistDir
    ? {
        durableObjectsPersist: `${options.persistDir}/do`,
        kvPersist: `${options.persistDir}/kv`,
        r2Persist: `${options.persistDir}/r2`,
      }
    : {};
  const mf = new Miniflare({
    host: '127.0.0.1',
    port: options.port ?? 0,
    ...fromConfig,
    modules: true,
    scriptPath: options.script,
    // Module names are paths relative to this, and workerd refuses names that climb out of it.
    modulesRoot: dirname(options.script),
    // Accounts' rate limits as high as the BFF may set them (src/accounts/rate-limit.ts), unless a caller says
    // otherwise: a load is one account far past the default 600 a minute. The limiter still runs on every request.
    bindings: { ...(fromConfig.bindings as Record<string, unknown> | undefined), RATE_LIMIT_REQUESTS_PER_MINUTE: '1000000', ...options.bindings },
    // workerd's own messages and the Worker's console.* lines, kept instead of printed.
    structuredWorkerdLogs: true,
    handleStructuredLogs: ({ level, message }: { level: string; message: string }) => keep(`${level}: ${message}`),
    ...persist,
  });
  let url: URL;
  try {
    url = await mf.ready;
  } catch (err) {
    throw new Error(`workerd did not start ${options.script}: ${String(err)}\n${logs}`);
  }
  let disposed: Promise<void> | undefined;
  const started = childPids('workerd').filter((pid) => !before.has(pid));
  return {
    url: url.origin,
    pid: started.length === 1 ? started[0]! : null,
    logs: () => logs,
    dispose: () => (disposed ??= mf.dispose()),
  };
}
