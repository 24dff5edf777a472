import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { createTask, type Customer, getTask, newCustomer, type TaskSeen } from './gateway-client';
import { startSimulator } from './processes';
import type { ServedWorker } from './workers';

/**
 * The latency we add on top of the provider: how long after the provider had the image ready the
 * customer's task was final. The simulator runs with realistic job durations (SIM_DURATIONS=realistic:
 * seconds, with a spread, see simulator/durations.ts) and lists when each job became ready
 * (`GET /__sim/jobs`), so for every task:
 * - final − ready: the task's `completed_at` minus the job's ready time (the result copy to R2 included);
 * - callback − ready: when the Worker answered the provider's callback, minus the ready time (the
 *   simulator's clock: an upper bound on when the Worker received it);
 * - provider calls: the submit plus every status read of the job.
 * Each path runs on a fresh gateway instance, with production poll settings, after a warm-up batch
 * (not measured) that gives the poll schedule the model's recent durations, as a running deployment has.
 */

export interface LatencyFigures {
  p50_ms: number;
  p99_ms: number;
}

export interface AddedLatencyPath {
  path: string;
  tasks: number;
  succeeded: number;
  /** The provider's own job durations in this run (ready − submitted), for scale. */
  job_p50_ms: number;
  final_after_ready: LatencyFigures;
  /** The first status read that could see the job ended, after its ready time: how late the Worker learnt of it. */
  seen_after_ready: LatencyFigures;
  callback_after_ready: LatencyFigures | null;
  provider_calls_per_task: number;
  /** What went wrong with the first task that did not succeed, if any. */
  first_problem?: string;
}

export interface AddedLatencyResults {
  model: string;
  tasks_per_path: number;
  concurrency: number;
  warmup: number;
  timing: Record<string, string>;
  paths: AddedLatencyPath[];
}

/** Serves the gateway bundle with every provider at `simUrl` and these extra variables. */
export type ServeGateway = (simUrl: string, vars: Record<string, string>, name: string) => Promise<ServedWorker>;

interface ListedJob {
  prompt: string;
  created_at: number;
  ready_at: number | null;
  polls: number;
  seen_ready_at: number | null;
  callback: { state: string; answered_at: number | null } | null;
}

const SETTINGS = {
  tasks: Number(process.env.BENCH_LATENCY_TASKS ?? 48),
  concurrency: 16,
  warmup: 32,
  timeoutMs: 120_000,
  /** How often the bench reads each unfinished task: rarely, so its own reads do not load the gateway it measures. */
  readEveryMs: 500,
};
/** Production's poll settings (wrangler.toml), so the polling figures are the ones customers get. */
const TIMING = { TASK_DEADLINE_SECONDS: '600', POLL_INITIAL_MS: '1000', POLL_MAX_MS: '10000' };
const MODEL = 'flux-2';
const PROMPT = 'a lighthouse on a cliff at dusk, oil painting';
const CREDITS = 1_000_000_000;

/** The paths measured: each a gateway setting and a prompt switch for the simulator. */
const PATHS = [
  { path: 'polling (callbacks off)', vars: { PROVIDER_CALLBACKS: 'off' }, prompt: '' },
  { path: 'callback', vars: { PROVIDER_CALLBACKS: 'on' }, prompt: '' },
  { path: 'callback dropped (fallback polls)', vars: { PROVIDER_CALLBACKS: 'on' }, prompt: ' [sim:callback=drop]' },
] as const;

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const figures = (values: readonly number[]): LatencyFigures => ({ p50_ms: percentile(values, 50), p99_ms: percentile(values, 99) });

async function jobOf(simUrl: string, tag: string): Promise<ListedJob | undefined> {
  const res = await fetch(`${simUrl}/__sim/jobs?prompt=${encodeURIComponent(tag)}`);
  const { jobs } = (await res.json()) as { jobs: ListedJob[] };
  return jobs[0];
}

