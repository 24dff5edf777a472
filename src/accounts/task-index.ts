import type { TaskStatus } from '../tasks/task.schema';

/**
 * The account's task index, kept in the AccountDO's SQLite (table `tasks`) for
 * `GET /api/v1/tasks`: the object already sees every creation (the reservation) and every end (its
 * resolution), so listing needs no scan of anything else.
 *
 *   seq         INTEGER  ascending in creation order: the list is newest first by it, cursors point into it
 *   task_id     TEXT     unique
 *   model       TEXT
 *   status      TEXT     `pending` at creation; moved forward by the task (`noteTaskStatus`) and set
 *                        final when its reservation is resolved
 *   created_at  TEXT     ISO time of the reservation
 *
 * Rows are written in the same transaction as the reservation (a listed task has always been paid
 * for) and removed only when the task was never created. Every function is synchronous SQL.
 */

/** Statuses of a running task, in the order a task moves through them; every other status is final. */
const RUNNING_ORDER = ['pending', 'queued', 'processing'] as const satisfies readonly TaskStatus[];

/** 0, 1, 2 for the running statuses in order; 3 for any final one. */
function rank(status: TaskStatus): number {
  const index = (RUNNING_ORDER as readonly TaskStatus[]).indexOf(status);
  return index === -1 ? RUNNING_ORDER.length : index;
}

/** True for `succeeded`, `failed`, `canceled`: the statuses a task ends in. */
export const isFinalStatus = (status: TaskStatus): boolean => rank(status) === RUNNING_ORDER.length;

export interface TaskIndexPage {
  /** Newest first. */
  task_ids: string[];
  /** The `seq` of the last row returned, when older rows match too; null on the last page. */
  next_before: number | null;
}

export interface TaskIndexQuery {
  limit: number;
  /** Only rows older than this position (a `next_before` from before). */
  before?: number;
  status?: TaskStatus;
  model?: string;
}

/** Creates the table if needed; the AccountDO calls it once per instance. */
export function createTaskIndexTable(sql: SqlStorage): void {
  sql.exec(`
    CREATE TABLE IF NOT EXISTS tasks (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      task_id TEXT NOT NULL UNIQUE,
      model TEXT NOT NULL,
      status TEXT NOT NULL,
      created_at TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS tasks_status ON tasks (status, seq);
    CREATE INDEX IF NOT EXISTS tasks_model ON tasks (model, seq);
  `);
}

/** Adds a new task, `pending`; a retry for the same task changes nothing. */
export function indexTask(sql: SqlStorage, taskId: string, model: string, now: number): void {
  sql.exec(
    "INSERT OR IGNORE INTO tasks (task_id, model, status, created_at) VALUES (?, ?, 'pending', ?)",
    taskId,
    model,
    new Date(now).toISOString(),
  );
}

/**
 * Moves a task's status forward (pending → queued → processing → final), never back: status
 * reports may arrive late or twice, and a final status is never replaced.
 */
export function advanceTaskStatus(sql: SqlStorage, taskId: string, status: TaskStatus): boolean {
  const row = sql.exec<{ status: TaskStatus }>('SELECT status FROM tasks WHERE task_id = ?', taskId).toArray()[0];
  const current = row ? rank(row.status) : RUNNING_ORDER.length;
  if (current >= rank(status)) return false;
  sql.exec('UPDATE tasks SET status = ? WHERE task_id = ?', status, taskId);
  return true;
}

/** Removes a task that was never created (its creation failed or was abandoned). */
export function unindexTask(sql: SqlStorage, taskId: string): void {
  sql.exec('DELETE FROM tasks WHERE task_id = ?', taskId);
}

/** A page of task ids, newest first, matching the filters. */
export function listIndexedTasks(sql: SqlStorage, query: TaskIndexQuery): TaskIndexPage {
  const where = ['seq < ?'];
  const args: SqlStorageValue[] = [query.before ?? Number.MAX_SAFE_INTEGER];
  if (query.status !== undefined) {
    where.push('status = ?');
    args.push(query.status);
  }
  if (query.model !== undefined) {
    where.push('model = ?');
    args.push(query.model);
  }
  const rows = sql
    .exec<{ seq: number; task_id: string }>(
      `SELECT seq, task_id FROM tasks WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT ?`,
      ...args,
      query.limit + 1,
    )
    .toArray();
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return { task_ids: page.map((r) => r.task_id), next_before: rows.length > query.limit && last ? last.seq : null };
}
