import { Hono, type Context } from 'hono';
import { forEndpoint } from '../faults';
import type { SimEnv, SimKit, SimProvider } from '../types';
import { jsonBody } from '../types';

/**
 * Google Imagen 4 on the Gemini API, synchronous: `POST /v1beta/models/{model}:predict` with the key
 * in `x-goog-api-key` (or `?key=`), body `{ instances: [{ prompt }], parameters: { sampleCount 1–4
 * (default 4), aspectRatio, sampleImageSize 1K|2K (not on Fast), personGeneration, includeRaiReason,
 * outputOptions } }`, answered `{ predictions: [{ bytesBase64Encoded, mimeType }] }`. Filtered images
 * are dropped, or with `includeRaiReason` replaced by `{ raiFilteredReason }`. Errors are Google's
 * `{ error: { code, message, status } }`: 400 INVALID_ARGUMENT for bad parameters, blocked prompts
 * and unbilled projects, 403 PERMISSION_DENIED without a key, 429 RESOURCE_EXHAUSTED.
 * Unlike Google, which may ignore unknown `parameters`, the simulator rejects them so typos show.
 * Output sizes per aspect ratio are the ones Google lists for Imagen (1K; 2K doubles each side).
 * Google disabled this route on the Gemini API in August 2026 (googleapis/js-genai@9ca6086); the
 * simulator keeps serving it so the node stays testable, and `[sim:gone]` gives the NOT_FOUND Google
 * answers for a model the API does not serve (the exact answer of the disabled route is unpublished).
 */
const MODELS = new Set(['imagen-4.0-generate-001', 'imagen-4.0-ultra-generate-001', 'imagen-4.0-fast-generate-001']);
const SIZES_1K: Record<string, readonly [number, number]> = {
  '1:1': [1024, 1024],
  '3:4': [896, 1280],
  '4:3': [1280, 896],
  '9:16': [768, 1408],
  '16:9': [1408, 768],
};
const PARAMETERS = new Set([
  'sampleCount', 'aspectRatio', 'sampleImageSize', 'personGeneration', 'includeRaiReason', 'includeSafetyAttributes',
  'outputOptions', 'negativePrompt', 'guidanceScale', 'language', 'safetySetting',
]);
const PERSON_GENERATION = ['dont_allow', 'allow_adult', 'allow_all'];
const MIME_TYPES = ['image/png', 'image/jpeg'];
const HANG_MS = 10 * 60_000;

const googleError = (code: number, status: string, message: string): Response =>
  Response.json({ error: { code, message, status } }, { status: code, headers: code === 429 || code === 503 ? { 'retry-after': '1' } : {} });
const invalid = (message: string): Response => googleError(400, 'INVALID_ARGUMENT', message);

function validate(model: string, body: Record<string, unknown>): Response | null {
  const instances = body.instances;
  if (!Array.isArray(instances) || instances.length !== 1) return invalid('Exactly one instance is supported.');
  const prompt = (instances[0] as { prompt?: unknown } | null)?.prompt;
  if (typeof prompt !== 'string' || prompt.trim() === '') return invalid('The prompt is required.');
  const p = (body.parameters ?? {}) as Record<string, unknown>;
  const unknown = Object.keys(p).find((k) => !PARAMETERS.has(k));
  if (unknown) return invalid(`Invalid JSON payload received. Unknown name "${unknown}" at 'parameters': Cannot find field.`);
  const count = p.sampleCount ?? 4;
  if (!Number.isInteger(count) || (count as number) < 1 || (count as number) > 4) return invalid('sampleCount must be between 1 and 4.');
  if (p.aspectRatio !== undefined && !(String(p.aspectRatio) in SIZES_1K)) {
    return invalid(`Unsupported aspect ratio: ${String(p.aspectRatio)}. Supported: ${Object.keys(SIZES_1K).join(', ')}.`);
  }
  if (p.sampleImageSize !== undefined) {
    if (!['1K', '2K'].includes(String(p.sampleImageSize))) return invalid(`Unsupported sampleImageSize: ${String(p.sampleImageSize)}. Supported: 1K, 2K.`);
    if (model.includes('fast')) return invalid('sampleImageSize is not supported by this model.');
  }
  if (p.personGeneration !== undefined && !PERSON_GENERATION.includes(String(p.personGeneration))) {
    return invalid(`Unsupported personGeneration: ${String(p.personGeneration)}.`);
  }
  const mime = (p.outputOptions as { mimeType?: unknown } | undefined)?.mimeType;
  if (mime !== undefined && !MIME_TYPES.includes(String(mime))) return invalid(`Unsupported mimeType: ${String(mime)}.`);
  return null;
}

async function predict(c: Context, model: string, kit: SimKit): Promise<Response> {
  if (!c.req.header('x-goog-api-key') && !c.req.query('key')) {
    return googleError(403, 'PERMISSION_DENIED', "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.");
  }
  if (!MODELS.has(model)) return googleError(404, 'NOT_FOUND', `models/${model} is not found for API version v1beta, or is not supported for predict.`);
  const body = await jsonBody(c);
  if (!body) return invalid('Invalid JSON payload received.');
  const problem = validate(model, body);
  if (problem) return problem;

  const prompt = (body.instances as { prompt: string }[])[0]!.prompt;
  const p = (body.parameters ?? {}) as Record<string, unknown>;
  const faults = forEndpoint(kit.faults('imagen', prompt), 'imagen');
  if (faults.gone) {
    return googleError(404, 'NOT_FOUND', `models/${model} is not found for API version v1beta, or is not supported for predict. Call ListModels to see the list of available models and their supported methods.`);
  }
  if (faults.hang) await kit.sleep(HANG_MS);
  if (faults.latency_ms > 0) await kit.sleep(faults.latency_ms);
  if (faults.no_credit) return invalid('Imagen API is only accessible to billed users at this time.');
  if (faults.fail_http) {
    const status = faults.http_status!;
    return status === 429
      ? googleError(429, 'RESOURCE_EXHAUSTED', 'Resource has been exhausted (e.g. check quota).')
      : googleError(status, status >= 500 ? 'UNAVAILABLE' : 'FAILED_PRECONDITION', 'The model is overloaded. Please try again later.');
  }
  if (faults.fail) return googleError(500, 'INTERNAL', 'Internal error encountered.');
  if (faults.moderate) {
    return invalid(
      'Image generation failed with the following error: The prompt could not be submitted. Your current safety filter threshold prohibited one or more words in this prompt. If you think this was an error, send feedback.',
    );
  }
  const count = Number(p.sampleCount ?? 4);
  if (faults.moderate_output) {
    const filtered = p.includeRaiReason === true
      ? Array.from({ length: count }, () => ({ raiFilteredReason: 'Your current safety filter threshold filtered out the generated image. Support codes: 58061214' }))
      : [];
    return Response.json(filtered.length > 0 ? { predictions: filtered } : {});
  }
  const scale = p.sampleImageSize === '2K' ? 2 : 1;
  const [w, h] = SIZES_1K[String(p.aspectRatio ?? '1:1')]!;
  const bytes = kit.image(prompt, w * scale, h * scale).toString('base64');
  const predictions = Array.from({ length: Math.max(0, count - faults.drop) }, () => ({ bytesBase64Encoded: bytes, mimeType: 'image/png' }));
  return Response.json({ predictions });
}

// Hono has no literal text after a parameter within a segment, so `:predict` is part of the pattern.
export const imagen: SimProvider = (kit) =>
  new Hono<SimEnv>().post('/v1beta/models/:call{[^/:]+:predict}', (c) => predict(c, c.req.param('call').slice(0, -':predict'.length), kit));
