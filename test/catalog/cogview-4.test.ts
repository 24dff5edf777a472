import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { COGVIEW_4_SIZES } from '../../src/catalog/cogview-4';
import { api, balance, createTask, customer, eventually, waitForTask } from '../helpers';
import { pngSize } from '../png';

const PRICE = 4;
const prompt = (text: string) => `${text} ${crypto.randomUUID()}`;

/** The request the simulator received for this prompt. */
async function sentFor(path: string, text: string): Promise<{ headers: Record<string, string>; body: Record<string, unknown> }> {
  const recorded = await (await fetch(`${env.SIMULATOR_URL}/__sim/requests?path=${encodeURIComponent(path)}`)).json<{ headers: Record<string, string>; body: string }[]>();
  const request = recorded.find((r) => r.body.includes(text));
  if (!request) throw new Error(`no request to ${path} with ${text}`);
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

describe('cogview-4', () => {
  it('runs on WaveSpeed to a stored PNG of the size the ratio names, charging 4 credits', async () => {
    const { auth } = await customer(undefined, 100);
    const text = prompt('A neon sign that reads 你好 in a rainy alley');
    const res = await createTask(auth, { model: 'cogview-4', prompt: text, aspect_ratio: '16:9', quality: 'standard' });
    expect(res.status).toBe(202);
    const created = await res.json<{ task_id: string; credits: number }>();
    expect(created.credits).toBe(PRICE);

    const task = await waitForTask(auth, created.task_id);
    expect(task).toMatchObject({
      status: 'succeeded',
      input: { prompt: text, aspect_ratio: '16:9', quality: 'standard' },
      credits: PRICE,
      provider: 'wavespeed',
      node: 'node48',
    });
    const [image] = task.output!.images;
    expect(image).toMatchObject({ width: 1344, height: 768, content_type: 'image/png' });
    expect(await storedSize(image!.url)).toEqual({ width: image!.width, height: image!.height });

    const sent = await sentFor('/api/v3/z-ai/cogview-4', text);
    expect(sent.headers.authorization).toBe(`Bearer ${env.WAVESPEED_API_KEY}`);
    expect(sent.body).toEqual({ prompt: text, size: '1344*768', quality: 'standard' });
    expect(await settledBalance(auth)).toBe(100 - PRICE);
  });

  it('defaults to 1:1 in hd', async () => {
    const { auth } = await customer(undefined, 100);
    const text = prompt('A bowl of ramen, top view');
    const created = await (await createTask(auth, { model: 'cogview-4', prompt: text })).json<{ task_id: string }>();
    const task = await waitForTask(auth, created.task_id);
    expect(task.input).toEqual({ prompt: text, aspect_ratio: '1:1', quality: 'hd' });
    expect(task.output!.images[0]).toMatchObject({ width: 1024, height: 1024 });
    expect((await sentFor('/api/v3/z-ai/cogview-4', text)).body).toMatchObject({ size: '1024*1024', quality: 'hd' });
  });

  it.each(Object.entries(COGVIEW_4_SIZES))('sends %s as one of the sizes CogView-4 accepts', async (ratio, [width, height]) => {
    const { auth } = await customer(undefined, 100);
    const created = await (await createTask(auth, { model: 'cogview-4', prompt: prompt('A kite'), aspect_ratio: ratio })).json<{ task_id: string }>();
    const task = await waitForTask(auth, created.task_id);
    expect(task.status).toBe('succeeded');
    expect(task.output!.images[0]).toMatchObject({ width, height });
  });

  it.each([
    ['empty prompt', { prompt: '' }, 'prompt'],
    ['prompt over 1000 characters', { prompt: 'x'.repeat(1001) }, 'prompt'],
    ['unsupported aspect_ratio', { aspect_ratio: '3:2' }, 'aspect_ratio'],
    ['unknown quality', { quality: 'ultra' }, 'quality'],
    ['input_urls (text only)', { input_urls: ['https://images.example.com/a.png'] }, 'input_urls'],
    ['n (one image per task)', { n: 2 }, 'n'],
  ])('answers 400 naming the field for %s, charging nothing', async (_name, fields, field) => {
    const { auth } = await customer(undefined, 100);
    const res = await createTask(auth, { model: 'cogview-4', prompt: 'A kite', ...fields });
    expect(res.status).toBe(400);
    const { error } = await res.json<{ error: { code: string; param: string; message: string } }>();
    expect(error).toMatchObject({ code: 'invalid_request', param: field });
    expect(error.message).toContain(field);
    expect(await balance(auth)).toMatchObject({ balance: 100, reserved: 0 });
  });

  it.each([
    ['a refused prompt', '[sim:moderate]', 'content_moderated'],
    ['an output flagged NSFW', '[sim:moderate-output]', 'content_moderated'],
    ['a failed prediction', '[sim:fail]', 'provider_error'],
    ['an out-of-credit WaveSpeed account', '[sim:nocredit]', 'provider_unavailable'],
  ])('fails %s with %s and refunds in full', async (_name, directive, code) => {
    const { auth } = await customer(undefined, 100);
    const created = await (await createTask(auth, { model: 'cogview-4', prompt: prompt(`A kite ${directive}`) })).json<{ task_id: string }>();
    const task = await waitForTask(auth, created.task_id);
    expect(task).toMatchObject({ status: 'failed', output: null, credits: 0, error: { code } });
    expect(await settledBalance(auth)).toBe(100);
  });
});
