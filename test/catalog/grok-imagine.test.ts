import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { api, balance, createTask, customer, eventually, waitForTask } from '../helpers';
import { pngSize } from '../png';

const PRICE = 5;
const PATH = '/v1/images/generations';
const prompt = (text: string) => `${text} ${crypto.randomUUID()}`;

/** The request the simulator received for this prompt. */
async function sentFor(text: string): Promise<{ headers: Record<string, string>; body: Record<string, unknown> }> {
  const recorded = await (await fetch(`${env.SIMULATOR_URL}/__sim/requests?path=${encodeURIComponent(PATH)}`)).json<{ headers: Record<string, string>; body: string }[]>();
  const request = recorded.find((r) => r.body.includes(text));
  if (!request) throw new Error(`no request to ${PATH} with ${text}`);
  return { headers: request.headers, body: JSON.parse(request.body) as Record<string, unknown> };
}

/** The stored file's PNG size, fetched without an Authorization header. */
async function storedSize(url: string): Promise<{ width: number; height: number }> {
  const file = await api(new URL(url).pathname);
  expect(file.status).toBe(200);
  return pngSize(new Uint8Array(await file.arrayBuffer()));
}

/** The balance once nothing is reserved any more (the task settled or refunded). */
async function settledBalance(auth: Record<string, string>): Promise<number> {
  const settled = await eventually(async () => {
    const now = await balance(auth);
    return now.reserved === 0 ? now : undefined;
  });
  return settled.balance;
}

describe('grok-imagine', () => {
  it('makes n images on xAI in the ratio and resolution asked, charging 5 credits per image', async () => {
    const { auth } = await customer(undefined, 100);
    const text = prompt('A retro-futurist train crossing a desert at sunset');
    const res = await createTask(auth, { model: 'grok-imagine', prompt: text, aspect_ratio: '16:9', resolution: '2K', n: 3 });
    expect(res.status).toBe(202);
    const created = await res.json<{ task_id: string; credits: number }>();
    expect(created.credits).toBe(3 * PRICE);

    const task = await waitForTask(auth, created.task_id);
    expect(task).toMatchObject({ status: 'succeeded', credits: 3 * PRICE, provider: 'xai', node: 'node31' });
    expect(task.output!.images).toHaveLength(3);
    for (const image of task.output!.images) {
      expect(image.content_type).toBe('image/png');
      expect(await storedSize(image.url)).toEqual({ width: image.width, height: image.height });
      expect(image.width / image.height).toBeCloseTo(16 / 9, 1);
      expect(image.width).toBeGreaterThan(2048);
    }

    const sent = await sentFor(text);
    expect(sent.headers.authorization).toBe(`Bearer ${env.XAI_API_KEY}`);
    expect(sent.body).toEqual({ model: 'grok-imagine-image', prompt: text, n: 3, aspect_ratio: '16:9', resolution: '2k', response_format: 'url' });
    expect(await settledBalance(auth)).toBe(100 - 3 * PRICE);
  });

  it('defaults to one 1:1 image at 1K', async () => {
    const { auth } = await customer(undefined, 100);
    const text = prompt('A lemon on a blue plate');
    const created = await (await createTask(auth, { model: 'grok-imagine', prompt: text })).json<{ task_id: string; credits: number }>();
    expect(created.credits).toBe(PRICE);
    const task = await waitForTask(auth, created.task_id);
    expect(task.input).toEqual({ prompt: text, aspect_ratio: '1:1', resolution: '1K', n: 1 });
    expect(task.output!.images).toHaveLength(1);
    expect(task.output!.images[0]).toMatchObject({ width: 1024, height: 1024 });
    expect(await settledBalance(auth)).toBe(100 - PRICE);
  });

  it.each([
    ['empty prompt', { prompt: '' }, 'prompt'],
    ['unsupported aspect_ratio', { aspect_ratio: '5:4' }, 'aspect_ratio'],
    ['lower-case resolution', { resolution: '2k' }, 'resolution'],
    ['n over 10', { n: 11 }, 'n'],
    ['input_urls (text only)', { input_urls: ['https://images.example.com/a.png'] }, 'input_urls'],
    ['OpenAI size', { size: '1024x1024' }, 'size'],
  ])('answers 400 naming the field for %s, charging nothing', async (_name, fields, field) => {
    const { auth } = await customer(undefined, 100);
    const res = await createTask(auth, { model: 'grok-imagine', prompt: 'A lemon', ...fields });
    expect(res.status).toBe(400);
    const { error } = await res.json<{ error: { code: string; param: string; message: string } }>();
    expect(error).toMatchObject({ code: 'invalid_request', param: field });
    expect(error.message).toContain(field);
    expect(await balance(auth)).toMatchObject({ balance: 100, reserved: 0 });
  });

  it.each([
    ['a prompt xAI blocks', '[sim:moderate]', 'content_moderated'],
    ['images xAI filters', '[sim:moderate-output]', 'content_moderated'],
    ['an xAI team out of credit (a 429)', '[sim:nocredit]', 'provider_unavailable'],
    ['a request xAI refuses', '[sim:http=422]', 'provider_error'],
  ])('fails %s with %s and refunds every image', async (_name, directive, code) => {
    const { auth } = await customer(undefined, 100);
    const created = await (await createTask(auth, { model: 'grok-imagine', prompt: prompt(`A lemon ${directive}`), n: 2 })).json<{ task_id: string; credits: number }>();
    expect(created.credits).toBe(2 * PRICE);
    const task = await waitForTask(auth, created.task_id);
    expect(task).toMatchObject({ status: 'failed', output: null, credits: 0, error: { code } });
    expect(await settledBalance(auth)).toBe(100);
  });

  it('waits out an xAI rate limit and then succeeds', async () => {
    const { auth } = await customer(undefined, 100);
    const created = await (await createTask(auth, { model: 'grok-imagine', prompt: prompt('A lemon [sim:http=429x1]') })).json<{ task_id: string }>();
    const task = await waitForTask(auth, created.task_id);
    expect(task.status).toBe('succeeded');
    expect(await settledBalance(auth)).toBe(100 - PRICE);
  });
});
