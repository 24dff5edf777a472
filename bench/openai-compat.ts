import type { Customer } from './gateway-client';
import type { LoadTarget } from './load';

/**
 * Our OpenAI-compatible route under the same load as the Portkey peer: the same request body Portkey
 * proxies (`gpt-image-1`'s fields, here for the catalog's GPT Image model, whose provider is the same
 * simulated OpenAI route), 200 expected. The work differs and the report says so: each of our
 * answers is a whole task (auth, validation, credit reservation, a task object, the provider call,
 * the image copied to R2, settlement, the waiting request woken) while Portkey relays one call.
 */
const OPENAI_COMPAT_MODEL = 'gpt-image-1.5-official';

/** `POST /v1/images/generations` as `customer`, answering `url`s or the image inline (`b64_json`, Portkey's payload). */
export function openAICompatTarget(origin: string, customer: Customer, prompt: string, format: 'url' | 'b64_json'): LoadTarget {
  return {
    url: `${origin}/v1/images/generations`,
    method: 'POST',
    headers: { ...customer.auth, 'content-type': 'application/json' },
    body: JSON.stringify({ model: OPENAI_COMPAT_MODEL, prompt, n: 1, size: '1024x1024', response_format: format }),
    expectStatus: 200,
  };
}

/**
 * Our instance's variables for this load. The peer passes every request straight through, so ours
 * must not hold them back either: the simulator takes any number of jobs at once, where the OpenAI
 * adapter's default of 4 submit slots (a guess at a real account's limit) would queue 12 of the 16
 * connections; and the account's request rate limit (600 a minute by default) would refuse most of them.
 */
export const OPENAI_COMPAT_VARS: Record<string, string> = {
  PROVIDER_CAPACITY: JSON.stringify({ openai: 10_000 }),
  RATE_LIMIT_REQUESTS_PER_MINUTE: '1000000',
};
