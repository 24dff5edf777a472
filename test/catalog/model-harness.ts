import { expect } from 'vitest';
import type { TaskView } from '../../src/tasks/task.schema';
import { api, balance, createTask, customer, eventually, waitForTask } from '../helpers';
import { pngSize } from '../png';

/** What the customers made by the helpers below start with, and get back in full when nothing is charged. */
const STARTING_CREDITS = 100;

type Auth = Record<string, string>;
type Size = { width: number; height: number };

/** Creates a task (the answer must be 202) and waits until it ends; `credits` is what creation reserved. */
export async function runTask(auth: Auth, body: Record<string, unknown>): Promise<{ credits: number; task: TaskView }> {
  const res = await createTask(auth, body);
  expect(res.status).toBe(202);
  const created = await res.json<{ task_id: string; credits: number }>();
  return { credits: created.credits, task: await waitForTask(auth, created.task_id) };
}

/** The balance once nothing is reserved any more, i.e. after the task settled or was refunded. */
export async function settledBalance(auth: Auth): Promise<number> {
  const settled = await eventually(async () => {
    const now = await balance(auth);
    return now.reserved === 0 ? now : undefined;
  });
  return settled.balance;
}

/** The size in a stored file's own PNG header, fetched the way a customer would: without Authorization. */
async function storedPngSize(url: string): Promise<Size> {
  const file = await api(new URL(url).pathname);
  expect(file.status).toBe(200);
  expect(file.headers.get('content-type')).toBe('image/png');
  return pngSize(new Uint8Array(await file.arrayBuffer()));
}

/**
 * Checks every output image of a task: reported as a PNG, stored as a real PNG whose own header
 * has the size the task reports, and, when `size` is given, that this is the size.
 */
export async function expectStoredPngs(task: TaskView, size?: Size): Promise<void> {
  const images = task.output?.images ?? [];
  // Without this a task with no images would pass every check in the loop.
  expect(images.length).toBeGreaterThan(0);
  for (const image of images) {
    expect(image.content_type).toBe('image/png');
    if (size) expect(image).toMatchObject(size);
    expect(await storedPngSize(image.url)).toEqual({ width: image.width, height: image.height });
  }
}

/**
 * Sends `body` for a fresh customer and checks the contract's answer to a bad field: a 400
 * `invalid_request` naming `param` both in `param` and in the message, with nothing reserved or charged.
 */
export async function expectRejected(body: Record<string, unknown>, param: string): Promise<void> {
  const { auth } = await customer(undefined, STARTING_CREDITS);
  const res = await createTask(auth, body);
  expect(res.status).toBe(400);
  const { error } = await res.json<{ error: { code: string; param: string; message: string } }>();
  expect(error).toMatchObject({ code: 'invalid_request', param });
  expect(error.message).toContain(param);
  expect(await balance(auth)).toMatchObject({ balance: STARTING_CREDITS, reserved: 0 });
}

/**
 * Runs `body` for a fresh customer and checks that the task fails with `code`, without output and
 * charging nothing, and that the whole reservation comes back. Returns what creation reserved and
 * the task, for the checks particular to a model.
 */
export async function runToRefundedFailure(body: Record<string, unknown>, code: string): Promise<{ credits: number; task: TaskView }> {
  const { auth } = await customer(undefined, STARTING_CREDITS);
  const run = await runTask(auth, body);
  expect(run.task).toMatchObject({ status: 'failed', output: null, credits: 0, error: { code } });
  expect(await settledBalance(auth)).toBe(STARTING_CREDITS);
  return run;
}
