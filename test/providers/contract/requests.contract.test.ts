import { describe, expect, it } from 'vitest';
import { MODELS } from '../../../src/catalog';
import { ADAPTERS, PROVIDERS } from '../../../src/providers';
import type { ProviderAdapter } from '../../../src/providers/adapter';
import { pollJob } from '../../../src/providers/exchange';
import type { Json, ProviderInfo } from '../../../src/providers/types';
import { ProviderRetryableError } from '../../../src/providers/types';
import { recordingCall, type SentRequest } from '../adapter-harness';
import { catalogCases, referenceUrl } from './catalog-cases';
import { checkRequest } from './descriptions';


/** Every adapter, typed for the job-agnostic calls made here. */
const ALL_ADAPTERS: readonly ProviderAdapter<never>[] = ADAPTERS;
/**
 * Contract, requests: every request the adapters build, for every catalog model and option (see
 * `catalogCases`) and for every poll, fits the provider's published description: endpoint, base
 * URL, auth header, content type, every field known with an allowed value, every required field sent.
 * The adapters' `facts.endpoints` must be exactly the endpoints called.
 */

/** A PNG's first bytes: enough for the reference-image download's magic-byte check. */
const PNG_HEAD = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 2, 128, 0, 0, 1, 224]);

/** A handle as each async provider's submit would have answered, to build its poll. */
const POLL_HANDLES: Record<string, (base: string) => Json> = {
  bfl: (base) => ({ id: 'job-1', polling_url: `${base}/v1/get_result?id=job-1` }),
  wavespeed: () => ({ id: 'pred1', model: 'z-ai/cogview-4' }),
  ideogram: () => ({ generation_id: 'gen_1' }),
};

/**
 * A call that records requests to the provider's production URL, serves reference images, and answers
 * 503 (the answers are the other contract test's business).
 */
function recorder(provider: ProviderInfo) {
  const files = Object.fromEntries(
    Array.from({ length: 16 }, (_, i) => [referenceUrl(i), new Response(PNG_HEAD, { headers: { 'content-type': 'image/png' } })]),
  );
  return recordingCall([new Response('busy', { status: 503 })], { env: { [provider.baseUrlVar]: provider.defaultBaseUrl }, files });
}

/** Runs `build`, which ends in a thrown retryable error (the 503) once the request is recorded. */
async function sentBy(provider: ProviderInfo, build: (call: ReturnType<typeof recorder>['call']) => Promise<unknown>): Promise<SentRequest[]> {
  const { call, sent } = recorder(provider);
  await build(call).catch((err: unknown) => {
    if (!(err instanceof ProviderRetryableError)) throw err;
  });
  return sent;
}

describe.each(PROVIDERS.map((p) => [p.id, p] as const))('contract, requests to %s', (_id, provider) => {
  const models = MODELS.filter((m) => m.nodes.some((n) => n.provider === provider.id));

  it(`every request built for the catalog and every poll fits ${provider.facts?.description.fixture}`, async () => {
    const problems: string[] = [];
    const called = new Set<string>();
    let requests = 0;
    const record = (label: string, sent: SentRequest[]) => {
      if (sent.length === 0) problems.push(`${label}: no request was made`);
      for (const request of sent) {
        requests++;
        const json = request.body === null ? undefined : (JSON.parse(request.body) as unknown);
        const checked = checkRequest(provider, { ...request, json, form: request.form ?? undefined });
        called.add(checked.endpoint.call);
        problems.push(...checked.problems.map((p) => `${label}: ${p}`));
      }
    };

    for (const model of models) {
      for (const { label, body } of catalogCases(model)) {
        const input = model.schema.parse(body);
        for (const node of model.nodes.filter((n) => n.provider === provider.id)) {
          record(`${label} (${node.id})`, await sentBy(provider, (call) => node.submit(input, call)));
        }
      }
    }
    for (const adapter of ALL_ADAPTERS.filter((a) => a.provider.id === provider.id && a.mode === 'async')) {
      if (adapter.mode !== 'async') continue;
      const handle = POLL_HANDLES[provider.id]!(provider.defaultBaseUrl);
      record(`poll ${JSON.stringify(handle)}`, await sentBy(provider, (call) => pollJob(adapter, handle, call)));
    }

    expect(problems).toEqual([]);
    expect([...called].sort()).toEqual([...(provider.facts?.endpoints ?? [])].sort());
    // The catalog gives every provider many cases; this guards against the generator going quiet.
    expect(requests).toBeGreaterThan(models.length);
  });
});
