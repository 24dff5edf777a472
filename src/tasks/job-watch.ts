import type { BackendNode } from '../catalog/types';
import { config } from '../config';
import type { Env } from '../env';
import { nodeSnapshots } from '../health/model-status';
import { randomBase62 } from '../ids';
import { PROVIDERS } from '../providers';
import { durationEstimate, type PollHints } from './poll-schedule';
import type { TaskRecord } from './task-record';

/** Where providers call back: `POST /callbacks/v1/{provider}/{task_id}/{token}` (src/api/callbacks/). */
export const CALLBACKS_PREFIX = '/callbacks/v1';
/** Base62 characters of a callback token: about 256 random bits. */
export const CALLBACK_TOKEN_LENGTH = 43;

/** How an async submit asks to be watched: its callback URL (if any) and what the machine keeps of it. */
export interface JobWatch {
  callbackUrl?: string;
  poll_hints: PollHints;
  callback_token_hash: string | null;
}

/** What the task keeps of a callback token: its SHA-256, hex. */
export async function callbackTokenHash(token: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Whether `provider` publishes completion callbacks (its adapters' `facts.webhooks`). */
export function offersCallbacks(provider: string): boolean {
  return PROVIDERS.find((p) => p.id === provider)?.facts?.webhooks.value.supported === true;
}

/**
 * Before an async submit: the model's recent durations on the node (from the node's health snapshot
 * in KV, src/health/), and, where the provider offers callbacks and they are on, a fresh capability
 * URL for this job. Only the token's hash is kept; the URL itself goes to the provider alone. A
 * health snapshot that cannot be read leaves the schedule without durations (today's backoff).
 */
export async function watchJob(env: Env, record: TaskRecord, node: BackendNode): Promise<JobWatch> {
  const facts = PROVIDERS.find((p) => p.id === node.provider)?.facts;
  const snapshot = (await nodeSnapshots(env)).get(node.id);
  const callback = config(env).providerCallbacks && offersCallbacks(node.provider);
  const poll_hints: PollHints = {
    expected: durationEstimate(snapshot?.models[record.model]),
    callback,
    min_interval_ms: facts?.limits.minPollIntervalMs?.value ?? 0,
  };
  if (!callback) return { poll_hints, callback_token_hash: null };
  const token = randomBase62(CALLBACK_TOKEN_LENGTH);
  return {
    callbackUrl: `${record.public_base_url}${CALLBACKS_PREFIX}/${node.provider}/${record.task_id}/${token}`,
    poll_hints,
    callback_token_hash: await callbackTokenHash(token),
  };
}
