import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { TaskView } from '../../src/tasks/task.schema';
import { api, balance, createTask, customer, eventually, waitForTask } from '../helpers';
import { pngSize } from '../png';

const MODEL = 'gpt-image-1.5-official';
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

/** What the simulator received for this prompt on `path`. */
async function sentTo(path: string, prompt: string): Promise<{ headers: Record<string, string>; body: Record<string, unknown> }[]> {
  const recorded = await (await fetch(`${env.SIMULATOR_URL}/__sim/requests?path=${path}`)).json<{ headers: Record<string, string>; body: string }[]>();
  return recorded.filter((r) => r.body.includes(prompt)).map((r) => ({ headers: r.headers, body: JSON.parse(r.body) }));
}

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

describe('gpt-image-1.5-official', () => {
  it('makes n images of the requested size, stored as real PNGs, and charges 10 credits each', async () => {
    const { auth } = await customer(undefined, 100);
    const prompt = uniquePrompt('a lighthouse at dusk');
    const { credits, task } = await run(auth, { prompt, size: '1536x1024', quality: 'high', n: 2 });
    expect(credits).toBe(20);
    expect(task).toMatchObject({ status: 'succeeded', credits: 20, provider: 'openai', node: 'node42', error: null });
    expect(task.output!.images).toHaveLength(2);
    for (const image of task.output!.images) {
      expect(image).toMatchObject({ width: 1536, height: 1024, content_type: 'image/png' });
      expect(await storedSize(image.url)).toEqual({ width: 1536, height: 1024 });
    }
    await settled(auth, 80);
    const [sent] = await sentTo('/v1/images/generations', prompt);
    expect(sent!.headers.authorization).toBe(`Bearer ${env.OPENAI_API_KEY}`);
    expect(sent!.body).toMatchObject({ model: 'gpt-image-1.5', n: 2, size: '1536x1024', quality: 'high', output_format: 'png' });
  });

  it('applies the defaults: size auto, quality auto, background auto, one image for 10 credits', async () => {
    const { auth } = await customer(undefined, 100);
    const prompt = uniquePrompt('a teapot');
    const { credits, task } = await run(auth, { prompt });
    expect(credits).toBe(10);
    expect(task.input).toEqual({ prompt, size: 'auto', quality: 'auto', background: 'auto', n: 1 });
    expect(task.status).toBe('succeeded');
    expect(await storedSize(task.output!.images[0]!.url)).toEqual({ width: task.output!.images[0]!.width, height: task.output!.images[0]!.height });
    await settled(auth, 90);
  });

  it('edits reference images through /v1/images/edits', async () => {
    const { auth } = await customer(undefined, 100);
    const prompt = uniquePrompt('make it a watercolor');
    const reference = await hostedPng();
    const { task } = await run(auth, { prompt, input_urls: [reference], size: '1024x1024' });
    expect(task).toMatchObject({ status: 'succeeded', node: 'node42' });
    expect(await storedSize(task.output!.images[0]!.url)).toEqual({ width: 1024, height: 1024 });
    const [sent] = await sentTo('/v1/images/edits', prompt);
    expect(sent!.body.images).toEqual([{ image_url: reference }]);
  });

  it.each([
    ['size 512x512', 'size', { size: '512x512' }],
    ['quality ultra', 'quality', { quality: 'ultra' }],
    ['background green', 'background', { background: 'green' }],
    ['n of 11', 'n', { n: 11 }],
    ['fractional n', 'n', { n: 1.5 }],
    ['empty prompt', 'prompt', { prompt: '' }],
    ['prompt over 32000 characters', 'prompt', { prompt: 'x'.repeat(32001) }],
    ['17 input_urls', 'input_urls', { input_urls: Array.from({ length: 17 }, (_, i) => `https://example.com/${i}.png`) }],
    ['ftp input URL', 'input_urls.0', { input_urls: ['ftp://example.com/a.png'] }],
    ['unknown field', 'style', { style: 'vivid' }],
    ['response_format (OpenAI answers base64 only)', 'response_format', { response_format: 'url' }],
  ])('rejects %s with a 400 naming the field', async (_label, param, fields) => {
    const { auth } = await customer(undefined, 100);
    const res = await createTask(auth, { model: MODEL, prompt: 'a lighthouse', ...fields });
    expect(res.status).toBe(400);
    const { error } = await res.json<{ error: { code: string; param: string } }>();
    expect(error).toMatchObject({ code: 'invalid_request', param });
    expect(await balance(auth)).toMatchObject({ balance: 100, reserved: 0 });
  });

  it('answers 402 and starts nothing when n images cost more than the balance', async () => {
    const { auth } = await customer(undefined, 50);
    const res = await createTask(auth, { model: MODEL, prompt: 'a lighthouse', n: 6 });
    expect(res.status).toBe(402);
    expect(await balance(auth)).toMatchObject({ balance: 50, reserved: 0 });
  });

  it.each([
    ['[sim:moderate]', 'content_moderated'],
    ['[sim:moderate-output]', 'content_moderated'],
    ['[sim:http=400]', 'provider_error'],
    ['[sim:nocredit]', 'provider_unavailable'],
    ['[sim:http=503]', 'provider_unavailable'],
  ])('ends %s as failed %s with every credit refunded', async (directive, code) => {
    const { auth } = await customer(undefined, 100);
    const { credits, task } = await run(auth, { prompt: uniquePrompt(`a lighthouse ${directive}`), n: 3 });
    expect(credits).toBe(30);
    expect(task).toMatchObject({ status: 'failed', credits: 0, output: null, error: { code } });
    await settled(auth, 100);
  });

  it('fails invalid_input_image with a refund when OpenAI cannot fetch a reference', async () => {
    const { auth } = await customer(undefined, 100);
    const { task } = await run(auth, { prompt: uniquePrompt('a lighthouse'), input_urls: [`${env.SIMULATOR_URL}/__sim/files/0000.png`] });
    expect(task).toMatchObject({ status: 'failed', credits: 0, error: { code: 'invalid_input_image' } });
    await settled(auth, 100);
  });
});
