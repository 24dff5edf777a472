import { z } from 'zod';
import type { Env } from './env';

/** Seconds between webhook attempts in production (after the first, immediate one), then give up. */
export const PRODUCTION_WEBHOOK_SCHEDULE_S = [5, 300, 1800, 7200, 18000, 36000, 36000];

/** The Worker's settings, parsed and checked once from its variables. */
export interface Config {
  /** Development allows loopback callback and input URLs, and result URLs on the request's origin. */
  development: boolean;
  taskDeadlineMs: number;
  pollInitialMs: number;
  pollMaxMs: number;
  webhookScheduleS: readonly number[];
  /** An account's rate limit until the BFF sets one (src/accounts/rate-limit.ts). */
  requestsPerMinute: number;
  /** How long the OpenAI-compatible routes hold a request for its task before answering 504. */
  syncWaitMs: number;
  /** How long a backend node whose breaker opened takes no new tasks before one probes it. */
  nodeCooldownMs: number;
  /** Submit slots per provider account, by provider id, where they differ from the providers' declared defaults (src/capacity/). */
  providerSlots: Readonly<Record<string, number>>;
  /** How long a granted submit slot stays granted without its task renewing it. */
  slotLeaseMs: number;
  /**
   * Whether async jobs ask their provider for a completion callback (where it offers one, see
   * src/api/callbacks/): off where providers cannot reach `PUBLIC_BASE_URL`, and polls alone follow jobs.
   */
  providerCallbacks: boolean;
}

const wholeNumber = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

const VarsSchema = z.object({
  ENVIRONMENT: z.enum(['production', 'development']),
  TASK_DEADLINE_SECONDS: wholeNumber(1, 24 * 3600),
  POLL_INITIAL_MS: wholeNumber(1, 600_000),
  POLL_MAX_MS: wholeNumber(1, 3_600_000),
  WEBHOOK_RETRY_SCHEDULE: z
    .string()
    .trim()
    .regex(/^(\d+(\.\d+)?(\s*,\s*\d+(\.\d+)?)*)?$/, 'must be comma-separated seconds, or empty for the production schedule')
    .transform((raw) => (raw === '' ? PRODUCTION_WEBHOOK_SCHEDULE_S : raw.split(',').map(Number))),
  // The bound of the BFF's limits route (MAX_REQUESTS_PER_MINUTE; not imported: accounts/ imports this file).
  RATE_LIMIT_REQUESTS_PER_MINUTE: wholeNumber(1, 1_000_000),
  SYNC_WAIT_SECONDS: wholeNumber(1, 3600),
  NODE_COOLDOWN_SECONDS: wholeNumber(1, 3600),
  PROVIDER_CAPACITY: z
    .string()
    .trim()
    .transform((raw, ctx) => {
      try {
        return raw === '' ? {} : (JSON.parse(raw) as unknown);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be a JSON object of provider id to slots, or empty for the defaults' });
        return z.NEVER;
      }
    })
    .pipe(z.record(z.string(), z.number().int('slots must be whole numbers').min(1, 'slots must be at least 1').max(100_000))),
  CAPACITY_LEASE_SECONDS: wholeNumber(1, 24 * 3600),
  PROVIDER_CALLBACKS: z.enum(['on', 'off']),
});

/** A variable with a value the Worker cannot run with. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the variables into a `Config`, or throws a `ConfigError` naming every bad variable. */
export function parseConfig(env: Pick<Env, keyof z.input<typeof VarsSchema>>): Config {
  const parsed = VarsSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Bad Worker configuration: ${problems.join('; ')}`);
  }
  const vars = parsed.data;
  if (vars.POLL_MAX_MS < vars.POLL_INITIAL_MS) {
    throw new ConfigError('Bad Worker configuration: POLL_MAX_MS: must be at least POLL_INITIAL_MS');
  }
  return {
    development: vars.ENVIRONMENT === 'development',
    taskDeadlineMs: vars.TASK_DEADLINE_SECONDS * 1000,
    pollInitialMs: vars.POLL_INITIAL_MS,
    pollMaxMs: vars.POLL_MAX_MS,
    webhookScheduleS: vars.WEBHOOK_RETRY_SCHEDULE,
    requestsPerMinute: vars.RATE_LIMIT_REQUESTS_PER_MINUTE,
    syncWaitMs: vars.SYNC_WAIT_SECONDS * 1000,
    nodeCooldownMs: vars.NODE_COOLDOWN_SECONDS * 1000,
    providerSlots: vars.PROVIDER_CAPACITY,
    slotLeaseMs: vars.CAPACITY_LEASE_SECONDS * 1000,
    providerCallbacks: vars.PROVIDER_CALLBACKS === 'on',
  };
}

// One isolate serves one deployment, whose `env` object does not change: parse it once.
const parsedFor = new WeakMap<object, Config>();

/** The configuration of this deployment. */
export function config(env: Env): Config {
  let parsed = parsedFor.get(env);
  if (!parsed) {
    parsed = parseConfig(env);
    parsedFor.set(env, parsed);
  }
  return parsed;
}
