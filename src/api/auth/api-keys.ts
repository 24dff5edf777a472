import type { Env } from '../../env';
import { newApiKey, newKeyId } from '../../ids';
import { sha256Hex } from './crypto';

/**
 * KV layout (KV is a read-mostly projection; the plaintext key is never stored):
 *   apikey:<sha256(key)> → ApiKeyRecord     looked up on every customer request
 *   keyid:<key_id>       → { hash }          lets the BFF revoke by id
 */
export interface ApiKeyRecord {
  key_id: string;
  account_id: string;
  created_at: string;
}

export const API_KEY_PATTERN = /^aio_[0-9A-Za-z]{32,}$/;

/** Cached lookups per isolate; revocations elsewhere reach this isolate within this many ms. */
const CACHE_TTL_MS = 30_000;
const cache = new Map<string, { record: ApiKeyRecord | null; expires: number }>();

export async function mintApiKey(env: Env, accountId: string): Promise<ApiKeyRecord & { api_key: string }> {
  const apiKey = newApiKey();
  const record: ApiKeyRecord = { key_id: newKeyId(), account_id: accountId, created_at: new Date().toISOString() };
  const hash = await sha256Hex(apiKey);
  await Promise.all([
    env.KV.put(`apikey:${hash}`, JSON.stringify(record)),
    env.KV.put(`keyid:${record.key_id}`, JSON.stringify({ hash })),
  ]);
  cache.delete(hash);
  return { ...record, api_key: apiKey };
}

/** Returns false when no such key exists. */
export async function revokeApiKey(env: Env, keyId: string): Promise<boolean> {
  const entry = await env.KV.get<{ hash: string }>(`keyid:${keyId}`, 'json');
  if (!entry) return false;
  await Promise.all([env.KV.delete(`apikey:${entry.hash}`), env.KV.delete(`keyid:${keyId}`)]);
  cache.delete(entry.hash);
  return true;
}

/** The record of a presented key, or null if it is unknown or revoked. */
export async function findApiKey(env: Env, apiKey: string): Promise<ApiKeyRecord | null> {
  const hash = await sha256Hex(apiKey);
  const now = Date.now();
  const hit = cache.get(hash);
  if (hit && hit.expires > now) return hit.record;
  const record = await env.KV.get<ApiKeyRecord>(`apikey:${hash}`, 'json');
  // Misses are cached too, but briefly, so a freshly minted key works at once elsewhere.
  cache.set(hash, { record, expires: now + (record ? CACHE_TTL_MS : 1_000) });
  if (cache.size > 10_000) cache.clear();
  return record;
}
