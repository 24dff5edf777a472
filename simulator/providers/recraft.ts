import { Hono } from 'hono';
import { forEndpoint } from '../faults';
import type { SimEnv, SimKit, SimProvider } from '../types';
import { jsonBody } from '../types';

/**
 * Recraft, synchronous and OpenAI-compatible: `POST /v1/images/generations` with `Authorization:
 * Bearer <token>`, `{ prompt, model, n, size: "WxH", response_format }`, answered `{ created,
 * credits, data: [{ image_id, url }] }`; URLs are kept about 24 hours. Errors are any non-2xx
 * status, the body `text/plain` (401 `request unauthorized`) or JSON.
 *
 * This path is shared with OpenAI's API, so this module only answers requests for `recraft*`
 * models. Recraft publishes neither its moderation answer nor its out-of-credit answer; simulated
 * here as a 400 `{ code: "inappropriate_content", message }` for a refused prompt, a filtered
 * output left out of `data`, and a 402 `{ code: "not_enough_credits", message }`.
 */
const V4_SIZES = [
  '1024x1024', '1536x768', '768x1536', '1280x832', '832x1280', '1216x896', '896x1216',
  '1152x896', '896x1152', '832x1344', '1280x896', '896x1280', '1344x768', '768x1344',
];
const V4_RATIOS = ['1:1', '2:1', '1:2', '3:2', '2:3', '4:3', '3:4', '5:4', '4:5', '6:10', '14:10', '10:14', '16:9', '9:16'];
/** Models sharing the V4 size list; V4 Pro models have their own, larger list (not simulated). */
const V4_MODELS = ['recraftv4', 'recraftv4_1'];
const FIELDS = ['prompt', 'model', 'n', 'size', 'response_format', 'controls', 'text_layout', 'style_id'];
const URL_TTL_MS = 24 * 3600_000;
const HANG_MS = 10 * 60_000;

const json = (status: number, code: string, message: string): Response => Response.json({ code, message }, { status });
const text = (status: number, body: string, headers: Record<string, string> = {}): Response =>
  new Response(body, { status, headers: { 'content-type': 'text/plain; charset=utf-8', ...headers } });

/** Waits without keeping the process alive, so a hung request cannot block shutdown. */
const idle = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/** The size as `WxH`; V4 also takes the ratio form `w:h` of one of its sizes. */
function sizeOf(value: unknown): [number, number] | null {
  const size = typeof value === 'string' && V4_RATIOS.includes(value) ? V4_SIZES[V4_RATIOS.indexOf(value)] : value ?? '1024x1024';
  if (typeof size !== 'string' || !V4_SIZES.includes(size)) return null;
  const [width, height] = size.split('x').map(Number);
  return [width!, height!];
}

function problemOf(body: Record<string, unknown>): Response | null {
  const extra = Object.keys(body).find((key) => !FIELDS.includes(key));
  if (extra === 'style' || extra === 'substyle' || extra === 'negative_prompt') {
    return json(400, 'unsupported_parameter', `${extra} is not supported by model ${String(body.model)}`);
  }
  if (extra) return json(400, 'invalid_request', `unknown field ${extra}`);
  if (!V4_MODELS.includes(String(body.model))) return json(400, 'invalid_model', `unknown or unsupported model ${String(body.model)}`);
  if (typeof body.prompt !== 'string' || body.prompt.trim() === '') return json(400, 'invalid_prompt', 'prompt is required');
  if (body.prompt.length > 10_000) return json(400, 'invalid_prompt', 'prompt must be at most 10000 characters');
  const n = body.n ?? 1;
  if (!Number.isInteger(n) || (n as number) < 1 || (n as number) > 6) return json(400, 'invalid_n', 'n must be from 1 to 6');
  if (!sizeOf(body.size)) return json(400, 'invalid_size', `size ${String(body.size)} is not supported, see the list of image sizes`);
  if (body.response_format !== undefined && body.response_format !== 'url' && body.response_format !== 'b64_json') {
    return json(400, 'invalid_response_format', 'response_format must be url or b64_json');
  }
  return null;
}

async function generate(body: Record<string, unknown>, authorization: string, kit: SimKit): Promise<Response> {
  if (!/^Bearer \S+$/.test(authorization)) return text(401, 'request unauthorized');
  const problem = problemOf(body);
  if (problem) return problem;

  const prompt = body.prompt as string;
  const faults = forEndpoint(kit.faults('recraft', prompt), 'recraft');
  if (faults.no_credit) return json(402, 'not_enough_credits', 'Not enough API units to perform the operation, please top up');
  if (faults.fail_http) {
    const status = faults.http_status!;
    return status === 429
      ? text(429, 'too many requests', { 'retry-after': '1' })
      : text(status, status >= 500 ? 'internal server error' : 'bad request');
  }
  if (faults.hang) await idle(HANG_MS);
  if (faults.latency_ms > 0) await kit.sleep(faults.latency_ms);
  if (faults.fail) return text(500, 'internal server error');
  if (faults.moderate) return json(400, 'inappropriate_content', 'The prompt was flagged as inappropriate (NSFW) content');

  const n = (body.n as number | undefined) ?? 1;
  const [width, height] = sizeOf(body.size)!;
  const data = faults.moderate_output
    ? []
    : Array.from({ length: n }, (_, i) => {
        const picture = n === 1 ? prompt : `${prompt} #${i + 1}`;
        const image =
          body.response_format === 'b64_json'
            ? { b64_json: kit.image(picture, width, height).toString('base64') }
            : { url: kit.hostedImage(picture, width, height, URL_TTL_MS) };
        return { image_id: kit.newId(), ...image };
      });
  return Response.json({ created: Math.floor(Date.now() / 1000), credits: 40 * n, data });
}

export const recraft: SimProvider = (kit) =>
  new Hono<SimEnv>().post('/v1/images/generations', async (c, next) => {
    const body = await jsonBody(c);
    if (!body || typeof body.model !== 'string' || !body.model.startsWith('recraft')) return next();
    return generate(body, c.req.header('authorization') ?? '', kit);
  });
