import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { forEndpoint } from '../faults';
import type { SimEnv, SimKit, SimProvider } from '../types';

/**
 * Ideogram, `Api-Key` header, multipart/form-data bodies (urlencoded → 415):
 *   POST /v1/ideogram-v3/generate        prompt, aspect_ratio (`16x9`) | resolution, rendering_speed,
 *                                        magic_prompt, style_type, negative_prompt, seed, num_images,
 *                                        style_reference_images (files, 10 MB together) …
 *   POST /v1/ideogram-v4/generate        text_prompt | json_prompt, resolution (2K grid), rendering_speed
 *   POST /v1/ideogram-v4/async/generate  the same, answered `{ generation_id }`
 *   GET  /v1/generations/{id}            `{ generation_id, status: pending|completed|failed, created }`,
 *                                        plus `response_type: "url"` and `data` once completed
 * Sync answers are `{ created, data: [{ url, prompt, resolution, is_image_safe, seed, style_type }] }`
 * with ephemeral URLs; an image failing the output check has `is_image_safe: false` and no URL.
 * 422 `{ error }` is the prompt/input safety check (Ideogram's OpenAPI). 402 for an empty balance is
 * documented on `/v1/edit` only, and the other error bodies not at all (this uses problem details).
 * Unknown form fields are rejected so adapter typos show; what Ideogram does with them is unpublished.
 * `[sim:status=NAME]` ends an async generation in a status Ideogram does not publish.
 * Fault keys for `[sim:only=…]`: `ideogram_v3`, `ideogram_v4_sync`, `ideogram_v4_async`.
 *
 * An async generation submitted with `?webhook_url=` gets a JSON POST there once it ends, as
 * developer.ideogram.ai/ideogram-api/webhooks describes it (read 2026-11-26): the body mirrors the
 * synchronous answer (`generation_id`, `created`, `data`), with the headers
 * `X-Ideogram-Webhook-{Generation-Id,User-Id,Timestamp,Key-Id,Signature}`, the signature Ed25519 in
 * lowercase hex. The page's exact signed message was not in our copy: this signs generation id, user
 * id, timestamp and the body's SHA-256, newline-joined (nothing here or in the Worker verifies it).
 */
interface Part {
  /** Null for a plain field, the file name for a file. */
  filename: string | null;
  data: Buffer;
}

interface Generation {
  id: string;
  created: string;
  ready_at: number;
  outcome: 'completed' | 'unsafe' | 'failed' | 'hang' | { status: string };
  prompt: string;
  resolution: string;
  data?: object[];
}

type Form = Map<string, Part[]>;

const V3_RATIOS: Record<string, string> = {
  '1x1': '1024x1024', '16x9': '1312x736', '9x16': '736x1312', '4x3': '1152x864', '3x4': '864x1152',
  '3x2': '1248x832', '2x3': '832x1248', '16x10': '1280x800', '10x16': '800x1280', '4x5': '896x1120',
  '5x4': '1120x896', '2x1': '1408x704', '1x2': '704x1408', '3x1': '1536x512', '1x3': '512x1536',
};
const V3_RESOLUTIONS = new Set([
  '512x1536', '576x1408', '576x1472', '576x1536', '640x1344', '640x1408', '640x1472', '640x1536', '704x1152',
  '704x1216', '704x1280', '704x1344', '704x1408', '704x1472', '736x1312', '768x1088', '768x1216', '768x1280',
  '768x1344', '800x1280', '832x960', '832x1024', '832x1088', '832x1152', '832x1216', '832x1248', '864x1152',
  '896x960', '896x1024', '896x1088', '896x1120', '896x1152', '960x832', '960x896', '960x1024', '960x1088',
  '1024x832', '1024x896', '1024x960', '1024x1024', '1088x768', '1088x832', '1088x896', '1088x960', '1120x896',
  '1152x704', '1152x832', '1152x864', '1152x896', '1216x704', '1216x768', '1216x832', '1248x832', '1280x704',
  '1280x768', '1280x800', '1312x736', '1344x640', '1344x704', '1344x768', '1408x576', '1408x640', '1408x704',
  '1472x576', '1472x640', '1472x704', '1536x512', '1536x576', '1536x640',
]);
const V4_RESOLUTIONS = new Set([
  '2048x2048', '1440x2880', '2880x1440', '1664x2496', '2496x1664', '1792x2240', '2240x1792', '1440x2560',
  '2560x1440', '1600x2560', '2560x1600', '1728x2304', '2304x1728', '1296x3168', '3168x1296', '1152x2944',
  '2944x1152', '1248x3328', '3328x1248', '1280x3072', '3072x1280',
]);
const V3_FIELDS = new Set([
  'prompt', 'seed', 'resolution', 'aspect_ratio', 'rendering_speed', 'magic_prompt', 'negative_prompt', 'num_images',
  'color_palette', 'style_codes', 'style_type', 'style_preset', 'style_reference_images', 'character_reference_images',
  'character_reference_images_mask', 'custom_model_uri',
]);
const V4_FIELDS = new Set(['text_prompt', 'json_prompt', 'resolution', 'rendering_speed', 'enable_copyright_detection']);
const SPEEDS = ['FLASH', 'TURBO', 'DEFAULT', 'QUALITY'];
const STYLE_TYPES = ['AUTO', 'GENERAL', 'REALISTIC', 'DESIGN', 'FICTION'];
const MAGIC = ['AUTO', 'ON', 'OFF'];
const REFERENCE_MAX_BYTES = 10 * 1024 * 1024;
const URL_TTL_MS = 60 * 60_000;
const HANG_MS = 10 * 60_000;

