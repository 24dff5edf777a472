import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTask, type Customer, getTask, type TaskSeen, waitForTask } from './gateway-client';
import { processCpuSeconds } from './processes';

export interface EndToEndFigures {
  tasks: number;
  succeeded: number;
  failed: number;
  /** Finished tasks per second, first created_at to last completed_at (the tasks' own clocks). */
  tasks_per_s: number;
  /** created_at → completed_at of each task, as the task recorded them. */
  p50_ms: number;
  p99_ms: number;
  /** Seconds from the first create request to the last task seen finished by polling. */
  wall_s: number;
  /** CPU the serving workerd used per task during the run (creation, the task's life, and the bench's polls). */
  server_cpu_ms_per_task: number | null;
  /** GETs the bench made to see the tasks finish (counted in the CPU above). */
  polls: number;
  webhook: { delivered: number; p50_ms: number; p99_ms: number } | { skipped: string };
  task_ids: string[];
}

/** Receives webhook deliveries on loopback and notes when each task's first one arrived. */
export async function startWebhookReceiver(): Promise<{ url: string; arrivals: Map<string, number>; close(): Promise<void> }> {
  const arrivals = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const at = Date.now();
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      try {
        const task = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { task_id?: string };
        if (task.task_id && !arrivals.has(task.task_id)) arrivals.set(task.task_id, at);
      } catch {
        // Not a task payload; still acknowledged so the sender does not retry.
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/bench`,
    arrivals,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Runs `work` over `items` with at most `limit` in flight. */
async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

const isTerminal = (task: TaskSeen) => task.status === 'succeeded' || task.status === 'failed';

/**
 * Pushes `count` tasks through the gateway and the zero-latency simulator: created `concurrency`
 * at a time, then polled gently (each unfinished task about every 100 ms, 4 polls in flight) until
 * all are finished or `timeoutMs` passes. Latencies come from the tasks' own timestamps, so the
 * polling rate does not shape them; it only has to be low enough not to steal much CPU.
 */
export async function runEndToEnd(
  origin: string,
  customer: Customer,
  options: { count: number; concurrency: number; prompt: string; callbackUrl: string | null; timeoutMs: number },
  arrivals: Map<string, number> | null,
  serverPid: number | null,
): Promise<EndToEndFigures> {
  const cpuBefore = serverPid === null ? null : processCpuSeconds(serverPid);
  const started = Date.now();
  const deadline = started + options.timeoutMs;
  const body = {
    model: 'flux-2',
    prompt: options.prompt,
    ...(options.callbackUrl ? { callback_url: options.callbackUrl } : {}),
  };
  const ids: string[] = [];
  await pool(
    Array.from({ length: options.count }, (_, i) => i),
    options.concurrency,
    async () => {
      ids.push((await createTask(origin, customer, body)).task_id);
    },
  );

  const finished = new Map<string, TaskSeen>();
  let lastSeen = Date.now();
  let polls = 0;
  while (finished.size < ids.length && Date.now() < deadline) {
    const sweep = Date.now();
    const pending = ids.filter((id) => !finished.has(id));
    await pool(pending, 4, async (id) => {
      const task = await getTask(origin, customer, id);
      polls += 1;
      if (isTerminal(task)) {
        finished.set(id, task);
        lastSeen = Date.now();
      }
    });
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 100 - (Date.now() - sweep))));
  }

  const cpuAfter = serverPid === null ? null : processCpuSeconds(serverPid);
  const tasks = [...finished.values()];
  const succeeded = tasks.filter((t) => t.status === 'succeeded');
  const createdAt = (t: TaskSeen) => Date.parse(t.created_at);
  const latencies = succeeded.map((t) => Date.parse(t.completed_at!) - createdAt(t));
  const first = Math.min(...tasks.map(createdAt));
  const last = Math.max(...succeeded.map((t) => Date.parse(t.completed_at!)));

  let webhook: EndToEndFigures['webhook'] = { skipped: 'no callback_url was sent' };
  if (arrivals && options.callbackUrl) {
    // Deliveries come after the task is finished; give them a moment beyond the last one.
    const waitUntil = Math.min(deadline, Date.now() + 10_000);
    while (arrivals.size < succeeded.length && Date.now() < waitUntil) await new Promise((r) => setTimeout(r, 100));
    const delays = succeeded.filter((t) => arrivals.has(t.task_id)).map((t) => arrivals.get(t.task_id)! - createdAt(t));
    webhook =
      delays.length === 0
        ? { skipped: `no webhook arrived within 10 s of the last task finishing (${succeeded.length} tasks had a callback_url)` }
        : { delivered: delays.length, p50_ms: percentile(delays, 50), p99_ms: percentile(delays, 99) };
  }

  return {
    tasks: ids.length,
    succeeded: succeeded.length,
    failed: tasks.length - succeeded.length,
    tasks_per_s: succeeded.length / ((last - first) / 1000),
    p50_ms: percentile(latencies, 50),
    p99_ms: percentile(latencies, 99),
    wall_s: (lastSeen - started) / 1000,
    server_cpu_ms_per_task: cpuBefore === null || cpuAfter === null ? null : ((cpuAfter - cpuBefore) * 1000) / ids.length,
    polls,
    webhook,
    task_ids: ids,
  };
}

/**
 * Create → succeeded with nothing else running: one task at a time, each created only after the
 * previous one finished. The pipeline's own latency (alarm hops, the configured first poll delay,
 * the image copy), without the queueing the 500-task run adds.
 */
export async function runOneAtATime(
  origin: string,
  customer: Customer,
  options: { count: number; prompt: string },
): Promise<{ tasks: number; p50_ms: number; p99_ms: number }> {
  const latencies: number[] = [];
  for (let i = 0; i < options.count; i++) {
    const created = await createTask(origin, customer, { model: 'flux-2', prompt: options.prompt });
    const task = await waitForTask(origin, customer, created.task_id, isTerminal, 30_000);
    if (task.status === 'succeeded') latencies.push(Date.parse(task.completed_at!) - Date.parse(task.created_at));
  }
  return { tasks: latencies.length, p50_ms: percentile(latencies, 50), p99_ms: percentile(latencies, 99) };
}

/** One phase of the `Prefer: wait` run: requests sent, what came back, and how long the good answers took. */
export interface PreferWaitPhase {
  requests: number;
  concurrency: number;
  /** `200` with the whole task, `status: "succeeded"` and `Preference-Applied`. */
  succeeded: number;
  /** Every other outcome (another status, another task status, no `Preference-Applied`, a timeout, not sent). */
  errors: number;
  outcomes: Record<string, number>;
  /** Request sent → whole answer read, on the bench's clock, for the succeeded answers. */
  p50_ms: number;
  p99_ms: number;
  /** Succeeded answers per second of the phase. */
  per_s: number;
  seconds: number;
  /** CPU the serving workerd used per request sent (creation, the task's whole life, the answer). */
  server_cpu_ms_per_request: number | null;
}

export interface PreferWaitFigures {
  wait_s: number;
  one_at_a_time: PreferWaitPhase;
  concurrent: PreferWaitPhase;
}

/** One create with `Prefer: wait`, timed from send to the last byte of the answer; returns its outcome. */
async function createAndWait(origin: string, customer: Customer, body: string, waitS: number): Promise<{ outcome: string; ms: number }> {
  const started = process.hrtime.bigint();
  try {
    const res = await fetch(`${origin}/api/v1/images/generations`, {
      method: 'POST',
      headers: { ...customer.auth, 'content-type': 'application/json', prefer: `wait=${waitS}` },
      body,
      signal: AbortSignal.timeout((waitS + 10) * 1000),
    });
    const text = await res.text();
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (res.status !== 200) return { outcome: String(res.status), ms };
    const status = (JSON.parse(text) as { status?: string }).status;
    if (status !== 'succeeded') return { outcome: `200 ${String(status)}`, ms };
    if (res.headers.get('preference-applied') !== `wait=${waitS}`) return { outcome: '200 without preference-applied', ms };
    return { outcome: 'succeeded', ms };
  } catch (err) {
    return { outcome: `no answer (${err instanceof Error ? err.name : 'error'})`, ms: Number(process.hrtime.bigint() - started) / 1e6 };
  }
}

async function preferWaitPhase(
  origin: string,
  customer: Customer,
  options: { requests: number; concurrency: number; waitS: number; prompt: string; deadline: number },
  serverPid: number | null,
): Promise<PreferWaitPhase> {
  const body = JSON.stringify({ model: 'flux-2', prompt: options.prompt });
  const outcomes: Record<string, number> = {};
  const latencies: number[] = [];
  const cpuBefore = serverPid === null ? null : processCpuSeconds(serverPid);
  const started = process.hrtime.bigint();
  await pool(
    Array.from({ length: options.requests }, (_, i) => i),
    options.concurrency,
    async () => {
      const result =
        Date.now() < options.deadline ? await createAndWait(origin, customer, body, options.waitS) : { outcome: 'not sent (bench deadline)', ms: 0 };
      outcomes[result.outcome] = (outcomes[result.outcome] ?? 0) + 1;
      if (result.outcome === 'succeeded') latencies.push(result.ms);
    },
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpuAfter = serverPid === null ? null : processCpuSeconds(serverPid);
  const succeeded = outcomes.succeeded ?? 0;
  return {
    requests: options.requests,
    concurrency: options.concurrency,
    succeeded,
    errors: options.requests - succeeded,
    outcomes,
    p50_ms: percentile(latencies, 50),
    p99_ms: percentile(latencies, 99),
    per_s: succeeded / seconds,
    seconds,
    server_cpu_ms_per_request: cpuBefore === null || cpuAfter === null ? null : ((cpuAfter - cpuBefore) * 1000) / options.requests,
  };
}

/**
 * Create with `Prefer: wait=N` against the zero-latency simulator: the answer is the finished task,
 * so the client's own clock measures the whole pipeline (route, reservation, submit, poll, image copy
 * to R2, settlement) plus the wake-up of the waiting request. First `sequential` requests one at a
 * time, then `concurrent` requests `concurrency` at a time. Every request must answer 200 with a
 * succeeded task; anything else is counted as an error, never retried. No request starts after
 * `timeoutMs`, so the run is bounded even if tasks stop finishing.
 */
export async function runPreferWait(
  origin: string,
  customer: Customer,
  options: { sequential: number; concurrent: number; concurrency: number; waitS: number; prompt: string; timeoutMs: number },
  serverPid: number | null,
): Promise<PreferWaitFigures> {
  const deadline = Date.now() + options.timeoutMs;
  const common = { waitS: options.waitS, prompt: options.prompt, deadline };
  const oneAtATime = await preferWaitPhase(origin, customer, { ...common, requests: options.sequential, concurrency: 1 }, serverPid);
  const concurrent = await preferWaitPhase(
    origin,
    customer,
    { ...common, requests: options.concurrent, concurrency: options.concurrency },
    serverPid,
  );
  return { wait_s: options.waitS, one_at_a_time: oneAtATime, concurrent };
}
