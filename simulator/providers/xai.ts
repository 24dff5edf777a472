import { Hono } from 'hono';
import { forEndpoint } from '../faults';
import type { SimEnv, SimKit, SimProvider } from '../types';
import { jsonBody } from '../types';

/**
 * xAI image generation, synchronous: `POST /v1/images/generations` with `Authorization: Bearer
 * <key>`, `{ model, prompt, n, response_format, aspect_ratio, resolution }`, answered `{ data: [{ url |
 * b64_json, mime_type }], usage }`, the shape of `GeneratedImageResponse` in xAI's OpenAPI.
 * Moderation is an HTTP 200: a refused prompt answers `data: []` (as users report; the REST
 * description has no refusal field), and a filtered output is a placeholder image with
 * `respect_moderation: false` (xAI's gRPC proto; not in the REST schema). Errors are
 * `{ code: "<status text>", error: "<message>" }`; `size` and `style` are refused as unsupported;
 * an exhausted balance is a 429 that says so (user reports). Prompts are limited to 1024 characters,
 * the `max_prompt_length` xAI's OpenAPI gives as the example for grok-imagine-image.
 *
 * This path is shared with OpenAI's API, so this module only answers requests for `grok-*` models.
 * Simulated: the pixel size of each ratio and resolution, and how long URLs last (one hour).
 */
const MODELS = ['grok-imagine-image', 'grok-imagine-image-pro', 'grok-imagine-image-quality', 'grok-2-image-1212'];
const RATIOS = ['1:1', '3:4', '4:3', '9:16', '16:9', '2:3', '3:2', '9:19.5', '19.5:9', '9:20', '20:9', '1:2', '2:1', 'auto'];
const FIELDS = ['model', 'prompt', 'n', 'response_format', 'aspect_ratio', 'resolution', 'quality', 'user'];
const URL_TTL_MS = 3600_000;
const MAX_PROMPT_LENGTH = 1024;
const HANG_MS = 10 * 60_000;

const error = (status: number, code: string, message: string, headers: Record<string, string> = {}): Response =>
  Response.json({ code, error: message }, { status, headers });
const invalid = (message: string) => error(400, 'Client specified an invalid argument', message);

/** The simulator's pick: about 1 or 4 megapixels in the ratio, sides multiples of 16. */
function sizeForRatio(ratio: string, resolution: string): [number, number] {
  const [w, h] = ratio === 'auto' ? [1, 1] : ratio.split(':').map(Number);
  const area = (resolution === '2k' ? 2048 : 1024) ** 2;
  const width = Math.round(Math.sqrt((area * w!) / h!) / 16) * 16;
  return [width, Math.round(area / width / 16) * 16];
}

/** Waits without keeping the process alive, so a hung request cannot block shutdown. */
const idle = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

function problemOf(body: Record<string, unknown>): Response | null {
  for (const unsupported of ['size', 'style']) {
    if (body[unsupported] !== undefined) return invalid(`Argument not supported: ${unsupported}`);
  }
  const extra = Object.keys(body).find((key) => !FIELDS.includes(key));
  if (extra) {
    return error(422, 'Client specified an invalid argument', `Failed to deserialize the JSON body into the target type: unknown field \`${extra}\``);
  }
  if (!MODELS.includes(String(body.model))) {
    return error(404, 'Some requested entity was not found', `The model ${String(body.model)} does not exist or your team does not have access to it.`);
  }
  if (typeof body.prompt !== 'string' || body.prompt.trim() === '') return invalid('prompt must be a non-empty string');
  if (body.prompt.length > MAX_PROMPT_LENGTH) return invalid(`prompt must be at most ${MAX_PROMPT_LENGTH} characters`);
  const n = body.n ?? 1;
  if (!Number.isInteger(n) || (n as number) < 1 || (n as number) > 10) return invalid('n must be an integer between 1 and 10');
  if (body.aspect_ratio !== undefined && !RATIOS.includes(String(body.aspect_ratio))) {
    return invalid(`Invalid aspect_ratio ${String(body.aspect_ratio)}; supported: ${RATIOS.join(', ')}`);
  }
  if (body.resolution !== undefined && body.resolution !== '1k' && body.resolution !== '2k') return invalid('resolution must be 1k or 2k');
  if (body.response_format !== undefined && body.response_format !== 'url' && body.response_format !== 'b64_json') {
    return invalid('response_format must be url or b64_json');
  }
  return null;
}

async function generate(body: Record<string, unknown>, authorization: string, kit: SimKit): Promise<Response> {
  if (!/^Bearer \S+$/.test(authorization)) {
    return invalid('Incorrect API key provided: . You can obtain an API key from https://console.x.ai.');
  }
  const problem = problemOf(body);
  if (problem) return problem;

  const prompt = body.prompt as string;
  const faults = forEndpoint(kit.faults('xai', prompt), 'xai');
  if (faults.no_credit) {
    return error(429, 'Some resource has been exhausted', 'Your team has either used all available credits or reached its monthly spending limit. To continue making API requests, please purchase more credits or raise your spending limit.');
  }
  if (faults.fail_http) {
    const status = faults.http_status!;
    if (status === 429) return error(429, 'Too many requests', 'Rate limit exceeded, please retry later.', { 'retry-after': '1' });
    return error(status, status >= 500 ? 'Service unavailable' : 'Client specified an invalid argument', `Request failed with status ${status}`);
  }
  if (faults.hang) await idle(HANG_MS);
  if (faults.latency_ms > 0) await kit.sleep(faults.latency_ms);
  if (faults.fail) return error(500, 'Internal error', 'Image generation failed.');
  const n = (body.n as number | undefined) ?? 1;
  const usage = { cost_in_usd_ticks: faults.moderate ? 0 : n * 200_000_000 };
  if (faults.moderate) return Response.json({ data: [], usage });

  const [width, height] = sizeForRatio(String(body.aspect_ratio ?? 'auto'), String(body.resolution ?? '1k'));
  const data = Array.from({ length: n }, (_, i) => {
    // A filtered output is replaced by a placeholder and flagged (gRPC `respect_moderation`).
    const picture = faults.moderate_output ? 'placeholder' : n === 1 ? prompt : `${prompt} #${i + 1}`;
    const image =
      body.response_format === 'b64_json'
        ? { b64_json: kit.image(picture, width, height).toString('base64') }
        : { url: kit.hostedImage(picture, width, height, URL_TTL_MS) };
    return { ...image, mime_type: 'image/png', ...(faults.moderate_output ? { respect_moderation: false } : {}) };
  });
  return Response.json({ data, usage });
}

export const xai: SimProvider = (kit) =>
  new Hono<SimEnv>().post('/v1/images/generations', async (c, next) => {
    const body = await jsonBody(c);
    if (!body || typeof body.model !== 'string' || !body.model.startsWith('grok-')) return next();
    return generate(body, c.req.header('authorization') ?? '', kit);
  });
