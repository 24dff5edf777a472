import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { api, balance, createTask, customer, eventually, waitForTask } from '../helpers';
import { pngSize } from '../png';

const PRICE = 6;
const PATH = '/api/v3/kwaivgi/kling-image-o1';
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

describe('kling-image-o1', () => {
  it('makes n images from text and reference images at 2K, charging 6 credits per image', async () => {
    const { auth } = await customer(undefined, 100);
    const text = prompt('The robot from image 1 in the city of image 2, cinematic');
    const urls = ['https://images.example.com/robot.png', 'https://images.example.com/city.jpg'];
    const res = await createTask(auth, { model: 'kling-image-o1', prompt: text, aspect_ratio: '16:9', resolution: '2K', n: 2, input_urls: urls });
    expect(res.status).toBe(202);
    const created = await res.json<{ task_id: string; credits: number }>();
    expect(created.credits).toBe(2 * PRICE);

    const task = await waitForTask(auth, created.task_id);
    expect(task).toMatchObject({ status: 'succeeded', credits: 2 * PRICE, provider: 'wavespeed', node: 'node49' });
    expect(task.output!.images).toHaveLength(2);
    for (const image of task.output!.images) {
      expect(image.content_type).toBe('image/png');
      expect(await storedSize(image.url)).toEqual({ width: image.width, height: image.height });
      expect(image.width / image.height).toBeCloseTo(16 / 9, 1);
      expect(image.width).toBeGreaterThan(2048);
    }

    const sent = await sentFor(text);
    expect(sent.headers.authorization).toBe(`Bearer ${env.WAVESPEED_API_KEY}`);
    expect(sent.body).toEqual({ prompt: text, aspect_ratio: '16:9', resolution: '2k', num_images: 2, images: urls });
    expect(await settledBalance(auth)).toBe(100 - 2 * PRICE);
  });

  it('defaults to one 1:1 image at 1K from text alone', async () => {
    const { auth } = await customer(undefined, 100);
    const text = prompt('A ceramic teapot on linen');
    const created = await (await createTask(auth, { model: 'kling-image-o1', prompt: text })).json<{ task_id: string; credits: number }>();
    expect(created.credits).toBe(PRICE);
    const task = await waitForTask(auth, created.task_id);
    expect(task.input).toEqual({ prompt: text, aspect_ratio: '1:1', resolution: '1K', n: 1 });
    expect(task.output!.images).toHaveLength(1);
    expect(task.output!.images[0]).toMatchObject({ width: 1024, height: 1024 });
    expect((await sentFor(text)).body).toEqual({ prompt: text, aspect_ratio: '1:1', resolution: '1k', num_images: 1 });
    expect(await settledBalance(auth)).toBe(100 - PRICE);
  });

  it.each([
    ['prompt over 2500 characters', { prompt: 'x'.repeat(2501) }, 'prompt'],
    ['unsupported aspect_ratio', { aspect_ratio: '5:4' }, 'aspect_ratio'],
    ['4K resolution', { resolution: '4K' }, 'resolution'],
    ['n of 0', { n: 0 }, 'n'],
    ['n over 9', { n: 10 }, 'n'],
    ['n not an integer', { n: 1.5 }, 'n'],
    ['n as a string', { n: '2' }, 'n'],
    ['more than 10 input_urls', { input_urls: Array.from({ length: 11 }, (_, i) => `https://images.example.com/${i}.png`) }, 'input_urls'],
    ['an input_url that is not http(s)', { input_urls: ['ftp://images.example.com/a.png'] }, 'input_urls.0'],
  ])('answers 400 naming the field for %s, charging nothing', async (_name, fields, field) => {
    const { auth } = await customer(undefined, 100);
    const res = await createTask(auth, { model: 'kling-image-o1', prompt: 'A teapot', ...fields });
    expect(res.status).toBe(400);
    const { error } = await res.json<{ error: { code: string; param: string; message: string } }>();
    expect(error).toMatchObject({ code: 'invalid_request', param: field });
    expect(error.message).toContain(field);
    expect(await balance(auth)).toMatchObject({ balance: 100, reserved: 0 });
  });

  it.each([
    ['a refused prompt', '[sim:moderate]', 'content_moderated'],
    ['outputs flagged NSFW', '[sim:moderate-output]', 'content_moderated'],
    ['a failed prediction', '[sim:fail]', 'provider_error'],
  ])('fails %s with %s and refunds every image', async (_name, directive, code) => {
    const { auth } = await customer(undefined, 100);
    const res = await createTask(auth, { model: 'kling-image-o1', prompt: prompt(`A teapot ${directive}`), n: 3 });
    const created = await res.json<{ task_id: string; credits: number }>();
    expect(created.credits).toBe(3 * PRICE);
    const task = await waitForTask(auth, created.task_id);
    expect(task).toMatchObject({ status: 'failed', output: null, credits: 0, error: { code } });
    expect(await settledBalance(auth)).toBe(100);
  });
});