/** Runs `count` tasks, `concurrency` at a time, each with a unique tag in its prompt; returns each finished task with its tag. */
async function runTasks(
  origin: string,
  customer: Customer,
  count: number,
  promptSuffix: string,
): Promise<Array<{ tag: string; task: TaskSeen | null; problem?: string }>> {
  const run = randomBytes(4).toString('hex');
  const out: Array<{ tag: string; task: TaskSeen | null; problem?: string }> = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const tag = `#${run}-${next++}`;
      try {
        const created = await createTask(origin, customer, { model: MODEL, prompt: `${PROMPT} ${tag}${promptSuffix}` });
        // Gentle reads of our own API: the figures come from the task's completed_at, not from when this saw it.
        const until = Date.now() + SETTINGS.timeoutMs;
        // The 202 answers the short form, without completed_at.
        let task: TaskSeen = { ...created, completed_at: null };
        while (task.completed_at === null && Date.now() < until) {
          await new Promise((resolve) => setTimeout(resolve, SETTINGS.readEveryMs));
          task = await getTask(origin, customer, created.task_id);
        }
        out.push(task.completed_at === null ? { tag, task: null, problem: `still ${task.status} after ${SETTINGS.timeoutMs} ms` } : { tag, task });
      } catch (err) {
        out.push({ tag, task: null, problem: String(err).slice(0, 300) });
      }
    }
  };
  await Promise.all(Array.from({ length: SETTINGS.concurrency }, worker));
  return out;
}

async function measurePath(
  serve: ServeGateway,
  simUrl: string,
  token: string,
  spec: (typeof PATHS)[number],
): Promise<AddedLatencyPath> {
  const gateway = await serve(simUrl, { ...TIMING, ...spec.vars }, spec.path);
  try {
    const customer = await newCustomer(gateway.url, token, `acct_latency_${randomBytes(4).toString('hex')}`, CREDITS);
    await runTasks(gateway.url, customer, SETTINGS.warmup, spec.prompt);
    const done = await runTasks(gateway.url, customer, SETTINGS.tasks, spec.prompt);
    const final: number[] = [];
    const seen: number[] = [];
    const callback: number[] = [];
    const jobDurations: number[] = [];
    let calls = 0;
    let succeeded = 0;
    let first_problem: string | undefined;
    for (const { tag, task, problem } of done) {
      const job = await jobOf(simUrl, tag);
      if (!task || task.status !== 'succeeded' || !job || job.ready_at === null || task.completed_at === null) {
        first_problem ??= problem ?? `task ${task?.task_id} ended ${task?.status} (${JSON.stringify((task as { error?: unknown } | null)?.error ?? null)}), ${job ? 'its job listed' : `no simulator job for ${tag}`}`;
        continue;
      }
      succeeded++;
      calls += 1 + job.polls;
      jobDurations.push(job.ready_at - job.created_at);
      final.push(Date.parse(task.completed_at) - job.ready_at);
      if (job.seen_ready_at !== null) seen.push(job.seen_ready_at - job.ready_at);
      if (job.callback?.answered_at) callback.push(job.callback.answered_at - job.ready_at);
    }
    return {
      path: spec.path,
      tasks: done.length,
      succeeded,
      job_p50_ms: percentile(jobDurations, 50),
      final_after_ready: figures(final),
      seen_after_ready: figures(seen),
      callback_after_ready: callback.length > 0 ? figures(callback) : null,
      provider_calls_per_task: succeeded > 0 ? calls / succeeded : Number.NaN,
      ...(first_problem ? { first_problem } : {}),
    };
  } finally {
    await gateway.dispose();
  }
}

/**
 * Measures every path against a simulator of its own, started with realistic durations; `serve`
 * starts a gateway instance (the bench's build and bindings).
 */
export async function measureAddedLatency(serve: ServeGateway, token: string, log: (line: string) => void): Promise<AddedLatencyResults> {
  const sim = await startSimulator({ SIM_DURATIONS: 'realistic' });
  const simUrl = sim.url;
  try {
    const paths: AddedLatencyPath[] = [];
    for (const spec of PATHS) {
      const path = await measurePath(serve, simUrl, token, spec);
      log(`added latency, ${path.path}: ${JSON.stringify(path)}`);
      paths.push(path);
    }
    return { model: MODEL, tasks_per_path: SETTINGS.tasks, concurrency: SETTINGS.concurrency, warmup: SETTINGS.warmup, timing: TIMING, paths };
  } finally {
    await sim.stop();
  }
}

/**
 * Today's figure, before the schedule followed recent durations and before callbacks: the same bench
 * (polling path; all three paths were polling then) on commit e9a3ff7, 2026-11-26.
 */
