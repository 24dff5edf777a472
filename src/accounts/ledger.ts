import { randomBase62 } from '../ids';

/**
 * The account's money, in the AccountDO's SQLite: the `account` row (balance, reserved), the
 * append-only `ledger`, and `open_reservations`. Every function is synchronous SQL; the object runs
 * each money operation inside one `transactionSync`, so no request can run between reading the
 * balance and writing the entry, and a failure rolls the whole operation back.
 *
 * Ledger entry kinds. Amounts are always positive; the kind says where credits move:
 *   topup    +amount to balance
 *   reserve  balance → reserved, at task creation
 *   settle   reserved → spent, when the task succeeds (for the images it delivered)
 *   refund   reserved → balance, when the task fails or was never sent, or for images a
 *            provider filtered out of a successful task
 */
export type LedgerKind = 'topup' | 'reserve' | 'settle' | 'refund';

export interface LedgerEntry {
  id: string;
  kind: LedgerKind;
  amount: number;
  task_id?: string;
  reference?: string;
  balance_after: number;
  created_at: string;
}

export interface CreditsView {
  account_id: string;
  balance: number;
  reserved: number;
  ledger: LedgerEntry[];
  /** Pass as `cursor` to read older entries; null on the last page. */
  next_cursor: string | null;
}

export type TopUpResult =
  | { ok: true; account_id: string; balance: number; duplicate: boolean }
  | { ok: false; reason: 'reference_conflict'; message: string };

/** A reservation: `fresh` is false when this task had already reserved (a retry). */
export type ReserveCreditsResult =
  | { ok: true; balance: number; fresh: boolean }
  | { ok: false; reason: 'insufficient_credits'; balance: number; price: number };

/** What a reservation's end charged, and whether this call ended it (`applied: false`: it had already ended). */
export interface ResolveResult {
  applied: boolean;
  charged: number;
}

export interface Reconciliation {
  account_id: string;
  balance: number;
  reserved: number;
  topups: number;
  settled: number;
  refunded: number;
  /** `overdue`: open past its task's deadline and the time to settle it, which a healthy task never is. */
  open_reservations: { task_id: string; amount: number; created_at: string; overdue: boolean }[];
  /** topups − settled − open reservations === balance, and reserved === Σ open reservations. */
  consistent: boolean;
}

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

