import { env } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { readWebhookSecrets, rotateWebhookSecret, WEBHOOK_SECRET_PATTERN } from '../../src/accounts/webhook-secrets';
import { newAccountId } from '../helpers';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const HOUR = 3600_000;

/** Runs `work` on the SQLite of a fresh account's object. */
function withAccountSql<T>(work: (sql: SqlStorage) => T): Promise<T> {
  const stub = env.ACCOUNTS.get(env.ACCOUNTS.idFromName(newAccountId('secrets')));
  return runInDurableObject(stub, (_instance, state) => work(state.storage.sql));
}

describe('webhook secrets in the AccountDO', () => {
  it('creates the first secret on first read and keeps it', async () => {
    const [first, again] = await withAccountSql((sql) => [readWebhookSecrets(sql, T0), readWebhookSecrets(sql, T0 + HOUR)]);
    expect(first!.current.secret).toMatch(WEBHOOK_SECRET_PATTERN);
    expect(first!.current.created_at).toBe(new Date(T0).toISOString());
    expect(first!.previous).toEqual([]);
    expect(again).toEqual(first);
  });

  it('keeps the rotated-out secret signing until its grace period ends, then forgets it', async () => {
    const { before, rotated, during, after } = await withAccountSql((sql) => ({
      before: readWebhookSecrets(sql, T0),
      rotated: rotateWebhookSecret(sql, 24 * 3600, T0 + HOUR),
      during: readWebhookSecrets(sql, T0 + 24 * HOUR),
      after: readWebhookSecrets(sql, T0 + 25 * HOUR),
    }));
    expect(rotated.current.secret).not.toBe(before.current.secret);
    expect(rotated.previous).toEqual([
      { secret: before.current.secret, created_at: before.current.created_at, expires_at: new Date(T0 + 25 * HOUR).toISOString() },
    ]);
    expect(during).toEqual(rotated);
    expect(after).toEqual({ current: rotated.current, previous: [] });
  });

  it('retires at once with a grace of 0, and keeps earlier expiries on repeated rotations', async () => {
    const { zero, second, third } = await withAccountSql((sql) => ({
      zero: rotateWebhookSecret(sql, 0, T0),
      second: rotateWebhookSecret(sql, 3600, T0 + 1000),
      third: rotateWebhookSecret(sql, 7200, T0 + 2000),
    }));
    expect(zero.previous).toEqual([]);
    expect(third.previous.map((s) => s.secret)).toEqual([second.current.secret, zero.current.secret]);
    expect(third.previous.map((s) => s.expires_at)).toEqual([
      new Date(T0 + 2000 + 7200_000).toISOString(),
      new Date(T0 + 1000 + 3600_000).toISOString(),
    ]);
  });

  it('are reachable over RPC, created lazily and rotated', async () => {
    const stub = env.ACCOUNTS.get(env.ACCOUNTS.idFromName(newAccountId('secrets-rpc')));
    const first = await stub.webhookSecrets();
    expect(await stub.webhookSecrets()).toEqual(first);
    const rotated = await stub.rotateWebhookSecret(60);
    expect(rotated.current.secret).not.toBe(first.current.secret);
    expect(rotated.previous.map((s) => s.secret)).toEqual([first.current.secret]);
  });
});
