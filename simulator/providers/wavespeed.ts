import { createHmac, randomBytes } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { forEndpoint } from '../faults';
import type { SimEnv, SimKit, SimProvider } from '../types';
import { jsonBody } from '../types';

/**
 * WaveSpeedAI v3: `POST /api/v3/{model}` with `Authorization: Bearer <key>` and the model's own
 * fields, answered `{ code: 200, message: "success", data: <prediction> }` with status `created`;
 * `GET /api/v3/predictions/{id}/result` answers the same envelope, status `processing` until the
 * job ends `completed` (outputs: CDN URLs kept 7 days, `has_nsfw_contents` per output) or
 * `failed` (`error` set). Non-200 answers are `{ code, message }`.
 *
 * The models' schemas reject unknown fields, as WaveSpeed's published schemas do
 * (`additionalProperties: false`). Simulated where WaveSpeed publishes nothing: the error envelope,
 * the out-of-credit answer (400 "Insufficient balance"), a refused prompt (a failed prediction whose
 * error says so), and Kling's pixel sizes per ratio and resolution.
 *
 * A submit with `?webhook=<url>` gets a POST there when the prediction ends: the prediction (with
 * its `input`) as the body, signed as WaveSpeed documents (wavespeed.ai/docs/how-to-use-webhooks and
 * docs-api/verifying_webhook, read 2026-11-26): `webhook-id`, `webhook-timestamp` (unix seconds) and
 * `webhook-signature: v3,<hex HMAC-SHA256 of "id.timestamp.body">`, keyed with the account's secret
 * without its `whsec_` prefix (`GET /api/v3/webhook/secret` shows it).
 */
type Outcome = 'ready' | 'error' | 'request_moderated' | 'output_moderated' | 'hang' | { status: string };

interface Prediction {
  id: string;
  model: string;
  prompt: string;
  width: number;
  height: number;
  count: number;
  created_at: string;
  ready_at: number;
  outcome: Outcome;
  outputs?: string[];
}

type Input = Record<string, unknown>;
/** Checks a model's input: an error message, or what the job will make. */
type ModelSpec = (input: Input) => string | { width: number; height: number; count: number };

const OUTPUT_TTL_MS = 7 * 24 * 3600 * 1000;
const predictions = new Map<string, Prediction>();
/** The simulated account's webhook signing secret. */
const WEBHOOK_SECRET = `whsec_${randomBytes(24).toString('hex')}`;

const COGVIEW_4_SIZES = new Set(['1024*1024', '768*1344', '864*1152', '1344*768', '1152*864', '1440*720', '720*1440']);
const KLING_RATIOS = ['16:9', '9:16', '1:1', '4:3', '3:4', '3:2', '2:3', '21:9', 'auto'];

function unknownField(input: Input, allowed: readonly string[]): string | null {
  const extra = Object.keys(input).find((key) => !allowed.includes(key));
  return extra ? `${extra}: additional property is not allowed` : null;
}

function promptProblem(input: Input, max: number): string | null {
  if (typeof input.prompt !== 'string' || input.prompt.trim() === '') return 'prompt: is required';
  return input.prompt.length > max ? `prompt: must be at most ${max} characters` : null;
}

