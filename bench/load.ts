import autocannon from 'autocannon';
import { processCpuSeconds } from './processes';

/** One HTTP load: what autocannon sends on every connection (cycling through `requests` if given). */
export interface LoadTarget {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Paths to cycle through (e.g. many task ids); `url` then only gives the origin. */
  paths?: string[];
  /** The status every answer must have; others are counted as failures. */
  expectStatus: number;
  /**
   * A header every answer must also carry with this value (name in lower case, value compared
   * exactly); an answer with the expected status but not this header is counted as a failure,
   * under `"<status> without <name>"` in `statuses`.
   */
  expectHeader?: { name: string; value: string };
  /**
   * Bound the warm-up and the measured run by request counts instead of seconds, for loads whose
   * every request leaves state behind (creation makes one Durable Object per request).
   */
  counts?: { warmup: number; measured: number };
}

export interface LoadSettings {
  connections: number;
  warmupSeconds: number;
  seconds: number;
}

export interface LoadFigures {
  /** Answers with the expected status per second of the measured run. */
  rps: number;
  p50_ms: number;
  p99_ms: number;
  ok: number;
  /** Answers with any other status, connection errors and timeouts. */
  failed: number;
  statuses: Record<string, number>;
  seconds: number;
  /** CPU the load generator (this process) used, as a share of one core. */
  client_cpu_core_share: number;
  /** CPU the serving process used per answered request, in microseconds; null when unknown. */
  server_cpu_us_per_request: number | null;
  /** CPU the serving process used, as a share of one core; null when unknown. */
  server_cpu_core_share: number | null;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)]!;
}

type Bound = { seconds: number } | { amount: number };

/** Whether the answer autocannon is reporting carries `expected` (its header list, as autocannon hands it over). */
function carries(headers: Record<string, string | string[]>, expected: { name: string; value: string }): boolean {
  const found = Object.entries(headers).find(([name]) => name.toLowerCase() === expected.name)?.[1];
  return found === expected.value;
}

async function fire(target: LoadTarget, connections: number, bound: Bound, latencies: number[] | null) {
  // autocannon hands a request's `onResponse` the answer's headers just before it emits `response`
  // for the same answer, synchronously, so the flag below always belongs to the answer being counted.
  let headerSeen = true;
  const expected = target.expectHeader;
  const onResponse = expected
    ? (_status: number, _body: string, _context: unknown, headers: Record<string, string | string[]>) => {
        headerSeen = carries(headers, expected);
      }
    : undefined;
  const requests = target.paths ? target.paths.map((path) => ({ path, onResponse })) : onResponse ? [{ onResponse }] : undefined;
  const instance = autocannon({
    url: target.url,
    connections,
    ...('amount' in bound ? { amount: bound.amount } : { duration: bound.seconds }),
    timeout: 10,
    method: target.method ?? 'GET',
    headers: target.headers,
    body: target.body,
    requests,
  });
  const statuses: Record<string, number> = {};
  let lastAnswerAt = process.hrtime.bigint();
  // autocannon's own histogram has 1 ms resolution; loopback latencies need finer, so keep every
  // sample (responseTime is a float in ms from process.hrtime).
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    const outcome = expected && status === target.expectStatus && !headerSeen ? `${status} without ${expected.name}` : String(status);
    statuses[outcome] = (statuses[outcome] ?? 0) + 1;
    lastAnswerAt = process.hrtime.bigint();
    if (latencies && outcome === String(target.expectStatus)) latencies.push(ms);
  });
  const result = await instance;
  return { result, statuses, lastAnswerAt };
}

/**
 * A short warm-up (JIT, connection set-up, isolate caches), then the measured run: a fixed number
 * of closed-loop connections, each sending its next request as soon as the previous answer came.
 * Bounded by `seconds` (or the target's request counts); autocannon stops by itself.
 */
export async function measureLoad(target: LoadTarget, settings: LoadSettings, serverPid: number | null): Promise<LoadFigures> {
  const warmup: Bound = target.counts ? { amount: target.counts.warmup } : { seconds: settings.warmupSeconds };
  const measured: Bound = target.counts ? { amount: target.counts.measured } : { seconds: settings.seconds };
  if ('amount' in warmup ? warmup.amount > 0 : warmup.seconds > 0) await fire(target, settings.connections, warmup, null);
  const latencies: number[] = [];
  const clientBefore = process.cpuUsage();
  const serverBefore = serverPid === null ? null : processCpuSeconds(serverPid);
  const started = process.hrtime.bigint();
  const { result, statuses, lastAnswerAt } = await fire(target, settings.connections, measured, latencies);
  // Up to the last answer: autocannon notices that a count-bounded run is over only on its
  // once-a-second tick, which would round the run up to whole seconds.
  const elapsed = Number(lastAnswerAt - started) / 1e9;
  const client = process.cpuUsage(clientBefore);
  const serverAfter = serverPid === null ? null : processCpuSeconds(serverPid);
  const ok = statuses[target.expectStatus] ?? 0;
  const answered = Object.values(statuses).reduce((a, b) => a + b, 0);
  const sorted = Float64Array.from(latencies).sort();
  return {
    rps: ok / elapsed,
    p50_ms: percentile(sorted, 50),
    p99_ms: percentile(sorted, 99),
    ok,
    failed: answered - ok + result.errors,
    statuses,
    seconds: elapsed,
    client_cpu_core_share: (client.user + client.system) / 1e6 / elapsed,
    server_cpu_us_per_request:
      serverBefore !== null && serverAfter !== null && answered > 0 ? ((serverAfter - serverBefore) * 1e6) / answered : null,
    server_cpu_core_share: serverBefore !== null && serverAfter !== null ? (serverAfter - serverBefore) / elapsed : null,
  };
}
