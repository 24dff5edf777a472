/**
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

export type ReserveResult =
  | { ok: true; balance: number }
  | { ok: false; reason: 'insufficient_credits'; balance: number; price: number };

export type TopUpResult =
  | { ok: true; account_id: string; balance: number; duplicate: boolean }
  | { ok: false; reason: 'reference_conflict'; message: string };

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
