import type { ImageGenerateParamsNonStreaming } from 'openai/resources/images';
import { describe, expect, it } from 'vitest';
import type { TaskView } from '../../../src/tasks/task.schema';
import { api, balance, customer } from '../../helpers';
import { pngSize } from '../../png';
import { openAIClient } from './sdk';

/** The task behind an answer, read through the ordinary task route. */
async function taskOf(auth: Record<string, string>, taskId: string | null): Promise<TaskView> {
  const res = await api(`/api/v1/tasks/${taskId}`, { headers: auth });
  expect(res.status).toBe(200);
  return res.json<TaskView>();
}

async function fileBytes(url: string): Promise<Uint8Array> {
  const res = await api(new URL(url).pathname);
  expect(res.status).toBe(200);
  return new Uint8Array(await res.arrayBuffer());
}

describe('POST /v1/images/generations through the official openai SDK', () => {
  it('generates with flux-2 and answers a URL served by this Worker; the task is listed and billed like any other', async () => {
    const { auth } = await customer(undefined, 100);
    const { client, exchanges } = openAIClient(auth);
    const { data: answer, response } = await client.images
      .generate({ model: 'flux-2', prompt: 'A lighthouse at dawn', size: '1024x1024' })
      .withResponse();

    const taskId = response.headers.get('x-task-id');
    expect(taskId).toMatch(/^task_[0-9A-Za-z]{22}$/);
    expect(answer.created).toBeGreaterThan(1_700_000_000);
    expect(answer.data).toHaveLength(1);
    const url = answer.data![0]!.url!;
    expect(url).toMatch(/^http:\/\/gateway\.test\/api\/v1\/files\/img_[0-9A-Za-z]{32}$/);
    expect(pngSize(await fileBytes(url))).toEqual({ width: 1024, height: 1024 });

    const task = await taskOf(auth, taskId);
    expect(task).toMatchObject({ status: 'succeeded', model: 'flux-2', credits: 5, input: { aspect_ratio: '1:1', resolution: '1K', type: 'pro' } });
    expect(task.output!.images[0]!.url).toBe(url);
    const listed = await (await api('/api/v1/tasks?limit=5', { headers: auth })).json<{ data: TaskView[] }>();
    expect(listed.data.map((t) => t.task_id)).toContain(taskId);
    expect(await balance(auth)).toMatchObject({ balance: 95, reserved: 0 });
    const ledger = await (await api('/api/v1/billing/credits', { headers: auth })).json<{ ledger: { kind: string; task_id?: string }[] }>();
    expect(ledger.ledger.filter((e) => e.task_id === taskId).map((e) => e.kind).sort()).toEqual(['reserve', 'settle']);
    expect(exchanges).toHaveLength(1);
  });

  it.each([
    ['flux-2', { size: '1536x1024' }, { aspect_ratio: '3:2', resolution: '1K' }, [1248, 832]],
    ['flux-2', { size: '2048x2048', aspect_ratio: '1:1' }, { aspect_ratio: '1:1', resolution: '2K' }, [2048, 2048]],
    ['grok-imagine', { size: '1792x1024' }, { aspect_ratio: '16:9', resolution: '1K' }, null],
    ['gpt-image-1.5-official', { size: '1024x1536', quality: 'low' }, { size: '1024x1536', quality: 'low' }, [1024, 1536]],
    ['cogview-4', { size: '1024x1024', quality: 'standard' }, { aspect_ratio: '1:1', quality: 'standard' }, [1024, 1024]],
    ['ideogram-v4', { size: '1024x1024', rendering_speed: 'TURBO' }, { aspect_ratio: '1:1', rendering_speed: 'TURBO' }, null],
    ['kling-image-o1', { size: 'auto' }, { aspect_ratio: 'auto' }, null],
  ] as const)("maps OpenAI's fields onto %s's own: %j", async (model, fields, input, pixels) => {
    const { auth } = await customer(undefined, 100);
    const { client } = openAIClient(auth);
    const params = { model, prompt: 'A red fox in fresh snow', ...fields } as ImageGenerateParamsNonStreaming;
    const { data: answer, response } = await client.images.generate(params).withResponse();
    const task = await taskOf(auth, response.headers.get('x-task-id'));
    expect(task).toMatchObject({ status: 'succeeded', model, input });
    if (pixels) expect(pngSize(await fileBytes(answer.data![0]!.url!))).toEqual({ width: pixels[0], height: pixels[1] });
  });

  it('answers b64_json with the bytes of the stored image', async () => {
    const { auth } = await customer(undefined, 100);
    const { client } = openAIClient(auth);
    const { data: answer, response } = await client.images
      .generate({ model: 'flux-2', prompt: 'A teapot on a windowsill', size: '1536x1024', response_format: 'b64_json' })
      .withResponse();
    const b64 = answer.data![0]!.b64_json!;
    const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
    expect(pngSize(bytes)).toEqual({ width: 1248, height: 832 });
    const task = await taskOf(auth, response.headers.get('x-task-id'));
    expect(bytes).toEqual(await fileBytes(task.output!.images[0]!.url));
    expect(answer.data![0]!.url).toBeUndefined();
  });

  it('makes n images on a model with a count field, charging each', async () => {
    const { auth } = await customer(undefined, 100);
    const { client } = openAIClient(auth);
    const answer = await client.images.generate({ model: 'recraft-v4', prompt: 'Three paper boats', n: 3 });
    expect(answer.data).toHaveLength(3);
    expect(new Set(answer.data!.map((d) => d.url)).size).toBe(3);
    expect(await balance(auth)).toMatchObject({ balance: 70, reserved: 0 });
  });

  it('passes the model’s own fields through next to OpenAI’s', async () => {
    const { auth } = await customer(undefined, 100);
    const { client } = openAIClient(auth);
    const params = { model: 'flux-2', prompt: 'A quiet harbour', aspect_ratio: '21:9', type: 'flex' } as ImageGenerateParamsNonStreaming;
    const { response } = await client.images.generate(params).withResponse();
    const task = await taskOf(auth, response.headers.get('x-task-id'));
    expect(task).toMatchObject({ input: { aspect_ratio: '21:9', type: 'flex' }, credits: 14 });
  });
});
