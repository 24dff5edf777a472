import { env } from 'cloudflare:workers';
import OpenAI, { toFile } from 'openai';
import { describe, expect, it } from 'vitest';
import type { TaskView } from '../../../src/tasks/task.schema';
import { api, balance, customer } from '../../helpers';
import { openAIClient } from './sdk';

/** A 1×1 PNG, and the same bytes with a JPEG's and a text file's start for the magic-byte checks. */
const PNG = Uint8Array.from(
  atob('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=='),
  (ch) => ch.charCodeAt(0),
);
const FILE_URL = /^http:\/\/gateway\.test\/api\/v1\/files\/img_[0-9A-Za-z]{32}$/;

const png = (name = 'input.png') => toFile(PNG, name, { type: 'image/png' });

/** What the simulated BFL API received for a prompt (the prompt makes it this test's own). */
async function bflSubmit(prompt: string): Promise<Record<string, unknown>> {
  const recorded = await (await fetch(`${env.SIMULATOR_URL}/__sim/requests?path=/v1/flux-2-pro`)).json<{ body: string }[]>();
  const bodies = recorded.map((r) => JSON.parse(r.body) as Record<string, unknown>).filter((b) => b.prompt === prompt);
  expect(bodies).toHaveLength(1);
  return bodies[0]!;
}

async function refusedEdit(auth: Record<string, string>, params: Parameters<OpenAI['images']['edit']>[0]) {
  const { client } = openAIClient(auth);
  const error = await client.images.edit(params).then(
    () => null,
    (err: unknown) => err,
  );
  if (!(error instanceof OpenAI.APIError)) throw new Error(`expected an APIError, got ${String(error)}`);
  return error;
}

/** How many objects R2 holds (storage is this test file's own, and its tests run one at a time). */
async function storedObjects(): Promise<number> {
  let count = 0;
  let cursor: string | undefined;
  for (;;) {
    const page = await env.IMAGES.list({ cursor });
    count += page.objects.length;
    if (!page.truncated) return count;
    cursor = page.cursor;
  }
}

/** A multipart form sent by hand, for what the SDK would not send. */
function form(fields: Record<string, string | Blob>): FormData {
  const data = new FormData();
  for (const [name, value] of Object.entries(fields)) data.append(name, value);
  return data;
}