const generations = new Map<string, Generation>();
/** The simulated signing key of Ideogram's webhooks. */
const WEBHOOK_KEY = generateKeyPairSync('ed25519');

/** The callback Ideogram sends when a generation ends. */
function callbackRequest(generation: Generation, kit: SimKit) {
  return () => {
    const answer = JSON.parse(new TextDecoder().decode(pollAnswer(generation, kit))) as Record<string, unknown>;
    const body = JSON.stringify({ generation_id: generation.id, created: generation.created, data: answer.data ?? [] });
    const timestamp = String(Math.floor(Date.now() / 1000));
    const user = 'sim_user';
    const digest = createHash('sha256').update(body).digest('hex');
    const signature = sign(null, Buffer.from([generation.id, user, timestamp, digest].join('\n')), WEBHOOK_KEY.privateKey).toString('hex');
    const headers = {
      'content-type': 'application/json',
      'x-ideogram-webhook-generation-id': generation.id,
      'x-ideogram-webhook-user-id': user,
      'x-ideogram-webhook-timestamp': timestamp,
      'x-ideogram-webhook-key-id': 'sim-key-1',
      'x-ideogram-webhook-signature': signature,
    };
    return { headers, body };
  };
}

const problem = (
  status: number,
  title: string,
  detail: string,
  headers: Record<string, string> = { 'content-type': 'application/problem+json' },
): Response => Response.json({ type: 'about:blank', title, detail, status }, { status, headers });
const badRequest = (detail: string): Response => problem(400, 'Bad Request', detail);

/** The form's parts by name, in order; null when the body is not a readable multipart form. */
async function readForm(c: Context): Promise<Form | null> {
  let fields: Record<string, string | File | (string | File)[]>;
  try {
    fields = await c.req.parseBody({ all: true });
  } catch {
    return null;
  }
  const form: Form = new Map();
  for (const [name, values] of Object.entries(fields)) {
    const parts = [values].flat().map(async (value): Promise<Part> =>
      typeof value === 'string'
        ? { filename: null, data: Buffer.from(value) }
        : { filename: value.name, data: Buffer.from(await value.arrayBuffer()) },
    );
    form.set(name, await Promise.all(parts));
  }
  return form;
}

const text = (form: Form, name: string): string | undefined => form.get(name)?.[0]?.data.toString('utf8');

const isImage = (data: Buffer): boolean =>
  data.subarray(0, 4).toString('hex') === '89504e47' ||
  data.subarray(0, 2).toString('hex') === 'ffd8' ||
  data.subarray(8, 12).toString() === 'WEBP';

function oneOfField(form: Form, name: string, allowed: readonly string[] | Set<string>): Response | null {
  const value = text(form, name);
  const ok = value === undefined || (Array.isArray(allowed) ? allowed.includes(value) : (allowed as Set<string>).has(value));
  return ok ? null : badRequest(`'${value}' is not a valid value for '${name}'.`);
}

