import { exports } from 'cloudflare:workers';
import OpenAI from 'openai';
import { ORIGIN } from '../../helpers';

/** What the SDK sent and got, one entry per HTTP attempt (retries show up as more entries). */
export interface Exchange {
  method: string;
  url: string;
  status: number;
}

/**
 * The official `openai` SDK pointed at the Worker: `baseURL = <worker>/v1`, the customer's `aio_` key,
 * and a `fetch` that hands each request to the Worker's fetch handler (as `api()` does) and logs it.
 */
export function openAIClient(authorization: Record<string, string>, options: { maxRetries?: number; timeout?: number } = {}) {
  const exchanges: Exchange[] = [];
  const apiKey = authorization.authorization!.replace(/^Bearer /, '');
  const workerFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const response = await exports.default.fetch(request);
    exchanges.push({ method: request.method, url: request.url, status: response.status });
    return response;
  };
  // The SDK checks once whether this fetch's Response understands FormData; it is the runtime's own.
  const fetch = Object.assign(workerFetch, { Response });
  const client = new OpenAI({ apiKey, baseURL: `${ORIGIN}/v1`, fetch, ...options });
  return { client, exchanges };
}
