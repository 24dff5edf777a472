import { createInterface } from 'node:readline';
import { serveWorker } from '../bench/workers';

/**
 * The Worker's runtime for a chaos run, in a process (and process group) of its own so the run can
 * SIGKILL it whole: this Node process (Miniflare) and the workerd it starts. It loads (slow on a busy
 * machine) and then waits for its settings, one JSON line on stdin, so a restart does not wait for
 * Node to load wrangler. It prints `ready {url, pid}` once serving, then every log line as `log …`.
 */
interface ServeRequest {
  script: string;
  persistDir: string;
  port: number;
  bindings: Record<string, string>;
}

const lines = createInterface({ input: process.stdin });
const request = await new Promise<ServeRequest>((resolve) => lines.once('line', (line) => resolve(JSON.parse(line) as ServeRequest)));
const served = await serveWorker({
  config: 'wrangler.toml',
  script: request.script,
  bindings: request.bindings,
  persistDir: request.persistDir,
  port: request.port,
  onLog: (line) => process.stdout.write(`log ${line.replaceAll('\n', ' ')}\n`),
});
process.stdout.write(`ready ${JSON.stringify({ url: served.url, pid: served.pid })}\n`);
// Only the graceful stop at the end of the run comes here; the kills mid-run are SIGKILL.
process.on('SIGTERM', () => {
  void served.dispose().finally(() => process.exit(0));
});
// Keeps the process alive whatever Miniflare holds open.
setInterval(() => undefined, 1 << 30);
