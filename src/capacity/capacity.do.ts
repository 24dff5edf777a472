import { DurableObject } from 'cloudflare:workers';
import { config } from '../config';
import type { Env } from '../env';
import { log } from '../log';
import {
  admit,
  applySettings,
  expireLeases,
  type Holder,
  holdersToCheck,
  newPool,
  nextWakeAt,
  type PoolSettings,
  type PoolState,
  positionsToTell,
  release,
  renew,
  type Throttle,
} from './fair-queue';
import { slotsFor } from './pools';
import type { SlotAnswer } from './slot';

/** Position updates go out in batches, at most this often, rather than one per grant. */
const TELL_EVERY_MS = 250;
/** Position pushes in flight at once. */
const TELL_CONCURRENCY = 16;

/** What the pool looks like, for operators, tests and the bench. */
export interface CapacityStats {
  pool: string | null;
  cap: number;
  limit: number;
  holders: number;
  waiting: number;
  peak: number;
  granted: number;
  throttled: number;
  expired: number;
}

type Row = Record<string, SqlStorageValue>;

/**
 * One object per provider account (`idFromName(pool)`, pools.ts): the one place that knows how much
 * work that account has in flight. Tasks ask it for a submit slot before submitting and give it back
 * when their provider job ends; those that must wait are queued fairly across customer accounts
 * (fair-queue.ts), and when a slot frees the object tells the next task itself (push, not polling),
 * through the task object's RPC. Slots are leases: a task that dies without giving its slot back
 * loses it when the lease runs out, and sooner when its object, asked about a slot not renewed for a
 * while, answers that it no longer wants it (it ended, or never got to record the grant).
 *
 * The queue lives in memory, loaded once from SQLite, and every change is written through before
 * the answer goes out, so a restart loses nothing but the positions last told.
 */
