import { describe, expect, inject, it } from 'vitest';
import { fetchFollowingCheckedRedirects, MAX_REDIRECTS, RedirectRefusedError } from '../../src/outbound/guarded-fetch';
import { fetchInputImage } from '../../src/providers/http';

const PUBLIC = { allowLoopback: false };
const DEVELOPMENT = { allowLoopback: true };
const PNG_HEAD = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 2, 128, 0, 0, 1, 224]);

const redirect = (location: string, status = 302) => new Response(null, { status, headers: { location } });
const png = () => new Response(PNG_HEAD, { headers: { 'content-type': 'image/png' } });

/** A fake `fetch` answering each URL from `routes`, recording every call with its options. */
function fakeFetch(routes: Record<string, () => Response>) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fetchFn = (async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = String(input);
    calls.push({ url, init });
    const answer = routes[url];
    if (!answer) throw new Error(`unexpected fetch of ${url}`);
    return answer();
  }) as typeof fetch;
  return { fetchFn, calls };
}

describe('fetchFollowingCheckedRedirects', () => {
  it('never lets the platform follow a redirect, and follows up to 3 by hand, resolving relative Locations', async () => {
    const { fetchFn, calls } = fakeFetch({
      'https://img.example.com/a': () => redirect('/b', 301),
      'https://img.example.com/b': () => redirect('https://cdn.example.net/c', 307),
      'https://cdn.example.net/c': () => redirect('d?size=1', 308),
      'https://cdn.example.net/d?size=1': png,
    });
    const res = await fetchFollowingCheckedRedirects(fetchFn, 'https://img.example.com/a', { headers: { accept: 'image/*' } }, PUBLIC);
    expect(res.status).toBe(200);
    expect(calls.map((c) => c.url)).toEqual([
      'https://img.example.com/a',
      'https://img.example.com/b',
      'https://cdn.example.net/c',
      'https://cdn.example.net/d?size=1',
    ]);
    expect(calls.every((c) => c.init.redirect === 'manual' && new Headers(c.init.headers).get('accept') === 'image/*')).toBe(true);
  });

  it(`refuses a redirect chain longer than ${MAX_REDIRECTS} hops`, async () => {
    const { fetchFn, calls } = fakeFetch(
      Object.fromEntries([0, 1, 2, 3, 4].map((i) => [`https://img.example.com/${i}`, () => redirect(`/${i + 1}`)])),
    );
    const error = await fetchFollowingCheckedRedirects(fetchFn, 'https://img.example.com/0', {}, PUBLIC).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(RedirectRefusedError);
    expect((error as Error).message).toBe('redirected more than 3 times');
    expect(calls).toHaveLength(MAX_REDIRECTS + 1);
  });

  it.each([
    ['0.0.0.0', 'http://0.0.0.0:8080/secret.png'],
    ['an IPv4-mapped loopback address', 'http://[::ffff:127.0.0.1]:8080/secret.png'],
    ['the cloud metadata address', 'http://169.254.169.254/latest/meta-data/'],
    ['a private address over https', 'https://10.0.0.5/x.png'],
    ['a local name', 'https://printer.local/x.png'],
    ['a file URL', 'file:///etc/passwd'],
    ['a data URL', 'data:image/png;base64,iVBORw0KGgo='],
  ])('refuses a Location pointing at %s, even in development, without fetching it', async (_case, location) => {
    const { fetchFn, calls } = fakeFetch({ 'http://127.0.0.1:9999/start': () => redirect(location) });
    const attempt = fetchFollowingCheckedRedirects(fetchFn, 'http://127.0.0.1:9999/start', {}, DEVELOPMENT);
    await expect(attempt).rejects.toThrow(RedirectRefusedError);
    await expect(attempt).rejects.toThrow(/^redirected to .+, which must /);
    expect(calls.map((c) => c.url)).toEqual(['http://127.0.0.1:9999/start']);
  });

  it('refuses a loopback Location outside development, and allows it in development', async () => {
    const routes = { 'https://img.example.com/a': () => redirect('http://127.0.0.1:8787/internal'), 'http://127.0.0.1:8787/internal': png };
    await expect(fetchFollowingCheckedRedirects(fakeFetch(routes).fetchFn, 'https://img.example.com/a', {}, PUBLIC)).rejects.toThrow(
      'redirected to http://127.0.0.1:8787/internal, which must be an https URL',
    );
    const res = await fetchFollowingCheckedRedirects(fakeFetch(routes).fetchFn, 'https://img.example.com/a', {}, DEVELOPMENT);
    expect(res.status).toBe(200);
  });

  it('hands back a 3xx without a Location as it is', async () => {
    const { fetchFn } = fakeFetch({ 'https://img.example.com/a': () => new Response(null, { status: 302 }) });
    expect((await fetchFollowingCheckedRedirects(fetchFn, 'https://img.example.com/a', {}, PUBLIC)).status).toBe(302);
  });
});

describe('fetchInputImage', () => {
  it('says where a refused redirect pointed, as the reason the image could not be downloaded', async () => {
    const { fetchFn } = fakeFetch({ 'https://img.example.com/a.png': () => redirect('http://0.0.0.0:8080/a.png') });
    expect(await fetchInputImage(fetchFn, 'https://img.example.com/a.png', 1024)).toBe(
      'could not be downloaded (redirected to http://0.0.0.0:8080/a.png, which must be an https URL)',
    );
  });

  it('follows an allowed redirect to the image', async () => {
    const { fetchFn } = fakeFetch({ 'https://img.example.com/a.png': () => redirect('https://cdn.example.net/a.png'), 'https://cdn.example.net/a.png': png });
    expect(await fetchInputImage(fetchFn, 'https://img.example.com/a.png', 1024)).toMatchObject({ content_type: 'image/png' });
  });

  it("keeps the runtime's own error words out of the reason", async () => {
    const failing = (async () => {
      throw new Error('internal error; reference = 0123456789abcdef');
    }) as typeof fetch;
    expect(await fetchInputImage(failing, 'https://img.example.com/a.png', 1024)).toBe('could not be downloaded (network error)');
  });

  it('with the real fetch, does not follow a redirect to 0.0.0.0 that the platform would have followed', async () => {
    const redirector = inject('redirectorUrl');
    const tag = crypto.randomUUID();
    const target = `http://0.0.0.0:${new URL(redirector).port}/image.png?tag=${tag}`;
    // The target itself is a good image: only the redirect check stands between the Worker and it.
    expect(await fetchInputImage(fetch, `${redirector}/image.png?tag=${tag}-direct`, 1024, undefined, DEVELOPMENT)).toMatchObject({ content_type: 'image/png' });
    const reason = await fetchInputImage(fetch, `${redirector}/redirect?to=${encodeURIComponent(target)}`, 1024, undefined, DEVELOPMENT);
    // Development allows loopback only: 0.0.0.0 is refused there too.
    expect(reason).toBe(`could not be downloaded (redirected to ${target}, which must be an https URL)`);
    const { hits } = await (await fetch(`${redirector}/hits?tag=${tag}`)).json<{ hits: number }>();
    expect(hits).toBe(0);
  });
});
