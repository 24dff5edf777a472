import { DurableObject } from 'cloudflare:workers';
import { accountStub } from '../accounts/account.do';
import { findModel } from '../catalog';
import { config } from '../config';
import type { Env } from '../env';
import { withTimeout } from '../outbound/timeout';
import { newFileId } from '../ids';
import { ResultRejectedError, ResultUnavailableError, storeResultImage } from '../outbound/result-store';
import { ProviderRetryableError } from '../providers/types';
import { postWebhook } from '../outbound/webhook-delivery';
import { webhookHeaders } from '../outbound/webhook-signing';
import { alarmAt, dueNow, forStorage, type MachineConfig, type TaskEffect, type TaskEvent, transition, type Work } from './task-machine';
import { newTaskRecord, type RedeliveryResult, type TaskInit, type TaskRecord } from './task-record';
import { dropTaskSnapshot, writeTaskSnapshot } from './task-snapshot';
import { renderTask, renderWebhook } from './task-view';
import type { TaskView } from './task.schema';

/** Enough for a whole life in one run when every step answers at once; anything slower waits for the alarm. */
const MAX_STEPS_PER_RUN = 8;

/**
 * One object per task: the source of truth for the task, and the shell around its machine
 * (task-machine.ts). It loads the record, performs the work the machine says is due, feeds the
 * result back as an event, saves, and sets its one alarm to the machine's next due time. Alarms
 * run at least once, so every piece of work is safe to repeat: the record is saved after each.
 */
export class TaskDO extends DurableObject<Env> {
  #queue: Promise<void> = Promise.resolve();

