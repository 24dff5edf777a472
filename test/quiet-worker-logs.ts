/**
 * Setup file (vitest.config.ts): the Worker's info lines (src/log.ts: one per request, one per task transition)
 * are dropped before they leave the isolate. Thousands of them would bury the report, and each costs the pool a
 * round trip (one from inside a Durable Object fails outright: "Cannot perform I/O on behalf of a different
 * Durable Object"). Warnings, errors and the tests' own output pass; tests that read the lines spy on the console.
 * `VITE_WORKER_LOGS=1 npx vitest run …` keeps them.
 */
const env = (import.meta as ImportMeta & { env?: Record<string, string | undefined> }).env ?? {};

if (env.VITE_WORKER_LOGS !== '1') {
  const write = console.log;
  const isWorkerInfoLine = (arg: unknown) =>
    typeof arg === 'object' && arg !== null && (arg as { level?: unknown }).level === 'info' && typeof (arg as { event?: unknown }).event === 'string';
  console.log = (...args: unknown[]) => {
    if (args.length === 1 && isWorkerInfoLine(args[0])) return;
    write(...args);
  };
}
