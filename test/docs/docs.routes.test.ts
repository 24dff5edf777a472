import { describe, expect, it } from 'vitest';
import { api } from '../helpers';

/** The `/docs/…` files the page loads (scripts, stylesheet, icon), in page order. */
function pageFiles(html: string): string[] {
  return [...html.matchAll(/(?:src|href)="(\/docs\/[^"]+)"/g)].map((m) => m[1]!);
}

describe('GET /docs: the API reference page', () => {
  it('answers the page without authentication, with a strict CSP, nosniff, revalidation and a request id', async () => {
    const res = await api('/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp.split('; ')).toEqual(
      expect.arrayContaining(["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"]),
    );
    expect(csp).not.toMatch(/unsafe-|https?:|\*/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('x-request-id')).toMatch(/^req_/);
  });

  it('loads Swagger UI and its own script from this Worker, with no inline script', async () => {
    const html = await (await api('/docs')).text();
    expect(html).toContain('data-openapi="/openapi.json"');
    for (const script of html.match(/<script\b[^>]*>[\s\S]*?<\/script>/g) ?? []) {
      expect(script).toMatch(/^<script src="\/docs\/[^"]+" defer><\/script>$/);
    }
    expect(html).not.toMatch(/https?:\/\//);
    const files = pageFiles(html);
    expect(files).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\/docs\/swagger-ui-bundle\.[0-9a-f]{16}\.js$/),
        expect.stringMatching(/^\/docs\/swagger-ui\.[0-9a-f]{16}\.css$/),
        expect.stringMatching(/^\/docs\/docs-init\.[0-9a-f]{16}\.js$/),
      ]),
    );
  });

  it('serves every file the page loads, with its type, nosniff and a year of caching (the names carry their hash)', async () => {
    const files = pageFiles(await (await api('/docs')).text()).filter((path) => !path.endsWith('.txt'));
    const types: Record<string, RegExp> = { js: /^(?:text|application)\/javascript/, css: /^text\/css/, png: /^image\/png$/ };
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const path of files) {
      const res = await api(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toMatch(types[path.split('.').pop()!]!);
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('cache-control'), path).toBe('public, max-age=31536000, immutable');
      expect(res.headers.get('x-request-id'), path).toMatch(/^req_/);
      const body = new TextDecoder().decode(await res.arrayBuffer());
      if (path.includes('swagger-ui-bundle')) expect(body).toContain('SwaggerUIBundle');
      if (path.includes('docs-init')) expect(body).toContain('SwaggerUIBundle({');
    }
  });

  it("serves Swagger UI's licence files the page links to", async () => {
    const links = pageFiles(await (await api('/docs')).text()).filter((path) => path.endsWith('.txt'));
    expect(links).toHaveLength(3);
    for (const path of links) {
      const res = await api(path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toMatch(/^text\/plain/);
      expect(res.headers.get('cache-control'), path).toBe('no-cache');
    }
    expect(await (await api('/docs/swagger-ui-LICENSE.txt')).text()).toContain('Apache License');
  });

  it('answers a repeat visit with 304 when the page has not changed', async () => {
    const first = await api('/docs');
    const etag = first.headers.get('etag');
    expect(etag).toBeTruthy();
    const again = await api('/docs', { headers: { 'if-none-match': etag! } });
    expect(again.status).toBe(304);
    expect(again.headers.get('content-security-policy')).toBe(first.headers.get('content-security-policy'));
  });

  it('answers 404 in the error envelope for a file it does not have, and for the page under a second name', async () => {
    for (const path of ['/docs/nope.js', '/docs/index.html', '/docs/swagger-ui-bundle.js']) {
      const res = await api(path);
      expect(res.status, path).toBe(404);
      const body = await res.json<{ error: { code: string; request_id: string } }>();
      expect(body.error.code).toBe('not_found');
      expect(body.error.request_id).toBe(res.headers.get('x-request-id'));
    }
  });

  it('answers 405 with Allow: GET to other methods', async () => {
    const res = await api('/docs', { method: 'POST' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toContain('GET');
  });
});
