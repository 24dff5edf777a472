import type { FailureCode, ProviderStep } from '../providers/types';
import type { NodeOutcome } from '../health/window';
import { nodeOutcome } from './node-outcome';
import { nextPollDelay, type PollHints } from './poll-schedule';
import type { RunState, TaskRecord, WebhookRecord } from './task-record';
import { followSlot, type SlotEvent, slotEvent, throttled } from './task-slot';
import { isTerminal, type StoredImage, type TaskStatus } from './task.schema';

/**
 * The task's life as a pure machine: `transition(record, event, now, config)` says what a thing that
 * happened does to the task, and `due(record)` (task-due.ts) says what work is waiting and from when. Neither does
 * I/O or reads a clock: the task's Durable Object (task.do.ts) performs the due work, feeds what
 * came of it back as an event, saves the record and sets its one alarm to `alarmAt`.
 *
 * The statuses and what moves them:
 *
 *   pending ──submit_started (sync provider)──▶ processing
 *   pending ──provider_answered pending|succeeded──▶ processing
 *   pending | processing ──provider_answered failed, node_unconfigured (on the last node, or while polling),
 *                          store_failed (final), deadline_passed──▶ failed
 *   processing ──results_stored──▶ succeeded
 *   pending | queued ──cancel_requested──▶ canceled   (refused once a provider is generating)
 *   pending ──slot_answered with a place in the capacity queue (task-slot.ts)──▶ queued
 *   pending ──node_unavailable (the node's breaker is open; on the last node)──▶ failed
 *
 * Once final (`succeeded`, `failed`, `canceled`) the task only settles its credits, delivers its webhook and writes
 * its KV snapshot, each retried until it succeeds (the webhook until its schedule runs out).
 */

export interface MachineConfig {
  pollInitialMs: number;
  pollMaxMs: number;
  /** Seconds between webhook attempts, after the first; then the delivery has failed. */
  webhookScheduleS: readonly number[];
  /** In [0, 1): the jitter of retry backoffs. */
  random: () => number;
}

/** The machine's settings from the Worker's configuration, with real jitter. */
export function machineConfig(settings: Pick<MachineConfig, 'pollInitialMs' | 'pollMaxMs' | 'webhookScheduleS'>): MachineConfig {
  const { pollInitialMs, pollMaxMs, webhookScheduleS } = settings;
  return { pollInitialMs, pollMaxMs, webhookScheduleS, random: Math.random };
}

/** Tries of one backend node before the task moves to the next (rate limits do not count). */
export const ATTEMPTS_PER_NODE = 3;
/** Wait before signing again when the account object did not answer; not counted as an attempt. */
export const SIGNING_RETRY_MS = 5_000;

/** What happened: the result of a piece of due work, or a request from outside. */
export type TaskEvent =
  /** A synchronous provider call is about to go out: from now on the provider is generating. */
  | { type: 'submit_started' }
  | {
      type: 'provider_answered';
      step: ProviderStep;
      provider: string;
      node: string;
      file_ids: string[];
      /** From an accepted submit: what the poll schedule knows of the job (poll-schedule.ts). */
      poll_hints?: PollHints;
      /** From an accepted submit that asked for a callback: the hash of the token in its URL. */
      callback_token_hash?: string | null;
    }
  /** A transient failure (network, 5xx, 429, malformed answer) of a submit or poll. */
  | { type: 'provider_failed'; message: string; rate_limited: boolean; retry_after_ms: number | null }
  /** Our configuration, not the provider's trouble: this node cannot be used at all. */
  | { type: 'node_unconfigured'; message: string }
  /**
   * The provider called the job's callback URL with a token hashing to `token_hash`. Only a hint: a
   * matching one makes the next poll due now (the poll, not the callback, says how the job stands);
   * any other is refused and changes nothing.
   */
  | { type: 'callback_received'; token_hash: string }
  /**
   * Asked before a submit, the node's health object refused it new work (its breaker is open until
   * `retry_at`): the task moves to the next node at once, or fails when none is left.
   */
  | { type: 'node_unavailable'; node: string; retry_at: number }
  | { type: 'results_stored'; images: StoredImage[] }
  | { type: 'store_failed'; message: string; retryable: boolean }
  | { type: 'deadline_passed' }
  | { type: 'billing_acknowledged' }
  | { type: 'billing_failed' }
  | { type: 'webhook_answered'; status_code: number | null; error: string | null }
  | { type: 'webhook_signing_failed' }
  | { type: 'snapshot_written' }
  | { type: 'snapshot_failed' }
  | { type: 'redelivery_requested' }
  /** The customer's cancel: accepted only while no provider is generating the task. */
  | { type: 'cancel_requested' }
  /** Provider capacity: the submit slot asked for, granted, renewed, given back (task-slot.ts). */
  | SlotEvent;

