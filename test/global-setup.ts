import { createServer, type Server } from 'node:http';
import type { TestProject } from 'vitest/node';
import { startSimulator } from '../simulator/server';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Where the redirecting image host of `startRedirector` listens (`http://127.0.0.1:PORT`). */
    redirectorUrl: string;
  }
}

/** The first 24 bytes of a 640×480 PNG: enough for the Worker's magic-byte check of an input image. */
const PNG_HEAD = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 2, 128, 0, 0, 1, 224]);

/**
 * A customer's image host that redirects, for the SSRF tests (the simulator is someone else's to
 * change, and this is not a provider):
 *   GET /redirect?to=URL[&status=302]  answers that status with `Location: URL`, verbatim
 *   GET /image.png?tag=T               a PNG; each fetch is counted under T
 *   GET /hits?tag=T                    `{"hits": N}`: how often /image.png?tag=T was fetched
 * It listens on 127.0.0.1, which `http://0.0.0.0:PORT` also reaches on Linux and macOS, so a
 * redirect the Worker wrongly followed to a refused address shows up in /hits.
 */
async function startRedirector(): Promise<{ url: string; close: () => Promise<void> }> {
  const hits = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://redirector');
    const tag = url.searchParams.get('tag') ?? '';
    if (url.pathname === '/redirect') {
      res.writeHead(Number(url.searchParams.get('status') ?? 302), { location: url.searchParams.get('to') ?? '/' }).end();
    } else if (url.pathname === '/image.png') {
      hits.set(tag, (hits.get(tag) ?? 0) + 1);
      res.writeHead(200, { 'content-type': 'image/png' }).end(PNG_HEAD);
    } else if (url.pathname === '/hits') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ hits: hits.get(tag) ?? 0 }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Starts the provider simulator on the port the config chose, and the redirector; stops both after the run. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const sim = await startSimulator({ port: Number(process.env.SIM_PORT) });
  const redirector = await startRedirector();
  project.provide('redirectorUrl', redirector.url);
  return async () => {
    await Promise.all([sim.close(), redirector.close()]);
  };
}
