import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import { DEFAULT_GLOBAL_FAULTS, faultsFromPrompt, type GlobalFaults } from './faults';
import { renderPromptImage } from './png';
import { PROVIDERS } from './providers';
import type { SimEnv, SimKit } from './types';
import { rawBody, receivedHeaders } from './types';
import { createWebhookReceiver } from './webhook-receiver';

export interface RecordedRequest {
  at: string;
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: string;
}

export interface Simulator {
  url: string;
  server: Server;
  close(): Promise<void>;
}

interface HostedFile {
  prompt: string;
  width: number;
  height: number;
  expires: number;
}

const MAX_RECORDED = 2000;

const notFound = () => Response.json({ detail: 'Not Found' }, { status: 404 });

/**
 * The provider simulator: one HTTP server speaking every provider's wire protocol (see
 * `providers/`), plus its own admin routes under `/__sim/`:
 *   GET  /__sim/health            liveness
 *   GET/POST /__sim/faults        read or set the global fault switches (see faults.ts)
 *   GET  /__sim/requests?path=…   the requests received, newest last (for contract tests)
 *   POST /__sim/reset             forget requests, counters and faults
 *   GET  /__sim/files/<id>.png    hosted result images (expire like the providers' URLs)
 *   /__sim/webhooks/<name>        named webhook receivers (see webhook-receiver.ts)
 */
export async function startSimulator(options: { port?: number; host?: string } = {}): Promise<Simulator> {
  let global: GlobalFaults = { ...DEFAULT_GLOBAL_FAULTS };
  const counters = new Map<string, number>();
  const recorded: RecordedRequest[] = [];
  const files = new Map<string, HostedFile>();
  const imageCache = new Map<string, Buffer>();
  let baseUrl = '';

  const kit: SimKit = {
    baseUrl: () => baseUrl,
    faults(provider, prompt) {
      const faults = faultsFromPrompt(prompt, global);
      let fail_http = faults.http_status !== null;
      if (fail_http && faults.http_times !== null) {
        const key = `${provider}\u0000${prompt}`;
        const seen = counters.get(key) ?? 0;
        counters.set(key, seen + 1);
        fail_http = seen < faults.http_times;
      }
      return { ...faults, fail_http };
    },
    image(prompt, width, height) {
      const key = `${width}x${height}\u0000${prompt}`;
      let png = imageCache.get(key);
      if (!png) {
        png = renderPromptImage(prompt, width, height);
        if (imageCache.size > 64) imageCache.clear();
        imageCache.set(key, png);
      }
      return png;
    },
    hostedImage(prompt, width, height, ttlMs) {
      const id = randomBytes(12).toString('hex');
      const expires = Date.now() + ttlMs;
      files.set(id, { prompt, width, height, expires });
      return `${baseUrl}/__sim/files/${id}.png?exp=${Math.floor(expires / 1000)}&sig=${randomBytes(8).toString('hex')}`;
    },
    newId: () => randomUUID(),
    // Unref'd: a hanging job must not keep the process alive once the server is closed.
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref()),
  };

  const app = new Hono<SimEnv>()
    // Every provider request is recorded, answered or not; the admin routes are not.
    .use(async (c, next) => {
      const url = new URL(c.req.url);
      if (!url.pathname.startsWith('/__sim/')) {
        recorded.push({
          at: new Date().toISOString(),
          method: c.req.method,
          path: url.pathname,
          query: Object.fromEntries(url.searchParams),
          headers: receivedHeaders(c),
          body: (await rawBody(c)).toString('utf8').slice(0, 20_000),
        });
        if (recorded.length > MAX_RECORDED) recorded.splice(0, recorded.length - MAX_RECORDED);
      }
      await next();
    })
    .route('/__sim/webhooks', createWebhookReceiver(kit.baseUrl, kit.sleep))
    .all('/__sim/health', () => Response.json({ ok: true }))
    .get('/__sim/faults', () => Response.json(global))
    .post('/__sim/faults', async (c) => {
      global = { ...DEFAULT_GLOBAL_FAULTS, ...(JSON.parse((await c.req.text()) || '{}') as Partial<GlobalFaults>) };
      return Response.json(global);
    })
    .post('/__sim/reset', () => {
      global = { ...DEFAULT_GLOBAL_FAULTS };
      counters.clear();
      recorded.length = 0;
      return Response.json({ ok: true });
    })
    .all('/__sim/requests', (c) => {
      const filter = c.req.query('path');
      return Response.json(recorded.filter((r) => !filter || r.path.includes(filter)));
    })
    .all('/__sim/files/:file{[0-9a-f]+\\.png}', (c) => {
      const hosted = files.get(c.req.param('file').slice(0, -'.png'.length));
      if (!hosted) return new Response('not found', { status: 404 });
      if (hosted.expires < Date.now()) return new Response('Request has expired', { status: 403 });
      return new Response(kit.image(hosted.prompt, hosted.width, hosted.height), { headers: { 'content-type': 'image/png' } });
    });
  for (const provider of PROVIDERS) app.route('/', provider(kit));
  app.notFound(notFound);
  app.onError((err) => Response.json({ detail: `simulator error: ${String(err)}` }, { status: 500 }));

  const server = createServer(getRequestListener(app.fetch));
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  baseUrl = `http://${options.host ?? '127.0.0.1'}:${port}`;
  return {
    url: baseUrl,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
