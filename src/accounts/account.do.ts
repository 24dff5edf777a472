import { DurableObject } from 'cloudflare:workers';
import { config } from '../config';
import type { Env } from '../env';
import { log } from '../log';
import type { TaskStatus } from '../tasks/task.schema';
import {
  acceptedAnswer,
  checkIdempotencyKey,
  claimIdempotencyKey,
  completeIdempotencyKey,
  createIdempotencyTable,
  IN_FLIGHT_STALE_MS,
  nextIdempotencyWork,
  pruneIdempotencyKeys,
  releaseIdempotencyKeyOf,
  staleInFlightKeys,
  type IdempotencyClaim,
  type IdempotencyConflict,
  type IdempotentAnswer,
} from './idempotency';
import {
  createLedgerTables,
  creditsPage,
  hasReserved,
  oldestOpenReservation,
  reconcileLedger,
  reservationsOpenSince,
  reserveCredits,
  resolveReservation,
  topUpCredits,
  type CreditsView,
  type Reconciliation,
  type ResolveResult,
  type TopUpResult,
} from './ledger';
import {
  advanceTaskStatus,
  createTaskIndexTable,
  indexTask,
  isFinalStatus,
  listIndexedTasks,
  unindexTask,
  type TaskIndexPage,
  type TaskIndexQuery,
} from './task-index';
import { createWebhookSecretTable, readWebhookSecrets, rotateWebhookSecret, type WebhookSecrets } from './webhook-secrets';
import { type AccountLimits, createRateLimitTable, type RateDecision, RequestLimiter } from './rate-limit';

/** How long after its task's deadline a reservation may still be open: the time to settle it. */
export const SETTLE_GRACE_MS = 60_000;
/**
 * An open reservation this old with no live task behind it is returned by the sweep. A task object
 * exists milliseconds after its reservation unless the Worker died in between (the chaos run's
 * kills find such gaps), so after two minutes a missing task never comes: its credits go back then,
 * not after the task's deadline. Running tasks' reservations are only asked about, every
 * `RETRY_INTERVAL_MS`, until they settle.
 */
export const STALE_RESERVATION_MS = 2 * 60_000;
/** How soon the alarm tries again work that is due but could not be done (a task that is still running or unreachable). */
const RETRY_INTERVAL_MS = 5 * 60_000;

export type ReserveResult =
  | { ok: true; balance: number }
  | { ok: false; reason: 'insufficient_credits'; balance: number; price: number }
  | ({ ok: false } & IdempotencyConflict);

/** What `reserve` is told about the task beyond its price: what the task index lists, and the client's idempotency key. */
export interface ReservedTask {
  model: string;
  idempotency?: IdempotencyClaim;
}

/**
 * One object per account, in the object's SQLite: the balance and its ledger (ledger.ts), the
 * idempotency keys of task creation (idempotency.ts), the task index (task-index.ts) and the request
 * rate limit (rate-limit.ts). This class is the RPC surface and the transactions; the SQL lives in
 * those modules.
 *
 * One alarm serves all timed work: the sweep of stale reservations, entries of idempotency keys a
 * crash left in flight, and the pruning of old keys. It is set for the earliest of them (`#armBy`
 * when work is added, `#scheduleNext` at the end of each run) and is safe to run again.
 */
