import type { TaskView } from '../tasks/task.schema';

/**
 * Idempotency keys of task creation (IETF draft `httpapi-idempotency-key-header`), kept in the
 * AccountDO's SQLite (table `idempotency_keys`), so they are scoped to the account:
 *
 *   key          TEXT     the client's key, 1–255 printable ASCII characters
 *   fingerprint  TEXT     SHA-256 (hex) of the canonical JSON of the request body
 *   task_id      TEXT     the task the key created
 *   status       INTEGER  the first answer's HTTP status; null while the first request is in flight
 *   body         TEXT     the first answer's JSON text, replayed byte for byte; null while in flight
 *   created_at   TEXT     ISO time of the first request
 *
 * An entry is written in the same transaction as its task's reservation ("one key, one
 * reservation" holds under concurrency and across evictions), completed with the route's answer,
 * and pruned by the object's alarm once `IDEMPOTENCY_RETENTION_MS` old. Only accepted creations
 * leave an entry: a refused one (402) never writes it, a failed one removes it.
 * Every function is synchronous SQL, so one call is atomic inside the Durable Object.
 */

/** How long a key is remembered; the draft asks servers to publish it, the contract says at least 24 h. */
export const IDEMPOTENCY_RETENTION_MS = 24 * 3600_000;
/**
 * An entry still in flight this long after its request began was left by a crash: creating a task
 * takes a second or two, a `Prefer: wait` at most 60 s more. The alarm then settles it.
 */
export const IN_FLIGHT_STALE_MS = 2 * 60_000;

/** The route's answer to a creation, replayed as it was: status and the exact JSON text of the body. */
export interface IdempotentAnswer {
  status: number;
  body: string;
}

/** What the caller of `reserve` says about the key it was sent. */
export interface IdempotencyClaim {
  key: string;
  fingerprint: string;
}

/** Why a claim cannot proceed, or the answer to replay. */
export type IdempotencyConflict =
  | ({ reason: 'idempotency_replay' } & IdempotentAnswer)
  | { reason: 'idempotency_key_reused' }
  | { reason: 'idempotency_in_flight' };

interface EntryRow extends Record<string, SqlStorageValue> {
  key: string;
  fingerprint: string;
  task_id: string;
  status: number | null;
  body: string | null;
  created_at: string;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** Creates the table if needed; the AccountDO calls it once per instance. */
export function createIdempotencyTable(sql: SqlStorage): void {
  sql.exec(`
    CREATE TABLE IF NOT EXISTS idempotency_keys (
      key TEXT PRIMARY KEY,
      fingerprint TEXT NOT NULL,
      task_id TEXT NOT NULL,
      status INTEGER,
      body TEXT,
      created_at TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS idempotency_keys_task ON idempotency_keys (task_id);
    CREATE INDEX IF NOT EXISTS idempotency_keys_created ON idempotency_keys (created_at);
  `);
}

/**
 * What an earlier use of the key means for a new request with `claim`, or null when the key is free
 * (or was claimed by this very task: a retried reservation).
 */
export function checkIdempotencyKey(sql: SqlStorage, claim: IdempotencyClaim, taskId: string): IdempotencyConflict | null {
  const entry = sql.exec<EntryRow>('SELECT * FROM idempotency_keys WHERE key = ?', claim.key).toArray()[0];
  if (!entry || entry.task_id === taskId) return null;
  if (entry.fingerprint !== claim.fingerprint) return { reason: 'idempotency_key_reused' };
  if (entry.status === null || entry.body === null) return { reason: 'idempotency_in_flight' };
  return { reason: 'idempotency_replay', status: entry.status, body: entry.body };
}

/** Records the key as in flight for `taskId`. */
export function claimIdempotencyKey(sql: SqlStorage, claim: IdempotencyClaim, taskId: string, now: number): void {
  sql.exec(
    'INSERT OR IGNORE INTO idempotency_keys (key, fingerprint, task_id, created_at) VALUES (?, ?, ?, ?)',
    claim.key,
    claim.fingerprint,
    taskId,
    iso(now),
  );
}

/**
 * Stores the answer of the key's first request. Only an entry of this task still in flight is
 * completed: the first answer stays the answer, and a key freed and claimed anew is left alone.
 */
export function completeIdempotencyKey(sql: SqlStorage, key: string, taskId: string, answer: IdempotentAnswer): boolean {
  const updated = sql.exec(
    'UPDATE idempotency_keys SET status = ?, body = ? WHERE key = ? AND task_id = ? AND status IS NULL',
    answer.status,
    answer.body,
    key,
    taskId,
  );
  return updated.rowsWritten > 0;
}

/** Frees the key a task claimed, when the task was never created. */
export function releaseIdempotencyKeyOf(sql: SqlStorage, taskId: string): void {
  sql.exec('DELETE FROM idempotency_keys WHERE task_id = ?', taskId);
}

/** Forgets answers older than the retention period. */
export function pruneIdempotencyKeys(sql: SqlStorage, now: number): void {
  sql.exec('DELETE FROM idempotency_keys WHERE status IS NOT NULL AND created_at <= ?', iso(now - IDEMPOTENCY_RETENTION_MS));
}

/** Entries still in flight long after their request began: left by a crash. */
export function staleInFlightKeys(sql: SqlStorage, now: number): { key: string; task_id: string }[] {
  return sql
    .exec<{ key: string; task_id: string }>(
      'SELECT key, task_id FROM idempotency_keys WHERE status IS NULL AND created_at <= ?',
      iso(now - IN_FLIGHT_STALE_MS),
    )
    .toArray();
}

/** When the alarm next has idempotency work (epoch ms, possibly past), or null when there are no entries. */
export function nextIdempotencyWork(sql: SqlStorage): number | null {
  const row = sql
    .exec<{ done: string | null; flying: string | null }>(
      `SELECT MIN(CASE WHEN status IS NOT NULL THEN created_at END) AS done,
              MIN(CASE WHEN status IS NULL THEN created_at END) AS flying
       FROM idempotency_keys`,
    )
    .one();
  const due = [
    row.done === null ? null : Date.parse(row.done) + IDEMPOTENCY_RETENTION_MS,
    row.flying === null ? null : Date.parse(row.flying) + IN_FLIGHT_STALE_MS,
  ].filter((t): t is number => t !== null);
  return due.length > 0 ? Math.min(...due) : null;
}

/**
 * The answer of an accepted creation without `Prefer: wait`: `202` and the task's short form. The
 * route answers with it, and the alarm completes an entry a crash left in flight with it.
 */
export function acceptedAnswer(task: Pick<TaskView, 'task_id' | 'status' | 'model' | 'credits' | 'created_at'>): {
  status: 202;
  body: Pick<TaskView, 'task_id' | 'status' | 'model' | 'credits' | 'created_at'>;
} {
  return {
    status: 202,
    body: { task_id: task.task_id, status: task.status, model: task.model, credits: task.credits, created_at: task.created_at },
  };
}

/** JSON with object keys sorted at every depth: one text per JSON value, whatever the key order and whitespace sent. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The request fingerprint stored with a key: SHA-256 (hex) of the body's canonical JSON. */
export async function requestFingerprint(body: unknown): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(canonicalJson(body)));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}