/** Validates a v3 form; answers the output resolution, or the error to send. */
function validateV3(form: Form): { resolution: string; count: number } | Response {
  const unknown = [...form.keys()].find((k) => !V3_FIELDS.has(k));
  if (unknown) return badRequest(`Additional properties are not allowed ('${unknown}' was unexpected).`);
  const prompt = text(form, 'prompt');
  if (!prompt) return badRequest("'prompt' is a required property");
  if (form.has('aspect_ratio') && form.has('resolution')) return badRequest('aspect_ratio and resolution cannot be used together.');
  for (const [name, allowed] of [
    ['aspect_ratio', Object.keys(V3_RATIOS)],
    ['resolution', V3_RESOLUTIONS],
    ['rendering_speed', SPEEDS],
    ['magic_prompt', MAGIC],
    ['style_type', STYLE_TYPES],
  ] as const) {
    const error = oneOfField(form, name, allowed);
    if (error) return error;
  }
  const count = Number(text(form, 'num_images') ?? '1');
  if (!Number.isInteger(count) || count < 1 || count > 8) return badRequest("'num_images' must be an integer between 1 and 8.");
  const seed = text(form, 'seed');
  if (seed !== undefined && !(/^\d+$/.test(seed) && Number(seed) <= 2147483647)) return badRequest("'seed' must be an integer between 0 and 2147483647.");
  const references = form.get('style_reference_images') ?? [];
  if (references.some((p) => p.filename === null || !isImage(p.data))) {
    return badRequest('style_reference_images must be JPEG, PNG or WebP files.');
  }
  if (references.reduce((sum, p) => sum + p.data.length, 0) > REFERENCE_MAX_BYTES) {
    return badRequest('style_reference_images exceed 10MB in total.');
  }
  const resolution = text(form, 'resolution') ?? V3_RATIOS[text(form, 'aspect_ratio') ?? '1x1']!;
  return { resolution, count };
}

function validateV4(form: Form): { resolution: string; count: number } | Response {
  const unknown = [...form.keys()].find((k) => !V4_FIELDS.has(k));
  if (unknown) return badRequest(`Additional properties are not allowed ('${unknown}' was unexpected).`);
  if (form.has('text_prompt') === form.has('json_prompt')) return badRequest('Exactly one of text_prompt or json_prompt is required.');
  if (form.has('text_prompt') && !text(form, 'text_prompt')) return badRequest("'text_prompt' must not be empty.");
  if (text(form, 'rendering_speed') === 'FLASH') return badRequest('rendering_speed=FLASH is not yet supported for Ideogram 4.0.');
  for (const [name, allowed] of [['resolution', V4_RESOLUTIONS], ['rendering_speed', SPEEDS]] as const) {
    const error = oneOfField(form, name, allowed);
    if (error) return error;
  }
  return { resolution: text(form, 'resolution') ?? '2048x2048', count: 1 };
}

/** The answer's images; `style_type` is in Ideogram 3.0's image object only. */
function images(kit: SimKit, prompt: string, resolution: string, count: number, safe: boolean, v3: boolean): object[] {
  const [width, height] = resolution.split('x').map(Number) as [number, number];
  return Array.from({ length: count }, (_, i) => ({
    url: safe ? kit.hostedImage(prompt, width, height, URL_TTL_MS) : null,
    prompt,
    resolution,
    is_image_safe: safe,
    seed: 12345 + i,
    ...(v3 ? { style_type: 'GENERAL' } : {}),
  }));
}

function failure(status: number): Response {
  // Sent as plain `application/json` so far; kept so the wire does not change.
  if (status === 429) return problem(429, 'Too Many Requests', 'Too many in-flight requests.', { 'retry-after': '1' });
  return problem(status, 'Service Unavailable', 'The service is temporarily unavailable.');
}

type Endpoint = 'ideogram_v3' | 'ideogram_v4_sync' | 'ideogram_v4_async';

