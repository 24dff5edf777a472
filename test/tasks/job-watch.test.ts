import { describe, expect, it } from 'vitest';
import { ADAPTERS, PROVIDERS } from '../../src/providers';
import type { ProviderRequest, RequestContext } from '../../src/providers/adapter';
import { bflAdapter } from '../../src/providers/bfl.adapter';
import { ideogramAsyncAdapter } from '../../src/providers/ideogram.adapter';
import { wavespeedAdapter } from '../../src/providers/wavespeed.adapter';
import { callbackTokenHash, offersCallbacks } from '../../src/tasks/job-watch';

const CALLBACK = 'https://api.example.com/callbacks/v1/x/task_0123456789012345678901/abc?';

function context(callbackUrl?: string): RequestContext {
  return {
    base: new URL('https://provider.example.com'),
    inputImage: async () => 'unused',
    inline: () => {
      throw new Error('unused');
    },
    callbackUrl,
  };
}

/** Each async adapter's submit for a plain job, as the provider would receive it. */
const SUBMITS = {
  bfl: (callbackUrl?: string) =>
    bflAdapter.submit.request({ endpoint: 'flux-2-pro', body: { prompt: 'a cat', width: 1024, height: 1024, output_format: 'png' } }, context(callbackUrl)),
  wavespeed: (callbackUrl?: string) => wavespeedAdapter.submit.request({ model: 'z-ai/cogview-4', input: { prompt: 'a cat' } }, context(callbackUrl)),
  ideogram: (callbackUrl?: string) => ideogramAsyncAdapter.submit.request({ fields: { text_prompt: 'a cat' } }, context(callbackUrl)),
};

/** Where each provider documents the callback URL goes: a body field or a query parameter. */
function callbackIn(provider: string, request: ProviderRequest): string | undefined {
  const url = new URL(request.url, 'https://provider.example.com');
  switch (provider) {
    case 'bfl':
      return (request.json as { webhook_url?: string }).webhook_url;
    case 'wavespeed':
      return url.searchParams.get('webhook') ?? undefined;
    case 'ideogram':
      return url.searchParams.get('webhook_url') ?? undefined;
  }
  return undefined;
}

describe('provider callbacks, as the adapters declare and send them', () => {
  it('are offered by exactly the providers whose published API has them', () => {
    expect(PROVIDERS.filter((p) => offersCallbacks(p.id)).map((p) => p.id)).toEqual(['bfl', 'wavespeed', 'ideogram']);
    expect(offersCallbacks('nobody')).toBe(false);
  });

  it('every async adapter of such a provider passes the callback URL on where its provider reads it, and only when given one', async () => {
    const asyncProviders = [...new Set(ADAPTERS.filter((a) => a.mode === 'async').map((a) => a.provider.id))];
    expect(asyncProviders.filter(offersCallbacks).sort()).toEqual(Object.keys(SUBMITS).sort());
    for (const [provider, submit] of Object.entries(SUBMITS)) {
      const withCallback = (await submit(CALLBACK)) as ProviderRequest;
      expect(callbackIn(provider, withCallback), provider).toBe(CALLBACK);
      const without = (await submit()) as ProviderRequest;
      expect(callbackIn(provider, without), provider).toBeUndefined();
      expect(without.url).not.toContain('?');
    }
  });

  it('keeps a token as its SHA-256, never the token itself', async () => {
    const hash = await callbackTokenHash('token');
    expect(hash).toBe('3c469e9d6c5875d37a43f353d4f88e61fcf812c66eee3457465a40b0da4153e0');
  });
});
