/**
 * The loss figures of a chaos run, computed from what the Worker says at the end (every account's
 * tasks, ledger and reconciliation) and what the customers' side recorded (webhook deliveries).
 * Pure: chaos/run.ts collects the inputs, test/chaos/audit.test.ts checks the rules.
 */

export interface TaskSeen {
  task_id: string;
  status: string;
  credits: number;
  callback_url: string | null;
  webhook: { status: string } | null;
  error: { code: string } | null;
  created_at: string;
  completed_at: string | null;
}

export interface LedgerEntry {
  kind: 'topup' | 'reserve' | 'settle' | 'refund';
  amount: number;
  task_id?: string;
  reference?: string;
  balance_after: number;
  created_at: string;
  /** Position in the ledger, oldest first (the route pages newest first). */
  seq: number;
}

export interface AccountBooks {
  account_id: string;
  /** What the run topped up, each reference counted once. */
  expected_topups: number;
  balance: number;
  reserved: number;
  ledger: LedgerEntry[];
  tasks: TaskSeen[];
  /** The Worker's own check (`GET /internal/v1/accounts/{id}/reconciliation`). */
  reconciliation: { consistent: boolean; problems: string[] };
}

export interface DeliverySeen {
  task_id: string | null;
  task_status: string | null;
  answered: number;
  signed: boolean;
}

export interface AuditSettings {
  deadlineMs: number;
  graceMs: number;
  /** Receiver kinds (the path segment after /hooks/ in callback URLs) that accept deliveries. */
  healthyKinds: readonly string[];
  /** When the runtime was down: no alarm can fire then, so a task's limit moves by the downtime it met. */
  outages: ReadonlyArray<{ killed_at: number; back_at: number }>;
}

export interface Finding {
  task_id: string;
  detail: string;
}

export interface Audit {
  tasks: number;
  byStatus: Record<string, number>;
  /** Failed tasks by `error.code`. */
  byErrorCode: Record<string, number>;
  /** Tasks still running at the end. */
  notFinal: Finding[];
  /** Final, but later than created_at + deadline + grace. */
  late: Finding[];
  creditsLost: number;
  creditsLostTasks: Finding[];
  creditsChargedTwice: number;
  chargedTwiceTasks: Finding[];
  /** Arithmetic that does not add up: balances, reserved, top-ups, the Worker's own reconciliation. */
  booksErrors: string[];
  /** Reserved at the end, summed over accounts. */
  reservedAtEnd: number;
  webhooks: {
    healthyExpected: number;
    healthyDelivered: number;
    missing: Finding[];
    /** Deliveries beyond the first one of a task that its receiver accepted (at-least-once allows them). */
    duplicates: number;
    badSignatures: number;
    /** Tasks for dead receivers whose delivery the Worker has given up on (`webhook.status: failed`). */
    deadGivenUp: number;
    deadExpected: number;
  };
}

