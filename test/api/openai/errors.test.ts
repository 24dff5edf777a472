import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import type { TaskView } from '../../../src/tasks/task.schema';
import { api, balance, customer } from '../../helpers';
import { openAIClient } from './sdk';

type GenerateParams = Parameters<OpenAI['images']['generate']>[0];

/** The error the SDK raised for `params`, and every HTTP attempt it made. */
async function refusal(auth: Record<string, string>, params: GenerateParams, options: { timeout?: number } = {}) {
  const { client, exchanges } = openAIClient(auth);
  const error = await client.images.generate(params, options).then(
    () => null,
    (err: unknown) => err,
  );
  if (!(error instanceof OpenAI.APIError)) throw new Error(`expected an APIError, got ${String(error)}`);
  return { error, exchanges };
}

async function tasksOf(auth: Record<string, string>): Promise<TaskView[]> {
  return (await (await api('/api/v1/tasks?limit=100', { headers: auth })).json<{ data: TaskView[] }>()).data;
}

async function taskById(auth: Record<string, string>, id: string | null | undefined): Promise<TaskView> {
  return (await api(`/api/v1/tasks/${id}`, { headers: auth })).json<TaskView>();
}

describe("POST /v1/images/generations answers in OpenAI's statuses, so the SDK raises its own classes", () => {
  it('raises AuthenticationError (401) for an unknown key', async () => {
    const unknown = { authorization: `Bearer aio_${'x'.repeat(40)}` };
    const { error, exchanges } = await refusal(unknown, { model: 'flux-2', prompt: 'A lighthouse' });
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(error).toMatchObject({ status: 401, code: 'unauthorized' });
    expect(exchanges).toHaveLength(1);
  });

  it('raises RateLimitError insufficient_quota (429) without credits: nothing charged, no task, not retried', async () => {
    const { auth } = await customer(undefined, 3);
    const { error, exchanges } = await refusal(auth, { model: 'flux-2', prompt: 'A lighthouse' });
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(error).toMatchObject({ status: 429, code: 'insufficient_quota', type: 'insufficient_quota' });
    expect(error.headers?.get('x-should-retry')).toBe('false');
    // The SDK retries a 429 twice by default; this one it sent once.
    expect(exchanges).toHaveLength(1);
    expect(await tasksOf(auth)).toEqual([]);
    expect(await balance(auth)).toMatchObject({ balance: 3, reserved: 0 });
  });

  it('raises BadRequestError moderation_blocked (400) when the provider refuses the content, and refunds', async () => {
    const { auth } = await customer(undefined, 100);
    const { error, exchanges } = await refusal(auth, { model: 'flux-2', prompt: 'Something refused [sim:moderate]' });
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ status: 400, code: 'moderation_blocked' });
    const task = await taskById(auth, error.headers?.get('x-task-id'));
    expect(task).toMatchObject({ status: 'failed', credits: 0, error: { code: 'content_moderated' } });
    expect(await balance(auth)).toMatchObject({ balance: 100, reserved: 0 });
    expect(exchanges).toHaveLength(1);
  });

  it.each([
    ['an unknown model', { model: 'dall-e-3', prompt: 'A lighthouse' }, 'model'],
    ['no model', { prompt: 'A lighthouse' }, 'model'],
    ['n on a model that makes one image', { model: 'flux-2', prompt: 'A lighthouse', n: 2 }, 'n'],
    ['n above the model’s count', { model: 'imagen-4', prompt: 'A lighthouse', n: 5 }, 'n'],
    ['quality on a model without one', { model: 'flux-2', prompt: 'A lighthouse', quality: 'high' }, 'quality'],
    ['a quality the model does not offer', { model: 'cogview-4', prompt: 'A lighthouse', quality: 'high' }, 'quality'],
    ['a size far smaller than the model renders', { model: 'flux-2', prompt: 'A lighthouse', size: '256x256' }, 'size'],
    ['a shape the model cannot approximate', { model: 'imagen-4', prompt: 'A lighthouse', size: '3072x1024' }, 'size'],
    ['a size and an aspect_ratio that disagree', { model: 'flux-2', prompt: 'A lighthouse', size: '1024x1024', aspect_ratio: '16:9' }, 'size'],
    ['a malformed size', { model: 'flux-2', prompt: 'A lighthouse', size: 'big' }, 'size'],
    ['a prompt below the model’s minimum', { model: 'flux-2', prompt: 'ab' }, 'prompt'],
    ['a field the model does not have', { model: 'flux-2', prompt: 'A lighthouse', style: 'vivid' }, 'style'],
    ['a bad response_format', { model: 'flux-2', prompt: 'A lighthouse', response_format: 'png' }, 'response_format'],
  ])('raises BadRequestError (400) naming the field for %s, charging nothing', async (_, params, param) => {
    const { auth } = await customer(undefined, 100);
    const { error } = await refusal(auth, params as GenerateParams);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ status: 400, code: 'invalid_request', param });
    expect(error.message).toContain(param);
    expect(await tasksOf(auth)).toEqual([]);
    expect(await balance(auth)).toMatchObject({ balance: 100, reserved: 0 });
  });

  it('raises InternalServerError 502 provider_error when the provider fails, refunds, and is not retried', async () => {
    const { auth } = await customer(undefined, 100);
    const { error, exchanges } = await refusal(auth, { model: 'flux-2', prompt: 'A lighthouse [sim:fail]' });
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect(error).toMatchObject({ status: 502, code: 'provider_error' });
    expect(exchanges).toHaveLength(1);
    const task = await taskById(auth, error.headers?.get('x-task-id'));
    expect(task).toMatchObject({ status: 'failed', credits: 0 });
    expect(await tasksOf(auth)).toHaveLength(1);
    expect(await balance(auth)).toMatchObject({ balance: 100, reserved: 0 });
  });

  it('answers 504 wait_timeout naming the task when it is still running after the wait limit; the task goes on', async () => {
    const { auth } = await customer(undefined, 100);
    const { error, exchanges } = await refusal(auth, { model: 'flux-2', prompt: 'A lighthouse [sim:hang]' });
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect(error).toMatchObject({ status: 504, code: 'wait_timeout' });
    const taskId = error.headers?.get('x-task-id');
    expect(taskId).toMatch(/^task_/);
    expect(error.message).toContain(taskId);
    // Not retried: a retry would start (and bill) a second task.
    expect(exchanges).toHaveLength(1);
    expect(await taskById(auth, taskId)).toMatchObject({ status: 'processing', credits: 5 });
    expect(await tasksOf(auth)).toHaveLength(1);
  });

  it('answers the 504 before a request’s own timeout (X-Stainless-Timeout), so the SDK does not retry into a second task', async () => {
    const { auth } = await customer(undefined, 100);
    const started = Date.now();
    const { error, exchanges } = await refusal(auth, { model: 'flux-2', prompt: 'A slow lighthouse [sim:hang]' }, { timeout: 2500 });
    expect(error).toMatchObject({ status: 504, code: 'wait_timeout' });
    expect(Date.now() - started).toBeLessThan(2500);
    expect(exchanges).toHaveLength(1);
    expect(await tasksOf(auth)).toHaveLength(1);
  });
});
