import { env } from 'cloudflare:workers';
import { call } from './direct-fetch';
import type { Operation } from './openapi-doc';
import type { Fixtures } from './request-parts';

/**
 * Everything about the watched account that a request could change, read between batches. The
 * fuzzer names the watched account only in requests the server must refuse, so none of it may move.
 */

const CREDITS = '/internal/v1/accounts/{account_id}/credits';
const TASKS = '/api/v1/tasks';
const CUSTOMER_CREDITS = '/api/v1/billing/credits';

export interface Snapshot {
  parts: Record<string, string>;
  /** `apikey:` and `keyid:` entries in KV, all accounts. */
  kvKeys: number;
}

/** Parts of the snapshot the document does not offer yet (the task list before its route lands). */
export function missingParts(ops: Operation[]): string[] {
  const has = (template: string) => ops.some((op) => op.method === 'GET' && op.template === template);
  const missing: string[] = [];
  if (!has(CREDITS)) missing.push(`GET ${CREDITS} (balance, reserved, ledger)`);
  if (!has(TASKS)) missing.push(`GET ${TASKS} (the task list)`);
  return missing;
}

/** GETs that read one account and nothing else: a path with no parameter but `account_id`, no required query, JSON. */
function accountReads(ops: Operation[]): Operation[] {
  return ops.filter(
    (op) =>
      op.method === 'GET' &&
      op.auth !== 'none' &&
      op.path.every((p) => p.name === 'account_id') &&
      (op.auth === 'internal' ? op.path.length === 1 : op.path.length === 0) &&
      !op.query.some((q) => q.required) &&
      (op.mediaTypes.get(200) ?? []).includes('application/json'),
  );
}

async function countKv(prefix: string): Promise<number> {
  let count = 0;
  let cursor: string | undefined;
  for (;;) {
    const page: KVNamespaceListResult<unknown, string> = await env.KV.list({ prefix, cursor });
    count += page.keys.length;
    if (page.list_complete) return count;
    cursor = page.cursor;
  }
}

/** Reads the watched account through every account-scoped GET of the document, its keys and KV. */
export async function snapshot(ops: Operation[], f: Fixtures): Promise<Snapshot> {
  const internal = { authorization: `Bearer ${f.internalToken}` };
  const watched = { authorization: `Bearer ${f.watched.apiKey}` };
  const parts: Record<string, string> = {};
  for (const op of accountReads(ops)) {
    const path = op.template.replace('{account_id}', f.watched.accountId);
    const limit = op.query.find((q) => q.name === 'limit');
    const query = limit?.schema.maximum !== undefined ? `?limit=${limit.schema.maximum}` : '';
    const res = await call('GET', path + query, op.auth === 'internal' ? internal : watched);
    parts[op.label] = `${res.status} ${JSON.stringify(res.body)}`;
  }
  const keyWorks = await call('GET', CUSTOMER_CREDITS, watched);
  parts['the watched key'] = `${keyWorks.status} ${JSON.stringify((keyWorks.body as { account_id?: string }).account_id)}`;
  const revoked = await call('GET', CUSTOMER_CREDITS, { authorization: `Bearer ${f.revokedKey}` });
  parts['the revoked key'] = String(revoked.status);
  parts['KV keyid record'] = JSON.stringify(await env.KV.get(`keyid:${f.watched.keyId}`, 'json'));
  const [apikeys, keyids] = await Promise.all([countKv('apikey:'), countKv('keyid:')]);
  parts['KV keys agree'] = String(apikeys === keyids);
  return { parts, kvKeys: apikeys };
}

/** What moved between two snapshots, given how many keys valid requests minted and revoked meanwhile. */
export function differences(before: Snapshot, after: Snapshot, keysAdded: number): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(before.parts)) {
    const now = after.parts[name];
    if (now !== value) out.push(`${name}: ${value.slice(0, 300)} → ${(now ?? '<missing>').slice(0, 300)}`);
  }
  if (after.kvKeys !== before.kvKeys + keysAdded) {
    out.push(`KV holds ${after.kvKeys} API keys; ${before.kvKeys} before and ${keysAdded} minted minus revoked by accepted requests`);
  }
  return out;
}
