/**
 * Webhook signing secrets of one account, kept in the AccountDO's SQLite (table `webhook_secrets`):
 *
 *   id          INTEGER  ascending; the newest row is the current secret
 *   secret      TEXT     `whsec_` + base64 of 32 random bytes (Standard Webhooks format)
 *   created_at  TEXT     ISO time
 *   expires_at  TEXT     null for the current secret; set when a rotation retires it
 *
 * A retired secret keeps signing (next to the current one) until it expires, so receivers can move
 * to the new secret without rejecting a single delivery. Expired rows are deleted on the next read.
 * Every function is synchronous SQL, so one call is atomic inside the Durable Object.
 */

/** Bytes of randomness per secret; the spec asks for at least 24. */
const SECRET_BYTES = 32;
export const WEBHOOK_SECRET_PATTERN = /^whsec_[A-Za-z0-9+/]+={0,2}$/;

export interface WebhookSecret {
  secret: string;
  created_at: string;
}

export interface RetiredWebhookSecret extends WebhookSecret {
  expires_at: string;
}

/** The secret that signs from now on, and retired ones still inside their grace period. */
export interface WebhookSecrets {
  current: WebhookSecret;
  previous: RetiredWebhookSecret[];
}

interface SecretRow extends Record<string, SqlStorageValue> {
  id: number;
  secret: string;
  created_at: string;
  expires_at: string | null;
}

/** A fresh `whsec_` secret from the CSPRNG. */
export function newWebhookSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(SECRET_BYTES));
  return `whsec_${btoa(String.fromCharCode(...bytes))}`;
}

/** Creates the table if needed; the AccountDO calls it once per instance. */
export function createWebhookSecretTable(sql: SqlStorage): void {
  sql.exec(`
    CREATE TABLE IF NOT EXISTS webhook_secrets (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      secret TEXT NOT NULL UNIQUE,
      created_at TEXT NOT NULL,
      expires_at TEXT
    );
  `);
}

function insertSecret(sql: SqlStorage, now: number): void {
  sql.exec('INSERT INTO webhook_secrets (secret, created_at) VALUES (?, ?)', newWebhookSecret(), new Date(now).toISOString());
}

/** The account's secrets, creating the first one on first need and forgetting expired ones. */
export function readWebhookSecrets(sql: SqlStorage, now: number): WebhookSecrets {
  sql.exec('DELETE FROM webhook_secrets WHERE expires_at IS NOT NULL AND expires_at <= ?', new Date(now).toISOString());
  const currentRow = () =>
    sql.exec<SecretRow>('SELECT * FROM webhook_secrets WHERE expires_at IS NULL ORDER BY id DESC LIMIT 1').toArray()[0];
  let current = currentRow();
  if (!current) {
    insertSecret(sql, now);
    current = currentRow();
  }
  if (!current) throw new Error('webhook_secrets: inserting the first secret failed');
  const previous = sql
    .exec<SecretRow>('SELECT * FROM webhook_secrets WHERE expires_at IS NOT NULL ORDER BY id DESC')
    .toArray()
    .flatMap((row) => (row.expires_at ? [{ secret: row.secret, created_at: row.created_at, expires_at: row.expires_at }] : []));
  return { current: { secret: current.secret, created_at: current.created_at }, previous };
}

/**
 * Replaces the current secret with a new one. The old one keeps signing for `graceSeconds` (0 retires
 * it at once); secrets retired by earlier rotations keep their own, earlier, expiry.
 */
export function rotateWebhookSecret(sql: SqlStorage, graceSeconds: number, now: number): WebhookSecrets {
  readWebhookSecrets(sql, now);
  sql.exec(
    'UPDATE webhook_secrets SET expires_at = ? WHERE expires_at IS NULL',
    new Date(now + graceSeconds * 1000).toISOString(),
  );
  insertSecret(sql, now);
  return readWebhookSecrets(sql, now);
}
