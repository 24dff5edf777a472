import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { TaskView } from '../../src/tasks/task.schema';
import { api, balance, createTask, customer, eventually, waitForTask } from '../helpers';
import { pngSize } from '../png';

const MODEL = 'imagen-4';
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

const settled = (auth: Record<string, string>, expected: number) =>
  eventually(async () => {
    const now = await balance(auth);
    return now.reserved === 0 && now.balance === expected ? now : undefined;
  });

describe('imagen-4', () => {
  it.each([
    ['16:9', '1K', 1408, 768],
    ['3:4', '1K', 896, 1280],
    ['1:1', '2K', 2048, 2048],
  ])('makes %s at %s as a %ix%i PNG', async (aspect_ratio, resolution, width, height) => {
    const { auth } = await customer(undefined, 100);
    const prompt = uniquePrompt('a koi pond in autumn');
    const { credits, task } = await run(auth, { prompt, aspect_ratio, resolution });
    expect(credits).toBe(8);
    expect(task).toMatchObject({ status: 'succeeded', credits: 8, provider: 'imagen', node: 'node47', error: null });
    expect(task.output!.images).toHaveLength(1);
    expect(task.output!.images[0]).toMatchObject({ width, height, content_type: 'image/png' });
    expect(await storedSize(task.output!.images[0]!.url)).toEqual({ width, height });
    await settled(auth, 92);
  });

  it('makes n images, charges 8 credits each and asks Imagen for exactly n', async () => {
    const { auth } = await customer(undefined, 100);
    const prompt = uniquePrompt('a paper crane');
    const { credits, task } = await run(auth, { prompt, n: 3, person_generation: 'dont_allow' });
    expect(credits).toBe(24);
    expect(task.status).toBe('succeeded');
    expect(task.output!.images).toHaveLength(3);
    await settled(auth, 76);
    const recorded = await (await fetch(`${env.SIMULATOR_URL}/__sim/requests?path=:predict`)).json<{ path: string; headers: Record<string, string>; body: string }[]>();
    const sent = recorded.find((r) => r.body.includes(prompt))!;
    expect(sent.path).toBe('/v1beta/models/imagen-4.0-generate-001:predict');
    expect(sent.headers['x-goog-api-key']).toBe(env.GEMINI_API_KEY);
    expect(JSON.parse(sent.body)).toMatchObject({ instances: [{ prompt }], parameters: { sampleCount: 3, personGeneration: 'dont_allow' } });
  });

  it('applies the defaults: 1:1, 1K, allow_adult, one image', async () => {
    const { auth } = await customer(undefined, 100);
    const prompt = uniquePrompt('a koi pond');
    const { task } = await run(auth, { prompt });
    expect(task.input).toEqual({ prompt, aspect_ratio: '1:1', resolution: '1K', person_generation: 'allow_adult', n: 1 });
    expect(task.output!.images[0]).toMatchObject({ width: 1024, height: 1024 });
  });

  it.each([
    ['aspect ratio 3:2 (Imagen has none)', 'aspect_ratio', { aspect_ratio: '3:2' }],
    ['resolution 4K', 'resolution', { resolution: '4K' }],
    ['n of 5', 'n', { n: 5 }],
    ['person_generation everyone', 'person_generation', { person_generation: 'everyone' }],
    ['prompt over 1920 characters', 'prompt', { prompt: 'x'.repeat(1921) }],
    ['input_urls (text only)', 'input_urls', { input_urls: ['https://example.com/a.png'] }],
  ])('rejects %s with a 400 naming the field', async (_label, param, fields) => {
    const { auth } = await customer(undefined, 100);
    const res = await createTask(auth, { model: MODEL, prompt: 'a koi pond', ...fields });
    expect(res.status).toBe(400);
    const { error } = await res.json<{ error: { code: string; param: string } }>();
    expect(error).toMatchObject({ code: 'invalid_request', param });
    expect(await balance(auth)).toMatchObject({ balance: 100, reserved: 0 });
  });

  it.each([
    ['a blocked prompt', '[sim:moderate]', 'content_moderated'],
    ['images filtered after generation', '[sim:moderate-output]', 'content_moderated'],
    ['an unbilled Google project', '[sim:nocredit]', 'provider_unavailable'],
    ['a provider 4xx', '[sim:http=404]', 'provider_error'],
    ['a provider that keeps failing', '[sim:fail]', 'provider_unavailable'],
  ])('ends %s as failed with the right code and every credit refunded', async (_label, directive, code) => {
    const { auth } = await customer(undefined, 100);
    const { credits, task } = await run(auth, { prompt: uniquePrompt(`a koi pond ${directive}`), n: 2 });
    expect(credits).toBe(16);
    expect(task).toMatchObject({ status: 'failed', credits: 0, output: null, error: { code } });
    await settled(auth, 100);
  });
});