const FINAL = new Set(['succeeded', 'failed', 'canceled']);
const receiverKind = (url: string | null): string | null => (url ? (/\/hooks\/([a-z0-9-]+)\//.exec(url)?.[1] ?? null) : null);

/**
 * When a task created at `created` must be final: its deadline and the grace, moved on by every
 * outage of the runtime that began before then (the task's clock does not run while nothing does).
 */
export function finalBy(created: number, settings: Pick<AuditSettings, 'deadlineMs' | 'graceMs' | 'outages'>): number {
  let limit = created + settings.deadlineMs + settings.graceMs;
  for (const o of [...settings.outages].sort((a, b) => a.killed_at - b.killed_at)) {
    if (o.back_at > created && o.killed_at < limit) limit += o.back_at - Math.max(o.killed_at, created);
  }
  return limit;
}

/** Checks one account's ledger against its tasks and its stored totals. */
function auditBooks(books: AccountBooks, audit: Audit): void {
  const where = `account ${books.account_id}`;
  const ledger = [...books.ledger].sort((a, b) => a.seq - b.seq);
  // Every entry's balance_after follows from the one before: the ledger is the balance's whole history.
  let balance = 0;
  for (const entry of ledger) {
    balance += entry.kind === 'topup' || entry.kind === 'refund' ? entry.amount : entry.kind === 'reserve' ? -entry.amount : 0;
    if (entry.balance_after !== balance) {
      audit.booksErrors.push(`${where}: ledger entry ${entry.seq} (${entry.kind} ${entry.amount}) says balance ${entry.balance_after}, the entries before it give ${balance}`);
      balance = entry.balance_after;
    }
  }
  const sum = (kind: LedgerEntry['kind']) => ledger.filter((e) => e.kind === kind).reduce((s, e) => s + e.amount, 0);
  const topups = sum('topup');
  const open = sum('reserve') - sum('settle') - sum('refund');
  if (topups !== books.expected_topups) audit.booksErrors.push(`${where}: top-ups total ${topups}, the run added ${books.expected_topups}`);
  if (topups - sum('settle') - open !== books.balance) {
    audit.booksErrors.push(`${where}: top-ups − settled − open reservations = ${topups - sum('settle') - open}, balance is ${books.balance}`);
  }
  if (open !== books.reserved) audit.booksErrors.push(`${where}: the ledger leaves ${open} reserved, the account says ${books.reserved}`);
  if (books.reserved !== 0) audit.booksErrors.push(`${where}: ${books.reserved} credits still reserved at the end`);
  audit.reservedAtEnd += books.reserved;
  if (!books.reconciliation.consistent) {
    audit.booksErrors.push(`${where}: the Worker's reconciliation: ${books.reconciliation.problems.join('; ') || 'not consistent'}`);
  }

  const byTask = new Map<string, LedgerEntry[]>();
  for (const entry of ledger) if (entry.task_id) byTask.set(entry.task_id, [...(byTask.get(entry.task_id) ?? []), entry]);
  const tasks = new Map(books.tasks.map((t) => [t.task_id, t]));
  for (const [taskId, entries] of byTask) {
    const of = (kind: LedgerEntry['kind']) => entries.filter((e) => e.kind === kind);
    const [reserved, settled, refunded] = (['reserve', 'settle', 'refund'] as const).map((k) => of(k).reduce((s, e) => s + e.amount, 0)) as [number, number, number];
    const task = tasks.get(taskId);
    if (of('reserve').length !== 1 || of('settle').length > 1 || of('refund').length > 1) {
      audit.booksErrors.push(`${where}: task ${taskId} has ${of('reserve').length} reserve, ${of('settle').length} settle, ${of('refund').length} refund entries`);
    }
    // A creation the Worker abandoned (the task never came to life) must have been refunded whole.
    const charge = task?.status === 'succeeded' ? task.credits : 0;
    if (task && !FINAL.has(task.status)) continue;
    if (settled > charge) {
      audit.creditsChargedTwice += settled - charge;
      audit.chargedTwiceTasks.push({ task_id: taskId, detail: `${task?.status ?? 'no task'}: charged ${settled}, the task says ${charge}` });
    }
    const lost = reserved - settled - refunded;
    if (settled < charge || lost !== 0) {
      audit.creditsLost += Math.max(0, lost) + Math.max(0, charge - settled);
      audit.creditsLostTasks.push({
        task_id: taskId,
        detail: `${task?.status ?? 'no task'}: reserved ${reserved}, settled ${settled}, refunded ${refunded}, the task says ${task ? task.credits : 'nothing'}`,
      });
    }
  }
  for (const task of books.tasks) {
    if (!byTask.has(task.task_id)) audit.booksErrors.push(`${where}: task ${task.task_id} (${task.status}) has no ledger entries`);
  }
}

/** The run's loss figures and what they are made of. */
export function auditRun(accounts: readonly AccountBooks[], deliveries: readonly DeliverySeen[], settings: AuditSettings): Audit {
  const audit: Audit = {
    tasks: 0,
    byStatus: {},
    byErrorCode: {},
    notFinal: [],
    late: [],
    creditsLost: 0,
    creditsLostTasks: [],
    creditsChargedTwice: 0,
    chargedTwiceTasks: [],
    booksErrors: [],
    reservedAtEnd: 0,
    webhooks: { healthyExpected: 0, healthyDelivered: 0, missing: [], duplicates: 0, badSignatures: 0, deadGivenUp: 0, deadExpected: 0 },
  };
  const received = new Map<string, DeliverySeen[]>();
  for (const d of deliveries) {
    if (!d.signed) audit.webhooks.badSignatures += 1;
    if (d.task_id) received.set(d.task_id, [...(received.get(d.task_id) ?? []), d]);
  }
  for (const books of accounts) {
    auditBooks(books, audit);
    for (const task of books.tasks) {
      audit.tasks += 1;
      audit.byStatus[task.status] = (audit.byStatus[task.status] ?? 0) + 1;
      if (task.status === 'failed' && task.error) audit.byErrorCode[task.error.code] = (audit.byErrorCode[task.error.code] ?? 0) + 1;
      const limit = finalBy(Date.parse(task.created_at), settings);
      if (!FINAL.has(task.status)) {
        audit.notFinal.push({ task_id: task.task_id, detail: `${task.status} since ${task.created_at}` });
        continue;
      }
      const late = Date.parse(task.completed_at ?? task.created_at) - limit;
      if (late > 0) audit.late.push({ task_id: task.task_id, detail: `final ${(late / 1000).toFixed(1)} s after deadline + grace` });

      const kind = receiverKind(task.callback_url);
      if (kind === null) continue;
      const accepted = (received.get(task.task_id) ?? []).filter((d) => d.signed && d.answered >= 200 && d.answered < 300 && d.task_status === task.status);
      if (settings.healthyKinds.includes(kind)) {
        audit.webhooks.healthyExpected += 1;
        if (accepted.length > 0) audit.webhooks.healthyDelivered += 1;
        else audit.webhooks.missing.push({ task_id: task.task_id, detail: `${kind} receiver, task ${task.status}, webhook ${task.webhook?.status ?? 'none'}` });
        audit.webhooks.duplicates += Math.max(0, accepted.length - 1);
      } else {
        audit.webhooks.deadExpected += 1;
        if (task.webhook?.status === 'failed') audit.webhooks.deadGivenUp += 1;
      }
    }
  }
  return audit;
}
