import type { ChaosSettings } from './plan';

function whole(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < min || Number(raw) > max) {
    throw new Error(`${name} must be a whole number from ${min} to ${max}, not ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

/**
 * The run's settings from the environment, with defaults for `npm run chaos`:
 * CHAOS_TASKS (1000), CHAOS_SEED (1), CHAOS_RESTARTS (3), CHAOS_ACCOUNTS (6), CHAOS_SPREAD_SECONDS
 * (tasks × 0.24, at least 30), CHAOS_CONCURRENCY (32 requests in flight), CHAOS_DEADLINE_SECONDS (60,
 * the Worker's TASK_DEADLINE_SECONDS), CHAOS_GRACE_SECONDS (30), CHAOS_WATCHDOG_SECONDS (spread +
 * deadline + 540).
 */
export function readSettings(): ChaosSettings {
  const tasks = whole('CHAOS_TASKS', 1000, 1, 20_000);
  const spreadSeconds = whole('CHAOS_SPREAD_SECONDS', Math.max(30, Math.round(tasks * 0.24)), 1, 7200);
  const deadlineSeconds = whole('CHAOS_DEADLINE_SECONDS', 60, 5, 3600);
  return {
    tasks,
    seed: whole('CHAOS_SEED', 1, 0, 2 ** 32 - 1),
    restarts: whole('CHAOS_RESTARTS', 3, 0, 50),
    accounts: whole('CHAOS_ACCOUNTS', 6, 1, 100),
    spreadSeconds,
    concurrency: whole('CHAOS_CONCURRENCY', 32, 1, 512),
    deadlineSeconds,
    graceSeconds: whole('CHAOS_GRACE_SECONDS', 30, 0, 3600),
    webhookSchedule: [1, 2, 4, 8],
    pollInitialMs: 250,
    pollMaxMs: 2000,
    watchdogSeconds: whole('CHAOS_WATCHDOG_SECONDS', spreadSeconds + deadlineSeconds + 540, 10, 24 * 3600),
  };
}