async function generate(c: Context, kit: SimKit, endpoint: Endpoint): Promise<Response> {
  if (!(c.req.header('content-type') ?? '').startsWith('multipart/form-data')) {
    return problem(415, 'Unsupported Media Type', 'Expected multipart/form-data.');
  }
  const form = await readForm(c);
  if (!form) return badRequest('Malformed multipart body.');
  const v3 = endpoint === 'ideogram_v3';
  const checked = v3 ? validateV3(form) : validateV4(form);
  if (checked instanceof Response) return checked;
  const prompt = text(form, v3 ? 'prompt' : 'text_prompt') ?? text(form, 'json_prompt')!;
  const faults = forEndpoint(kit.faults(endpoint, prompt), endpoint);
  const async = endpoint === 'ideogram_v4_async';
  // Ideogram's limit on images in progress per organisation (simulator/capacity.ts): n images take n places.
  const place = kit.capacity.admit('ideogram', kit.capacity.account(c.req.header('api-key') ?? '', prompt), checked.count);
  if (!place.ok) {
    return Response.json({ error: 'Too many images in progress.', reject_reason: 'inflight_limit', max_inflight_requests: place.limit }, { status: 429 });
  }
  if (faults.hang && !async) await kit.sleep(HANG_MS);
  if (faults.latency_ms > 0 && !async) await kit.sleep(faults.latency_ms);
  // A synchronous request's images are in progress until it is answered; an async generation's until it is ready (below).
  place.endsAt(Date.now());
  if (faults.no_credit) return problem(402, 'Payment Required', 'Insufficient API credits.');
  if (faults.fail_http) return failure(faults.http_status!);
  if (faults.moderate) return Response.json({ error: 'Prompt or provided image failed the safety checks' }, { status: 422 });
  if (!async) {
    if (faults.fail) return problem(500, 'Internal Server Error', 'Image generation failed.');
    const data = images(kit, prompt, checked.resolution, checked.count, !faults.moderate_output, v3);
    return Response.json({ created: new Date().toISOString(), data });
  }
  const generation: Generation = {
    id: kit.newId().replaceAll('-', ''),
    created: new Date().toISOString(),
    ready_at: Date.now() + kit.jobDuration('ideogram-v4-async', faults),
    outcome: faults.end_status
      ? { status: faults.end_status }
      : faults.hang
        ? 'hang'
        : faults.fail
          ? 'failed'
          : faults.moderate_output
            ? 'unsafe'
            : 'completed',
    prompt,
    resolution: checked.resolution,
  };
  generations.set(generation.id, generation);
  if (generations.size > 50_000) generations.delete(generations.keys().next().value!);
  const hook = c.req.query('webhook_url');
  const callback = hook ? { url: hook, request: callbackRequest(generation, kit) } : undefined;
  const ready_at = generation.outcome === 'hang' ? null : generation.ready_at;
  place.endsAt(ready_at);
  kit.addJob({ provider: 'ideogram', id: generation.id, model: 'ideogram-v4-async', prompt, created_at: Date.now(), ready_at, callback }, faults);
  return Response.json({ generation_id: generation.id });
}

function pollGeneration(id: string, kit: SimKit): Response {
  kit.jobPolled('ideogram', id);
  const generation = generations.get(id);
  if (!generation) return problem(404, 'Not Found', `Generation ${id} not found.`);
  return new Response(pollAnswer(generation, kit), { headers: { 'content-type': 'application/json' } });
}

/** The poll answer for a generation as it stands now, as JSON bytes. */
function pollAnswer(generation: Generation, kit: SimKit): Uint8Array {
  const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
  const head = { generation_id: generation.id, created: generation.created };
  if (generation.outcome === 'hang' || Date.now() < generation.ready_at) return json({ ...head, status: 'pending' });
  if (generation.outcome === 'failed') return json({ ...head, status: 'failed' });
  if (typeof generation.outcome === 'object') return json({ ...head, status: generation.outcome.status });
  generation.data ??= images(kit, generation.prompt, generation.resolution, 1, generation.outcome === 'completed', false);
  return json({ ...head, status: 'completed', response_type: 'url', data: generation.data });
}

const keyed: MiddlewareHandler<SimEnv> = async (c, next) => {
  if (!c.req.header('api-key')) return problem(401, 'Unauthorized', 'No authorization token provided');
  await next();
};

export const ideogram: SimProvider = (kit) =>
  new Hono<SimEnv>()
    .post('/v1/ideogram-v3/generate', keyed, (c) => generate(c, kit, 'ideogram_v3'))
    .post('/v1/ideogram-v4/generate', keyed, (c) => generate(c, kit, 'ideogram_v4_sync'))
    .post('/v1/ideogram-v4/async/generate', keyed, (c) => generate(c, kit, 'ideogram_v4_async'))
    .get('/v1/generations/:id{[\\w-]+}', keyed, (c) => pollGeneration(c.req.param('id'), kit));