  /**
   * Runs alarm runs and requests that change the record one after the other. An alarm awaits the
   * network with its record in memory and saves after each step, so a change landing meanwhile
   * would be overwritten.
   */
  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work);
    this.#queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  get #machine(): MachineConfig {
    const { pollInitialMs, pollMaxMs, webhookScheduleS } = config(this.env);
    return { pollInitialMs, pollMaxMs, webhookScheduleS, random: Math.random };
  }

  async #load(): Promise<TaskRecord | undefined> {
    return this.ctx.storage.get<TaskRecord>('task');
  }

  async #save(record: TaskRecord): Promise<void> {
    await this.ctx.storage.put('task', forStorage(record));
  }

  async #arm(record: TaskRecord): Promise<void> {
    const at = alarmAt(record, Date.now());
    if (at === null) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(at);
  }

  /** Applies an event and performs its immediate effects; the caller saves. */
  async #apply(record: TaskRecord, event: TaskEvent): Promise<TaskRecord> {
    const result = transition(record, event, Date.now(), this.#machine);
    if (!result.ok) return record;
    await this.#performEffects(record.task_id, result.effects);
    return result.record;
  }

  async #performEffects(taskId: string, effects: readonly TaskEffect[]): Promise<void> {
    for (const effect of effects) {
      if (effect.type === 'drop_snapshot') await dropTaskSnapshot(this.env, taskId);
      else console[effect.level](JSON.stringify({ level: effect.level, task_id: taskId, message: effect.message }));
    }
  }

  /**
   * Creates the task and starts it. Calling it again for the same task returns the task as it is.
   * Returns null if the billing sweep already declared this task abandoned.
   */
  async create(init: TaskInit): Promise<TaskView | null> {
    const existing = await this.#load();
    if (existing) return renderTask(existing);
    if (await this.ctx.storage.get('abandoned')) return null;
    const record = newTaskRecord(init, Date.now(), config(this.env).taskDeadlineMs);
    await this.#save(record);
    await this.#arm(record);
    return renderTask(record);
  }

  /** The task as its owner sees it; null for anyone else, so other accounts cannot probe ids. */
  async view(accountId: string): Promise<TaskView | null> {
    const record = await this.#load();
    return record && record.account_id === accountId ? renderTask(record) : null;
  }

  /**
   * The task if it exists; otherwise marks it abandoned so that a late `create` cannot run it
   * unpaid, and returns null. Used when a create call's answer was lost.
   */
  async existingOrAbandon(): Promise<TaskView | null> {
    const record = await this.#load();
    if (record) return renderTask(record);
    await this.ctx.storage.put('abandoned', true);
    return null;
  }

  /**
   * Asked by the account's billing sweep about a reservation that is still open: what to charge,
   * or null while the task runs. A task that never came to life costs nothing; a task whose alarm
   * is missing or stale (in the past) gets it back, so the sweep also keeps tasks from getting stuck.
   */
  async billingOutcome(): Promise<{ charge: number } | null> {
    const record = await this.#load();
    if (!record) {
      await this.ctx.storage.put('abandoned', true);
      return { charge: 0 };
    }
    if (record.charge !== null) return { charge: record.charge };
    const alarm = await this.ctx.storage.getAlarm();
    if (alarm === null || alarm < Date.now()) await this.#arm(record);
    return null;
  }

  /**
   * Delivers the finished task's webhook again with a fresh retry schedule, e.g. after the customer
   * fixed their endpoint. It keeps the `webhook-id` (it is the same event).
   */
  async redeliverWebhook(accountId: string): Promise<RedeliveryResult> {
    return this.#exclusive(async (): Promise<RedeliveryResult> => {
      const record = await this.#load();
      if (!record || record.account_id !== accountId) return { ok: false, reason: 'not_found' };
      const result = transition(record, { type: 'redelivery_requested' }, Date.now(), this.#machine);
      if (!result.ok) return result;
      await this.#performEffects(record.task_id, result.effects);
      await this.#save(result.record);
      await this.#arm(result.record);
      return { ok: true, webhook: renderWebhook(result.record.webhook!) };
    });
  }

  override async alarm(): Promise<void> {
    await this.#exclusive(async () => {
      let record = await this.#load();
      if (!record) return;
      try {
        for (let step = 0; step < MAX_STEPS_PER_RUN; step++) {
          const work = dueNow(record, Date.now());
          if (!work) break;
          record = await this.#apply(record, await this.#perform(work, record));
          await this.#save(record);
        }
      } finally {
        await this.#arm(record);
      }
    });
  }

  /** Does one piece of due work and says what came of it. Never throws for an expected failure. */
  async #perform(work: Work, record: TaskRecord): Promise<TaskEvent> {
    switch (work) {
      case 'deadline':
        return { type: 'deadline_passed' };
      case 'submit':
      case 'poll':
        return this.#providerStep(record, work);
      case 'store':
        try {
          const images = await Promise.all(
            record.run.images.map((image, i) =>
              storeResultImage(this.env, image, record.run.file_ids[i]!, record.public_base_url, record.task_id),
            ),
          );
          return { type: 'results_stored', images };
        } catch (err) {
          return { type: 'store_failed', message: publicReason(record, err), retryable: err instanceof ResultUnavailableError };
        }
      case 'settle':
        try {
          await accountStub(this.env, record.account_id).resolve(record.task_id, record.charge ?? 0);
          return { type: 'billing_acknowledged' };
        } catch (err) {
          console.error(JSON.stringify({ level: 'error', task_id: record.task_id, billing: String(err) }));
          return { type: 'billing_failed' };
        }
      case 'webhook':
        return this.#deliverWebhook(record);
      case 'snapshot':
        try {
          await writeTaskSnapshot(this.env, record.account_id, renderTask(record));
          return { type: 'snapshot_written' };
        } catch (err) {
          console.error(JSON.stringify({ level: 'error', task_id: record.task_id, snapshot: String(err) }));
          return { type: 'snapshot_failed' };
        }
    }
  }

  async #providerStep(record: TaskRecord, work: 'submit' | 'poll'): Promise<TaskEvent> {
    const node = findModel(record.model)?.nodes[record.run.node_index];
    if (!node) return { type: 'node_unconfigured', message: `Model ${record.model} has no backend node ${record.run.node_index}.` };
    if (work === 'submit' && !this.env[node.secret]) {
      return { type: 'node_unconfigured', message: `${node.provider} is not configured (${node.secret} is not set)` };
    }
    try {
      const call = { env: this.env, fetch: this.#fetchUntil(record.deadline_at) };
      const step = work === 'submit' ? await node.submit(record.request, call) : await node.poll(record.run.handle, call);
      const file_ids = step.state === 'succeeded' ? step.images.map(() => newFileId()) : [];
      return { type: 'provider_answered', step, provider: node.provider, node: node.id, file_ids };
    } catch (err) {
      const retryable = err instanceof ProviderRetryableError ? err : null;
      return {
        type: 'provider_failed',
        message: publicReason(record, err),
        rate_limited: retryable?.rateLimited ?? false,
        retry_after_ms: retryable?.retryAfterMs ?? null,
      };
    }
  }

  async #deliverWebhook(record: TaskRecord): Promise<TaskEvent> {
    const webhook = record.webhook!;
    const body = JSON.stringify(renderTask(record));
    let headers: Record<string, string>;
    try {
      headers = await webhookHeaders(this.env, record.account_id, webhook.id, body, Date.now());
    } catch (err) {
      console.error(JSON.stringify({ level: 'error', task_id: record.task_id, webhook_signing: String(err) }));
      return { type: 'webhook_signing_failed' };
    }
    const answer = await postWebhook(webhook.url, headers, body);
    return { type: 'webhook_answered', status_code: answer.statusCode, error: answer.error };
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
}

/**
 * Our words for a failure, which may end up in the task's error message: what our own errors say,
 * or a generic phrase, the runtime's text (`internal error; reference = …`) going to the log only.
 */
function publicReason(record: TaskRecord, err: unknown): string {
  if (err instanceof ProviderRetryableError || err instanceof ResultRejectedError || err instanceof ResultUnavailableError) return err.message;
  console.error(JSON.stringify({ level: 'error', task_id: record.task_id, phase: record.run.phase, error: String(err) }));
  return 'unexpected error';
}

/** The task's object; one per task id. */
export function taskStub(env: Env, taskId: string): DurableObjectStub<TaskDO> {
  return env.TASKS.get(env.TASKS.idFromName(taskId));
}