export const BEFORE: AddedLatencyPath = {
  path: 'before: backoff polling (e9a3ff7)',
  tasks: 48,
  succeeded: 48,
  job_p50_ms: 7335,
  final_after_ready: { p50_ms: 2677, p99_ms: 6359 },
  seen_after_ready: { p50_ms: Number.NaN, p99_ms: Number.NaN },
  callback_after_ready: null,
  provider_calls_per_task: 4.9,
};

const fmt = (value: number) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a');

/** The section's table for BENCHMARKS.md: today's figure first, then each path of this run. */
export function addedLatencyTable(results: AddedLatencyResults): string {
  const row = (p: AddedLatencyPath) =>
    `| ${p.path} | ${p.succeeded}/${p.tasks} | ${fmt(p.job_p50_ms)} | ${fmt(p.final_after_ready.p50_ms)} (${((100 * p.final_after_ready.p50_ms) / p.job_p50_ms).toFixed(1)}%) | ` +
    `${fmt(p.final_after_ready.p99_ms)} | ${fmt(p.seen_after_ready.p50_ms)} / ${fmt(p.seen_after_ready.p99_ms)} | ${p.callback_after_ready ? `${fmt(p.callback_after_ready.p50_ms)} / ${fmt(p.callback_after_ready.p99_ms)}` : ''} | ${p.provider_calls_per_task.toFixed(1)} |`;
  return [
    '| Path | Succeeded | Job p50 (ms) | Final − ready p50 (ms, share of job p50) | Final − ready p99 (ms) | Seen − ready p50 / p99 (ms) | Callback − ready p50 / p99 (ms) | Provider calls per task |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    row(BEFORE),
    ...results.paths.map(row),
  ].join('\n');
}

/** The section's aims, in the shape of report.ts's aims. */
export function addedLatencyAims(results: AddedLatencyResults | undefined): Array<{ aim: string; measured: string; met: boolean }> {
  if (!results) return [];
  const polling = results.paths.find((p) => p.path.startsWith('polling'));
  const callback = results.paths.find((p) => p.path === 'callback');
  const aims: Array<{ aim: string; measured: string; met: boolean }> = [];
  if (callback?.callback_after_ready) {
    const { p50_ms, p99_ms } = callback.final_after_ready;
    aims.push({ aim: 'with callbacks, task final − provider ready p50 < 100 ms', measured: `${fmt(p50_ms)} ms`, met: p50_ms < 100 });
    aims.push({ aim: 'with callbacks, task final − provider ready p99 < 500 ms', measured: `${fmt(p99_ms)} ms`, met: p99_ms < 500 });
  }
  if (polling) {
    const share = polling.final_after_ready.p50_ms / polling.job_p50_ms;
    aims.push({
      aim: "polling, task final − provider ready p50 < 5% of the model's median duration",
      measured: `${(100 * share).toFixed(1)}% (${polling.provider_calls_per_task.toFixed(1)} provider calls per task)`,
      met: share < 0.05,
    });
  }
  return aims;
}

/** `node --import tsx bench/added-latency.ts`: this section alone, for a quick look. */
async function standalone(): Promise<void> {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { buildWorker } = await import('./build');
  const { serveWorker } = await import('./workers');
  const work = mkdtempSync(join(tmpdir(), 'gateway-latency-'));
  const token = randomBytes(24).toString('hex');
  const bundle = buildWorker(join(work, 'gateway'));
  const providers = ['BFL', 'WAVESPEED', 'XAI', 'OPENAI', 'GEMINI', 'IDEOGRAM', 'RECRAFT'];
  const serve: ServeGateway = (simUrl, vars, name) =>
    serveWorker({
      config: 'wrangler.toml',
      script: bundle.script,
      persistDir: join(work, name.replace(/\W+/g, '-')),
      bindings: {
        ENVIRONMENT: 'development',
        INTERNAL_API_TOKEN: token,
        PUBLIC_BASE_URL: '',
        WEBHOOK_RETRY_SCHEDULE: '1,2',
        ...Object.fromEntries(providers.flatMap((p) => [[`${p}_BASE_URL`, simUrl], [`${p}_API_KEY`, `bench-${p.toLowerCase()}-key`]])),
        ...vars,
      },
    });
  try {
    const results = await measureAddedLatency(serve, token, (line) => console.log(line));
    console.log(JSON.stringify(results, null, 2));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const watchdog = setTimeout(() => process.exit(2), 400_000);
  standalone()
    .catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    })
    .finally(() => clearTimeout(watchdog));
}
