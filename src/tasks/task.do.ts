import { DurableObject } from 'cloudflare:workers';
import { config } from '../config';
import type { Env } from '../env';
import { alarmAt, dueNow } from './task-due';
import { type MachineConfig, machineConfig, type TaskEvent, type Transition, transition } from './task-machine';
import { callbackTokenHash } from './job-watch';
import { modelFacts } from './model-facts';
import { type CancelResult, newTaskRecord, readStoredRecord, type RedeliveryResult, type StoredTaskRecord, type TaskInit, type TaskRecord } from './task-record';
import { nodeAdmission, nodeOf, performEffects, performWork } from './task-work';
import { wantsSlot } from './task-slot';
import { serially, Watchers } from './watchers';
import { renderTask, renderWebhook } from './task-view';
import { isTerminal, type TaskStatus, type TaskView } from './task.schema';

/** Enough for a whole life in one run when every step answers at once; anything slower waits for the alarm. */
const MAX_STEPS_PER_RUN = 8;

/**
 * One object per task: the source of truth for the task, and the shell around its machine
 * (task-machine.ts). It loads the record, performs the work the machine says is due, feeds the
 * result back as an event, saves, and sets its one alarm to the machine's next due time. Alarms
 * run at least once, so every piece of work is safe to repeat: the record is saved after each.
 */
export class TaskDO extends DurableObject<Env> {
  /**
   * Alarm runs and requests that change the record, one after the other: an alarm awaits the network
   * with its record in memory and saves after each step, so a change landing meanwhile would be lost.
   */
  #exclusive = serially();
  #watchers = new Watchers();

