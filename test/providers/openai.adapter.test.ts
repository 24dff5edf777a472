import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { gptImage15Official } from '../../src/catalog/gpt-image-1.5-official';
import { submitJob } from '../../src/providers/exchange';
import { openaiAdapter, type OpenAIImageJob } from '../../src/providers/openai.adapter';
import { uniquePrompt } from '../simulator-fixtures';
import { base64Bytes, expectBearerJsonPost, expectRetryable, expectSync, failureMessage, inlineBytes, inlinePngSize, jsonAnswer, onlyRequest, recordingCall, sentJson, succeededImages, throughSimulator } from './adapter-harness';

const node = gptImage15Official.nodes[0]!;
const input = (fields: Record<string, unknown>) =>
  gptImage15Official.schema.parse({ model: 'gpt-image-1.5-official', prompt: 'a lighthouse at dusk', ...fields });
/** A call whose fetch records what the adapter sends and answers with this JSON. */
const answering = (status: number, body: unknown, headers: Record<string, string> = {}) => recordingCall(jsonAnswer(status, body, headers));
/** A call answering with OpenAI's error body. */
const apiError = (status: number, error: Record<string, unknown>) => answering(status, { error: { param: null, ...error } });
const success = { created: 1, data: [{ b64_json: 'iVBORw0KGgo=' }, { b64_json: 'iVBORw0KGgpB' }], output_format: 'png' };

describe('OpenAI adapter: the request it sends', () => {
  it('posts a generation as JSON to /v1/images/generations with a Bearer key', async () => {
    const { call, sent } = answering(200, success);
    await node.submit(input({ size: '1536x1024', quality: 'high', n: 2 }), call);
    const request = onlyRequest(sent);
    expectBearerJsonPost(request, new URL('/v1/images/generations', env.OPENAI_BASE_URL).toString(), env.OPENAI_API_KEY);
    // GPT Image models reject response_format; they always answer b64_json.
    expect(sentJson(request)).toEqual({
      model: 'gpt-image-1.5',
      prompt: 'a lighthouse at dusk',
      n: 2,
      size: '1536x1024',
      quality: 'high',
      background: 'auto',
      output_format: 'png',
    });
  });

  it('posts reference images as an edit with images: [{ image_url }]', async () => {
    const { call, sent } = answering(200, success);
    const urls = ['https://example.com/a.png', 'https://example.com/b.jpg'];
    await node.submit(input({ input_urls: urls }), call);
    expect(sent[0]!.url).toBe(new URL('/v1/images/edits', env.OPENAI_BASE_URL).toString());
    expect(sentJson(sent[0]!)).toMatchObject({
      model: 'gpt-image-1.5',
      size: 'auto',
      n: 1,
      images: [{ image_url: urls[0] }, { image_url: urls[1] }],
    });
  });
});

describe('OpenAI adapter: reading the answers', () => {
  it('hands over every b64_json image as its decoded bytes, in order', async () => {
    const images = succeededImages(await node.submit(input({}), answering(200, success).call));
    expect(images.map(inlineBytes)).toEqual([base64Bytes('iVBORw0KGgo='), base64Bytes('iVBORw0KGgpB')]);
  });

  it('maps 400 moderation_blocked to content_moderated', async () => {
    const { call } = apiError(400, {
      message: 'Your request was rejected by the safety system.',
      type: 'image_generation_user_error',
      code: 'moderation_blocked',
    });
    expect(await node.submit(input({}), call)).toMatchObject({ state: 'failed', code: 'content_moderated' });
  });

  it('maps an unreadable reference image to invalid_input_image', async () => {
    const { call } = apiError(400, { message: 'Error while downloading https://x/y.png.', type: 'invalid_request_error', code: 'invalid_image_url' });
    expect(await node.submit(input({ input_urls: ['https://x/y.png'] }), call)).toMatchObject({ state: 'failed', code: 'invalid_input_image' });
  });

  it('maps any other 4xx to provider_error with the provider message', async () => {
    const { call } = apiError(400, { message: "Invalid value: '512x512'.", type: 'invalid_request_error', code: 'invalid_value' });
    expect(await node.submit(input({}), call)).toEqual({
      state: 'failed',
      code: 'provider_error',
      message: "Provider rejected the request: Invalid value: '512x512'.",
    });
  });

  it('maps a rejected key to provider_unavailable', async () => {
    const { call } = apiError(401, { message: 'Incorrect API key provided.', type: 'invalid_request_error', code: 'invalid_api_key' });
    expect(await node.submit(input({}), call)).toMatchObject({ state: 'failed', code: 'provider_unavailable' });
  });

  it('maps 429 insufficient_quota (billing, not load) to provider_unavailable', async () => {
    const { call } = apiError(429, { message: 'You exceeded your current quota.', type: 'insufficient_quota', code: 'insufficient_quota' });
    expect(await node.submit(input({}), call)).toMatchObject({ state: 'failed', code: 'provider_unavailable' });
  });

  it('throws a rate-limited retryable error for 429 rate_limit_exceeded, with Retry-After', async () => {
    const { call } = answering(429, { error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' } }, { 'retry-after': '2' });
    await expectRetryable(node.submit(input({}), call), { rateLimited: true, retryAfterMs: 2000 });
  });

  it('throws a retryable error for 5xx and for a 200 without images', async () => {
    await expectRetryable(node.submit(input({}), apiError(500, { message: 'The server had an error', type: 'server_error' }).call), { rateLimited: false });
    await expectRetryable(node.submit(input({}), answering(200, { created: 1 }).call), { rateLimited: false });
  });

  it('is synchronous: neither the adapter nor its node has a poll', () => {
    expectSync(openaiAdapter, node);
  });
});

describe('OpenAI adapter against the simulator', () => {
  it('gets a real PNG of the requested size', async () => {
    const step = await node.submit(input({ prompt: uniquePrompt('sim contract'), size: '1024x1536', n: 2 }), throughSimulator);
    expect(step.state).toBe('succeeded');
    const images = succeededImages(step);
    expect(images).toHaveLength(2);
    for (const image of images) {
      expect(inlinePngSize(image)).toEqual({ width: 1024, height: 1536 });
    }
  });

  it('is refused by the simulator, as by OpenAI, when the job is malformed', async () => {
    const job: OpenAIImageJob = {
      model: 'gpt-image-1.5',
      prompt: 'a lighthouse',
      n: 1,
      size: '512x512',
      quality: 'auto',
      background: 'auto',
      output_format: 'png',
    };
    const step = await submitJob(openaiAdapter, job, throughSimulator);
    expect(step).toMatchObject({ state: 'failed', code: 'provider_error' });
    expect(failureMessage(step)).toMatch(/512x512/);
  });
});
