import { Hono, type Context } from 'hono';
import { forEndpoint } from '../faults';
import type { SimEnv, SimKit, SimProvider } from '../types';
import { jsonBody } from '../types';

/**
 * OpenAI Images API for GPT Image models, synchronous, `Authorization: Bearer`:
 *   POST /v1/images/generations  JSON { model, prompt, n, size, quality, background, output_format, … }
 *   POST /v1/images/edits        JSON, the same plus images: [{ image_url } | { file_id }] (1–16)
 * answered `{ created, background, data: [{ b64_json }], output_format, quality, size, usage }`.
 * Errors are `{ error: { message, type, param, code } }`: 400 `invalid_request_error` for bad or
 * unknown parameters (GPT Image models reject `response_format`), 400 `moderation_blocked`, 401
 * `invalid_api_key`, 429 `rate_limit_exceeded`, and 429 `insufficient_quota` when billing runs dry.
 * The simulator fetches `image_url`s as OpenAI does and answers 400 `invalid_image_url` when one is
 * not an image (OpenAI's OpenAPI lists that code for the Responses API; none for the Images API).
 * Multipart edits are not simulated. `moderation_blocked` and `insufficient_quota` are observed codes,
 * not in the OpenAPI.
 */
const MODELS = new Set(['gpt-image-1.5', 'gpt-image-1', 'gpt-image-1-mini']);
const SIZES: Record<string, readonly [number, number]> = {
  auto: [1024, 1024],
  '1024x1024': [1024, 1024],
  '1536x1024': [1536, 1024],
  '1024x1536': [1024, 1536],
};
const ENUMS: Record<string, readonly string[]> = {
  quality: ['auto', 'low', 'medium', 'high'],
  background: ['auto', 'transparent', 'opaque'],
  output_format: ['png', 'jpeg', 'webp'],
  moderation: ['auto', 'low'],
  input_fidelity: ['high', 'low'],
};
const KNOWN = new Set([
  'model', 'prompt', 'n', 'size', 'user', 'stream', 'partial_images', 'output_compression', 'images', 'mask',
  ...Object.keys(ENUMS),
]);
const HANG_MS = 10 * 60_000;

const invalid = (message: string, param: string | null, code: string | null = null): Response =>
  Response.json({ error: { message, type: 'invalid_request_error', param, code } }, { status: 400 });

function validate(body: Record<string, unknown>, edit: boolean): Response | null {
  for (const key of Object.keys(body)) {
    if (!KNOWN.has(key) || (!edit && (key === 'images' || key === 'mask' || key === 'input_fidelity'))) {
      return invalid(`Unknown parameter: '${key}'.`, key, 'unknown_parameter');
    }
  }
  if (typeof body.model !== 'string' || !MODELS.has(body.model)) {
    return invalid(`Invalid value: '${String(body.model)}'. Value must be one of ${[...MODELS].join(', ')}.`, 'model', 'invalid_value');
  }
  if (typeof body.prompt !== 'string' || body.prompt.length === 0) return invalid("Missing required parameter: 'prompt'.", 'prompt', 'missing_required_parameter');
  if (body.prompt.length > 32000) return invalid('Prompt is too long: the maximum length is 32000 characters.', 'prompt', 'string_above_max_length');
  const n = body.n ?? 1;
  if (!Number.isInteger(n) || (n as number) < 1 || (n as number) > 10) return invalid(`Invalid 'n': must be an integer between 1 and 10.`, 'n', 'integer_below_min_value');
  if (body.size !== undefined && !(String(body.size) in SIZES)) {
    return invalid(`Invalid value: '${String(body.size)}'. Supported values are: ${Object.keys(SIZES).map((s) => `'${s}'`).join(', ')}.`, 'size', 'invalid_value');
  }
  for (const [field, allowed] of Object.entries(ENUMS)) {
    if (body[field] !== undefined && !allowed.includes(String(body[field]))) {
      return invalid(`Invalid value: '${String(body[field])}'. Supported values are: ${allowed.map((v) => `'${v}'`).join(', ')}.`, field, 'invalid_value');
    }
  }
  if (body.background === 'transparent' && body.output_format === 'jpeg') {
    return invalid('Transparent background requires output_format png or webp.', 'background', 'invalid_value');
  }
  if (!edit) return null;
  const images = body.images;
  if (!Array.isArray(images) || images.length < 1 || images.length > 16) {
    return invalid("Invalid 'images': expected an array of 1 to 16 image references.", 'images', 'invalid_value');
  }
  for (const [i, ref] of images.entries()) {
    const keys = ref && typeof ref === 'object' ? Object.keys(ref) : [];
    if (keys.length !== 1 || !['image_url', 'file_id'].includes(keys[0]!) || typeof Object.values(ref)[0] !== 'string') {
      return invalid(`Invalid 'images[${i}]': expected exactly one of image_url or file_id.`, `images[${i}]`, 'invalid_value');
    }
  }
  return null;
}

