import { Hono, type MiddlewareHandler } from 'hono';
import type { SimEnv, SimKit, SimProvider } from '../types';
import { jsonBody } from '../types';

/**
 * Black Forest Labs FLUX.2: `POST /v1/flux-2-{pro,flex,max}` with `x-key`, answered with
 * `{ id, polling_url, cost, input_mp, output_mp }`; `GET /v1/get_result?id=` answers
 * `{ id, status, result, progress, details }` with status Pending → Ready | Request Moderated |
 * Content Moderated | Error, or `Task not found`. Result URLs expire after ten minutes.
 * Validation errors are FastAPI's 422 `{ detail: [{ loc, msg, type }] }`.
 *
 * A submit with `webhook_url` gets a POST there when the job ends: the finished task as `get_result`
 * answers it, with the submit's `webhook_secret` echoed in `X-Webhook-Secret` (BFL's SDK,
 * black-forest-labs/blackforest@fef56d5c src/bfl/_webhooks.py, read 2026-11-26).
 */
interface BflJob {
  id: string;
  prompt: string;
  width: number;
  height: number;
  ready_at: number;
  outcome: 'ready' | 'error' | 'request_moderated' | 'content_moderated' | 'hang' | { status: string };
  sample?: string;
}

const jobs = new Map<string, BflJob>();
const MAX_PIXELS = 4 * 1024 * 1024;

const unprocessable = (field: string, msg: string): Response =>
  Response.json({ detail: [{ loc: ['body', field], msg, type: 'value_error' }] }, { status: 422 });

const keyed: MiddlewareHandler<SimEnv> = async (c, next) => {
  if (!c.req.header('x-key')) return Response.json({ detail: 'Not authenticated - Invalid Authentication' }, { status: 403 });
  await next();
};

/** The `get_result` answer for job `id` as it stands now. */
function resultOf(id: string | null, kit: SimKit): Record<string, unknown> {
  const job = jobs.get(id ?? '');
  if (!job) return { id, status: 'Task not found', result: null };
  const now = Date.now();
  if (job.outcome === 'hang' || now < job.ready_at) {
    const progress = job.outcome === 'hang' ? 0.5 : Math.min(0.99, 1 - (job.ready_at - now) / 10_000);
    return { id: job.id, status: 'Pending', result: null, progress, details: null };
  }
  // `[sim:status=…]`: a status BFL does not publish.
  if (typeof job.outcome === 'object') return { id: job.id, status: job.outcome.status, result: null, details: null };
  switch (job.outcome) {
    case 'ready':
      job.sample ??= kit.hostedImage(job.prompt, job.width, job.height, 10 * 60_000);
      return {
        id: job.id,
        status: 'Ready',
        result: { sample: job.sample, prompt: job.prompt, seed: 42, start_time: job.ready_at / 1000, end_time: now / 1000, duration: 0 },
        progress: 1,
        details: null,
      };
    case 'request_moderated':
      return { id: job.id, status: 'Request Moderated', result: null, details: { 'Moderation Reasons': ['Derivative Works Filter'] } };
    case 'content_moderated':
      return { id: job.id, status: 'Content Moderated', result: null, details: { 'Moderation Reasons': ['NSFW'] } };
    default:
      return { id: job.id, status: 'Error', result: null, details: { error: 'Internal generation error' } };
  }
}

function poll(id: string | null, kit: SimKit): Response {
  if (id) kit.jobPolled('bfl', id);
  return Response.json(resultOf(id, kit));
}

/** The callback BFL sends when the job ends: the `get_result` answer, the secret echoed back. */
function callbackRequest(id: string, secret: unknown, kit: SimKit) {
  return () => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (typeof secret === 'string' && secret !== '') headers['x-webhook-secret'] = secret;
    return { headers, body: JSON.stringify(resultOf(id, kit)) };
  };
}

function submit(body: Record<string, unknown> | null, kit: SimKit, endpoint: string, key: string): Response {
  if (!body) return Response.json({ detail: [{ loc: ['body'], msg: 'Invalid JSON', type: 'json_invalid' }] }, { status: 422 });
  const prompt = body.prompt;
  if (typeof prompt !== 'string' || prompt.length === 0) return unprocessable('prompt', 'Field required');
  const width = (body.width as number | undefined) ?? 1024;
  const height = (body.height as number | undefined) ?? 1024;
  for (const [field, value] of [['width', width], ['height', height]] as const) {
    if (!Number.isInteger(value) || value < 64) return unprocessable(field, 'Input should be greater than or equal to 64');
    if (value % 16 !== 0) return unprocessable(field, 'Input should be a multiple of 16');
  }
  if (width * height > MAX_PIXELS) return unprocessable('width', 'Image exceeds 4 megapixels');
  for (const key of Object.keys(body).filter((k) => k.startsWith('input_image'))) {
    if (!/^input_image(_[2-8])?$/.test(key)) return unprocessable(key, 'Extra inputs are not permitted');
    if (typeof body[key] !== 'string') return unprocessable(key, 'Input should be a valid string');
  }
  const hook = body.webhook_url;
  if (hook !== undefined && (typeof hook !== 'string' || hook.length > 2083 || !/^https?:\/\/[^\s/]+/.test(hook))) {
    return unprocessable('webhook_url', 'Input should be a valid URL');
  }

  const faults = kit.faults('bfl', prompt);
  if (faults.no_credit) return Response.json({ detail: 'Insufficient credits' }, { status: 402 });
  if (faults.fail_http) {
    const status = faults.http_status!;
    return Response.json(
      { detail: status === 429 ? 'Too many active tasks' : 'Service temporarily unavailable' },
      { status, headers: status === 429 ? { 'retry-after': '1' } : {} },
    );
  }
  // BFL's limit on active tasks per key (simulator/capacity.ts), answered as its fault switch answers a 429.
  const place = kit.capacity.admit('bfl', kit.capacity.account(key, prompt), 1);
  if (!place.ok) return Response.json({ detail: 'Too many active tasks' }, { status: 429, headers: { 'retry-after': '1' } });
  const id = kit.newId();
  const job: BflJob = {
    id,
    prompt,
    width,
    height,
    ready_at: Date.now() + kit.jobDuration(endpoint, faults),
    outcome: faults.end_status
      ? { status: faults.end_status }
      : faults.hang
        ? 'hang'
        : faults.moderate
          ? 'request_moderated'
          : faults.moderate_output
            ? 'content_moderated'
            : faults.fail
              ? 'error'
              : 'ready',
  };
  jobs.set(id, job);
  if (jobs.size > 50_000) jobs.delete(jobs.keys().next().value!);
  const callback = typeof body.webhook_url === 'string' ? { url: body.webhook_url, request: callbackRequest(id, body.webhook_secret, kit) } : undefined;
  const ready_at = job.outcome === 'hang' ? null : job.ready_at;
  place.endsAt(ready_at);
  kit.addJob({ provider: 'bfl', id, model: endpoint, prompt, created_at: Date.now(), ready_at, callback }, faults);
  const megapixels = (width * height) / 1_000_000;
  return Response.json({ id, polling_url: `${kit.baseUrl()}/v1/get_result?id=${id}`, cost: 3 + megapixels, input_mp: 0, output_mp: megapixels });
}

export const bfl: SimProvider = (kit) =>
  new Hono<SimEnv>()
    .post('/v1/:endpoint{flux-2-(?:pro|flex|max)}', keyed, async (c) => submit(await jsonBody(c), kit, c.req.param('endpoint'), c.req.header('x-key') ?? ''))
    .get('/v1/get_result', keyed, (c) => poll(c.req.query('id') ?? null, kit));