describe('POST /v1/images/edits through the official openai SDK', () => {
  it('stores the uploaded PNG and hands the provider a URL to that copy, served by this Worker', async () => {
    const { auth } = await customer(undefined, 100);
    const { client } = openAIClient(auth);
    const prompt = `Make it autumn ${crypto.randomUUID()}`;
    const { data: answer, response } = await client.images.edit({ model: 'flux-2', image: await png(), prompt }).withResponse();
    expect(answer.data).toHaveLength(1);
    expect(answer.data![0]!.url).toMatch(FILE_URL);

    const sent = await bflSubmit(prompt);
    expect(sent.input_image).toMatch(FILE_URL);
    const stored = await api(new URL(String(sent.input_image)).pathname);
    expect(stored.status).toBe(200);
    expect(stored.headers.get('content-type')).toBe('image/png');
    expect(new Uint8Array(await stored.arrayBuffer())).toEqual(PNG);

    const task = await (await api(`/api/v1/tasks/${response.headers.get('x-task-id')}`, { headers: auth })).json<TaskView>();
    expect(task).toMatchObject({ status: 'succeeded', model: 'flux-2', credits: 5, input: { input_urls: [sent.input_image] } });
    expect(await balance(auth)).toMatchObject({ balance: 95, reserved: 0 });
  });

  it('takes several images as image[] (the SDK’s array form), in order', async () => {
    const { auth } = await customer(undefined, 100);
    const { client } = openAIClient(auth);
    const prompt = `Blend these ${crypto.randomUUID()}`;
    await client.images.edit({ model: 'flux-2', image: [await png('a.png'), await png('b.png')], prompt, size: '1536x1024' });
    const sent = await bflSubmit(prompt);
    expect(sent.input_image).toMatch(FILE_URL);
    expect(sent.input_image_2).toMatch(FILE_URL);
    expect(sent.input_image_2).not.toBe(sent.input_image);
    expect([sent.width, sent.height]).toEqual([1248, 832]);
  });

  it('refuses a file that is not a PNG, JPEG or WebP by its bytes, whatever type it claims, storing nothing', async () => {
    const { auth } = await customer(undefined, 100);
    const fake = await toFile(new TextEncoder().encode('GIF89a, or just text'), 'fake.png', { type: 'image/png' });
    const before = await storedObjects();
    const error = await refusedEdit(auth, { model: 'flux-2', image: [await png(), fake], prompt: 'Make it autumn' });
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ status: 400, code: 'invalid_request', param: 'image' });
    expect(error.message).toContain('image.1: is not a PNG, JPEG or WebP image');
    expect(await storedObjects()).toBe(before);
    expect(await balance(auth)).toMatchObject({ balance: 100, reserved: 0 });
  });

  it('refuses a model that takes no images with 400 naming image', async () => {
    const { auth } = await customer(undefined, 100);
    const error = await refusedEdit(auth, { model: 'grok-imagine', image: await png(), prompt: 'Make it autumn' });
    expect(error).toMatchObject({ status: 400, param: 'image' });
    expect(error.message).toContain('grok-imagine takes no input images');
  });

  it('refuses more images than the model takes, naming image, storing nothing', async () => {
    const { auth } = await customer(undefined, 100);
    const images = await Promise.all([1, 2, 3].map((i) => png(`${i}.png`)));
    const before = await storedObjects();
    const error = await refusedEdit(auth, { model: 'hunyuan-image-3', image: images, prompt: 'Make it autumn' });
    expect(error).toMatchObject({ status: 400, param: 'image' });
    expect(await storedObjects()).toBe(before);
  });

  it('gives the uploads back when the account cannot pay: 429 insufficient_quota, nothing kept', async () => {
    const { auth } = await customer(undefined, 1);
    const before = await storedObjects();
    const error = await refusedEdit(auth, { model: 'flux-2', image: await png(), prompt: 'Make it autumn' });
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(error).toMatchObject({ status: 429, code: 'insufficient_quota' });
    await expect.poll(storedObjects).toBe(before);
  });

  it('refuses an image over 20 MB with 413 naming image', async () => {
    const { auth } = await customer(undefined, 100);
    const big = new Uint8Array(20 * 1024 * 1024 + 1);
    big.set(PNG);
    const error = await refusedEdit(auth, { model: 'flux-2', image: await toFile(big, 'big.png', { type: 'image/png' }), prompt: 'Make it autumn' });
    expect(error).toMatchObject({ status: 413, code: 'payload_too_large', param: 'image' });
  });

  it('refuses a form without an image, and a body that is not a multipart form', async () => {
    const { auth } = await customer(undefined, 100);
    const noImage = await api('/v1/images/edits', { method: 'POST', headers: auth, body: form({ model: 'flux-2', prompt: 'Make it autumn' }) });
    expect(noImage.status).toBe(400);
    expect(await noImage.json()).toMatchObject({ error: { code: 'invalid_request', param: 'image' } });

    const json = await api('/v1/images/edits', { method: 'POST', headers: auth, json: { model: 'flux-2', prompt: 'Make it autumn' } });
    expect(json.status).toBe(415);
    expect(await json.json()).toMatchObject({ error: { code: 'unsupported_media_type', message: expect.stringContaining('multipart/form-data') } });
  });

  it('reads the model’s own fields from the form as its schema types them', async () => {
    const { auth } = await customer(undefined, 100);
    const body = form({ model: 'kling-image-o1', prompt: 'Make it autumn', n: '2', aspect_ratio: '16:9', image: new Blob([PNG], { type: 'image/png' }) });
    const res = await api('/v1/images/edits', { method: 'POST', headers: auth, body });
    expect(res.status).toBe(200);
    const task = await (await api(`/api/v1/tasks/${res.headers.get('x-task-id')}`, { headers: auth })).json<TaskView>();
    expect(task).toMatchObject({ status: 'succeeded', input: { n: 2, aspect_ratio: '16:9' }, credits: 12 });
    expect((await res.json<{ data: unknown[] }>()).data).toHaveLength(2);
  });
});
