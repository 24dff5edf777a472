import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DEFAULT_GLOBAL_FAULTS, faultsFromPrompt, type GlobalFaults } from './faults';
import { renderPromptImage } from './png';
import { PROVIDERS } from './providers';
import type { SimKit, SimRequest, SimResponse } from './types';
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

  const webhooks = createWebhookReceiver(kit.baseUrl, kit.sleep);

  async function admin(req: SimRequest): Promise<SimResponse | null> {
    const path = req.url.pathname;
    if (path.startsWith('/__sim/webhooks/')) return webhooks.handle(req);
    if (path === '/__sim/health') return { status: 200, body: { ok: true } };
    if (path === '/__sim/faults' && req.method === 'GET') return { status: 200, body: global };
    if (path === '/__sim/faults' && req.method === 'POST') {
      global = { ...DEFAULT_GLOBAL_FAULTS, ...(JSON.parse(req.body.toString() || '{}') as Partial<GlobalFaults>) };
      return { status: 200, body: global };
    }
    if (path === '/__sim/reset' && req.method === 'POST') {
      global = { ...DEFAULT_GLOBAL_FAULTS };
      counters.clear();
      recorded.length = 0;
      return { status: 200, body: { ok: true } };
    }
    if (path === '/__sim/requests') {
      const filter = req.url.searchParams.get('path');
      return { status: 200, body: recorded.filter((r) => !filter || r.path.includes(filter)) };
    }
    const file = path.match(/^\/__sim\/files\/([0-9a-f]+)\.png$/);
    if (file) {
      const hosted = files.get(file[1]!);
      if (!hosted) return { status: 404, body: 'not found' };
      if (hosted.expires < Date.now()) return { status: 403, body: 'Request has expired' };
      return {
        status: 200,
        headers: { 'content-type': 'image/png' },
        body: kit.image(hosted.prompt, hosted.width, hosted.height),
      };
    }
    return null;
  }

  async function route(req: SimRequest): Promise<SimResponse> {
    if (req.url.pathname.startsWith('/__sim/')) return (await admin(req)) ?? { status: 404, body: { detail: 'Not Found' } };
    recorded.push({
      at: new Date().toISOString(),
      method: req.method,
      path: req.url.pathname,
      query: Object.fromEntries(req.url.searchParams),
      headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])),
      body: req.body.toString('utf8').slice(0, 20_000),
    });
    if (recorded.length > MAX_RECORDED) recorded.splice(0, recorded.length - MAX_RECORDED);
    for (const provider of PROVIDERS) {
      const response = await provider.handle(req, kit);
      if (response) return response;
    }
    return { status: 404, body: { detail: 'Not Found' } };
  }

  async function onRequest(incoming: IncomingMessage, outgoing: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const req: SimRequest = {
      method: incoming.method ?? 'GET',
      url: new URL(incoming.url ?? '/', baseUrl),
      headers: incoming.headers,
      body: Buffer.concat(chunks),
    };
    let response: SimResponse;
    try {
      response = await route(req);
    } catch (err) {
      response = { status: 500, body: { detail: `simulator error: ${String(err)}` } };
    }
    const body =
      response.body === undefined
        ? ''
        : typeof response.body === 'string' || Buffer.isBuffer(response.body)
          ? response.body
          : JSON.stringify(response.body);
    const headers = { ...response.headers };
    if (response.body !== undefined && typeof response.body === 'object' && !Buffer.isBuffer(response.body)) {
      headers['content-type'] ??= 'application/json';
    }
    outgoing.writeHead(response.status, headers);
    outgoing.end(body);
  }

  const server = createServer((incoming, outgoing) => {
    onRequest(incoming, outgoing).catch(() => outgoing.destroy());
  });
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
