import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { RECRAFT_V4_SIZES } from '../../src/catalog/recraft-v4';
import { api, balance, createTask, customer, eventually, waitForTask } from '../helpers';
import { pngSize } from '../png';

const PRICE = 10;
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

describe('recraft-v4', () => {
  it('makes n images on Recraft at the V4 size of the ratio, charging 10 credits per image', async () => {
    const { auth } = await customer(undefined, 100);
    const text = prompt('A flat vector-style poster of a lighthouse, bold shapes');
    const res = await createTask(auth, { model: 'recraft-v4', prompt: text, aspect_ratio: '16:9', n: 2 });
    expect(res.status).toBe(202);
    const created = await res.json<{ task_id: string; credits: number }>();
    expect(created.credits).toBe(2 * PRICE);

    const task = await waitForTask(auth, created.task_id);
    expect(task).toMatchObject({ status: 'succeeded', input: { prompt: text, aspect_ratio: '16:9', n: 2 }, credits: 2 * PRICE, provider: 'recraft', node: 'node78' });
    expect(task.output!.images).toHaveLength(2);
    for (const image of task.output!.images) {
      expect(image).toMatchObject({ width: 1344, height: 768, content_type: 'image/png' });
      expect(await storedSize(image.url)).toEqual({ width: 1344, height: 768 });
    }

    const sent = await sentFor(text);
    expect(sent.headers.authorization).toBe(`Bearer ${env.RECRAFT_API_KEY}`);
    expect(sent.body).toEqual({ model: 'recraftv4', prompt: text, n: 2, size: '1344x768', response_format: 'url' });
    expect(await settledBalance(auth)).toBe(100 - 2 * PRICE);
  });

  it('defaults to one 1:1 image at 1024×1024', async () => {
    const { auth } = await customer(undefined, 100);
    const text = prompt('An isometric cozy reading nook');
    const created = await (await createTask(auth, { model: 'recraft-v4', prompt: text })).json<{ task_id: string; credits: number }>();
    expect(created.credits).toBe(PRICE);
    const task = await waitForTask(auth, created.task_id);
    expect(task.input).toEqual({ prompt: text, aspect_ratio: '1:1', n: 1 });
    expect(task.output!.images[0]).toMatchObject({ width: 1024, height: 1024 });
    expect(await settledBalance(auth)).toBe(100 - PRICE);
  });

  it.each(Object.entries(RECRAFT_V4_SIZES))('sends %s as a size Recraft V4 accepts', async (ratio, [width, height]) => {
    const { auth } = await customer(undefined, 100);
    const created = await (await createTask(auth, { model: 'recraft-v4', prompt: prompt('A paper crane'), aspect_ratio: ratio })).json<{ task_id: string }>();
    const task = await waitForTask(auth, created.task_id);
    expect(task.status).toBe('succeeded');
    expect(task.output!.images[0]).toMatchObject({ width, height });
  });

  it.each([
    ['empty prompt', { prompt: '' }, 'prompt'],
    ['prompt over 10000 characters', { prompt: 'x'.repeat(10_001) }, 'prompt'],
    ['unsupported aspect_ratio', { aspect_ratio: '21:9' }, 'aspect_ratio'],
    ['n over 6', { n: 7 }, 'n'],
    ['style (V3 only)', { style: 'digital_illustration' }, 'style'],
    ['input_urls (text only)', { input_urls: ['https://images.example.com/a.png'] }, 'input_urls'],
  ])('answers 400 naming the field for %s, charging nothing', async (_name, fields, field) => {
    const { auth } = await customer(undefined, 100);
    const res = await createTask(auth, { model: 'recraft-v4', prompt: 'A paper crane', ...fields });
    expect(res.status).toBe(400);
    const { error } = await res.json<{ error: { code: string; param: string; message: string } }>();
    expect(error).toMatchObject({ code: 'invalid_request', param: field });
    expect(error.message).toContain(field);
    expect(await balance(auth)).toMatchObject({ balance: 100, reserved: 0 });
  });

  it.each([
    ['a prompt Recraft refuses', '[sim:moderate]', 'content_moderated'],
    ['images Recraft leaves out of its answer', '[sim:moderate-output]', 'content_moderated'],
    ['a Recraft account out of API units', '[sim:nocredit]', 'provider_unavailable'],
    ['a request Recraft refuses (text/plain 400)', '[sim:http=400]', 'provider_error'],
  ])('fails %s with %s and refunds in full', async (_name, directive, code) => {
    const { auth } = await customer(undefined, 100);
    const created = await (await createTask(auth, { model: 'recraft-v4', prompt: prompt(`A paper crane ${directive}`), n: 3 })).json<{ task_id: string; credits: number }>();
    expect(created.credits).toBe(3 * PRICE);
    const task = await waitForTask(auth, created.task_id);
    expect(task).toMatchObject({ status: 'failed', output: null, credits: 0, error: { code } });
    expect(await settledBalance(auth)).toBe(100);
  });
});
