import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { HUNYUAN_IMAGE_3_SIZES } from '../../src/catalog/hunyuan-image-3';
import { api, balance, createTask, customer, eventually, waitForTask } from '../helpers';
import { pngSize } from '../png';

const PRICE = 25;
const TEXT_PATH = '/api/v3/wavespeed-ai/hunyuan-image-3';
const EDIT_PATH = '/api/v3/wavespeed-ai/hunyuan-image-3-instruct/edit';
const prompt = (text: string) => `${text} ${crypto.randomUUID()}`;

/** The requests the simulator received for this prompt, by exact path. */
async function sentFor(text: string): Promise<{ path: string; headers: Record<string, string>; body: Record<string, unknown> }[]> {
  const recorded = await (await fetch(`${env.SIMULATOR_URL}/__sim/requests?path=${encodeURIComponent(TEXT_PATH)}`)).json<{ path: string; headers: Record<string, string>; body: string }[]>();
  return recorded.filter((r) => r.body.includes(text)).map((r) => ({ ...r, body: JSON.parse(r.body) as Record<string, unknown> }));
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

describe('hunyuan-image-3', () => {
  it('runs text-to-image on HunyuanImage 3.0 at the size of the ratio, charging 25 credits', async () => {
    const { auth } = await customer(undefined, 100);
    const text = prompt('An ink-wash painting of a crane over misty mountains');
    const created = await (await createTask(auth, { model: 'hunyuan-image-3', prompt: text, aspect_ratio: '16:9' })).json<{ task_id: string; credits: number }>();
    expect(created.credits).toBe(PRICE);

    const task = await waitForTask(auth, created.task_id);
    expect(task).toMatchObject({ status: 'succeeded', input: { prompt: text, aspect_ratio: '16:9' }, credits: PRICE, provider: 'wavespeed', node: 'node68' });
    const [image] = task.output!.images;
    expect(image).toMatchObject({ width: 1280, height: 720, content_type: 'image/png' });
    expect(await storedSize(image!.url)).toEqual({ width: 1280, height: 720 });

    const sent = await sentFor(text);
    expect(sent.map((r) => r.path)).toEqual([TEXT_PATH]);
    expect(sent[0]!.headers.authorization).toBe(`Bearer ${env.WAVESPEED_API_KEY}`);
    expect(sent[0]!.body).toEqual({ prompt: text, size: '1280*720' });
    expect(await settledBalance(auth)).toBe(100 - PRICE);
  });

  it('sends reference images to the Instruct edit endpoint as images, with the size of the ratio', async () => {
    const { auth } = await customer(undefined, 100);
    const text = prompt('Put the cat from image 1 on the sofa from image 2');
    const urls = ['https://images.example.com/cat.png', 'https://images.example.com/sofa.png'];
    const created = await (await createTask(auth, { model: 'hunyuan-image-3', prompt: text, aspect_ratio: '3:4', input_urls: urls })).json<{ task_id: string; credits: number }>();
    expect(created.credits).toBe(PRICE);

    const task = await waitForTask(auth, created.task_id);
    expect(task.status).toBe('succeeded');
    const [width, height] = HUNYUAN_IMAGE_3_SIZES['3:4'];
    expect(task.output!.images[0]).toMatchObject({ width, height });
    expect(await storedSize(task.output!.images[0]!.url)).toEqual({ width, height });

    const sent = await sentFor(text);
    expect(sent.map((r) => r.path)).toEqual([EDIT_PATH]);
    expect(sent[0]!.body).toEqual({ prompt: text, images: urls, size: `${width}*${height}` });
    expect(await settledBalance(auth)).toBe(100 - PRICE);
  });

  it('defaults to 1:1 at 1024×1024', async () => {
    const { auth } = await customer(undefined, 100);
    const text = prompt('A red bicycle');
    const created = await (await createTask(auth, { model: 'hunyuan-image-3', prompt: text })).json<{ task_id: string }>();
    const task = await waitForTask(auth, created.task_id);
    expect(task.input).toEqual({ prompt: text, aspect_ratio: '1:1' });
    expect(task.output!.images[0]).toMatchObject({ width: 1024, height: 1024 });
  });

  it.each([
    ['prompt over 4000 characters', { prompt: 'x'.repeat(4001) }, 'prompt'],
    ['unsupported aspect_ratio', { aspect_ratio: '21:9' }, 'aspect_ratio'],
    ['more than 2 input_urls', { input_urls: ['a', 'b', 'c'].map((n) => `https://images.example.com/${n}.png`) }, 'input_urls'],
    ['n (one image per task)', { n: 2 }, 'n'],
    ['resolution (not a choice here)', { resolution: '2K' }, 'resolution'],
  ])('answers 400 naming the field for %s, charging nothing', async (_name, fields, field) => {
    const { auth } = await customer(undefined, 100);
    const res = await createTask(auth, { model: 'hunyuan-image-3', prompt: 'A red bicycle', ...fields });
    expect(res.status).toBe(400);
    const { error } = await res.json<{ error: { code: string; param: string; message: string } }>();
    expect(error).toMatchObject({ code: 'invalid_request', param: field });
    expect(error.message).toContain(field);
    expect(await balance(auth)).toMatchObject({ balance: 100, reserved: 0 });
  });

  it.each([
    ['an output flagged NSFW', '[sim:moderate-output]', 'content_moderated'],
    ['a refused edit', '[sim:moderate]', 'content_moderated'],
    ['an out-of-credit WaveSpeed account', '[sim:nocredit]', 'provider_unavailable'],
  ])('fails %s with %s and refunds in full', async (_name, directive, code) => {
    const { auth } = await customer(undefined, 100);
    const body = { model: 'hunyuan-image-3', prompt: prompt(`A red bicycle ${directive}`), input_urls: ['https://images.example.com/bike.png'] };
    const created = await (await createTask(auth, body)).json<{ task_id: string }>();
    const task = await waitForTask(auth, created.task_id);
    expect(task).toMatchObject({ status: 'failed', output: null, credits: 0, error: { code } });
    expect(await settledBalance(auth)).toBe(100);
  });
});
