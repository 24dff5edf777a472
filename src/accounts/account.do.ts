import { DurableObject } from 'cloudflare:workers';
import { config } from '../config';
import type { Env } from '../env';
import { randomBase62 } from '../ids';
import { createWebhookSecretTable, readWebhookSecrets, rotateWebhookSecret, type WebhookSecrets } from './webhook-secrets';
import type {
  CreditsView,
  LedgerEntry,
  LedgerKind,
  Reconciliation,
  ReserveResult,
  ResolveResult,
  TopUpResult,
} from './ledger';

/** How long after its task's deadline a reservation may still be open: the time to settle it. */
export const SETTLE_GRACE_MS = 60_000;
/** An open reservation this old with no live task behind it is returned by the sweep. */
export const STALE_RESERVATION_MS = 15 * 60_000;
const SWEEP_INTERVAL_MS = 5 * 60_000;

interface LedgerRow extends Record<string, SqlStorageValue> {
  seq: number;
  id: string;
  kind: LedgerKind;
  amount: number;
  task_id: string | null;
  reference: string | null;
  balance_after: number;
  created_at: string;
}

/**
 * One object per account: the balance and its append-only ledger, in the object's SQLite.
 *
 * Every money operation is synchronous SQL inside `transactionSync`, so no other request can run
 * between reading the balance and writing the entry, and a failure rolls the whole operation back.
 * Each task's `reserve`, `settle` and `refund` rows are unique per (task_id, kind) and a task gets at
 * most one of settle/refund, which makes every call safe to retry.
 */
