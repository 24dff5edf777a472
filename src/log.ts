/**
 * The Worker's one way to write a log line: one event per call, `{ time, level, event, …fields }`.
 *
 * Each event goes to the console as an object, not as a JSON string: Workers Logs indexes an object's
 * fields (filter by `request_id`, `account_id`, `task_id`, `route` …), while a string is one opaque
 * `message` searchable only by text. `wrangler tail` and Logpush carry it as JSON either way. The level
 * picks the console method (`log`, `warn`, `error`), which is what Workers Logs and `tail --status`
 * filter on.
 *
 * What is logged is ours to choose: never a request body or header. As a net under that rule, every
 * string is cut to a bounded length and anything shaped like a customer API key (or a bearer token) is
 * masked to its first characters, wherever it turns up (an error message quoting a header, say).
 */

export type LogLevel = 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

/** A customer key anywhere in a string (API_KEY_PATTERN of src/api/auth, unanchored). */
const API_KEY = /aio_[0-9A-Za-z]{32,}/g;
const BEARER = /(Bearer\s+)\S+/gi;
/** Long enough for a stack trace; a string this long is a payload, not a diagnosis. */
const MAX_STRING = 2_000;
const MAX_DEPTH = 6;
const MAX_CAUSES = 4;

/** A string safe to log: customer keys and bearer tokens masked, at most MAX_STRING characters. */
export function scrubText(text: string): string {
  const masked = text.replace(API_KEY, (key) => `${key.slice(0, 8)}…`).replace(BEARER, '$1…');
  return masked.length > MAX_STRING ? `${masked.slice(0, MAX_STRING)}… (${masked.length} characters)` : masked;
}

function scrub(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[nested too deep]';
  if (value instanceof Error) return errorFields(value);
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(v, depth + 1)]));
}

/**
 * An error as log fields: its name, message and stack, and its `cause` chain (what our errors wrap:
 * the runtime's own failure under a provider's retryable error, say), a few levels deep.
 */
export function errorFields(err: unknown, depth = 0): LogFields {
  if (!(err instanceof Error)) return { message: scrubText(String(err)) };
  const fields: LogFields = { name: err.name, message: scrubText(err.message) };
  if ('code' in err && typeof err.code === 'string') fields.code = err.code;
  if (err.stack) fields.stack = scrubText(err.stack);
  if (err.cause !== undefined && depth < MAX_CAUSES) fields.cause = errorFields(err.cause, depth + 1);
  return fields;
}

function emit(level: LogLevel, event: string, fields: LogFields, err: unknown): void {
  const entry = scrub({ time: new Date().toISOString(), level, event, ...fields }, 0) as LogFields;
  if (err !== undefined) entry.error = errorFields(err);
  // Looked up at each call, so a test's spy on console.* sees the line.
  if (level === 'info') console.log(entry);
  else if (level === 'warn') console.warn(entry);
  else console.error(entry);
}

/** Structured log lines; `event` names what happened (`request`, `task_transition`, …). */
export const log = {
  info(event: string, fields: LogFields = {}): void {
    emit('info', event, fields, undefined);
  },
  /** Something went wrong and was handled (a retry, a fallback); `err` is logged with its causes. */
  warn(event: string, fields: LogFields = {}, err?: unknown): void {
    emit('warn', event, fields, err);
  },
  /** Something went wrong that someone should look at; `err` is logged with its causes. */
  error(event: string, fields: LogFields = {}, err?: unknown): void {
    emit('error', event, fields, err);
  },
};
