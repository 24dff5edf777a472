import { env, exports } from 'cloudflare:workers';
import { isTerminal, type TaskView } from '../src/tasks/task.schema';

export const ORIGIN = 'http://gateway.test';
export const INTERNAL = { authorization: `Bearer ${env.INTERNAL_API_TOKEN}` };

/** A request to the Worker through its public fetch handler. */
export async function api(path: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
  const { json, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (json !== undefined) headers.set('content-type', 'application/json');
  return exports.default.fetch(
    new Request(`${ORIGIN}${path}`, { ...rest, headers, body: json === undefined ? rest.body : JSON.stringify(json) }),
  );
}

let accounts = 0;
/** A fresh account id, unique within the run. */
export const newAccountId = (label = 'acct'): string => `${label}_${Date.now().toString(36)}_${++accounts}`;

/** Mints a key for the account through the internal route and returns the Authorization header. */
export async function customer(accountId = newAccountId(), credits = 0): Promise<{ accountId: string; auth: Record<string, string> }> {
  const minted = await api(`/internal/v1/accounts/${accountId}/keys`, { method: 'POST', headers: INTERNAL });
  if (minted.status !== 201) throw new Error(`minting a key failed: ${minted.status} ${await minted.text()}`);
  const { api_key } = await minted.json<{ api_key: string }>();
  if (credits > 0) await topUp(accountId, credits);
  return { accountId, auth: { authorization: `Bearer ${api_key}` } };
}

export async function topUp(accountId: string, amount: number, reference = crypto.randomUUID()): Promise<Response> {
  return api(`/internal/v1/accounts/${accountId}/credits`, { method: 'POST', headers: INTERNAL, json: { amount, reference } });
}

export async function balance(auth: Record<string, string>): Promise<{ balance: number; reserved: number }> {
  const res = await api('/api/v1/billing/credits', { headers: auth });
  return res.json();
}

export async function createTask(auth: Record<string, string>, body: Record<string, unknown>): Promise<Response> {
  return api('/api/v1/images/generations', { method: 'POST', headers: auth, json: body });
}

/** Polls the task route until the task is terminal (the task's own deadline bounds the wait). */
export async function waitForTask(auth: Record<string, string>, taskId: string, timeoutMs = 20_000): Promise<TaskView> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const res = await api(`/api/v1/tasks/${taskId}`, { headers: auth });
    if (res.status !== 200) throw new Error(`GET task answered ${res.status}: ${await res.text()}`);
    const task = await res.json<TaskView>();
    if (isTerminal(task.status)) return task;
    if (Date.now() > until) throw new Error(`task ${taskId} still ${task.status} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Waits until `check` returns a value other than undefined. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
