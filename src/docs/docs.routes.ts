import { Hono, type Context } from 'hono';
import type { AppEnv } from '../env';
import { ApiError } from '../errors';

/**
 * The page's Content-Security-Policy: everything from this origin, nothing inline, nothing evaluated.
 * Beyond `'self'`, Swagger UI needs only `data:` images (its stylesheet's icons) and `blob:` images
 * ("Try it out" shows an image answer, such as a result file, through an object URL).
 * `connect-src 'self'` is why "Try it out" can call this Worker and no other server.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Names the build gives files with a hash of their content (scripts/build-docs-assets.ts): never changed, kept a year. */
const CONTENT_HASHED = /\.[0-9a-f]{16}\.[a-z]+$/;

/**
 * Answers with a file of dist/docs (the `ASSETS` binding; wrangler.toml `[assets]`), which handles
 * `If-None-Match` with its ETag, plus the page's headers. Anything but a file there is our 404.
 */
async function serveAsset(c: Context<AppEnv>, file: string, cacheControl: string): Promise<Response> {
  const asset = await c.env.ASSETS.fetch(new Request(new URL(`/${file}`, c.req.url), c.req.raw));
  if (asset.status !== 200 && asset.status !== 304) {
    await asset.body?.cancel();
    throw new ApiError('not_found', `No route for ${c.req.method} ${c.req.path}.`);
  }
  // A fetched response's headers are immutable; the request-id middleware still has to add its own.
  const res = new Response(asset.body, asset);
  res.headers.set('content-security-policy', CONTENT_SECURITY_POLICY);
  res.headers.set('x-content-type-options', 'nosniff');
  res.headers.set('cache-control', cacheControl);
  return res;
}

/**
 * `GET /docs`: the API reference, Swagger UI rendering `/openapi.json`, with "Try it out" calling this
 * Worker; `GET /docs/<file>`: what the page loads. No authentication: the document is public.
 */
export const docsRoutes = new Hono<AppEnv>()
  // The page is revalidated on each visit (a 304 when unchanged), so a deploy shows at once.
  .get('/', (c) => serveAsset(c, 'index.html', 'no-cache'))
  .get('/:file', (c) => {
    const file = c.req.param('file');
    // The page has one address.
    if (file === 'index.html') throw new ApiError('not_found', `No route for ${c.req.method} ${c.req.path}.`);
    return serveAsset(c, file, CONTENT_HASHED.test(file) ? 'public, max-age=31536000, immutable' : 'no-cache');
  });
