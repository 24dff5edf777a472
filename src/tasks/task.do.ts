import { DurableObject } from 'cloudflare:workers';
import { accountStub } from '../billing/account.do';
import { findModel } from '../catalog';
import type { Env } from '../env';
import { withTimeout } from '../http/timeout';
import { newFileId } from '../ids';
import { storeResultImage } from '../images/result-store';
import { type Json, ProviderRetryableError, type ProviderStep } from '../providers/types';
import { attemptDelivery, initialWebhookState } from '../webhooks/delivery';
import { webhookHeaders } from '../webhooks/signing';
import { taskSnapshotKey } from './task-snapshot';
import { iso, newTaskRecord, type Outcome, type RedeliveryResult, type TaskInit, type TaskRecord } from './task-record';
import { isTerminal, type TaskView } from './task.schema';

/** Tries of one backend node before the task moves to the next (rate limits do not count). */
const ATTEMPTS_PER_NODE = 3;
/** How long finished snapshots stay in KV; older polls fall through to the object. */
const SNAPSHOT_TTL_S = 30 * 24 * 3600;
/** Wait before signing again when the account object did not answer; not counted as an attempt. */
const SIGNING_RETRY_MS = 5_000;

/**
 * One object per task: the source of truth for the task and the runner of its life.
 *
 * A single alarm drives everything timed: the provider submit, polls with backoff, the copy of the
 * results into R2, the overall deadline, then settling or refunding the credits, writing the KV
 * snapshot and delivering the webhook. Alarms are at-least-once, so every step is idempotent:
 * state is saved after each step and each side effect is marked done only once it succeeded.
 */
export class TaskDO extends DurableObject<Env> {
  #queue: Promise<void> = Promise.resolve();

