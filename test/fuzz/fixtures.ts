import { call } from './direct-fetch';
import type { Operation } from './openapi-doc';
import type { Fixtures } from './request-parts';

/**
 * The accounts a fuzz run works with:
 * - the watched account: credits, a live key, a revoked key, two finished tasks (one succeeded with a
 *   result file, one failed); named only by requests the server must refuse;
 * - the worker account: plenty of credits, the caller of valid requests that create tasks;
 * - scratch accounts, which valid top-ups, key mints and secret rotations may change;
 * - spare keys of another account, for valid `DELETE`s.
 */

const TERMINAL = new Set(['succeeded', 'failed', 'canceled']);

export interface Setup {
  fixtures: Fixtures;
  spareKeyIds: string[];
  notes: string[];
}

async function mint(accountId: string, internal: Record<string, string>): Promise<{ api_key: string; key_id: string }> {
  const res = await call('POST', `/internal/v1/accounts/${accountId}/keys`, internal);
  if (res.status !== 201) throw new Error(`minting a key for ${accountId}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { api_key: string; key_id: string };
}

async function topUp(accountId: string, amount: number, internal: Record<string, string>): Promise<void> {
  const res = await call('POST', `/internal/v1/accounts/${accountId}/credits`, internal, { amount, reference: `fuzz-setup-${accountId}` });
  if (res.status !== 200) throw new Error(`topping up ${accountId}: ${res.status} ${JSON.stringify(res.body)}`);
}

/** Polls a task until it is final, for at most `ms`. */
export async function finalTask(taskId: string, auth: Record<string, string>, ms: number): Promise<Record<string, unknown> | null> {
  const until = Date.now() + ms;
  for (;;) {
    const res = await call('GET', `/api/v1/tasks/${taskId}`, auth);
    const task = res.body as { status?: string };
    if (res.status === 200 && TERMINAL.has(task.status ?? '')) return task as Record<string, unknown>;
    if (Date.now() > until) return null;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Creates the accounts, keys and tasks of a run; `internalToken` is the BFF's. */
export async function setUp(ops: Operation[], runId: string, internalToken: string): Promise<Setup> {
  const internal = { authorization: `Bearer ${internalToken}` };
  const notes: string[] = [];
  const watchedId = `fuzz_watched_${runId}`;
  const workerId = `fuzz_worker_${runId}`;
  const watchedKey = await mint(watchedId, internal);
  const revoked = await mint(watchedId, internal);
  const revoke = await call('DELETE', `/internal/v1/keys/${revoked.key_id}`, internal);
  if (revoke.status !== 204) throw new Error(`revoking a key: ${revoke.status}`);
  await topUp(watchedId, 1_000, internal);
  const workerKey = await mint(workerId, internal);
  await topUp(workerId, 1_000_000, internal);
  const spareKeyIds: string[] = [];
  for (let i = 0; i < 40; i++) spareKeyIds.push((await mint(`fuzz_spares_${runId}`, internal)).key_id);

  // Rate limits, once their route lands: as high as the document lets the BFF set them.
  for (const op of ops.filter((o) => o.method === 'PUT' && /\/limits$/.test(o.template) && o.path.some((p) => p.name === 'account_id'))) {
    const body = Object.fromEntries(
      Object.entries(op.body?.schema.properties ?? {}).map(([k, s]) => [k, s.maximum ?? 1_000_000]),
    );
    for (const id of [watchedId, workerId]) {
      const res = await call('PUT', op.template.replace('{account_id}', id), internal, body);
      if (res.status >= 300) notes.push(`${op.label} for ${id} answered ${res.status}: limits left at their default`);
    }
  }

  const models = ops.some((op) => op.label === 'GET /api/v1/models') ? await call('GET', '/api/v1/models', {}) : null;
  const modelIds = ((models?.body as { data?: { id: string }[] } | undefined)?.data ?? []).map((m) => m.id);

  const watchedAuth = { authorization: `Bearer ${watchedKey.api_key}` };
  const taskIds: string[] = [];
  const fileIds: string[] = [];
  if (ops.some((op) => op.label === 'POST /api/v1/images/generations') && modelIds.length > 0) {
    const model = modelIds.includes('flux-2') ? 'flux-2' : modelIds[0]!;
    for (const prompt of ['a lighthouse the fuzzer watches', '[sim:fail] a lighthouse that fails']) {
      const res = await call('POST', '/api/v1/images/generations', watchedAuth, { model, prompt });
      const id = (res.body as { task_id?: string }).task_id;
      if (res.status >= 300 || !id) {
        notes.push(`creating a task for the watched account answered ${res.status}`);
        continue;
      }
      taskIds.push(id);
      const task = await finalTask(id, watchedAuth, 20_000);
      if (!task) throw new Error(`the watched account's task ${id} did not finish in 20 s`);
      const images = (task.output as { images?: { url: string }[] } | null)?.images ?? [];
      fileIds.push(...images.map((img) => new URL(img.url).pathname.split('/').pop()!));
    }
  } else {
    notes.push('no task creation or no models in the document: the watched account has no tasks');
  }

  return {
    fixtures: {
      watched: { accountId: watchedId, apiKey: watchedKey.api_key, keyId: watchedKey.key_id },
      worker: { accountId: workerId, apiKey: workerKey.api_key },
      revokedKey: revoked.api_key,
      internalToken,
      scratchAccounts: Array.from({ length: 6 }, (_, i) => `fuzz_scratch_${runId}_${i}`),
      taskIds,
      fileIds,
      modelIds,
    },
    spareKeyIds,
    notes,
  };
}