/** What the shell must do right away, besides the due work. */
export type TaskEffect =
  | { type: 'drop_snapshot' }
  | { type: 'log'; level: 'warn' | 'error'; message: string }
  /**
   * The task's status moved (pending → processing, or to a final one): the shell logs the transition, and the
   * account's task index follows running statuses (a final one reaches it with the settlement).
   */
  | { type: 'status_changed'; status: TaskStatus }
  /** The task's turn on backend node `node_index` ended so: the shell tells the node's health object, without waiting. */
  | { type: 'node_outcome'; node_index: number; outcome: NodeOutcome };

export type Transition =
  | { ok: true; record: TaskRecord; effects: TaskEffect[] }
  | { ok: false; reason: 'not_terminal' | 'no_callback_url' | 'not_cancelable' | 'unknown_callback' };

type Outcome =
  | { status: 'succeeded'; images: StoredImage[] }
  | { status: 'failed'; code: FailureCode; message: string }
  | { status: 'canceled' };

const CANCELED = { code: 'canceled', message: 'The task was canceled before a provider started it; its credits were refunded.' } as const;

/** Exponential backoff with jitter, in whole milliseconds. */
function backoff(config: MachineConfig, failures: number): number {
  const base = Math.min(config.pollMaxMs, config.pollInitialMs * 2 ** failures);
  return Math.round(base / 2 + config.random() * (base / 2));
}

/** Callbacks of one job that may each make a poll due at once; later ones (replays) wait for the schedule. */
export const MAX_CALLBACK_POLLS = 3;

/** Prices are per image: a provider that filters some images (and says so only by returning fewer) is paid for the rest. */
function chargeFor(record: TaskRecord, delivered: number): number {
  return Math.floor((record.credits * Math.min(delivered, record.images_requested)) / record.images_requested);
}

function finish(record: TaskRecord, outcome: Outcome, now: number): TaskRecord {
  const succeeded = outcome.status === 'succeeded';
  return {
    ...record,
    status: outcome.status,
    updated_at: now,
    completed_at: now,
    images: succeeded ? outcome.images : null,
    error: outcome.status === 'failed' ? { code: outcome.code, message: outcome.message } : outcome.status === 'canceled' ? CANCELED : null,
    charge: succeeded ? chargeFor(record, outcome.images.length) : 0,
    run: { ...record.run, images: [], file_ids: [] },
    billing: { done: false, next_at: now, failures: 0 },
    snapshot: { done: false, next_at: now, failures: 0 },
    webhook: record.callback_url ? freshWebhook(record, now) : null,
  };
}

function freshWebhook(record: TaskRecord, now: number): WebhookRecord {
  return {
    id: `msg_${record.task_id}`,
    url: record.callback_url ?? '',
    status: 'pending',
    attempts: 0,
    last_status_code: null,
    last_error: null,
    next_at: now,
  };
}

/** Hands the task to the model's next backend node, or fails it when this was the last one. */
function leaveNode(record: TaskRecord, reason: string, now: number): TaskRecord {
  const { run } = record;
  if (run.node_index + 1 < record.node_count) {
    return { ...record, run: { ...run, node_index: run.node_index + 1, retries: 0, submitted_at: null, next_at: now } };
  }
  return finish(record, { status: 'failed', code: 'provider_unavailable', message: `Every backend node failed: ${reason}` }, now);
}

function answered(
  record: TaskRecord,
  event: Extract<TaskEvent, { type: 'provider_answered' }>,
  now: number,
  config: MachineConfig,
): TaskRecord {
  const { run } = record;
  const { step } = event;
  const fromSubmit = run.phase === 'submit';
  const served = fromSubmit && step.state !== 'failed' ? { provider: event.provider, node: event.node } : {};
  // A poll that finds the job still running changes nothing the customer sees: no new updated_at, no event.
  const movedOn = fromSubmit || record.status !== 'processing' ? now : record.updated_at;
  const generating = (next: Partial<RunState>): TaskRecord => ({
    ...record,
    ...served,
    status: 'processing',
    updated_at: movedOn,
    run: { ...run, retries: 0, ...next },
  });
  switch (step.state) {
    case 'pending': {
      const job = fromSubmit
        ? { submitted_at: now, poll_hints: event.poll_hints ?? null, callback_token_hash: event.callback_token_hash ?? null, callback_polls: 0 }
        : {};
      const hints = fromSubmit ? job.poll_hints : run.poll_hints;
      const elapsed = now - ((fromSubmit ? now : run.submitted_at) ?? now);
      return generating({ phase: 'poll', handle: step.handle, polls: run.polls + 1, next_at: now + nextPollDelay(elapsed, run.polls, hints, config), ...job });
    }
    case 'succeeded':
      if (step.images.length === 0) {
        // Some providers drop moderated images silently instead of saying so.
        return finish(record, { status: 'failed', code: 'content_moderated', message: 'The provider returned no image; it was most likely filtered by moderation.' }, now);
      }
      return generating({
        phase: 'store',
        images: step.images,
        file_ids: event.file_ids.slice(0, step.images.length),
        next_at: now,
      });
    case 'failed':
      return finish(record, { status: 'failed', code: step.code, message: step.message }, now);
  }
}

