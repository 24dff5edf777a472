import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { accountStub } from '../../../src/accounts/account.do';
import type { TaskView } from '../../../src/tasks/task.schema';
import { api, balance, createTask, customer, eventually, waitForTask } from '../../helpers';

type ErrorBody = { error: { code: string; param: string | null; message: string } };
interface TaskList {
  data: TaskView[];
  has_more: boolean;
  next_cursor: string | null;
}

async function start(auth: Record<string, string>, prompt: string, model = 'flux-2'): Promise<string> {
  const res = await createTask(auth, { model, prompt });
  expect(res.status).toBe(202);
  return (await res.json<{ task_id: string }>()).task_id;
}

async function list(auth: Record<string, string>, query = ''): Promise<TaskList> {
  const res = await api(`/api/v1/tasks${query}`, { headers: auth });
  expect(res.status).toBe(200);
  return res.json<TaskList>();
}

const ids = (page: TaskList) => page.data.map((t) => t.task_id);

/** Every task of the account, following next_cursor from the first page. */
async function everyPage(auth: Record<string, string>, query: string): Promise<{ pages: TaskList[]; ids: string[] }> {
  const pages: TaskList[] = [];
  let cursor: string | null = null;
  do {
    const page = await list(auth, `${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    pages.push(page);
    cursor = page.next_cursor;
  } while (cursor !== null);
  return { pages, ids: pages.flatMap(ids) };
}

/** Waits until no reservation is open: every task's final status has reached the account. */
const settled = (auth: Record<string, string>) => eventually(async () => ((await balance(auth)).reserved === 0 ? true : undefined));

describe('GET /api/v1/tasks', () => {
  it('lists the caller\'s tasks newest first, each as GET /api/v1/tasks/{task_id} returns it', async () => {
    const { auth } = await customer(undefined, 100);
    const created = [];
    for (const prompt of ['First of three', 'Second of three', 'Third of three']) created.push(await start(auth, prompt));
    for (const id of created) await waitForTask(auth, id);

    const page = await list(auth);
    expect(ids(page)).toEqual([...created].reverse());
    expect(page).toMatchObject({ has_more: false, next_cursor: null });
    for (const task of page.data) {
      expect(task).toEqual(await (await api(`/api/v1/tasks/${task.task_id}`, { headers: auth })).json());
    }
  });

  it('answers an account without tasks with an empty page', async () => {
    const { auth } = await customer();
    expect(await list(auth)).toEqual({ data: [], has_more: false, next_cursor: null });
  });

  it('pages through every task with next_cursor: none twice, none left out, in order', async () => {
    const { auth } = await customer(undefined, 100);
    const created = [];
    for (let i = 0; i < 7; i++) created.push(await start(auth, `Paged task number ${i}`));

    const { pages, ids: seen } = await everyPage(auth, '?limit=3');
    expect(pages.map((p) => p.data.length)).toEqual([3, 3, 1]);
    expect(pages.map((p) => p.has_more)).toEqual([true, true, false]);
    expect(seen).toEqual([...created].reverse());
    expect((await list(auth)).data).toHaveLength(7);
    expect(ids(await list(auth, '?limit=7'))).toEqual(seen);
  });

  it('filters by final status', async () => {
    const { auth } = await customer(undefined, 100);
    const good = [await start(auth, 'Will succeed, one'), await start(auth, 'Will succeed, two')];
    const bad = [await start(auth, 'Will fail [sim:fail]')];
    await settled(auth);
    expect(ids(await list(auth, '?status=succeeded'))).toEqual([...good].reverse());
    expect(ids(await list(auth, '?status=failed'))).toEqual(bad);
    expect((await list(auth, '?status=failed')).data[0]).toMatchObject({ status: 'failed', credits: 0 });
    expect(ids(await list(auth, '?status=canceled'))).toEqual([]);
  });

  it('filters by a running status as the task reports it to the account', async () => {
    const { auth, accountId } = await customer(undefined, 100);
    const slow = await start(auth, 'A slow one [sim:slow=3000]');
    // What the task object does when a provider takes the job (it may well have done so already).
    await accountStub(env, accountId).noteTaskStatus(slow, 'processing');
    expect(ids(await list(auth, '?status=processing'))).toEqual([slow]);
    expect(ids(await list(auth, '?status=pending'))).toEqual([]);
    await waitForTask(auth, slow);
    await settled(auth);
    expect(ids(await list(auth, '?status=processing'))).toEqual([]);
    expect(ids(await list(auth, '?status=succeeded'))).toEqual([slow]);
  });

  it('filters by model, and pages within the filters', async () => {
    const { auth } = await customer(undefined, 100);
    const flux = [await start(auth, 'Flux one'), await start(auth, 'Flux two'), await start(auth, 'Flux three')];
    const cogview = await start(auth, 'A CogView poster', 'cogview-4');
    expect(ids(await list(auth, '?model=cogview-4'))).toEqual([cogview]);
    const { ids: seen } = await everyPage(auth, '?model=flux-2&limit=2');
    expect(seen).toEqual([...flux].reverse());
  });

  it("never shows another account's tasks", async () => {
    const a = await customer(undefined, 100);
    const b = await customer(undefined, 100);
    const fromA = await start(a.auth, 'Belongs to A');
    const fromB = await start(b.auth, 'Belongs to B');
    expect(ids(await list(a.auth))).toEqual([fromA]);
    expect(ids(await list(b.auth))).toEqual([fromB]);
  });
});

describe('GET /api/v1/tasks: bad parameters answer 400 naming them', () => {
  it.each([
    ['limit', '0'],
    ['limit', '101'],
    ['limit', '1e1'],
    ['limit', '0x10'],
    ['limit', 'ten'],
    ['status', 'done'],
    ['status', ''],
    ['model', 'dall-e-9'],
    ['cursor', 'not a cursor'],
    ['cursor', 'AAAA'],
  ])('%s=%j', async (param, value) => {
    const { auth } = await customer();
    const res = await api(`/api/v1/tasks?${param}=${encodeURIComponent(value)}`, { headers: auth });
    expect(res.status).toBe(400);
    expect((await res.json<ErrorBody>()).error).toMatchObject({ code: 'invalid_request', param });
  });

  it('refuses a tampered cursor, one used with other filters, and one from another account', async () => {
    const { auth } = await customer(undefined, 100);
    const other = await customer(undefined, 100);
    for (let i = 0; i < 3; i++) {
      await start(auth, `Cursor task ${i}`);
      await start(other.auth, `Cursor task ${i}`);
    }
    const cursor = (await list(auth, '?limit=1')).next_cursor!;
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect((await list(auth, `?limit=1&cursor=${cursor}`)).data).toHaveLength(1);

    // The cursor is base64url of a MAC and the position's digits: move the position, keep the MAC.
    const bytes = Uint8Array.from(atob(cursor.replace(/-/g, '+').replace(/_/g, '/')), (ch) => ch.charCodeAt(0));
    const digits = new TextDecoder().decode(bytes.subarray(32));
    const moved = new Uint8Array([...bytes.subarray(0, 32), ...new TextEncoder().encode(String(Number(digits) + 1))]);
    const encode = (b: Uint8Array) => btoa(String.fromCharCode(...b)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    expect(encode(bytes)).toBe(cursor);
    const tampered = [
      encode(moved),
      `${cursor[0] === 'A' ? 'B' : 'A'}${cursor.slice(1)}`,
      `${cursor}A`,
      cursor.slice(0, -2),
    ];
    for (const bad of tampered) {
      const res = await api(`/api/v1/tasks?limit=1&cursor=${bad}`, { headers: auth });
      expect(res.status).toBe(400);
      expect((await res.json<ErrorBody>()).error).toMatchObject({ code: 'invalid_request', param: 'cursor' });
    }
    for (const [query, headers] of [
      [`?limit=1&status=succeeded&cursor=${cursor}`, auth],
      [`?limit=1&model=flux-2&cursor=${cursor}`, auth],
      [`?limit=1&cursor=${cursor}`, other.auth],
    ] as const) {
      const res = await api(`/api/v1/tasks${query}`, { headers });
      expect([query, res.status]).toEqual([query, 400]);
      expect((await res.json<ErrorBody>()).error.param).toBe('cursor');
    }
  });
});

describe('the OpenAPI document', () => {
  it('documents the list route with its query parameters', async () => {
    const doc = await (await api('/openapi.json')).json<{
      paths: Record<string, Record<string, { parameters?: { in: string; name: string }[]; responses: Record<string, unknown> }>>;
    }>();
    const route = doc.paths['/api/v1/tasks']!.get!;
    expect(route.parameters!.filter((p) => p.in === 'query').map((p) => p.name).sort()).toEqual(['cursor', 'limit', 'model', 'status']);
    expect(Object.keys(route.responses)).toEqual(expect.arrayContaining(['200', '400', '401']));
  });
});