function imagesProblem(input: Input, min: number, max: number): string | null {
  const images = input.images;
  if (images === undefined) return min > 0 ? 'images: is required' : null;
  if (!Array.isArray(images) || images.some((u) => typeof u !== 'string' || !/^https?:\/\//.test(u))) {
    return 'images: must be an array of image URLs';
  }
  if (images.length < min || images.length > max) return `images: must hold ${min} to ${max} items`;
  return null;
}

/** `W*H` with both sides within the range, or null. */
function parseSize(value: unknown, min: number, max: number): [number, number] | null {
  const match = typeof value === 'string' ? value.match(/^(\d+)\*(\d+)$/) : null;
  if (!match) return null;
  const [width, height] = [Number(match[1]), Number(match[2])];
  return width >= min && width <= max && height >= min && height <= max ? [width, height] : null;
}

/** The simulator's pick for ratio-based models: about 1 or 4 megapixels, sides multiples of 16. */
function sizeForRatio(ratio: string, resolution: string): [number, number] {
  const [w, h] = ratio === 'auto' ? [1, 1] : ratio.split(':').map(Number);
  const area = (resolution === '2k' ? 2048 : 1024) ** 2;
  const width = Math.round(Math.sqrt((area * w!) / h!) / 16) * 16;
  return [width, Math.round(area / width / 16) * 16];
}

const cogview4: ModelSpec = (input) => {
  const problem = unknownField(input, ['prompt', 'size', 'quality', 'seed']) ?? promptProblem(input, 1000);
  if (problem) return problem;
  const size = input.size ?? '1024*1024';
  if (typeof size !== 'string' || !COGVIEW_4_SIZES.has(size)) return `size: must be one of ${[...COGVIEW_4_SIZES].join(', ')}`;
  if (input.quality !== undefined && input.quality !== 'hd' && input.quality !== 'standard') return 'quality: must be one of hd, standard';
  const [width, height] = parseSize(size, 1, 4096)!;
  return { width, height, count: 1 };
};

const klingImageO1: ModelSpec = (input) => {
  const allowed = ['prompt', 'images', 'aspect_ratio', 'resolution', 'num_images', 'output_format'];
  const problem = unknownField(input, allowed) ?? promptProblem(input, 2500) ?? imagesProblem(input, 0, 10);
  if (problem) return problem;
  const ratio = input.aspect_ratio ?? 'auto';
  if (typeof ratio !== 'string' || !KLING_RATIOS.includes(ratio)) return `aspect_ratio: must be one of ${KLING_RATIOS.join(', ')}`;
  const resolution = input.resolution ?? '1k';
  if (resolution !== '1k' && resolution !== '2k') return 'resolution: must be one of 1k, 2k';
  const count = input.num_images ?? 1;
  if (!Number.isInteger(count) || (count as number) < 1 || (count as number) > 9) return 'num_images: must be an integer from 1 to 9';
  const [width, height] = sizeForRatio(ratio, resolution);
  return { width, height, count: count as number };
};

const HUNYUAN_EDIT_RATIOS = ['1:1', '16:9', '9:16', '4:3', '3:4', '3:2', '2:3'];

/** HunyuanImage 3.0 text-to-image: `size` as `W*H`, each side 256–1536 (as other hosts of the model publish). */
const hunyuanImage3: ModelSpec = (input) => {
  const problem = unknownField(input, ['prompt', 'size', 'seed']) ?? promptProblem(input, 4000);
  if (problem) return problem;
  const size = parseSize(input.size ?? '1024*1024', 256, 1536);
  if (!size) return 'size: must be "W*H" with each side from 256 to 1536';
  return { width: size[0], height: size[1], count: 1 };
};

/**
 * The Instruct edit endpoint, as WaveSpeed's page for it documents: `size` is a preset aspect ratio
 * and the pixels are `width` and `height`, 256–1536 each, defaulting to 256.
 */
const hunyuanImage3Edit: ModelSpec = (input) => {
  const problem =
    unknownField(input, ['prompt', 'images', 'size', 'width', 'height', 'seed']) ?? promptProblem(input, 4000) ?? imagesProblem(input, 1, 2);
  if (problem) return problem;
  if (input.size !== undefined && !HUNYUAN_EDIT_RATIOS.includes(String(input.size))) {
    return `size: must be one of ${HUNYUAN_EDIT_RATIOS.join(', ')}`;
  }
  const [width, height] = [input.width ?? 256, input.height ?? 256];
  for (const [name, side] of [['width', width], ['height', height]] as const) {
    if (!Number.isInteger(side) || (side as number) < 256 || (side as number) > 1536) return `${name}: must be an integer from 256 to 1536`;
  }
  return { width: width as number, height: height as number, count: 1 };
};

const MODELS: Record<string, ModelSpec> = {
  'z-ai/cogview-4': cogview4,
  'kwaivgi/kling-image-o1': klingImageO1,
  'wavespeed-ai/hunyuan-image-3': hunyuanImage3,
  'wavespeed-ai/hunyuan-image-3-instruct/edit': hunyuanImage3Edit,
};

const failure = (status: number, message: string, headers: Record<string, string> = {}): Response =>
  Response.json({ code: status, message }, { status, headers });

/** The fields every answer about a prediction has, as they are while it runs. */
function basics(p: Prediction, kit: SimKit) {
  return {
    id: p.id,
    model: p.model,
    urls: { get: `${kit.baseUrl()}/api/v3/predictions/${p.id}/result` },
    created_at: p.created_at,
    outputs: [] as string[],
    has_nsfw_contents: [] as boolean[],
    status: 'processing',
    error: '',
    timings: { inference: 0 },
  };
}

function view(p: Prediction, kit: SimKit, now: number): Record<string, unknown> {
  const base = basics(p, kit);
  if (p.outcome === 'hang' || now < p.ready_at) return base;
  const inference = now - Date.parse(p.created_at);
  // `[sim:status=…]`: WaveSpeed's SDKs also end predictions as `cancelled` or `timeout`.
  if (typeof p.outcome === 'object') return { ...base, status: p.outcome.status };
  switch (p.outcome) {
    case 'ready':
    case 'output_moderated':
      p.outputs ??= Array.from({ length: p.count }, (_, i) =>
        kit.hostedImage(p.count === 1 ? p.prompt : `${p.prompt} #${i + 1}`, p.width, p.height, OUTPUT_TTL_MS),
      );
      return {
        ...base,
        status: 'completed',
        outputs: p.outputs,
        has_nsfw_contents: p.outputs.map(() => p.outcome === 'output_moderated'),
        timings: { inference },
      };
    case 'request_moderated':
      return { ...base, status: 'failed', error: 'The prompt was flagged as sensitive by the content safety checker.' };
    default:
      return { ...base, status: 'failed', error: 'Internal error: inference failed, please retry.' };
  }
}

/** The callback WaveSpeed sends when a prediction ends, signed with the account's secret. */
function callbackRequest(p: Prediction, input: Input, kit: SimKit) {
  return () => {
    const body = JSON.stringify({ ...view(p, kit, Date.now()), input });
    const id = `msg_${p.id}`;
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = createHmac('sha256', WEBHOOK_SECRET.slice('whsec_'.length)).update(`${id}.${timestamp}.${body}`).digest('hex');
    const headers = { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': `v3,${signature}` };
    return { headers, body };
  };
}

function poll(id: string, kit: SimKit): Response {
  kit.jobPolled('wavespeed', id);
  const prediction = predictions.get(id);
  if (!prediction) return failure(404, 'prediction not found');
  return Response.json({ code: 200, message: 'success', data: view(prediction, kit, Date.now()) });
}

async function submit(c: Context, model: string, kit: SimKit): Promise<Response> {
  const spec = MODELS[model];
  if (!spec) return failure(404, `model ${model} not found`);
  const input = await jsonBody(c);
  if (!input) return failure(400, 'request body must be a JSON object');
  const checked = spec(input);
  if (typeof checked === 'string') return failure(400, checked);

  const prompt = input.prompt as string;
  const faults = forEndpoint(kit.faults('wavespeed', prompt), 'wavespeed');
  if (faults.no_credit) return failure(400, 'Insufficient balance, please top up your account.');
  if (faults.fail_http) {
    const status = faults.http_status!;
    return failure(status, status === 429 ? 'Too many requests' : 'Service temporarily unavailable', status === 429 ? { 'retry-after': '1' } : {});
  }
  const id = kit.newId().replaceAll('-', '');
  const now = Date.now();
  const prediction: Prediction = {
    id,
    model,
    prompt,
    ...checked,
    created_at: new Date(now).toISOString(),
    ready_at: now + kit.jobDuration(model, faults),
    outcome: faults.end_status
      ? { status: faults.end_status }
      : faults.hang
        ? 'hang'
        : faults.moderate
          ? 'request_moderated'
          : faults.moderate_output
            ? 'output_moderated'
            : faults.fail
              ? 'error'
              : 'ready',
  };
  predictions.set(id, prediction);
  if (predictions.size > 50_000) predictions.delete(predictions.keys().next().value!);
  const hook = c.req.query('webhook');
  const callback = hook ? { url: hook, request: callbackRequest(prediction, input, kit) } : undefined;
  const ready_at = prediction.outcome === 'hang' ? null : prediction.ready_at;
  kit.addJob({ provider: 'wavespeed', id, model, prompt, created_at: now, ready_at, callback }, faults);
  return Response.json({ code: 200, message: 'success', data: { ...basics(prediction, kit), status: 'created' } });
}

/** Every path under `/api/v3/` (not `/api/v3` itself): `*` would match that too. */
const API = '/api/v3/:rest{.*}';

export const wavespeed: SimProvider = (kit) =>
  new Hono<SimEnv>()
    .use(API, async (c, next) => {
      if (!/^Bearer \S+$/.test(c.req.header('authorization') ?? '')) return failure(401, 'Unauthorized: invalid authentication');
      await next();
    })
    .get('/api/v3/webhook/secret', () => Response.json({ code: 200, message: 'success', data: { secret: WEBHOOK_SECRET } }))
    .get('/api/v3/predictions/:id/result', (c) => poll(c.req.param('id'), kit))
    .get('/api/v3/predictions/:id', (c) => poll(c.req.param('id'), kit))
    .post(API, (c) => submit(c, c.req.param('rest'), kit))
    .all(API, () => failure(405, 'method not allowed'));