  get #machine(): MachineConfig {
    return machineConfig(config(this.env));
  }

  async #load(): Promise<TaskRecord | undefined> {
    const stored = await this.ctx.storage.get<StoredTaskRecord>('task');
    return stored && readStoredRecord(stored, modelFacts);
  }

  async #save(record: TaskRecord): Promise<void> {
    await this.ctx.storage.put('task', record);
  }

  /**
   * Saves the record after a transition from `before`. When what the customer sees changed, the
   * version goes up and every waiting request (`watch`) is woken: they are told, never poll.
   */
  async #commit(before: TaskRecord, after: TaskRecord): Promise<TaskRecord> {
    if (after === before) return before;
    const changed = JSON.stringify(renderTask(after)) !== JSON.stringify(renderTask(before));
    const record = changed ? { ...after, version: before.version + 1 } : after;
    await this.#save(record);
    if (changed) this.#watchers.wakeAll();
    return record;
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
    await performEffects(this.env, record, result.effects, result.record);
    return result.record;
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
   * Asked by the account's billing sweep about a reservation that is still open: what to charge and
   * the final status, or null while the task runs. A task that never came to life (`status: null`)
   * costs nothing; a task whose alarm is missing or stale (in the past) gets it back, so the sweep
   * also keeps tasks from getting stuck.
   */
  async billingOutcome(): Promise<{ charge: number; status: TaskStatus | null } | null> {
    const record = await this.#load();
    if (!record) {
      await this.ctx.storage.put('abandoned', true);
      return { charge: 0, status: null };
    }
    if (record.charge !== null) return { charge: record.charge, status: record.status };
    const alarm = await this.ctx.storage.getAlarm();
    if (alarm === null || alarm < Date.now()) await this.#arm(record);
    return null;
  }

  /**
   * A customer's request about their task, applied between alarm steps (so a cancel can never
   * slip in while a submit is on its way out). Null when the task is not theirs (`accountId` null:
   * our own objects', which may touch any task) or does not exist.
   */
  async #request(accountId: string | null, event: TaskEvent): Promise<{ before: TaskRecord; result: Transition } | null> {
    return this.#exclusive(async () => {
      const before = await this.#load();
      if (!before || (accountId !== null && before.account_id !== accountId)) return null;
      let result = transition(before, event, Date.now(), this.#machine);
      if (result.ok) {
        await performEffects(this.env, before, result.effects, result.record);
        result = { ...result, record: await this.#commit(before, result.record) };
        await this.#arm(result.record);
      }
      return { before, result };
    });
  }

  /**
   * Delivers the finished task's webhook again with a fresh retry schedule, e.g. after the customer
   * fixed their endpoint. It keeps the `webhook-id` (it is the same event).
   */
  async redeliverWebhook(accountId: string): Promise<RedeliveryResult> {
    const found = await this.#request(accountId, { type: 'redelivery_requested' });
    if (!found) return { ok: false, reason: 'not_found' };
    const { result } = found;
    if (!result.ok) return { ok: false, reason: result.reason === 'no_callback_url' ? 'no_callback_url' : 'not_terminal' };
    return { ok: true, webhook: renderWebhook(result.record.webhook!) };
  }

  /**
   * Pushed by the provider account's capacity object (src/capacity/): a submit slot for this task.
   * False when there is no such task, so the object takes the slot back; a task that no longer
   * wants it (it ended meanwhile) gives it back itself.
   */
  async slotGranted(pool: string, leaseMs: number): Promise<boolean> {
    return (await this.#request(null, { type: 'slot_answered', pool, answer: { granted: true, lease_ms: leaseMs } })) !== null;
  }

  /**
   * Asked by the capacity object about a slot it has not heard of for a while: whether the task still
   * wants it (task-slot.ts). Read without waiting for a running step: a synchronous provider call of
   * minutes still holds its slot.
   */
  async slotWanted(pool: string): Promise<boolean> {
    return wantsSlot(await this.#load(), pool);
  }

  /** Pushed by the capacity object now and then while the task waits: its place in the queue, which only goes down. */
  async queueMoved(pool: string, position: number): Promise<void> {
    await this.#request(null, { type: 'slot_answered', pool, answer: { granted: false, position } });
  }

  /**
   * A provider called the job's callback URL with `token` (src/api/callbacks/). Only a hint: when the
   * token is the one this task's job was given, its next poll is due now, and that poll reads how the
   * job stands. False for any other token (or no task), which changes nothing.
   */
  async providerCallback(token: string): Promise<boolean> {
    const found = await this.#request(null, { type: 'callback_received', token_hash: await callbackTokenHash(token) });
    return found?.result.ok === true;
  }

  /** Cancels the task if no provider is generating it yet: refunded in full, then webhook and snapshot as for any final task. */
  async cancel(accountId: string): Promise<CancelResult> {
    const found = await this.#request(accountId, { type: 'cancel_requested' });
    if (!found) return { ok: false, reason: 'not_found' };
    const { before, result } = found;
    return result.ok ? { ok: true, task: renderTask(result.record) } : { ok: false, reason: 'not_cancelable', task: renderTask(before) };
  }

  /**
   * The task once its version passes `afterVersion` or it is final, or as it is after `timeoutMs`:
   * what `Prefer: wait` and the event stream are built on. Null for anyone but its owner.
   */
  async watch(accountId: string, afterVersion: number, timeoutMs: number): Promise<{ version: number; task: TaskView } | null> {
    let record = await this.#load();
    if (!record || record.account_id !== accountId) return null;
    if (timeoutMs > 0 && record.version <= afterVersion && !isTerminal(record.status)) {
      await this.#watchers.wait(timeoutMs);
      record = (await this.#load()) ?? record;
    }
    return { version: record.version, task: renderTask(record) };
  }

  override async alarm(): Promise<void> {
    await this.#exclusive(async () => {
      let record = await this.#load();
      if (!record) return;
      try {
        for (let step = 0; step < MAX_STEPS_PER_RUN; step++) {
          const work = dueNow(record, Date.now());
          if (!work) break;
          // A node out of rotation takes no submit: the machine moves the task on (or fails it) instead.
          const refused = work === 'submit' ? await nodeAdmission(this.env, record) : null;
          if (refused) {
            record = await this.#commit(record, await this.#apply(record, refused));
            continue;
          }
          if (work === 'submit' && nodeOf(record)?.mode === 'sync') {
            // Saved before the call goes out: from now on the provider is generating, and a cancel is refused.
            record = await this.#commit(record, await this.#apply(record, { type: 'submit_started' }));
          }
          record = await this.#commit(record, await this.#apply(record, await performWork(this.env, work, record)));
        }
      } finally {
        await this.#arm(record);
      }
    });
  }
}

/** The task's object; one per task id. */
export function taskStub(env: Env, taskId: string): DurableObjectStub<TaskDO> {
  return env.TASKS.get(env.TASKS.idFromName(taskId));
}