export class AccountDO extends DurableObject<Env> {
  #sql: SqlStorage;
  /** The alarm time as this instance last saw it: undefined when unknown, null when none is set. */
  #alarmAt: number | null | undefined;
  #requestLimiter: RequestLimiter | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    createLedgerTables(this.#sql);
    createWebhookSecretTable(this.#sql);
    createIdempotencyTable(this.#sql);
    createTaskIndexTable(this.#sql);
    createRateLimitTable(this.#sql);
  }

  get #requests(): RequestLimiter {
    return (this.#requestLimiter ??= new RequestLimiter(this.#sql, config(this.env).requestsPerMinute));
  }

  /**
   * Counts customer requests against the account's rate limit (rate-limit.ts): allowed or not, and what
   * is left. The asking isolate gets up to `want` tokens (`granted`) for its requests of the next
   * second (src/api/token-leases.ts).
   */
  takeRequests(want: number): RateDecision {
    return this.#requests.take(Date.now(), want);
  }

  /** The account's rate limit: the one the BFF set, or the deployment's default. */
  requestLimits(): AccountLimits {
    return this.#requests.limits();
  }

  /** Sets the account's rate limit; it applies from the next request on. */
  setRequestLimits(requestsPerMinute: number): AccountLimits {
    return this.#requests.set(requestsPerMinute, Date.now());
  }

  /** Adds credits once per `reference`; a repeat answers with the balance the first call produced. */
  topUp(accountId: string, amount: number, reference: string): TopUpResult {
    return this.ctx.storage.transactionSync(() => topUpCredits(this.#sql, accountId, amount, reference, Date.now()));
  }

  /**
   * Moves a task's price from balance to reserved, unless the balance cannot cover it; idempotent
   * per task. With `task`, the same transaction lists the task in the index and, with an
   * idempotency key, claims the key for it: a key already used answers instead (its first answer to
   * replay, `idempotency_key_reused` for another body, `idempotency_in_flight` while its first request
   * runs) and reserves nothing. A refused reservation leaves no trace, so the key stays free.
   */
  async reserve(accountId: string, taskId: string, price: number, task?: ReservedTask): Promise<ReserveResult> {
    const now = Date.now();
    const claim = task?.idempotency;
    const result = this.ctx.storage.transactionSync((): ReserveResult => {
      const conflict = claim ? checkIdempotencyKey(this.#sql, claim, taskId) : null;
      if (conflict) return { ok: false, ...conflict };
      const reserved = reserveCredits(this.#sql, accountId, taskId, price, now);
      if (!reserved.ok) return reserved;
      if (task) indexTask(this.#sql, taskId, task.model, now);
      if (claim) claimIdempotencyKey(this.#sql, claim, taskId, now);
      return { ok: true, balance: reserved.balance };
    });
    if (result.ok) await this.#armBy(now + (claim ? IN_FLIGHT_STALE_MS : STALE_RESERVATION_MS));
    return result;
  }

  /**
   * Ends a task's reservation, charging `charge` of it (clamped to the reserved amount) and
   * returning the rest: the whole price for a task that succeeded, nothing for one that failed,
   * and the price of the images delivered when a provider filtered some of them. Only the first call
   * for a task changes anything; later calls (alarm re-runs, retries) report what was charged.
   * The task index gets the task's final `status`; without one (or with a running one), `succeeded`
   * when something was charged, else `failed`.
   */
  resolve(taskId: string, charge: number, status?: TaskStatus): ResolveResult {
    return this.ctx.storage.transactionSync((): ResolveResult => {
      const result = resolveReservation(this.#sql, taskId, charge, Date.now());
      if (result.applied) {
        const final = status !== undefined && isFinalStatus(status) ? status : result.charged > 0 ? 'succeeded' : 'failed';
        advanceTaskStatus(this.#sql, taskId, final);
      }
      return result;
    });
  }

  /**
   * A creation that reserved but whose task will never exist: the reservation is refunded in full,
   * the task leaves the index and its idempotency key (if any) is free again. Safe to repeat.
   */
  abandonCreation(taskId: string): void {
    this.ctx.storage.transactionSync(() => {
      if (hasReserved(this.#sql, taskId)) resolveReservation(this.#sql, taskId, 0, Date.now());
      unindexTask(this.#sql, taskId);
      releaseIdempotencyKeyOf(this.#sql, taskId);
    });
  }

  /**
   * Stores the first answer of the request that claimed `key` for `taskId`, for replays. The answer
   * is whatever the route sent (its status and exact JSON text). False when the entry was no longer
   * in flight (already completed, or freed by the alarm).
   */
  completeIdempotency(key: string, taskId: string, answer: IdempotentAnswer): boolean {
    return this.ctx.storage.transactionSync(() => completeIdempotencyKey(this.#sql, key, taskId, answer));
  }

  /**
   * Told by the task object when a running task changes status (pending → queued → processing).
   * Moves the index forward only: late or repeated reports change nothing, nor does anything after a
   * final status. False when nothing changed.
   */
  noteTaskStatus(taskId: string, status: TaskStatus): boolean {
    return advanceTaskStatus(this.#sql, taskId, status);
  }

  /** A page of the account's task ids from the index, newest first. */
  listTasks(query: TaskIndexQuery): TaskIndexPage {
    return listIndexedTasks(this.#sql, query);
  }

  /** Balance, reserved credits and the ledger, newest first, `limit` entries after `cursor`. */
  credits(accountId: string, options: { limit: number; cursor?: string }): CreditsView {
    return creditsPage(this.#sql, accountId, options);
  }

  /** Recomputes the balance from the ledger and compares it with the stored one. */
  reconcile(accountId: string): Reconciliation {
    // A task ends by its deadline and settles right after; a reservation older than that is stuck.
    return reconcileLedger(this.#sql, accountId, Date.now() - config(this.env).taskDeadlineMs - SETTLE_GRACE_MS);
  }

  /** The account's webhook signing secrets; the first is created on first need. */
  webhookSecrets(): WebhookSecrets {
    return this.ctx.storage.transactionSync(() => readWebhookSecrets(this.#sql, Date.now()));
  }

  /** Replaces the current webhook secret; the old one keeps signing for `graceSeconds`. */
  rotateWebhookSecret(graceSeconds: number): WebhookSecrets {
    return this.ctx.storage.transactionSync(() => rotateWebhookSecret(this.#sql, graceSeconds, Date.now()));
  }

  /** All of the account's timed work; each part is safe to repeat, and one failing task does not stop the others. */
  override async alarm(): Promise<void> {
    // This run's alarm is spent: until #scheduleNext sets the next, work added meanwhile arms its own.
    this.#alarmAt = undefined;
    await this.#sweepReservations(Date.now());
    await this.#settleInFlightKeys(Date.now());
    pruneIdempotencyKeys(this.#sql, Date.now());
    await this.#scheduleNext();
  }

  // Not `taskStub`: tasks/ imports this folder, so this one names the task object by the binding alone.
  #task(taskId: string) {
    return this.env.TASKS.get(this.env.TASKS.idFromName(taskId));
  }

  /**
   * Sweeps reservations whose task never came to life (the Worker died between reserving and
   * creating the task) or whose task ended without reaching us. The task object is asked what
   * became of it; tasks still running are left alone (and a lost alarm of theirs is restored).
   */
  async #sweepReservations(now: number): Promise<void> {
    for (const taskId of reservationsOpenSince(this.#sql, now - STALE_RESERVATION_MS)) {
      try {
        const fate = await this.#task(taskId).billingOutcome();
        if (!fate) continue;
        // No status: the task was never created (and now never will be).
        if (fate.status) this.resolve(taskId, fate.charge, fate.status);
        else this.abandonCreation(taskId);
      } catch (err) {
        // One unreachable task must not stop the sweep of the others; it is asked again next time.
        log.error('reservation_sweep_failed', { task_id: taskId }, err);
      }
    }
  }

  /**
   * Settles idempotency entries a crash left in flight (reserved, never answered), so they do not
   * block their key for ever. We ask the task object, which alone knows whether the task exists:
   * - it exists: the creation happened and was paid for, so the key keeps it: the entry is completed
   *   with the answer the route gives without `Prefer: wait` (202, the task's short form), and a retry
   *   gets that task rather than a second one;
   * - it does not: `existingOrAbandon` makes sure it never will, so the reservation is refunded, the
   *   task leaves the index and the key is free for a new attempt.
   */
  async #settleInFlightKeys(now: number): Promise<void> {
    for (const { key, task_id } of staleInFlightKeys(this.#sql, now)) {
      try {
        const task = await this.#task(task_id).existingOrAbandon();
        if (!task) {
          this.abandonCreation(task_id);
          continue;
        }
        const answer = acceptedAnswer(task);
        this.completeIdempotency(key, task_id, { status: answer.status, body: JSON.stringify(answer.body) });
      } catch (err) {
        log.error('idempotency_settle_failed', { task_id }, err);
      }
    }
  }

  /** Sets the alarm for the earliest due work (work already overdue is retried after an interval), or deletes it. */
  async #scheduleNext(): Promise<void> {
    const now = Date.now();
    const oldest = oldestOpenReservation(this.#sql);
    const due = [oldest === null ? null : oldest + STALE_RESERVATION_MS, nextIdempotencyWork(this.#sql)]
      .filter((t): t is number => t !== null)
      .map((t) => (t <= now ? now + RETRY_INTERVAL_MS : t));
    if (due.length === 0) {
      await this.ctx.storage.deleteAlarm();
      this.#alarmAt = null;
      return;
    }
    this.#alarmAt = Math.min(...due);
    await this.ctx.storage.setAlarm(this.#alarmAt);
  }

  /** Makes sure the alarm runs by `at`; an earlier alarm stays (it schedules the rest when it runs). */
  async #armBy(at: number): Promise<void> {
    if (this.#alarmAt === undefined) this.#alarmAt = await this.ctx.storage.getAlarm();
    if (this.#alarmAt !== null && this.#alarmAt <= at) return;
    this.#alarmAt = at;
    await this.ctx.storage.setAlarm(at);
  }
}

/** The account's object; one per account id. */
export function accountStub(env: Env, accountId: string): DurableObjectStub<AccountDO> {
  return env.ACCOUNTS.get(env.ACCOUNTS.idFromName(accountId));
}