interface AccountRow extends Record<string, SqlStorageValue> {
  account_id: string;
  balance: number;
  reserved: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** Creates the tables if needed; the AccountDO calls it once per instance. */
export function createLedgerTables(sql: SqlStorage): void {
  sql.exec(`
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
}

/** The account row; created (empty) on first need when `accountId` is known. */
export function readAccount(sql: SqlStorage, accountId?: string): AccountRow {
  const row = sql.exec<AccountRow>('SELECT account_id, balance, reserved FROM account').toArray()[0];
  if (row) return row;
  if (accountId) sql.exec('INSERT INTO account (singleton, account_id, balance, reserved) VALUES (1, ?, 0, 0)', accountId);
  return { account_id: accountId ?? '', balance: 0, reserved: 0 };
}

function append(sql: SqlStorage, kind: LedgerKind, amount: number, balanceAfter: number, taskId: string | null, reference: string | null, now: number): void {
  sql.exec(
    'INSERT INTO ledger (id, kind, amount, task_id, reference, balance_after, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    `led_${randomBase62(20)}`,
    kind,
    amount,
    taskId,
    reference,
    balanceAfter,
    iso(now),
  );
}

function entry(sql: SqlStorage, taskId: string, kind: LedgerKind): LedgerRow | undefined {
  return sql.exec<LedgerRow>('SELECT * FROM ledger WHERE task_id = ? AND kind = ?', taskId, kind).toArray()[0];
}

/** Adds credits once per `reference`; a repeat answers with the balance the first call produced. */
export function topUpCredits(sql: SqlStorage, accountId: string, amount: number, reference: string, now: number): TopUpResult {
  const seen = sql.exec<LedgerRow>('SELECT * FROM ledger WHERE reference = ?', reference).toArray()[0];
  if (seen) {
    if (seen.amount !== amount) {
      return { ok: false, reason: 'reference_conflict', message: `reference ${reference} was already used for a top-up of ${seen.amount} credits` };
    }
    return { ok: true, account_id: accountId, balance: seen.balance_after, duplicate: true };
  }
  const balance = readAccount(sql, accountId).balance + amount;
  if (!Number.isSafeInteger(balance)) throw new RangeError('balance would overflow');
  sql.exec('UPDATE account SET balance = ?', balance);
  append(sql, 'topup', amount, balance, null, reference, now);
  return { ok: true, account_id: accountId, balance, duplicate: false };
}

/** Moves a task's price from balance to reserved, unless the balance cannot cover it. Idempotent per task. */
export function reserveCredits(sql: SqlStorage, accountId: string, taskId: string, price: number, now: number): ReserveCreditsResult {
  const account = readAccount(sql, accountId);
  if (entry(sql, taskId, 'reserve')) return { ok: true, balance: account.balance, fresh: false };
  if (account.balance < price) return { ok: false, reason: 'insufficient_credits', balance: account.balance, price };
  const balance = account.balance - price;
  sql.exec('UPDATE account SET balance = ?, reserved = reserved + ?', balance, price);
  sql.exec('INSERT INTO open_reservations (task_id, amount, created_at) VALUES (?, ?, ?)', taskId, price, iso(now));
  append(sql, 'reserve', price, balance, taskId, null, now);
  return { ok: true, balance, fresh: true };
}

/**
 * Ends a task's reservation, charging `charge` of it (clamped to the reserved amount) and returning
 * the rest. Only the first call for a task changes anything; later calls report what was charged.
 */
export function resolveReservation(sql: SqlStorage, taskId: string, charge: number, now: number): ResolveResult {
  const settled = entry(sql, taskId, 'settle');
  if (settled || entry(sql, taskId, 'refund')) return { applied: false, charged: settled?.amount ?? 0 };
  const reservation = entry(sql, taskId, 'reserve');
  if (!reservation) throw new Error(`no reservation for ${taskId}`);
  const account = readAccount(sql);
  const charged = Math.min(Math.max(0, Math.floor(charge)), reservation.amount);
  const returned = reservation.amount - charged;
  const balance = account.balance + returned;
  sql.exec('UPDATE account SET balance = ?, reserved = reserved - ?', balance, reservation.amount);
  sql.exec('DELETE FROM open_reservations WHERE task_id = ?', taskId);
  if (charged > 0) append(sql, 'settle', charged, account.balance, taskId, null, now);
  if (returned > 0) append(sql, 'refund', returned, balance, taskId, null, now);
  return { applied: true, charged };
}

/** Balance, reserved credits and the ledger, newest first, `limit` entries after `cursor`. */
export function creditsPage(sql: SqlStorage, accountId: string, options: { limit: number; cursor?: string }): CreditsView {
  const account = readAccount(sql);
  const before = options.cursor ? Number(options.cursor) : Number.MAX_SAFE_INTEGER;
  const rows = sql.exec<LedgerRow>('SELECT * FROM ledger WHERE seq < ? ORDER BY seq DESC LIMIT ?', before, options.limit + 1).toArray();
  const page = rows.slice(0, options.limit);
  const last = page.at(-1);
  return {
    account_id: accountId,
    balance: account.balance,
    reserved: account.reserved,
    ledger: page.map((row) => ({
      id: row.id,
      kind: row.kind,
      amount: row.amount,
      ...(row.task_id ? { task_id: row.task_id } : {}),
      ...(row.reference ? { reference: row.reference } : {}),
      balance_after: row.balance_after,
      created_at: row.created_at,
    })),
    next_cursor: rows.length > options.limit && last ? String(last.seq) : null,
  };
}

/** Recomputes the balance from the ledger; reservations created before `overdueBefore` are overdue. */
export function reconcileLedger(sql: SqlStorage, accountId: string, overdueBefore: number): Reconciliation {
  const account = readAccount(sql);
  const sums = Object.fromEntries(
    sql
      .exec<{ kind: LedgerKind; total: number }>('SELECT kind, SUM(amount) AS total FROM ledger GROUP BY kind')
      .toArray()
      .map((r) => [r.kind, r.total]),
  ) as Partial<Record<LedgerKind, number>>;
  const open = sql
    .exec<{ task_id: string; amount: number; created_at: string }>('SELECT task_id, amount, created_at FROM open_reservations ORDER BY created_at')
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
    consistent: topups - settled - openTotal === account.balance && account.reserved === openTotal && reservedByLedger === openTotal,
  };
}

/** Whether the task ever reserved credits (its reservation may have ended since). */
export function hasReserved(sql: SqlStorage, taskId: string): boolean {
  return entry(sql, taskId, 'reserve') !== undefined;
}

/** Tasks whose reservation has been open since `cutoff` or longer. */
export function reservationsOpenSince(sql: SqlStorage, cutoff: number): string[] {
  return sql
    .exec<{ task_id: string }>('SELECT task_id FROM open_reservations WHERE created_at <= ?', iso(cutoff))
    .toArray()
    .map((r) => r.task_id);
}

/** When the oldest open reservation was made (epoch ms), or null when none is open. */
export function oldestOpenReservation(sql: SqlStorage): number | null {
  const row = sql.exec<{ oldest: string | null }>('SELECT MIN(created_at) AS oldest FROM open_reservations').one();
  return row.oldest === null ? null : Date.parse(row.oldest);
}
