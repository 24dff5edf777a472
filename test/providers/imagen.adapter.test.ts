import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { imagen4 } from '../../src/catalog/imagen-4';
import { submitJob } from '../../src/providers/exchange';
import { imagenAdapter, type ImagenJob } from '../../src/providers/imagen.adapter';
import { uniquePrompt } from '../simulator-fixtures';
import { base64Bytes, expectRetryable, expectSync, failureMessage, inlineBytes, inlinePngSize, jsonAnswer, onlyRequest, recordingCall, sentJson, succeededImages, throughSimulator } from './adapter-harness';

const node = imagen4.nodes[0]!;
const input = (fields: Record<string, unknown>) => imagen4.schema.parse({ model: 'imagen-4', prompt: 'a koi pond', ...fields });
/** A call whose fetch records what the adapter sends and answers with this JSON. */
const answering = (status: number, body: unknown, headers: Record<string, string> = {}) => recordingCall(jsonAnswer(status, body, headers));
/** A call answering with Google's error body. */
const googleError = (code: number, status: string, message: string, details?: unknown[]) =>
  answering(code, { error: { code, message, status, ...(details ? { details } : {}) } });

describe('Imagen adapter: the request it sends', () => {
  it('posts the prompt to :predict with x-goog-api-key and every parameter explicit', async () => {
    const { call, sent } = answering(200, { predictions: [] });
    await node.submit(input({ aspect_ratio: '16:9', resolution: '2K', n: 3, person_generation: 'dont_allow' }), call);
    const request = onlyRequest(sent);
    expect(request.url).toBe(new URL('/v1beta/models/imagen-4.0-generate-001:predict', env.GEMINI_BASE_URL).toString());
    expect(request.method).toBe('POST');
    expect(request.headers.get('x-goog-api-key')).toBe(env.GEMINI_API_KEY);
    expect(request.headers.get('authorization')).toBeNull();
    expect(sentJson(request)).toEqual({
      instances: [{ prompt: 'a koi pond' }],
      parameters: {
        sampleCount: 3,
        aspectRatio: '16:9',
        sampleImageSize: '2K',
        personGeneration: 'dont_allow',
        includeRaiReason: true,
        outputOptions: { mimeType: 'image/png' },
      },
    });
  });

  it('always sends sampleCount, since the API would otherwise make (and bill) 4 images', async () => {
    const { call, sent } = answering(200, { predictions: [] });
    await node.submit(input({}), call);
    expect(sentJson(sent[0]!)).toMatchObject({ parameters: { sampleCount: 1, aspectRatio: '1:1', sampleImageSize: '1K' } });
  });
});

describe('Imagen adapter: reading the answers', () => {
  it('hands over every bytesBase64Encoded image', async () => {
    const { call } = answering(200, {
      predictions: [
        { bytesBase64Encoded: 'AAAA', mimeType: 'image/png' },
        { bytesBase64Encoded: 'BBBB', mimeType: 'image/png' },
      ],
    });
    const images = succeededImages(await node.submit(input({ n: 2 }), call));
    expect(images.map(inlineBytes)).toEqual([base64Bytes('AAAA'), base64Bytes('BBBB')]);
  });

  it('keeps the images that passed when some were filtered', async () => {
    const { call } = answering(200, { predictions: [{ bytesBase64Encoded: 'AAAA', mimeType: 'image/png' }, { raiFilteredReason: 'filtered' }] });
    expect(succeededImages(await node.submit(input({ n: 2 }), call)).map(inlineBytes)).toEqual([base64Bytes('AAAA')]);
  });

  it('reports content_moderated with the reason when every image was filtered', async () => {
    const { call } = answering(200, { predictions: [{ raiFilteredReason: 'Your current safety filter threshold filtered out the image.' }] });
    const step = await node.submit(input({}), call);
    expect(step).toMatchObject({ state: 'failed', code: 'content_moderated' });
    expect(failureMessage(step)).toMatch(/safety filter threshold/);
  });

  it('answers zero images when Imagen dropped them silently (the task calls that moderation)', async () => {
    expect(await node.submit(input({}), answering(200, {}).call)).toEqual({ state: 'succeeded', images: [] });
  });

  it('maps a safety-blocked prompt (400 INVALID_ARGUMENT) to content_moderated', async () => {
    const { call } = googleError(400, 'INVALID_ARGUMENT', 'Image generation failed with the following error: The prompt could not be submitted. Your current safety filter threshold prohibited one or more words in this prompt.');
    expect(await node.submit(input({}), call)).toMatchObject({ state: 'failed', code: 'content_moderated' });
  });

  it('maps an unbilled project (also 400 INVALID_ARGUMENT) to provider_unavailable', async () => {
    const { call } = googleError(400, 'INVALID_ARGUMENT', 'Imagen API is only accessible to billed users at this time.');
    expect(await node.submit(input({}), call)).toMatchObject({ state: 'failed', code: 'provider_unavailable' });
  });

  it('maps a rejected key to provider_unavailable, whether 400 API_KEY_INVALID or 403', async () => {
    const invalidKey = googleError(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [
      { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com' },
    ]);
    expect(await node.submit(input({}), invalidKey.call)).toMatchObject({ state: 'failed', code: 'provider_unavailable' });
    const denied = googleError(403, 'PERMISSION_DENIED', "Method doesn't allow unregistered callers.");
    expect(await node.submit(input({}), denied.call)).toMatchObject({ state: 'failed', code: 'provider_unavailable' });
  });

  it('maps any other 4xx to provider_error with the provider message', async () => {
    const { call } = googleError(400, 'INVALID_ARGUMENT', 'Unsupported aspect ratio: 3:2.');
    expect(await node.submit(input({}), call)).toEqual({
      state: 'failed',
      code: 'provider_error',
      message: 'Provider rejected the request: Unsupported aspect ratio: 3:2.',
    });
  });

  it('throws a rate-limited retryable error for 429 RESOURCE_EXHAUSTED and a plain one for 503', async () => {
    const limited = answering(429, { error: { code: 429, message: 'Resource has been exhausted', status: 'RESOURCE_EXHAUSTED' } }, { 'retry-after': '3' });
    await expectRetryable(node.submit(input({}), limited.call), { rateLimited: true, retryAfterMs: 3000 });
    await expectRetryable(node.submit(input({}), googleError(503, 'UNAVAILABLE', 'The model is overloaded.').call), { rateLimited: false });
  });

  it('is synchronous: neither the adapter nor its node has a poll', () => {
    expectSync(imagenAdapter, node);
  });
});

describe('Imagen adapter against the simulator', () => {
  it('gets real PNGs of the size Imagen renders for the ratio and resolution', async () => {
    const step = await node.submit(input({ prompt: uniquePrompt('sim contract'), aspect_ratio: '9:16', n: 2 }), throughSimulator);
    expect(step.state).toBe('succeeded');
    const images = succeededImages(step);
    expect(images).toHaveLength(2);
    expect(inlinePngSize(images[0]!)).toEqual({ width: 768, height: 1408 });
  });

  it('is refused by the simulator, as by Google, when the job is malformed', async () => {
    const job: ImagenJob = {
      model: 'imagen-4.0-generate-001',
      prompt: 'a koi pond',
      parameters: {
        sampleCount: 1,
        aspectRatio: '3:2',
        sampleImageSize: '1K',
        personGeneration: 'allow_adult',
        includeRaiReason: true,
        outputOptions: { mimeType: 'image/png' },
      },
    };
    expect(await submitJob(imagenAdapter, job, throughSimulator)).toMatchObject({ state: 'failed', code: 'provider_error' });
  });
});
