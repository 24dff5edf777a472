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
