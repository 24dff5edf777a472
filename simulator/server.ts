import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import { type DurationMode, jobDuration } from './durations';
import { DEFAULT_GLOBAL_FAULTS, faultsFromPrompt, type GlobalFaults } from './faults';
import { createJobs } from './jobs';
import { createCapacity } from './capacity';
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
const MAX_SUBMITS = 100_000;

/** A provider POST (a submit) and how it was answered; `caller_gone`: the caller had hung up by then. */
export interface RecordedSubmit {
  at: string;
  path: string;
  /** The first 2000 characters of the body. */
  body: string;
  status: number | null;
  answered_at: string | null;
  caller_gone: boolean | null;
  /** Its 2xx answer was cut short by `[sim:garble]`. */
  garbled: boolean;
}

const notFound = () => Response.json({ detail: 'Not Found' }, { status: 404 });

/**
 * The provider simulator: one HTTP server speaking every provider's wire protocol (see
 * `providers/`), plus its own admin routes under `/__sim/`:
 *   GET  /__sim/health            liveness
 *   GET/POST /__sim/faults        read or set the global fault switches (see faults.ts)
 *   GET  /__sim/requests?path=…   the requests received, newest last (for contract tests)
 *   GET  /__sim/submits?contains=…  provider POSTs with their answers, oldest first (for chaos runs)
 *   POST /__sim/reset             forget requests, counters and faults
 *   GET  /__sim/files/<id>.png    hosted result images (expire like the providers' URLs)
 *   GET  /__sim/jobs?…            async jobs with their ready time and callback (see jobs.ts)
 *   GET/POST /__sim/capacity      providers' in-flight limits per account, and counts (see capacity.ts)
 *   /__sim/webhooks/<name>        named webhook receivers (see webhook-receiver.ts)
 */
export async function startSimulator(options: { port?: number; host?: string; durations?: DurationMode } = {}): Promise<Simulator> {
  let global: GlobalFaults = { ...DEFAULT_GLOBAL_FAULTS };
  const counters = new Map<string, number>();
  const recorded: RecordedRequest[] = [];
  const submits: RecordedSubmit[] = [];
  const files = new Map<string, HostedFile>();
  const imageCache = new Map<string, Buffer>();
  const jobs = createJobs();
  const capacity = createCapacity();
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
        png = renderPromptImage(prompt, width, height, faultsFromPrompt(prompt, DEFAULT_GLOBAL_FAULTS).grain);
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
    jobDuration: (model, faults) => jobDuration(options.durations ?? 'instant', model, faults.latency_ms),
    addJob: (job, faults) => jobs.add(job, faults),
    jobPolled: (provider, id) => jobs.polled(provider, id),
    capacity,
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
    // Submits (provider POSTs) with how each was answered, kept apart from `recorded`, which polls
    // overflow: for chaos runs, which count the jobs a provider accepted twice for one task.
    // `[sim:garble]` in the body (or `[sim:garble=N]`, the first N times) cuts a 2xx answer in half:
    // a malformed answer to a request the provider did carry out.
    .use(async (c, next) => {
      const path = new URL(c.req.url).pathname;
      if (c.req.method !== 'POST' || path.startsWith('/__sim/')) return next();
      const body = (await rawBody(c)).toString('utf8');
      const submit: RecordedSubmit = { at: new Date().toISOString(), path, body: body.slice(0, 2000), status: null, answered_at: null, caller_gone: null, garbled: false };
      submits.push(submit);
      if (submits.length > MAX_SUBMITS) submits.splice(0, submits.length - MAX_SUBMITS);
      await next();
      const garble = /\[sim:garble(?:=(\d+))?\]/.exec(body);
      if (garble && c.res.status < 300) {
        // Multipart boundaries differ per request: the same request sent again must count as the same.
        const key = `garble\u0000${path}\u0000${body.replace(/^--.*$/gm, '')}`;
        const seen = counters.get(key) ?? 0;
        counters.set(key, seen + 1);
        if (garble[1] === undefined || seen < Number(garble[1])) {
          const text = await c.res.text();
          c.res = new Response(text.slice(0, Math.floor(text.length / 2)), { status: c.res.status, headers: { 'content-type': 'application/json' } });
          submit.garbled = true;
        }
      }
      Object.assign(submit, { status: c.res.status, answered_at: new Date().toISOString(), caller_gone: c.env.incoming.socket.destroyed });
    })
    .route('/__sim/webhooks', createWebhookReceiver(kit.baseUrl, kit.sleep))
    .route('/__sim/jobs', jobs.routes)
    .route('/__sim/capacity', capacity.routes)
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
      submits.length = 0;
      capacity.reset();
      return Response.json({ ok: true });
    })
    .get('/__sim/submits', (c) => {
      const contains = c.req.query('contains');
      return Response.json(submits.filter((s) => !contains || s.body.includes(contains)));
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