function providerFailed(
  record: TaskRecord,
  event: Extract<TaskEvent, { type: 'provider_failed' }>,
  now: number,
  config: MachineConfig,
): TaskRecord {
  // A 429 despite the capacity slot goes back to the capacity object, not to this node's retries.
  const requeued = event.rate_limited ? throttled(record, event.retry_after_ms, now) : null;
  if (requeued) return requeued;
  const run = { ...record.run, images: [], file_ids: [], retries: record.run.retries + 1 };
  const hasNextNode = run.node_index + 1 < record.node_count;
  // A rate-limited node is waited out (within the deadline) unless another node can take the task.
  if (run.phase === 'submit' && run.retries >= ATTEMPTS_PER_NODE && (hasNextNode || !event.rate_limited)) {
    return leaveNode({ ...record, run }, event.message, now);
  }
  const wait = Math.max(Math.ceil(event.retry_after_ms ?? 0), backoff(config, run.retries - 1));
  return { ...record, run: { ...run, next_at: now + wait } };
}

function storeFailed(
  record: TaskRecord,
  event: Extract<TaskEvent, { type: 'store_failed' }>,
  now: number,
  config: MachineConfig,
): TaskRecord {
  const { run } = record;
  if (!event.retryable) {
    return finish(record, { status: 'failed', code: 'provider_error', message: `The result could not be stored: ${event.message}` }, now);
  }
  const retries = run.retries + 1;
  return { ...record, run: { ...run, retries, next_at: now + backoff(config, retries - 1) } };
}

function webhookAnswered(
  webhook: WebhookRecord,
  event: Extract<TaskEvent, { type: 'webhook_answered' }>,
  now: number,
  config: MachineConfig,
): WebhookRecord {
  const attempts = webhook.attempts + 1;
  const after = { ...webhook, attempts, last_status_code: event.status_code, last_error: event.error };
  if (event.error === null) return { ...after, status: 'delivered', next_at: null };
  if (event.status_code === 410) {
    return { ...after, status: 'failed', last_error: 'receiver answered 410 Gone; not retried', next_at: null };
  }
  const delay = config.webhookScheduleS[attempts - 1];
  if (delay === undefined) return { ...after, status: 'failed', next_at: null };
  return { ...after, status: 'pending', next_at: now + Math.round(delay * 1000) };
}

function retried(state: TaskRecord['billing'], ok: boolean, now: number, config: MachineConfig): TaskRecord['billing'] {
  if (ok) return { done: true, next_at: null, failures: state.failures };
  return { done: false, next_at: now + backoff(config, state.failures), failures: state.failures + 1 };
}

const ok = (record: TaskRecord, effects: TaskEffect[] = []): Transition => ({ ok: true, record, effects });

/**
 * What `event` does to the task at time `now`. Events that do not apply to the task's state (a
 * late provider answer after the deadline, a second billing acknowledgement) leave it unchanged.
 */
export function transition(record: TaskRecord, event: TaskEvent, now: number, config: MachineConfig): Transition {
  const result = withSlot(record, now, withNodeOutcome(record, event, now, apply(record, event, now, config)));
  const status = result.ok ? result.record.status : record.status;
  if (!result.ok || status === record.status) return result;
  return { ...result, effects: [...result.effects, { type: 'status_changed', status }] };
}

/** Whatever moved the task, a submit slot it no longer needs is given back (task-slot.ts). */
function withSlot(record: TaskRecord, now: number, result: Transition): Transition {
  return result.ok ? { ...result, record: followSlot(record, result.record, now) } : result;
}

function withNodeOutcome(record: TaskRecord, event: TaskEvent, now: number, result: Transition): Transition {
  const turn = result.ok ? nodeOutcome(record, event, result.record, now) : null;
  return turn && result.ok ? { ...result, effects: [...result.effects, { type: 'node_outcome', ...turn }] } : result;
}