export class CapacityDO extends DurableObject<Env> {
  #sql: SqlStorage;
  #pool: PoolState | null = null;
  #name: string | null = null;
  #tellPending = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    ctx.blockConcurrencyWhile(async () => this.#load());
  }

  #load(): void {
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS pool (singleton INTEGER PRIMARY KEY CHECK (singleton = 1), name TEXT NOT NULL, state TEXT NOT NULL)`);
    this.#sql.exec(
      `CREATE TABLE IF NOT EXISTS holders (task_id TEXT PRIMARY KEY, account_id TEXT NOT NULL, granted_at INTEGER NOT NULL, lease_until INTEGER NOT NULL)`,
    );
    this.#sql.exec(
      `CREATE TABLE IF NOT EXISTS waiting (task_id TEXT PRIMARY KEY, account_id TEXT NOT NULL, round INTEGER NOT NULL, seq INTEGER NOT NULL, enqueued_at INTEGER NOT NULL, shown INTEGER NOT NULL)`,
    );
    // Apart from `waiting` and `holders` so their older rows need no migration: the few tasks the provider refused.
    this.#sql.exec(`CREATE TABLE IF NOT EXISTS strikes (task_id TEXT PRIMARY KEY, strikes INTEGER NOT NULL, not_before INTEGER NOT NULL)`);
    const row = this.#sql.exec<Row>('SELECT name, state FROM pool').toArray()[0];
    if (!row) return;
    this.#name = String(row.name);
    const pool = { ...newPool({ cap: 1, lease_ms: 0 }), ...(JSON.parse(String(row.state)) as Partial<PoolState>) };
    pool.holders = new Map();
    pool.waiting = new Map();
    pool.last_round = new Map();
    const strikes = new Map<string, { strikes: number; not_before: number }>();
    for (const s of this.#sql.exec<Row>('SELECT * FROM strikes')) strikes.set(String(s.task_id), { strikes: Number(s.strikes), not_before: Number(s.not_before) });
    for (const h of this.#sql.exec<Row>('SELECT * FROM holders')) {
      pool.holders.set(String(h.task_id), {
        task_id: String(h.task_id),
        account_id: String(h.account_id),
        granted_at: Number(h.granted_at),
        lease_until: Number(h.lease_until),
        strikes: strikes.get(String(h.task_id))?.strikes ?? 0,
      });
    }
    for (const w of this.#sql.exec<Row>('SELECT * FROM waiting')) {
      const waiter = {
        task_id: String(w.task_id),
        account_id: String(w.account_id),
        round: Number(w.round),
        seq: Number(w.seq),
        enqueued_at: Number(w.enqueued_at),
        shown: Number(w.shown),
        strikes: strikes.get(String(w.task_id))?.strikes ?? 0,
        not_before: strikes.get(String(w.task_id))?.not_before ?? 0,
      };
      pool.waiting.set(waiter.task_id, waiter);
      pool.last_round.set(waiter.account_id, Math.max(pool.last_round.get(waiter.account_id) ?? Number.NEGATIVE_INFINITY, waiter.round));
    }
    this.#pool = pool;
  }

  #settings(): PoolSettings {
    const settings = config(this.env);
    return { cap: slotsFor(settings, this.#name ?? ''), lease_ms: settings.slotLeaseMs };
  }

  /** The pool, created on first use; its cap follows the configuration. */
  #open(name: string | null): { pool: PoolState; settings: PoolSettings } {
    if (name !== null && this.#name === null) this.#name = name;
    const settings = this.#settings();
    this.#pool ??= newPool(settings);
    applySettings(this.#pool, settings);
    return { pool: this.#pool, settings };
  }

  /** Writes the pool's counters and the rows of the tasks named through (holder, waiter, or neither). */
  #save(taskIds: Iterable<string>): void {
    const pool = this.#pool!;
    const { holders: _h, waiting: _w, last_round: _l, ...scalars } = pool;
    this.#sql.exec('INSERT OR REPLACE INTO pool (singleton, name, state) VALUES (1, ?, ?)', this.#name ?? '', JSON.stringify(scalars));
    for (const id of new Set(taskIds)) {
      const holder = pool.holders.get(id);
      const waiter = pool.waiting.get(id);
      if (holder) {
        this.#sql.exec('INSERT OR REPLACE INTO holders VALUES (?, ?, ?, ?)', id, holder.account_id, holder.granted_at, holder.lease_until);
      } else {
        this.#sql.exec('DELETE FROM holders WHERE task_id = ?', id);
      }
      if (waiter) {
        const shown = Number.isFinite(waiter.shown) ? waiter.shown : 2 ** 31;
        this.#sql.exec('INSERT OR REPLACE INTO waiting VALUES (?, ?, ?, ?, ?, ?)', id, waiter.account_id, waiter.round, waiter.seq, waiter.enqueued_at, shown);
      } else {
        this.#sql.exec('DELETE FROM waiting WHERE task_id = ?', id);
      }
      const struck = waiter ?? holder;
      if (struck && struck.strikes > 0) {
        this.#sql.exec('INSERT OR REPLACE INTO strikes VALUES (?, ?, ?)', id, struck.strikes, waiter?.not_before ?? 0);
      } else {
        this.#sql.exec('DELETE FROM strikes WHERE task_id = ?', id);
      }
    }
  }

  /**
   * A task asks for a slot of pool `name` before submitting: granted now, or a place in the queue
   * (it is then told when granted). Asking again is safe: a holder asking again (its answer or the
   * push was lost, e.g. to a restart) gets its slot confirmed, not a second one. `throttle`: the
   * provider answered this holder's submit 429 anyway; the slot goes back and the task waits again
   * (fair-queue.ts: when that lowers the limit, and where the task waits).
   */
  async acquire(name: string, request: { task_id: string; account_id: string; throttle: Throttle | null }): Promise<SlotAnswer> {
    const { pool, settings } = this.#open(name);
    const now = Date.now();
    const { admission, granted } = admit(pool, settings, request, now);
    this.#save([request.task_id, ...granted.map((g) => g.task_id)]);
    this.#grantedTo(granted, settings);
    await this.#arm(now, true);
    return admission.granted ? { granted: true, lease_ms: admission.lease_until - now } : { granted: false, position: admission.position };
  }

  /**
   * The task's provider job ended (or the task left the queue): its slot or place goes to the next
   * task. `accepted`: the provider took its submit, a success that grows a lowered limit back.
   */
  async release(taskId: string, accepted: boolean): Promise<void> {
    if (!this.#pool) return;
    const { pool, settings } = this.#open(null);
    const now = Date.now();
    const granted = release(pool, settings, taskId, accepted, now);
    this.#save([taskId, ...granted.map((g) => g.task_id)]);
    this.#grantedTo(granted, settings);
    await this.#arm(now, true);
  }

  /** Renews a holder's lease: its length in milliseconds, or null when the task no longer holds a slot. */
  async renew(taskId: string): Promise<number | null> {
    if (!this.#pool) return null;
    const { pool, settings } = this.#open(null);
    const until = renew(pool, settings, taskId, Date.now());
    if (until === null) return null;
    this.#save([taskId]);
    return settings.lease_ms;
  }

  async stats(): Promise<CapacityStats> {
    const { pool, settings } = this.#open(null);
    const { limit, holders, waiting, peak, granted, throttled, expired } = pool;
    return { pool: this.#name, cap: settings.cap, limit, holders: holders.size, waiting: waiting.size, peak, granted, throttled, expired };
  }

  /** Tells each task granted a slot; a task that no longer exists or wants it gives it straight back. */
  #grantedTo(granted: readonly Holder[], settings: PoolSettings): void {
    for (const holder of granted) {
      const task = this.env.TASKS.get(this.env.TASKS.idFromName(holder.task_id));
      this.ctx.waitUntil(
        task
          .slotGranted(this.#name ?? '', settings.lease_ms)
          .then((kept) => (kept ? undefined : this.release(holder.task_id, false)))
          // Not lost: the task asks again while queued, and an unclaimed slot's lease runs out.
          .catch((err: unknown) => log.warn('capacity_grant_not_delivered', { pool: this.#name, task_id: holder.task_id }, err)),
      );
    }
  }

  /**
   * Asks the tasks of holders not heard from for a while whether they still want their slot: kept
   * (and renewed) if so, else given to the next task. No answer: asked again later, and the lease
   * still bounds it.
   */
  async #check(holders: readonly Holder[]): Promise<void> {
    for (let i = 0; i < holders.length; i += TELL_CONCURRENCY) {
      await Promise.allSettled(
        holders.slice(i, i + TELL_CONCURRENCY).map(async (holder) => {
          const wanted = await this.env.TASKS.get(this.env.TASKS.idFromName(holder.task_id)).slotWanted(this.#name ?? '');
          // Only the grant asked about: the task may have given it back and been granted again meanwhile.
          if (this.#pool?.holders.get(holder.task_id) !== holder) return;
          if (wanted) {
            await this.renew(holder.task_id);
          } else {
            log.warn('capacity_slot_unwanted', { pool: this.#name, task_id: holder.task_id, account_id: holder.account_id });
            this.#pool.expired++;
            await this.release(holder.task_id, false);
          }
        }),
      );
    }
    await this.#arm(Date.now(), false);
  }

  /** Sets the alarm for the next lease to run out, the end of a pause, and (`moved`) a batch of positions to tell. */
  async #arm(now: number, moved: boolean): Promise<void> {
    if (moved && this.#pool && this.#pool.waiting.size > 0) this.#tellPending = true;
    const wake = this.#pool ? nextWakeAt(this.#pool, this.#settings(), now) : null;
    const at = Math.min(wake ?? Number.POSITIVE_INFINITY, this.#tellPending ? now + TELL_EVERY_MS : Number.POSITIVE_INFINITY);
    if (!Number.isFinite(at)) return;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at || current < now) await this.ctx.storage.setAlarm(Math.max(at, now + 1));
  }

  override async alarm(): Promise<void> {
    if (!this.#pool) return;
    const { pool, settings } = this.#open(null);
    const now = Date.now();
    const { expired, granted } = expireLeases(pool, settings, now);
    for (const holder of expired) log.warn('capacity_lease_expired', { pool: this.#name, task_id: holder.task_id, account_id: holder.account_id });
    this.#save([...expired, ...granted].map((h) => h.task_id));
    this.#grantedTo(granted, settings);
    this.#tellPending = false;
    const told = positionsToTell(pool);
    const check = holdersToCheck(pool, settings, now);
    await this.#arm(now, false);
    await this.#check(check);
    // After the alarm is set again: a slow task object delays only the positions after it.
    for (let i = 0; i < told.length; i += TELL_CONCURRENCY) {
      await Promise.allSettled(
        told.slice(i, i + TELL_CONCURRENCY).map(({ task_id, position }) =>
          this.env.TASKS.get(this.env.TASKS.idFromName(task_id)).queueMoved(this.#name ?? '', position),
        ),
      );
    }
  }
}

/** The capacity object of a pool (a provider account). */
export function capacityStub(env: Env, pool: string): DurableObjectStub<CapacityDO> {
  return env.CAPACITY.get(env.CAPACITY.idFromName(pool));
}
