import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { TaskView } from '../../src/tasks/task.schema';
import { api, balance, createTask, customer, eventually, waitForTask } from '../helpers';
import { pngSize } from '../png';

const MODEL = 'ideogram-v3';
const uniquePrompt = (text: string) => `${text} ${crypto.randomUUID()}`;

async function run(auth: Record<string, string>, body: Record<string, unknown>): Promise<{ credits: number; task: TaskView }> {
  const res = await createTask(auth, { model: MODEL, ...body });
  expect(res.status).toBe(202);
  const created = await res.json<{ task_id: string; credits: number }>();
  return { credits: created.credits, task: await waitForTask(auth, created.task_id) };
}

/** The size in the stored file's own PNG header. */
async function storedSize(url: string): Promise<{ width: number; height: number }> {
  const file = await api(new URL(url).pathname);
  expect(file.headers.get('content-type')).toBe('image/png');
  return pngSize(new Uint8Array(await file.arrayBuffer()));
}

/** The multipart bodies the simulator received for this prompt (binary parts garbled, text intact). */
async function sentBodies(prompt: string): Promise<string[]> {
  const recorded = await (await fetch(`${env.SIMULATOR_URL}/__sim/requests?path=/v1/ideogram-v3/generate`)).json<{ body: string }[]>();
  return recorded.map((r) => r.body).filter((body) => body.includes(prompt));
}

const field = (name: string, value: string) => `name="${name}"\r\n\r\n${value}\r\n`;

/** A PNG hosted on the simulator (made through its BFL API), standing in for a customer's image. */
async function hostedPng(): Promise<string> {
  const headers = { 'x-key': 'fixture', 'content-type': 'application/json' };
  const made = await fetch(`${env.SIMULATOR_URL}/v1/flux-2-pro`, { method: 'POST', headers, body: JSON.stringify({ prompt: 'reference', width: 512, height: 512 }) });
  const { polling_url } = await made.json<{ polling_url: string }>();
  return (await (await fetch(polling_url, { headers })).json<{ result: { sample: string } }>()).result.sample;
}

const settled = (auth: Record<string, string>, expected: number) =>
  eventually(async () => {
    const now = await balance(auth);
    return now.reserved === 0 && now.balance === expected ? now : undefined;
  });

describe('ideogram-v3', () => {
  it('makes n images at the ratio size, stored as real PNGs, and charges 8 credits each', async () => {
    const { auth } = await customer(undefined, 100);
    const prompt = uniquePrompt('a neon sign saying OPEN');
    const { credits, task } = await run(auth, { prompt, aspect_ratio: '16:9', rendering_speed: 'TURBO', n: 2 });
    expect(credits).toBe(16);
    expect(task).toMatchObject({ status: 'succeeded', credits: 16, provider: 'ideogram', node: 'node63', error: null });
    expect(task.output!.images).toHaveLength(2);
    for (const image of task.output!.images) {
      expect(image).toMatchObject({ width: 1312, height: 736, content_type: 'image/png' });
      expect(await storedSize(image.url)).toEqual({ width: 1312, height: 736 });
    }
    await settled(auth, 84);
    const [body] = await sentBodies(prompt);
    expect(body).toContain(field('aspect_ratio', '16x9'));
    expect(body).toContain(field('rendering_speed', 'TURBO'));
    expect(body).toContain(field('num_images', '2'));
  });

  it('applies the defaults: 1:1, DEFAULT speed, magic prompt AUTO, GENERAL style, one image', async () => {
    const { auth } = await customer(undefined, 100);
    const prompt = uniquePrompt('a poster');
    const { credits, task } = await run(auth, { prompt });
    expect(credits).toBe(8);
    expect(task.input).toEqual({ prompt, aspect_ratio: '1:1', rendering_speed: 'DEFAULT', magic_prompt: 'AUTO', style_type: 'GENERAL', n: 1 });
    expect(task.output!.images[0]).toMatchObject({ width: 1024, height: 1024 });
  });

  it('uploads style reference images as files', async () => {
    const { auth } = await customer(undefined, 100);
    const prompt = uniquePrompt('a logo in this style');
    const { task } = await run(auth, { prompt, input_urls: [await hostedPng(), await hostedPng()] });
    expect(task.status).toBe('succeeded');
    const [body] = await sentBodies(prompt);
    expect(body!.match(/name="style_reference_images"; filename="reference-\d\.png"/g)).toHaveLength(2);
  });

  it('fails invalid_input_image with a refund when a reference cannot be downloaded', async () => {
    const { auth } = await customer(undefined, 100);
    const prompt = uniquePrompt('a logo');
    const { task } = await run(auth, { prompt, input_urls: [`${env.SIMULATOR_URL}/__sim/files/0000.png`] });
    expect(task).toMatchObject({ status: 'failed', credits: 0, error: { code: 'invalid_input_image' } });
    expect(task.error!.message).toMatch(/input_urls\.0/);
    expect(await sentBodies(prompt)).toHaveLength(0);
    await settled(auth, 100);
  });

  it.each([
    ['a ratio spelt the Ideogram way', 'aspect_ratio', { aspect_ratio: '16x9' }],
    ['an unknown ratio', 'aspect_ratio', { aspect_ratio: '7:3' }],
    ['rendering_speed FAST', 'rendering_speed', { rendering_speed: 'FAST' }],
    ['magic_prompt YES', 'magic_prompt', { magic_prompt: 'YES' }],
    ['style_type ANIME', 'style_type', { style_type: 'ANIME' }],
    ['n of 9', 'n', { n: 9 }],
    ['a negative seed', 'seed', { seed: -1 }],
    ['a seed above 2^31-1', 'seed', { seed: 2147483648 }],
    ['an empty negative_prompt', 'negative_prompt', { negative_prompt: '' }],
    ['4 reference images', 'input_urls', { input_urls: ['a', 'b', 'c', 'd'].map((x) => `https://example.com/${x}.png`) }],
    ['a prompt over 5000 characters', 'prompt', { prompt: 'x'.repeat(5001) }],
  ])('rejects %s with a 400 naming the field', async (_label, param, fields) => {
    const { auth } = await customer(undefined, 100);
    const res = await createTask(auth, { model: MODEL, prompt: 'a poster', ...fields });
    expect(res.status).toBe(400);
    const { error } = await res.json<{ error: { code: string; param: string } }>();
    expect(error).toMatchObject({ code: 'invalid_request', param });
    expect(await balance(auth)).toMatchObject({ balance: 100, reserved: 0 });
  });

  it.each([
    ['a prompt failing the safety check (422)', '[sim:moderate]', 'content_moderated'],
    ['images flagged is_image_safe=false', '[sim:moderate-output]', 'content_moderated'],
    ['an empty Ideogram balance', '[sim:nocredit]', 'provider_unavailable'],
    ['a provider 400', '[sim:http=400]', 'provider_error'],
  ])('ends %s as failed with the right code and every credit refunded', async (_label, directive, code) => {
    const { auth } = await customer(undefined, 100);
    const { credits, task } = await run(auth, { prompt: uniquePrompt(`a poster ${directive}`), n: 3 });
    expect(credits).toBe(24);
    expect(task).toMatchObject({ status: 'failed', credits: 0, output: null, error: { code } });
    await settled(auth, 100);
  });
});
