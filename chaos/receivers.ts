import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { freePort } from '../scripts/free-port';
import { renderPromptImage } from '../simulator/png';
import type { PlannedWebhook } from './plan';

/** One webhook request a receiver got, with what it answered. */
export interface Delivery {
  marker: string;
  kind: string;
  at: number;
  answered: number;
  task_id: string | null;
  task_status: string | null;
  webhook_id: string | null;
  /** The Standard Webhooks signature checked out with the account's secret. */
  signed: boolean;
}

export interface Receivers {
  /** The callback URL for a task's planned receiver. */
  urlFor(marker: string, webhook: PlannedWebhook): string;
  /** Where the run's reference image is served (for `input_urls`). */
  origin: string;
  deliveries: Delivery[];
  close(): Promise<void>;
}

const FINAL = new Set(['succeeded', 'failed', 'canceled']);

/**
 * The customers' side on loopback, in the run's own process (so it outlives the Worker's kills):
 * webhook receivers of each kind, addressed `/hooks/<kind>/<marker>?param=N`, and the reference image
 * tasks pass as `input_urls`. Every delivery is recorded and its signature checked with `secretOf`.
 */
export async function startReceivers(inputPath: string, secretOf: (marker: string) => string | undefined): Promise<Receivers> {
  const deliveries: Delivery[] = [];
  const attempts = new Map<string, number>();
  const png = renderPromptImage('a reference image for image-to-image', 512, 512);
  const unreachable = `http://127.0.0.1:${await freePort()}`;

  const verify = (marker: string, body: string, headers: IncomingHttpHeaders): boolean => {
    const secret = secretOf(marker);
    if (!secret) return false;
    try {
      new Webhook(secret).verify(body, {
        'webhook-id': String(headers['webhook-id'] ?? ''),
        'webhook-timestamp': String(headers['webhook-timestamp'] ?? ''),
        'webhook-signature': String(headers['webhook-signature'] ?? ''),
      });
      return true;
    } catch {
      return false;
    }
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://receiver');
    if (req.method === 'GET' && url.pathname === inputPath) {
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length }).end(png);
      return;
    }
    const route = /^\/hooks\/([a-z0-9-]+)\/([\w-]+)$/.exec(url.pathname);
    if (req.method !== 'POST' || !route) {
      res.writeHead(404).end();
      return;
    }
    const [, kind, marker] = route as unknown as [string, string, string];
    const param = Number(url.searchParams.get('param') ?? 0);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const attempt = (attempts.get(marker) ?? 0) + 1;
      attempts.set(marker, attempt);
      const answered = kind === 'dead-500' ? 500 : kind === 'dead-410' ? 410 : kind === 'flaky' && attempt <= param ? 500 : 204;
      let task: { task_id?: string; status?: string } = {};
      try {
        task = JSON.parse(body) as typeof task;
      } catch {
        // Recorded with no task: the check counts it as not delivered.
      }
      const delivery: Delivery = {
        marker,
        kind,
        at: Date.now(),
        answered,
        task_id: task.task_id ?? null,
        task_status: task.status && FINAL.has(task.status) ? task.status : task.status ? `not final: ${task.status}` : null,
        webhook_id: typeof req.headers['webhook-id'] === 'string' ? req.headers['webhook-id'] : null,
        signed: verify(marker, body, req.headers),
      };
      const answer = () => {
        deliveries.push(delivery);
        res.writeHead(answered).end();
      };
      if (kind === 'slow') setTimeout(answer, param);
      else answer();
    });
  });
  // Idle connections stay open: a receiver closing one just as the Worker reuses it would fail an
  // attempt before it arrives, which is the network's doing, not the Worker's.
  server.keepAliveTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    deliveries,
    urlFor: (marker, webhook) =>
      `${webhook.kind === 'dead-unreachable' ? unreachable : origin}/hooks/${webhook.kind}/${marker}${webhook.param ? `?param=${webhook.param}` : ''}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