/** Fetches each `image_url` like OpenAI does; data URLs are decoded. */
async function unreadableImage(images: { image_url?: string; file_id?: string }[]): Promise<Response | null> {
  for (const [i, ref] of images.entries()) {
    const url = ref.image_url;
    if (url === undefined) continue;
    let bytes: Buffer | null = null;
    try {
      if (url.startsWith('data:')) {
        bytes = Buffer.from(url.slice(url.indexOf(',') + 1), 'base64');
      } else {
        const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
        bytes = res.ok ? Buffer.from(await res.arrayBuffer()) : null;
      }
    } catch {
      bytes = null;
    }
    const isImage = bytes !== null && (bytes.subarray(0, 4).toString('hex') === '89504e47' || bytes.subarray(0, 2).toString('hex') === 'ffd8' || bytes.subarray(8, 12).toString() === 'WEBP');
    if (!isImage) return invalid(`Error while downloading ${url.slice(0, 200)}.`, `images[${i}].image_url`, 'invalid_image_url');
  }
  return null;
}

function failure(status: number): Response {
  const rateLimited = status === 429;
  const error = rateLimited
    ? { message: 'Rate limit reached for gpt-image-1.5 on images per minute. Please try again in 1s.', type: 'requests', param: null, code: 'rate_limit_exceeded' }
    : { message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error', param: null, code: null };
  return Response.json({ error }, { status, headers: rateLimited ? { 'retry-after': '1' } : {} });
}

async function generate(body: Record<string, unknown>, kit: SimKit, endpoint: string): Promise<Response> {
  const prompt = String(body.prompt);
  const faults = forEndpoint(kit.faults(endpoint, prompt), endpoint);
  if (faults.hang) await kit.sleep(HANG_MS);
  if (faults.latency_ms > 0) await kit.sleep(faults.latency_ms);
  if (faults.no_credit) {
    return Response.json(
      { error: { message: 'You exceeded your current quota, please check your plan and billing details.', type: 'insufficient_quota', param: null, code: 'insufficient_quota' } },
      { status: 429 },
    );
  }
  if (faults.fail_http) return failure(faults.http_status!);
  if (faults.fail) return failure(500);
  if (faults.moderate || faults.moderate_output) {
    const error = {
      message: 'Your request was rejected by the safety system. If you believe this is an error, contact us at help.openai.com.',
      type: 'image_generation_user_error',
      param: null,
      code: 'moderation_blocked',
    };
    return Response.json({ error }, { status: 400 });
  }
  const size = String(body.size ?? 'auto');
  const [width, height] = SIZES[size]!;
  const n = Number(body.n ?? 1);
  const b64 = kit.image(prompt, width, height).toString('base64');
  return Response.json({
    created: Math.floor(Date.now() / 1000),
    background: body.background === 'transparent' ? 'transparent' : 'opaque',
    data: Array.from({ length: n }, () => ({ b64_json: b64 })),
    output_format: body.output_format ?? 'png',
    quality: body.quality === undefined || body.quality === 'auto' ? 'medium' : body.quality,
    size: `${width}x${height}`,
    usage: { input_tokens: 50, output_tokens: 1056 * n, total_tokens: 50 + 1056 * n, input_tokens_details: { text_tokens: 50, image_tokens: 0 } },
  });
}

async function answer(c: Context, edit: boolean, kit: SimKit): Promise<Response> {
  if (!/^Bearer \S+$/.test(c.req.header('authorization') ?? '')) {
    const message = "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth.";
    return Response.json({ error: { message, type: 'invalid_request_error', param: null, code: null } }, { status: 401 });
  }
  if (!(c.req.header('content-type') ?? '').startsWith('application/json')) {
    return invalid('This simulator only accepts application/json image requests.', null);
  }
  const body = await jsonBody(c);
  if (!body) return invalid('We could not parse the JSON body of your request.', null);
  const problem = validate(body, edit);
  if (problem) return problem;
  if (edit) {
    const unreadable = await unreadableImage(body.images as { image_url?: string }[]);
    if (unreadable) return unreadable;
  }
  return generate(body, kit, edit ? 'openai_edits' : 'openai_generations');
}

export const openai: SimProvider = (kit) =>
  new Hono<SimEnv>()
    .post('/v1/images/generations', (c) => answer(c, false, kit))
    .post('/v1/images/edits', (c) => answer(c, true, kit));
