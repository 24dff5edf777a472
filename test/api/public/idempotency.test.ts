import { abortAllDurableObjects } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { accountStub } from '../../../src/accounts/account.do';
import { requestFingerprint } from '../../../src/accounts/idempotency';
import { newTaskId } from '../../../src/ids';
import { api, balance, customer, topUp, waitForTask } from '../../helpers';

type ErrorBody = { error: { code: string; param: string | null; message: string } };

const body = { model: 'flux-2', prompt: 'A lighthouse in a storm, retried' };

/** `POST /api/v1/images/generations` with an `Idempotency-Key`. */
function create(auth: Record<string, string>, key: string, json: unknown = body): Promise<Response> {
  return api('/api/v1/images/generations', { method: 'POST', headers: { ...auth, 'idempotency-key': key }, json });
}

/** How many reservations the account's ledger shows (a task that finished has settled too). */
async function reservations(auth: Record<string, string>): Promise<number> {
  const credits = await (await api('/api/v1/billing/credits', { headers: auth })).json<{ ledger: { kind: string }[] }>();
  return credits.ledger.filter((e) => e.kind === 'reserve').length;
}

describe('Idempotency-Key on POST /api/v1/images/generations', () => {
  it('answers a repeat with the first answer, byte for byte, marked Idempotent-Replayed, and reserves once', async () => {
    const { auth } = await customer(undefined, 100);
    const first = await create(auth, 'order-1');
    expect(first.status).toBe(202);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const firstText = await first.text();

    const again = await create(auth, 'order-1');
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.headers.get('content-type')).toBe(first.headers.get('content-type'));
    expect(await again.text()).toBe(firstText);

    expect(await reservations(auth)).toBe(1);
    expect((await balance(auth)).balance).toBe(95);
  });

  it('treats the same JSON value with its keys reordered and other whitespace as the same body', async () => {
    const { auth } = await customer(undefined, 100);
    const first = await (await create(auth, 'reordered')).json<{ task_id: string }>();
    const raw = `{\n  "prompt" : "${body.prompt}",   "model":"flux-2"\n}`;
    const again = await api('/api/v1/images/generations', {
      method: 'POST',
      headers: { ...auth, 'idempotency-key': 'reordered', 'content-type': 'application/json' },
      body: raw,
    });
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect((await again.json<{ task_id: string }>()).task_id).toBe(first.task_id);
    expect(await reservations(auth)).toBe(1);
  });

  it('refuses the same key with a different body: 422 idempotency_key_reused, nothing reserved', async () => {
    const { auth } = await customer(undefined, 100);
    expect((await create(auth, 'reused')).status).toBe(202);
    // A default written out is still another JSON value: the fingerprint is of what was sent.
    for (const other of [{ ...body, prompt: 'Another prompt entirely' }, { ...body, aspect_ratio: '1:1' }]) {
      const res = await create(auth, 'reused', other);
      expect(res.status).toBe(422);
      expect((await res.json<ErrorBody>()).error).toMatchObject({ code: 'idempotency_key_reused', param: 'Idempotency-Key' });
    }
    expect(await reservations(auth)).toBe(1);
  });

  it('50 concurrent requests with one key: one task, one reservation; the others 409 with Retry-After or replays', async () => {
    const { auth } = await customer(undefined, 1000);
    const answers = await Promise.all(Array.from({ length: 50 }, () => create(auth, 'stampede')));
    const fresh = answers.filter((r) => r.status === 202 && r.headers.get('idempotent-replayed') === null);
    const replays = answers.filter((r) => r.status === 202 && r.headers.get('idempotent-replayed') === 'true');
    const conflicts = answers.filter((r) => r.status === 409);
    expect(fresh).toHaveLength(1);
    expect(replays.length + conflicts.length).toBe(49);
    for (const res of conflicts) {
      expect(res.headers.get('retry-after')).toBe('1');
      expect((await res.json<ErrorBody>()).error).toMatchObject({ code: 'conflict', param: 'Idempotency-Key' });
    }
    const taskId = (await fresh[0]!.json<{ task_id: string }>()).task_id;
    for (const res of replays) expect((await res.json<{ task_id: string }>()).task_id).toBe(taskId);
    expect(await reservations(auth)).toBe(1);
  });

  it('answers 409 with Retry-After while the first request with the key is still being handled', async () => {
    const { auth, accountId } = await customer(undefined, 100);
    // The first request has reserved and claimed the key, and not answered yet.
    const claim = { key: 'in-flight', fingerprint: await requestFingerprint(body) };
    const reserved = await accountStub(env, accountId).reserve(accountId, newTaskId(), 5, { model: 'flux-2', idempotency: claim });
    expect(reserved.ok).toBe(true);
    const res = await create(auth, 'in-flight');
    expect(res.status).toBe(409);
    expect(res.headers.get('retry-after')).toBe('1');
    expect((await res.json<ErrorBody>()).error).toMatchObject({ code: 'conflict', param: 'Idempotency-Key' });
    expect(await balance(auth)).toMatchObject({ balance: 95, reserved: 5 });
  });

  it('remembers only accepted creations: after a 402 the customer tops up and retries with the same key', async () => {
    const { auth, accountId } = await customer(undefined, 3);
    const refused = await create(auth, 'top-up-first');
    expect(refused.status).toBe(402);
    expect((await create(auth, 'top-up-first')).status).toBe(402);
    await topUp(accountId, 10);
    const accepted = await create(auth, 'top-up-first');
    expect(accepted.status).toBe(202);
    expect(accepted.headers.get('idempotent-replayed')).toBeNull();
    expect((await create(auth, 'top-up-first')).headers.get('idempotent-replayed')).toBe('true');
    expect(await reservations(auth)).toBe(1);
  });

  it('leaves the key free after a request refused for its body', async () => {
    const { auth } = await customer(undefined, 100);
    const invalid = await create(auth, 'fix-the-body', { ...body, prompt: 'ab' });
    expect(invalid.status).toBe(400);
    expect((await create(auth, 'fix-the-body')).status).toBe(202);
  });

  it('scopes keys to the account: another account may use the same key for another body', async () => {
    const a = await customer(undefined, 100);
    const b = await customer(undefined, 100);
    const fromA = await (await create(a.auth, 'shared-key')).json<{ task_id: string }>();
    const fromB = await create(b.auth, 'shared-key', { ...body, prompt: 'Something else from B' });
    expect(fromB.status).toBe(202);
    expect(fromB.headers.get('idempotent-replayed')).toBeNull();
    expect((await fromB.json<{ task_id: string }>()).task_id).not.toBe(fromA.task_id);
  });

  it('still replays after the account object was evicted', async () => {
    const { auth } = await customer(undefined, 100);
    const firstText = await (await create(auth, 'survives-eviction')).text();
    await waitForTask(auth, (JSON.parse(firstText) as { task_id: string }).task_id);
    await abortAllDurableObjects();
    const again = await create(auth, 'survives-eviction');
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.text()).toBe(firstText);
    expect(await reservations(auth)).toBe(1);
  });

  it.each([
    ['empty', ''],
    ['over 255 characters', 'k'.repeat(256)],
    ['non-ASCII', 'clé-1'],
    ['a control character', 'tab\there'],
  ])('answers 400 naming the header to a key that is %s, and reserves nothing', async (_name, key) => {
    const { auth } = await customer(undefined, 100);
    const res = await create(auth, key);
    expect(res.status).toBe(400);
    const { error } = await res.json<ErrorBody>();
    expect(error).toMatchObject({ code: 'invalid_request', param: 'Idempotency-Key' });
    expect(error.message).toContain('Idempotency-Key');
    expect(await reservations(auth)).toBe(0);
  });

  it('accepts any 1 to 255 printable ASCII characters, spaces and punctuation included', async () => {
    const { auth } = await customer(undefined, 100);
    for (const key of ['k', 'k'.repeat(255), 'a key with spaces ~!@#$%^&*()_+{}|:"<>?']) {
      expect((await create(auth, key)).status).toBe(202);
    }
  });
});

describe('the OpenAPI document', () => {
  it('documents the Idempotency-Key header and the 409 and 422 answers of task creation', async () => {
    const doc = await (await api('/openapi.json')).json<{
      paths: Record<string, Record<string, { parameters?: { in: string; name: string }[]; responses: Record<string, unknown> }>>;
    }>();
    const create = doc.paths['/api/v1/images/generations']!.post!;
    expect(create.parameters).toContainEqual(expect.objectContaining({ in: 'header', name: 'Idempotency-Key' }));
    expect(Object.keys(create.responses)).toEqual(expect.arrayContaining(['202', '409', '422']));
  });
});