  /**
   * Runs alarm runs and redeliveries one after the other. An alarm awaits the network (the webhook,
   * KV) with its record in memory and saves it at the end, so a redelivery landing meanwhile would
   * be overwritten, and its KV delete could race the alarm's snapshot write.
   */
  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work);
    this.#queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  async #load(): Promise<TaskRecord | undefined> {
    return this.ctx.storage.get<TaskRecord>('task');
  }

  async #save(record: TaskRecord): Promise<void> {
    await this.ctx.storage.put('task', record);
  }

  /**
   * Creates the task and starts it. Calling it again for the same task returns the task as it is.
   * Returns null if the billing sweep already declared this task abandoned.
   */
  async create(init: TaskInit): Promise<TaskView | null> {
    const existing = await this.#load();
    if (existing) return existing.view;
    if (await this.ctx.storage.get('abandoned')) return null;
    const now = Date.now();
    const record = newTaskRecord(init, now, Number(this.env.TASK_DEADLINE_SECONDS) * 1000);
    await this.#save(record);
    await this.ctx.storage.setAlarm(now);
    return record.view;
  }

  /** The task as its owner sees it; null for anyone else, so other accounts cannot probe ids. */
  async view(accountId: string): Promise<TaskView | null> {
    const record = await this.#load();
    return record && record.account_id === accountId ? record.view : null;
  }

  /**
   * The task if it exists; otherwise marks it abandoned so that a late `create` cannot run it
   * unpaid, and returns null. Used when a create call's answer was lost.
   */
  async existingOrAbandon(): Promise<TaskView | null> {
    const record = await this.#load();
    if (record) return record.view;
    await this.ctx.storage.put('abandoned', true);
    return null;
  }

  /**
   * Asked by the account's billing sweep about a reservation that is still open: what to charge,
   * or null while the task runs. A task that never came to life costs nothing; a running task
   * whose alarm was lost gets it back, so the sweep also keeps tasks from getting stuck.
   */
  async billingOutcome(): Promise<{ charge: number } | null> {
    const record = await this.#load();
    if (!record) {
      await this.ctx.storage.put('abandoned', true);
      return { charge: 0 };
    }
    if (record.billing.charge !== null) return { charge: record.billing.charge };
    // Still running, yet its reservation is old: if the alarm gave up (it is retried only a few
    // times after throwing), nothing would ever move the task again. Re-arm it.
    if ((await this.ctx.storage.getAlarm()) === null) await this.#arm(record);
    return null;
  }

  /**
   * Delivers the finished task's webhook again with a fresh retry schedule, e.g. after the customer
   * fixed their endpoint. It keeps the `webhook-id` (it is the same event). The KV snapshot is
   * dropped so polls see the delivery progress, and is written again once it ends.
   */
  async redeliverWebhook(accountId: string): Promise<RedeliveryResult> {
    return this.#exclusive(async (): Promise<RedeliveryResult> => {
      const record = await this.#load();
      if (!record || record.account_id !== accountId) return { ok: false, reason: 'not_found' };
      const { view } = record;
      if (!isTerminal(view.status)) return { ok: false, reason: 'not_terminal' };
      if (!view.callback_url || !record.webhook_id) return { ok: false, reason: 'no_callback_url' };
      await this.env.KV.delete(taskSnapshotKey(view.task_id));
      const now = Date.now();
      view.webhook = initialWebhookState(view.callback_url, now);
      view.updated_at = iso(now);
      record.snapshot = { done: false, next_at: now, failures: 0 };
      await this.#save(record);
      await this.#arm(record);
      return { ok: true, webhook: view.webhook };
    });
  }

  override async alarm(): Promise<void> {
    await this.#exclusive(async () => {
      const record = await this.#load();
      if (!record) return;
      try {
        await this.#advance(record);
      } finally {
        await this.#save(record);
        await this.#arm(record);
      }
    });
  }

  async #advance(record: TaskRecord): Promise<void> {
    let now = Date.now();
    if (!isTerminal(record.view.status)) {
      if (now >= record.run.deadline_at) {
        this.#finish(record, { status: 'failed', code: 'timeout', message: 'The provider did not finish before the task deadline.' }, now);
      } else if (now >= record.run.next_at) {
        await this.#step(record, now);
      }
      await this.#save(record);
      now = Date.now();
    }
    if (!isTerminal(record.view.status)) return;
    await this.#resolveBilling(record, now);
    await this.#deliverWebhook(record, now);
    await this.#writeSnapshot(record, now);
  }

  /** One provider step: submit, poll, or copy the results. */
  async #step(record: TaskRecord, now: number): Promise<void> {
    const { run } = record;
    const model = findModel(record.view.model);
    const node = model?.nodes[run.node_index];
    if (!model || !node) {
      this.#finish(record, { status: 'failed', code: 'provider_error', message: `Model ${record.view.model} has no backend.` }, now);
      return;
    }
    if (run.phase === 'submit' && !this.env[node.secret]) {
      // Our configuration, not the provider's trouble: retrying this node cannot help.
      this.#leaveNode(record, `${node.provider} is not configured (${node.secret} is not set)`, now);
      return;
    }
    try {
      if (run.phase !== 'store') {
        const call = { env: this.env, fetch: this.#fetchUntil(run.deadline_at) };
        const step =
          run.phase === 'submit' ? await node.submit(record.request, call) : await node.poll(run.handle as Json, call);
        if (run.phase === 'submit' && step.state !== 'failed') {
          record.view.provider = node.provider;
          record.view.node = node.id;
        }
        const results = this.#apply(record, step, Date.now());
        if (results === 'none') return;
        if (results === 'urls') await this.#save(record);
      }
      const images = await Promise.all(
        run.images.map((image, i) =>
          storeResultImage(this.env, image, run.file_ids[i]!, record.public_base_url, record.view.task_id),
        ),
      );
      this.#finish(record, { status: 'succeeded', images }, Date.now());
    } catch (err) {
      this.#retry(record, err, Date.now());
    }
  }

  /**
   * Records a provider step and says what results now wait to be copied. URL results are saved
   * in the `store` phase, so a failed copy downloads them again. Inline (base64) results are never
   * saved: they can pass the storage value limit, so they are copied in the same run, and if that
   * fails the step that produced them is simply repeated.
   */
  #apply(record: TaskRecord, step: ProviderStep, now: number): 'none' | 'urls' | 'inline' {
    const { run, view } = record;
    run.retries = 0;
    switch (step.state) {
      case 'pending':
        view.status = 'processing';
        view.updated_at = iso(now);
        run.phase = 'poll';
        run.handle = step.handle;
        run.next_at = now + this.#pollDelay(run.polls++);
        return 'none';
      case 'succeeded': {
        if (step.images.length === 0) {
          // Some providers drop moderated images silently instead of saying so.
          this.#finish(record, { status: 'failed', code: 'content_moderated', message: 'The provider returned no image; it was most likely filtered by moderation.' }, now);
          return 'none';
        }
        view.status = 'processing';
        view.updated_at = iso(now);
        run.images = step.images;
        run.file_ids = step.images.map(() => newFileId());
        run.next_at = now;
        if (step.images.some((image) => !('url' in image))) return 'inline';
        run.phase = 'store';
        run.handle = null;
        return 'urls';
      }
      case 'failed':
        this.#finish(record, { status: 'failed', code: step.code, message: step.message }, now);
        return 'none';
    }
  }

  #retry(record: TaskRecord, err: unknown, now: number): void {
    const { run } = record;
    const retryable = err instanceof ProviderRetryableError ? err : null;
    console.warn(JSON.stringify({ level: 'warn', task_id: record.view.task_id, phase: run.phase, error: String(err) }));
    if (run.phase !== 'store') {
      run.images = [];
      run.file_ids = [];
    }
    if (run.phase === 'store' && !retryable) {
      this.#finish(record, { status: 'failed', code: 'provider_error', message: `The result could not be stored: ${String(err)}` }, now);
      return;
    }
    run.retries += 1;
    const model = findModel(record.view.model);
    const nextNode = run.phase === 'submit' && model !== undefined && run.node_index + 1 < model.nodes.length;
    // A rate-limited node is waited out (within the deadline) unless another node can take the task.
    if (run.phase === 'submit' && run.retries >= ATTEMPTS_PER_NODE && (nextNode || !retryable?.rateLimited)) {
      this.#leaveNode(record, String(err), now);
      return;
    }
    run.next_at = now + Math.max(retryable?.retryAfterMs ?? 0, this.#backoff(run.retries - 1));
  }

  /** Hands the task to the model's next backend node, or fails it when this was the last one. */
  #leaveNode(record: TaskRecord, reason: string, now: number): void {
    const { run } = record;
    const model = findModel(record.view.model);
    if (model && run.node_index + 1 < model.nodes.length) {
      run.node_index += 1;
      run.retries = 0;
      run.next_at = now;
      return;
    }
    this.#finish(record, { status: 'failed', code: 'provider_unavailable', message: `Every backend node failed: ${reason}` }, now);
  }

  #finish(record: TaskRecord, outcome: Outcome, now: number): void {
    const { view } = record;
    view.status = outcome.status;
    view.updated_at = iso(now);
    view.completed_at = iso(now);
    if (outcome.status === 'succeeded') {
      view.output = { images: outcome.images };
      view.credits = this.#chargeFor(record, outcome.images.length);
    } else {
      view.output = null;
      view.error = { code: outcome.code, message: outcome.message };
      view.credits = 0;
    }
    record.billing.charge = view.credits;
    record.run.images = [];
    record.billing.next_at = now;
    record.snapshot.next_at = now;
    if (view.callback_url) {
      view.webhook = initialWebhookState(view.callback_url, now);
      record.webhook_id = `msg_${view.task_id}`;
    }
  }

  /**
   * Prices are per image: when a provider filters some of the images asked for (and says so only
   * by returning fewer), the task costs the images it delivered.
   */
  #chargeFor(record: TaskRecord, delivered: number): number {
    const countField = findModel(record.view.model)?.count_field;
    const requested = countField ? Math.max(1, Number(record.request[countField] ?? 1)) : 1;
    return (record.view.credits / requested) * Math.min(delivered, requested);
  }

  async #resolveBilling(record: TaskRecord, now: number): Promise<void> {
    const { billing } = record;
    if (billing.done || billing.charge === null || (billing.next_at ?? 0) > now) return;
    try {
      await accountStub(this.env, record.account_id).resolve(record.view.task_id, billing.charge);
      billing.done = true;
      billing.next_at = null;
    } catch (err) {
      billing.next_at = now + this.#backoff(billing.failures++);
      console.error(JSON.stringify({ level: 'error', task_id: record.view.task_id, billing: String(err) }));
    }
  }

  async #deliverWebhook(record: TaskRecord, now: number): Promise<void> {
    const webhook = record.view.webhook;
    if (!webhook || webhook.status !== 'pending' || !record.webhook_id) return;
    if (webhook.next_attempt_at && Date.parse(webhook.next_attempt_at) > now) return;
    const body = JSON.stringify(record.view);
    let headers: Record<string, string>;
    try {
      headers = await webhookHeaders(this.env, record.account_id, record.webhook_id, body, Date.now());
    } catch (err) {
      // Our own failure, not the receiver's: try again soon without spending one of its attempts.
      webhook.next_attempt_at = iso(now + SIGNING_RETRY_MS);
      console.error(JSON.stringify({ level: 'error', task_id: record.view.task_id, webhook_signing: String(err) }));
      return;
    }
    record.view.webhook = await attemptDelivery(this.env, webhook, headers, body);
    record.view.updated_at = iso(Date.now());
  }

  /**
   * When the snapshot may be written: only after billing and any webhook delivery ended, since KV must
   * not keep a state that will still change. Null while it is done or waiting on those.
   */
  #snapshotDueAt(record: TaskRecord): number | null {
    const { snapshot } = record;
    if (snapshot.done || snapshot.next_at === null) return null;
    if (!record.billing.done || record.view.webhook?.status === 'pending') return null;
    return snapshot.next_at;
  }

  /**
   * KV holds only quiescent tasks: terminal, paid or refunded, and with no webhook delivery still
   * pending, so a snapshot never goes stale and each key is written about once.
   */
  async #writeSnapshot(record: TaskRecord, now: number): Promise<void> {
    const { snapshot } = record;
    const dueAt = this.#snapshotDueAt(record);
    if (dueAt === null || dueAt > now) return;
    try {
      await this.env.KV.put(
        taskSnapshotKey(record.view.task_id),
        JSON.stringify({ account_id: record.account_id, task: record.view }),
        { expirationTtl: SNAPSHOT_TTL_S },
      );
      snapshot.done = true;
      snapshot.next_at = null;
    } catch (err) {
      snapshot.next_at = now + this.#backoff(snapshot.failures++);
      console.error(JSON.stringify({ level: 'error', task_id: record.view.task_id, snapshot: String(err) }));
    }
  }

  /** Sets the one alarm to the earliest pending piece of work, or clears it when nothing is left. */
  async #arm(record: TaskRecord): Promise<void> {
    const due: number[] = [];
    if (!isTerminal(record.view.status)) due.push(Math.min(record.run.next_at, record.run.deadline_at));
    if (!record.billing.done && record.billing.next_at !== null) due.push(record.billing.next_at);
    // A snapshot waiting on billing or the webhook must not keep the alarm firing in a loop.
    const snapshotAt = this.#snapshotDueAt(record);
    if (snapshotAt !== null) due.push(snapshotAt);
    const webhook = record.view.webhook;
    if (webhook?.status === 'pending' && webhook.next_attempt_at) due.push(Date.parse(webhook.next_attempt_at));
    if (due.length === 0) {
      await this.ctx.storage.deleteAlarm();
      return;
    }
    await this.ctx.storage.setAlarm(Math.min(...due));
  }

  /**
   * The fetch adapters get: aborted at the task's deadline, so a provider that never answers a
   * synchronous call cannot hold the task past it, whatever timeout the adapter chose.
   */
  #fetchUntil(deadlineAt: number): typeof fetch {
    return (input, init) =>
      withTimeout(Math.max(1, deadlineAt - Date.now()), (signal) =>
        fetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, signal]) : signal }),
      );
  }

  #pollDelay(polls: number): number {
    const initial = Number(this.env.POLL_INITIAL_MS);
    return Math.min(Number(this.env.POLL_MAX_MS), initial * 1.5 ** polls);
  }

  #backoff(failures: number): number {
    const initial = Number(this.env.POLL_INITIAL_MS);
    const base = Math.min(Number(this.env.POLL_MAX_MS), initial * 2 ** failures);
    return base / 2 + Math.random() * (base / 2);
  }
}

/** The task's object; one per task id. */
export function taskStub(env: Env, taskId: string): DurableObjectStub<TaskDO> {
  return env.TASKS.get(env.TASKS.idFromName(taskId));
}