function apply(record: TaskRecord, event: TaskEvent, now: number, config: MachineConfig): Transition {
  const running = !isTerminal(record.status);
  const { run } = record;
  switch (event.type) {
    case 'submit_started':
      return ok(
        running && run.phase === 'submit' ? { ...record, status: 'processing', updated_at: now, run: { ...run, submitted_at: now } } : record,
      );
    case 'provider_answered':
      return ok(running && run.phase !== 'store' ? answered(record, event, now, config) : record);
    case 'provider_failed':
      if (!running || run.phase === 'store') return ok(record);
      return ok(providerFailed(record, event, now, config), [
        { type: 'log', level: 'warn', message: `${run.phase} failed: ${event.message}` },
      ]);
    case 'node_unconfigured': {
      if (!running || run.phase === 'store') return ok(record);
      // A node gone from under a polled job (a catalog change) cannot follow it: end the task, refunded.
      const next =
        run.phase === 'submit'
          ? leaveNode(record, event.message, now)
          : finish(record, { status: 'failed', code: 'provider_error', message: `The job can no longer be followed: ${event.message}` }, now);
      return ok(next, [{ type: 'log', level: 'error', message: event.message }]);
    }
    case 'node_unavailable': {
      if (!running || run.phase !== 'submit') return ok(record);
      const reason = `${event.node} is out of rotation after repeated failures; it is tried again from ${new Date(event.retry_at).toISOString()}`;
      return ok(leaveNode(record, reason, now), [{ type: 'log', level: 'warn', message: reason }]);
    }
    case 'callback_received': {
      if (!run.callback_token_hash || event.token_hash !== run.callback_token_hash) return { ok: false, reason: 'unknown_callback' };
      const used = run.callback_polls ?? 0;
      // A callback about a job we are not waiting on (already seen ended, or a replay) changes nothing.
      if (!running || run.phase !== 'poll' || used >= MAX_CALLBACK_POLLS || run.next_at <= now) return ok(record);
      return ok({ ...record, run: { ...run, next_at: now, callback_polls: used + 1 } });
    }
    case 'results_stored':
      return ok(running && run.phase === 'store' ? finish(record, { status: 'succeeded', images: event.images }, now) : record);
    case 'store_failed':
      if (!running || run.phase !== 'store') return ok(record);
      return ok(storeFailed(record, event, now, config), [
        { type: 'log', level: 'warn', message: `storing results failed: ${event.message}` },
      ]);
    case 'deadline_passed':
      if (!running || now < record.deadline_at) return ok(record);
      return ok(finish(record, { status: 'failed', code: 'timeout', message: 'The provider did not finish before the task deadline.' }, now));
    case 'billing_acknowledged':
    case 'billing_failed':
      if (running || record.billing.done) return ok(record);
      return ok({ ...record, billing: retried(record.billing, event.type === 'billing_acknowledged', now, config) });
    case 'webhook_answered':
      if (record.webhook?.status !== 'pending') return ok(record);
      return ok({ ...record, updated_at: now, webhook: webhookAnswered(record.webhook, event, now, config) });
    case 'webhook_signing_failed':
      // Our own failure, not the receiver's: try again soon without spending one of its attempts.
      if (record.webhook?.status !== 'pending') return ok(record);
      return ok({ ...record, webhook: { ...record.webhook, next_at: now + SIGNING_RETRY_MS } });
    case 'snapshot_written':
    case 'snapshot_failed':
      if (running || record.snapshot.done) return ok(record);
      return ok({ ...record, snapshot: retried(record.snapshot, event.type === 'snapshot_written', now, config) });
    case 'redelivery_requested':
      if (running) return { ok: false, reason: 'not_terminal' };
      if (!record.callback_url) return { ok: false, reason: 'no_callback_url' };
      // The same event again (same `webhook-id`), with a fresh schedule; KV must not keep the old state meanwhile.
      return ok(
        {
          ...record,
          updated_at: now,
          webhook: { ...freshWebhook(record, now), id: record.webhook?.id ?? `msg_${record.task_id}` },
          snapshot: { done: false, next_at: now, failures: 0 },
        },
        [{ type: 'drop_snapshot' }],
      );
    case 'slot_answered':
    case 'slot_released':
    case 'lease_renewed':
    case 'slot_unreachable':
      return ok(slotEvent(record, event, now));
    case 'cancel_requested':
      // Once a provider accepted the job (or a synchronous call is out) it is generating, and charges us for it.
      if (record.status !== 'pending' && record.status !== 'queued') return { ok: false, reason: 'not_cancelable' };
      return ok(finish(record, { status: 'canceled' }, now));
  }
}
