import { describe, expect, it } from 'vitest';
import { type AccountBooks, auditRun, type AuditSettings, type DeliverySeen, finalBy, type LedgerEntry, type TaskSeen } from '../../chaos/audit';

const T0 = Date.parse('2026-11-26T06:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const settings: AuditSettings = { deadlineMs: 60_000, graceMs: 30_000, healthyKinds: ['healthy', 'flaky'], outages: [] };

function task(id: string, status: string, credits: number, extra: Partial<TaskSeen> = {}): TaskSeen {
  return {
    task_id: id,
    status,
    credits,
    callback_url: null,
    webhook: null,
    error: status === 'failed' ? { code: 'provider_error' } : null,
    created_at: iso(T0),
    completed_at: iso(T0 + 5_000),
    ...extra,
  };
}

/** A ledger from (kind, amount, task) steps, balances computed as the Worker keeps them. */
function ledger(steps: Array<[LedgerEntry['kind'], number, string?]>): LedgerEntry[] {
  let balance = 0;
  return steps.map(([kind, amount, task_id], i) => {
    balance += kind === 'reserve' ? -amount : kind === 'settle' ? 0 : amount;
    return { kind, amount, ...(task_id ? { task_id } : { reference: `ref-${i}` }), balance_after: balance, created_at: iso(T0 + i), seq: i + 1 };
  });
}

/** Top-up 100; A succeeded (5); B failed (8, refunded); C succeeded with 2 of 3 images (24 → 16 charged). */
function healthyBooks(): AccountBooks {
  return {
    account_id: 'acct_a',
    expected_topups: 100,
    balance: 79,
    reserved: 0,
    ledger: ledger([
      ['topup', 100],
      ['reserve', 5, 'task_a'],
      ['reserve', 8, 'task_b'],
      ['reserve', 24, 'task_c'],
      ['settle', 5, 'task_a'],
      ['refund', 8, 'task_b'],
      ['settle', 16, 'task_c'],
      ['refund', 8, 'task_c'],
    ]),
    tasks: [task('task_a', 'succeeded', 5), task('task_b', 'failed', 0), task('task_c', 'succeeded', 16)],
    reconciliation: { consistent: true, problems: [] },
  };
}

const losses = (audit: ReturnType<typeof auditRun>) => ({
  notFinal: audit.notFinal.length,
  late: audit.late.length,
  lost: audit.creditsLost,
  twice: audit.creditsChargedTwice,
  books: audit.booksErrors.length,
  missing: audit.webhooks.missing.length,
});
const ZERO = { notFinal: 0, late: 0, lost: 0, twice: 0, books: 0, missing: 0 };

describe('the chaos audit', () => {
  it('finds no loss in books that add up, a partial charge included', () => {
    const audit = auditRun([healthyBooks()], [], settings);
    expect(losses(audit)).toEqual(ZERO);
    expect(audit.byStatus).toEqual({ succeeded: 2, failed: 1 });
  });

  it('counts a failed task that was never refunded as credits lost, and the reservation left', () => {
    const books = healthyBooks();
    books.ledger = books.ledger.filter((e) => !(e.task_id === 'task_b' && e.kind === 'refund'));
    books.balance = 71;
    books.reserved = 8;
    const audit = auditRun([books], [], settings);
    expect(audit.creditsLost).toBe(8);
    expect(audit.creditsLostTasks.map((f) => f.task_id)).toEqual(['task_b']);
    expect(audit.booksErrors.join('\n')).toContain('8 credits still reserved at the end');
  });

  it('counts a charge beyond what the task says as charged twice', () => {
    const books = healthyBooks();
    books.tasks = [task('task_a', 'failed', 0), ...books.tasks.slice(1)];
    const audit = auditRun([books], [], settings);
    expect(audit.creditsChargedTwice).toBe(5);
    expect(audit.chargedTwiceTasks[0]).toMatchObject({ task_id: 'task_a' });
  });

  it('catches a ledger whose balances do not follow, a stored balance that disagrees and a top-up counted twice', () => {
    const books = healthyBooks();
    books.ledger[3] = { ...books.ledger[3]!, balance_after: 1 };
    expect(auditRun([books], [], settings).booksErrors.some((e) => e.includes('says balance 1'))).toBe(true);
    expect(auditRun([{ ...healthyBooks(), balance: 80 }], [], settings).booksErrors.length).toBeGreaterThan(0);
    expect(auditRun([{ ...healthyBooks(), expected_topups: 50 }], [], settings).booksErrors[0]).toContain('top-ups total 100');
  });

  it("passes on the Worker's own reconciliation problems", () => {
    const audit = auditRun([{ ...healthyBooks(), reconciliation: { consistent: false, problems: ['reservation of task_x is open'] } }], [], settings);
    expect(audit.booksErrors).toEqual(['account acct_a: the Worker\'s reconciliation: reservation of task_x is open']);
  });

  it('counts running tasks as not final, and late ones, allowing for the downtime they met', () => {
    const books = healthyBooks();
    books.tasks = [
      task('task_a', 'processing', 5, { completed_at: null }),
      task('task_b', 'failed', 0, { completed_at: iso(T0 + 100_000) }),
      task('task_c', 'succeeded', 16),
    ];
    expect(losses(auditRun([books], [], settings))).toMatchObject({ notFinal: 1, late: 1 });
    const outage = { killed_at: T0 + 10_000, back_at: T0 + 30_000 };
    expect(finalBy(T0, { ...settings, outages: [outage] })).toBe(T0 + 110_000);
    expect(auditRun([books], [], { ...settings, outages: [outage] }).late).toEqual([]);
  });

  it('expects a signed final webhook at every healthy receiver, counts repeats, and only counts dead ones', () => {
    const books = healthyBooks();
    const hooked = (id: string, kind: string, status: string, webhook: string) =>
      task(id, status, status === 'succeeded' ? 5 : 0, { callback_url: `http://127.0.0.1:1/hooks/${kind}/m_${id}`, webhook: { status: webhook } });
    books.tasks = [hooked('task_a', 'healthy', 'succeeded', 'delivered'), hooked('task_b', 'flaky', 'failed', 'delivered'), { ...hooked('task_c', 'dead-500', 'succeeded', 'failed'), credits: 16 }];
    const delivery = (task_id: string, task_status: string, answered = 204, signed = true): DeliverySeen => ({ task_id, task_status, answered, signed });
    const all = [delivery('task_a', 'succeeded'), delivery('task_a', 'succeeded'), delivery('task_b', 'failed', 500), delivery('task_c', 'succeeded', 500)];
    const audit = auditRun([books], all, settings);
    expect(audit.webhooks).toMatchObject({ healthyExpected: 2, healthyDelivered: 1, duplicates: 1, deadExpected: 1, deadGivenUp: 1, badSignatures: 0 });
    expect(audit.webhooks.missing.map((f) => f.task_id)).toEqual(['task_b']);
    const unsigned = auditRun([books], [delivery('task_a', 'succeeded', 204, false), delivery('task_b', 'failed')], settings);
    expect(unsigned.webhooks).toMatchObject({ healthyDelivered: 1, badSignatures: 1 });
  });
});