export class AccountDO extends DurableObject<Env> {
  #sql: SqlStorage;
  /** The sweep alarm is known to be set; saves a storage read on every reservation. */
  #sweepArmed = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    this.#sql.exec(`
      CREATE TABLE IF NOT EXISTS account (
        singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
        account_id TEXT NOT NULL,
        balance INTEGER NOT NULL CHECK (balance >= 0),
        reserved INTEGER NOT NULL CHECK (reserved >= 0)
      );
      CREATE TABLE IF NOT EXISTS ledger (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL CHECK (kind IN ('topup', 'reserve', 'settle', 'refund')),
        amount INTEGER NOT NULL CHECK (amount > 0),
        task_id TEXT,
        reference TEXT,
        balance_after INTEGER NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE UNIQUE INDEX IF NOT EXISTS ledger_task_kind ON ledger (task_id, kind) WHERE task_id IS NOT NULL;
      CREATE UNIQUE INDEX IF NOT EXISTS ledger_reference ON ledger (reference) WHERE reference IS NOT NULL;
      CREATE TABLE IF NOT EXISTS open_reservations (
        task_id TEXT PRIMARY KEY,
        amount INTEGER NOT NULL,
        created_at TEXT NOT NULL
      );
    `);
    createWebhookSecretTable(this.#sql);
  }

  #account(accountId?: string): { account_id: string; balance: number; reserved: number } {
    const row = this.#sql
      .exec<{ account_id: string; balance: number; reserved: number }>('SELECT account_id, balance, reserved FROM account')
      .toArray()[0];
    if (row) return row;
    const fresh = { account_id: accountId ?? '', balance: 0, reserved: 0 };
    if (accountId) {
      this.#sql.exec('INSERT INTO account (singleton, account_id, balance, reserved) VALUES (1, ?, 0, 0)', accountId);
    }
    return fresh;
  }

  #append(kind: LedgerKind, amount: number, balanceAfter: number, taskId: string | null, reference: string | null) {
    this.#sql.exec(
      'INSERT INTO ledger (id, kind, amount, task_id, reference, balance_after, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      `led_${randomBase62(20)}`,
      kind,
      amount,
      taskId,
      reference,
      balanceAfter,
      new Date().toISOString(),
    );
  }

  #entry(taskId: string, kind: LedgerKind): LedgerRow | undefined {
    return this.#sql.exec<LedgerRow>('SELECT * FROM ledger WHERE task_id = ? AND kind = ?', taskId, kind).toArray()[0];
  }

  /** Adds credits once per `reference`; a repeat answers with the balance the first call produced. */
  topUp(accountId: string, amount: number, reference: string): TopUpResult {
    return this.ctx.storage.transactionSync((): TopUpResult => {
      const seen = this.#sql.exec<LedgerRow>('SELECT * FROM ledger WHERE reference = ?', reference).toArray()[0];
      if (seen) {
        if (seen.amount !== amount) {
          return {
            ok: false,
            reason: 'reference_conflict',
            message: `reference ${reference} was already used for a top-up of ${seen.amount} credits`,
          };
        }
        return { ok: true, account_id: accountId, balance: seen.balance_after, duplicate: true };
      }
      const account = this.#account(accountId);
      const balance = account.balance + amount;
      if (!Number.isSafeInteger(balance)) throw new RangeError('balance would overflow');
      this.#sql.exec('UPDATE account SET balance = ?', balance);
      this.#append('topup', amount, balance, null, reference);
      return { ok: true, account_id: accountId, balance, duplicate: false };
    });
  }

  /** Moves a task's price from balance to reserved, unless the balance cannot cover it. Idempotent per task. */
  async reserve(accountId: string, taskId: string, price: number): Promise<ReserveResult> {
    const result = this.ctx.storage.transactionSync((): ReserveResult => {
      const account = this.#account(accountId);
      if (this.#entry(taskId, 'reserve')) return { ok: true, balance: account.balance };
      if (account.balance < price) return { ok: false, reason: 'insufficient_credits', balance: account.balance, price };
      const balance = account.balance - price;
      this.#sql.exec('UPDATE account SET balance = ?, reserved = reserved + ?', balance, price);
      this.#sql.exec(
        'INSERT INTO open_reservations (task_id, amount, created_at) VALUES (?, ?, ?)',
        taskId,
        price,
        new Date().toISOString(),
      );
      this.#append('reserve', price, balance, taskId, null);
      return { ok: true, balance };
    });
    if (result.ok && !this.#sweepArmed) {
      if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + STALE_RESERVATION_MS);
      this.#sweepArmed = true;
    }
    return result;
  }

  /**
   * Ends a task's reservation, charging `charge` of it (clamped to the reserved amount) and
   * returning the rest: the whole price for a task that succeeded, nothing for one that failed,
   * and the price of the images delivered when a provider filtered some of them. Only the first call
   * for a task changes anything; later calls (alarm re-runs, retries) report what was charged.
   */
  resolve(taskId: string, charge: number): ResolveResult {
    return this.ctx.storage.transactionSync((): ResolveResult => {
      const settled = this.#entry(taskId, 'settle');
      if (settled || this.#entry(taskId, 'refund')) return { applied: false, charged: settled?.amount ?? 0 };
      const reservation = this.#entry(taskId, 'reserve');
      if (!reservation) throw new Error(`no reservation for ${taskId}`);
      const account = this.#account();
      const charged = Math.min(Math.max(0, Math.floor(charge)), reservation.amount);
      const returned = reservation.amount - charged;
      const balance = account.balance + returned;
      this.#sql.exec('UPDATE account SET balance = ?, reserved = reserved - ?', balance, reservation.amount);
      this.#sql.exec('DELETE FROM open_reservations WHERE task_id = ?', taskId);
      if (charged > 0) this.#append('settle', charged, account.balance, taskId, null);
      if (returned > 0) this.#append('refund', returned, balance, taskId, null);
      return { applied: true, charged };
    });
  }

  /** Balance, reserved credits and the ledger, newest first, `limit` entries after `cursor`. */
  credits(accountId: string, options: { limit: number; cursor?: string }): CreditsView {
    const account = this.#account();
    const before = options.cursor ? Number(options.cursor) : Number.MAX_SAFE_INTEGER;
    const rows = this.#sql
      .exec<LedgerRow>('SELECT * FROM ledger WHERE seq < ? ORDER BY seq DESC LIMIT ?', before, options.limit + 1)
      .toArray();
    const page = rows.slice(0, options.limit);
    const ledger: LedgerEntry[] = page.map((row) => ({
      id: row.id,
      kind: row.kind,
      amount: row.amount,
      ...(row.task_id ? { task_id: row.task_id } : {}),
      ...(row.reference ? { reference: row.reference } : {}),
      balance_after: row.balance_after,
      created_at: row.created_at,
    }));
    const last = page.at(-1);
    return {
      account_id: accountId,
      balance: account.balance,
      reserved: account.reserved,
      ledger,
      next_cursor: rows.length > options.limit && last ? String(last.seq) : null,
    };
  }

  /** Recomputes the balance from the ledger and compares it with the stored one. */
  reconcile(accountId: string): Reconciliation {
    const account = this.#account();
    const sums = Object.fromEntries(
      this.#sql
        .exec<{ kind: LedgerKind; total: number }>('SELECT kind, SUM(amount) AS total FROM ledger GROUP BY kind')
        .toArray()
        .map((r) => [r.kind, r.total]),
    ) as Partial<Record<LedgerKind, number>>;
    // A task ends by its deadline and settles right after; a reservation older than that is stuck.
    const overdueBefore = Date.now() - config(this.env).taskDeadlineMs - SETTLE_GRACE_MS;
    const open = this.#sql
      .exec<{ task_id: string; amount: number; created_at: string }>(
        'SELECT task_id, amount, created_at FROM open_reservations ORDER BY created_at',
      )
      .toArray()
      .map((r) => ({ ...r, overdue: Date.parse(r.created_at) < overdueBefore }));
    const openTotal = open.reduce((sum, r) => sum + r.amount, 0);
    const topups = sums.topup ?? 0;
    const settled = sums.settle ?? 0;
    const refunded = sums.refund ?? 0;
    const reservedByLedger = (sums.reserve ?? 0) - settled - refunded;
    return {
      account_id: accountId,
      balance: account.balance,
      reserved: account.reserved,
      topups,
      settled,
      refunded,
      open_reservations: open,
      consistent:
        topups - settled - openTotal === account.balance &&
        account.reserved === openTotal &&
        reservedByLedger === openTotal,
    };
  }

  /** The account's webhook signing secrets; the first is created on first need. */
  webhookSecrets(): WebhookSecrets {
    return this.ctx.storage.transactionSync(() => readWebhookSecrets(this.#sql, Date.now()));
  }

  /** Replaces the current webhook secret; the old one keeps signing for `graceSeconds`. */
  rotateWebhookSecret(graceSeconds: number): WebhookSecrets {
    return this.ctx.storage.transactionSync(() => rotateWebhookSecret(this.#sql, graceSeconds, Date.now()));
  }

  /**
   * Sweeps reservations whose task never came to life (the Worker died between reserving and
   * creating the task) or whose task ended without reaching us. The task object is asked what
   * became of it; tasks still running are left alone.
   */
  override async alarm(): Promise<void> {
    // Until this run re-arms it, there is no alarm: a reservation meanwhile must set one.
    this.#sweepArmed = false;
    const cutoff = new Date(Date.now() - STALE_RESERVATION_MS).toISOString();
    const stale = this.#sql
      .exec<{ task_id: string }>('SELECT task_id FROM open_reservations WHERE created_at <= ?', cutoff)
      .toArray();
    for (const { task_id } of stale) {
      try {
        const fate = await this.env.TASKS.get(this.env.TASKS.idFromName(task_id)).billingOutcome();
        if (fate) this.resolve(task_id, fate.charge);
      } catch (err) {
        // One unreachable task must not stop the sweep of the others; it is asked again next time.
        console.error(JSON.stringify({ level: 'error', task_id, sweep: String(err) }));
      }
    }
    const remaining = this.#sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM open_reservations').one().n;
    this.#sweepArmed = remaining > 0;
    if (remaining > 0) await this.ctx.storage.setAlarm(Date.now() + SWEEP_INTERVAL_MS);
  }
}

/** The account's object; one per account id. */
export function accountStub(env: Env, accountId: string): DurableObjectStub<AccountDO> {
  return env.ACCOUNTS.get(env.ACCOUNTS.idFromName(accountId));
}
