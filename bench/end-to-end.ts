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
