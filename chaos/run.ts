import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildWorker } from '../bench/build';
import { startSimulator } from '../bench/processes';
import { machineInfo } from '../bench/report';
import { freePort } from '../scripts/free-port';
import { PROVIDERS } from '../src/providers';
import { type AccountBooks, auditRun, type LedgerEntry, type TaskSeen } from './audit';
import { Gateway, sleep } from './gateway';
import { HEALTHY_RECEIVERS, makePlan } from './plan';
import { startReceivers } from './receivers';
import { type ChaosResults, writeReport } from './report';
import { WorkerRuntime } from './runtime';
import { readSettings } from './settings';
import { duplicateSubmits, type Outage, type SubmitSeen } from './submits';
import { type ClientTask, type Customer, runTask, runTopUp } from './traffic';

/**
 * `npm run chaos`: a thousand tasks (CHAOS_TASKS) across every model and several accounts, through the
 * simulator's faults, webhook receivers that are slow, flaky or dead, cancels, idempotent retries and
 * `Prefer: wait`, while the Worker's runtime is SIGKILLed and started again on the same state
 * (CHAOS_RESTARTS). Then it waits for every task to be final and audits the books, the webhooks and
 * the provider submits, writes CHAOS.md (CHAOS_REPORT=path, or `none`) and exits non-zero on any loss.
 */
const settings = readSettings();
const plan = makePlan(settings);
const root = process.cwd();
const work = mkdtempSync(join(tmpdir(), 'gateway-chaos-'));
const cleanups: Array<() => Promise<void>> = [];
const startedAt = Date.now();
/** Every line the Worker logged in every life; kept after the run (the report names it). */
const logFile = join(tmpdir(), `gateway-chaos-${plan.runId}-worker.log`);
rmSync(logFile, { force: true });

function log(message: string): void {
  console.log(`[chaos ${((Date.now() - startedAt) / 1000).toFixed(0).padStart(4)} s] ${message}`);
}

async function cleanup(): Promise<void> {
  for (const stop of cleanups.reverse()) await stop().catch(() => undefined);
  cleanups.length = 0;
  rmSync(work, { recursive: true, force: true });
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`chaos: ${signal}, stopping everything`);
    void cleanup().finally(() => process.exit(130));
  });
}

const watchdog = setTimeout(() => {
  console.error(`chaos: still running after ${settings.watchdogSeconds} s, stopping everything`);
  void cleanup().finally(() => process.exit(3));
}, settings.watchdogSeconds * 1000);

/** Retries `attempt` (through kills) until it returns a value, for setup and collection calls. */
async function persist<T>(what: string, attempt: () => Promise<T | undefined>, tries = 120): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const value = await attempt();
    if (value !== undefined) return value;
    await sleep(1000);
  }
  throw new Error(`${what}: no good answer after ${tries} tries`);
}

async function main(): Promise<number> {
  const machine = machineInfo();
  log(`seed ${settings.seed}, ${settings.tasks} tasks over ${settings.spreadSeconds} s, ${settings.restarts} kills, ${settings.accounts} accounts; ${machine.nproc} cores, load ${machine.load_average_at_start.join(' ')}`);
  const bundle = buildWorker(join(work, 'bundle'));

  const sim = await startSimulator();
  cleanups.push(() => sim.stop());
  const simUrl = sim.url;

  const secrets = new Map<number, string>();
  const receivers = await startReceivers(plan.inputPath, (marker) => {
    const task = plan.tasks.find((t) => t.marker === marker);
    return task ? secrets.get(task.account) : undefined;
  });
  cleanups.push(() => receivers.close());

  const token = randomBytes(24).toString('hex');
  const internal = { authorization: `Bearer ${token}` };
  const runtime = new WorkerRuntime({
    script: bundle.script,
    persistDir: join(work, 'state'),
    port: await freePort(),
    logFile,
    bindings: {
      ENVIRONMENT: 'development',
      INTERNAL_API_TOKEN: token,
      PUBLIC_BASE_URL: '',
      TASK_DEADLINE_SECONDS: String(settings.deadlineSeconds),
      POLL_INITIAL_MS: String(settings.pollInitialMs),
      POLL_MAX_MS: String(settings.pollMaxMs),
      WEBHOOK_RETRY_SCHEDULE: settings.webhookSchedule.join(','),
      // The OpenAI-compatible route's wait for its task; rate limits are not what this run is about.
      SYNC_WAIT_SECONDS: '30',
      RATE_LIMIT_REQUESTS_PER_MINUTE: '1000000',
      // WaveSpeed's default is its entry level (2 jobs at once): three of the ten models would spend the
      // run queued and time out there, and the faults behind the queue would never be met.
      PROVIDER_CAPACITY: JSON.stringify({ wavespeed: 20 }),
      ...Object.fromEntries(PROVIDERS.flatMap((p) => [[p.baseUrlVar, simUrl], [p.secret, `chaos-${p.id}-key`]])),
    },
  });
  cleanups.push(() => runtime.stop());
  await runtime.start();
  log(`Worker ${runtime.url} (ready in ${(runtime.lives[0]!.ready_ms / 1000).toFixed(1)} s), simulator ${simUrl}, receivers ${receivers.origin}`);

  const gateway = new Gateway(runtime.url, settings.concurrency);
  const customers: Customer[] = [];
  const expectedTopups: number[] = [];
  for (let i = 0; i < settings.accounts; i++) {
    const accountId = `${plan.runId}_acct${i}`;
    const minted = await gateway.call('POST', `/internal/v1/accounts/${accountId}/keys`, { headers: internal });
    if (!minted.ok || minted.status !== 201) throw new Error(`minting a key: ${minted.ok ? minted.text : minted.error}`);
    const auth = { authorization: `Bearer ${(minted.json as { api_key: string }).api_key}` };
    const topUp = await gateway.call('POST', `/internal/v1/accounts/${accountId}/credits`, {
      headers: internal,
      json: { amount: plan.startingCredits[i], reference: `${plan.runId}-start-${i}` },
    });
    if (!topUp.ok || topUp.status !== 200) throw new Error(`topping up: ${topUp.ok ? topUp.text : topUp.error}`);
    const secret = await gateway.call('GET', '/api/v1/webhooks/secret', { headers: auth });
    if (!secret.ok || secret.status !== 200) throw new Error(`reading the webhook secret: ${secret.ok ? secret.text : secret.error}`);
    secrets.set(i, (secret.json as { secret: string }).secret);
    customers.push({ accountId, auth });
    expectedTopups.push(plan.startingCredits[i]!);
  }
  for (const t of plan.topUps) expectedTopups[t.account]! += t.amount;

  // The traffic, the top-ups and the kills, each at its planned time from t0.
  const t0 = Date.now();
  const outages: Outage[] = [];
  const setupProblems: string[] = [];
  const at = (ms: number) => sleep(Math.max(0, t0 + ms - Date.now()));
  const kills = (async () => {
    for (const kill of plan.kills) {
      await at(kill.atMs);
      const outage: Outage = { killed_at: Date.now(), back_at: Number.NaN };
      outages.push(outage);
      outage.killed_at = await runtime.kill();
      log(`SIGKILL to the Worker's runtime (Miniflare + workerd); down for ${kill.downMs} ms, then started on the same state`);
      await sleep(kill.downMs);
      await runtime.start();
      outage.back_at = Date.now();
      log(`Worker back after ${((outage.back_at - outage.killed_at) / 1000).toFixed(1)} s`);
    }
  })();
  const topUps = Promise.all(
    plan.topUps.map(async (t) => {
      await at(t.atMs);
      setupProblems.push(...(await runTopUp(gateway, internal, customers[t.account]!.accountId, t)));
    }),
  );
  let done = 0;
  const progress = setInterval(() => log(`${done} of ${plan.tasks.length} task flows done, ${gateway.requests} requests`), 15_000);
  const clientTasks: ClientTask[] = await Promise.all(
    plan.tasks.map(async (planned) => {
      await at(planned.startAtMs);
      const callback = planned.webhook ? receivers.urlFor(planned.marker, planned.webhook) : null;
      const giveUpAt = Date.now() + (settings.deadlineSeconds + settings.graceSeconds + 120) * 1000;
      const result = await runTask(gateway, customers[planned.account]!, { ...planned, body: { ...planned.body, ...inputUrls(planned.body, receivers.origin + plan.inputPath) } }, callback, giveUpAt);
      done += 1;
      return result;
    }),
  );
  clearInterval(progress);
  await kills;
  await topUps;
  log(`traffic done: ${gateway.requests} requests, ${gateway.serverErrors.length} 5xx, ${gateway.unanswered.length} without an answer`);

  // Every task final, every webhook settled, nothing reserved: or the settle limit passes.
  const scheduleMs = settings.webhookSchedule.reduce((s, n) => s + n, 0) * 1000;
  const settleUntil = Date.now() + (settings.deadlineSeconds + settings.graceSeconds) * 1000 + scheduleMs + 60_000;
  let books: BooksRead[] = [];
  for (;;) {
    books = await Promise.all(customers.map((c, i) => readBooks(gateway, c, internal, expectedTopups[i]!)));
    const open = books.flatMap((b) => b.tasks).filter((t) => !['succeeded', 'failed', 'canceled'].includes(t.status) || t.webhook?.status === 'pending');
    const reserved = books.reduce((s, b) => s + b.reserved, 0);
    if ((open.length === 0 && reserved === 0) || Date.now() > settleUntil) break;
    log(`waiting: ${open.length} tasks running or with a webhook pending, ${reserved} credits reserved`);
    await sleep(3000);
  }

  const submitRecords = await persist('reading the simulator submits', async () => {
    const res = await fetch(`${simUrl}/__sim/submits?contains=${plan.runId}_`);
    return res.ok ? ((await res.json()) as Array<{ at: string; body: string; status: number | null; answered_at: string | null; caller_gone: boolean | null; garbled: boolean }>) : undefined;
  });
  const submitsByTask = new Map<string, SubmitSeen[]>();
  const markerToTask = new Map(books.flatMap((b) => b.tasks.map((t) => [markerOf(t.prompt, plan.runId) ?? '', t.task_id] as const)));
  for (const s of submitRecords) {
    const marker = markerOf(s.body, plan.runId);
    if (!marker) continue;
    const key = markerToTask.get(marker) ?? marker;
    const seen: SubmitSeen = {
      at: Date.parse(s.at),
      answered_at: s.answered_at ? Date.parse(s.answered_at) : null,
      status: s.status,
      caller_gone: s.caller_gone,
      garbled: s.garbled,
    };
    submitsByTask.set(key, [...(submitsByTask.get(key) ?? []), seen]);
  }

  const audit = auditRun(books, receivers.deliveries, {
    deadlineMs: settings.deadlineSeconds * 1000,
    graceMs: settings.graceSeconds * 1000,
    healthyKinds: HEALTHY_RECEIVERS,
    outages,
  });
  const duplicates = duplicateSubmits(submitsByTask, outages, storeFailures(runtime.lines));
  const duringOutage = (time: number) => outages.some((o) => time >= o.killed_at && time <= o.back_at + 2000);
  const results: ChaosResults = {
    settings,
    plan: { runId: plan.runId, kills: plan.kills, tasks: plan.tasks.length },
    machine,
    audit,
    duplicates,
    clientTasks,
    serverErrors: gateway.serverErrors,
    unansweredOutsideKills: gateway.unanswered.filter((u) => !duringOutage(u.at)),
    unansweredDuringKills: gateway.unanswered.filter((u) => duringOutage(u.at)).length,
    requests: gateway.requests,
    submits: submitRecords.length,
    outages,
    lives: runtime.lives,
    peakRssBytes: runtime.peakRssBytes,
    wallSeconds: (Date.now() - startedAt) / 1000,
    trafficSeconds: (Date.now() - t0) / 1000,
    setupProblems,
    workerLines: runtime.lines,
    logFile,
    bundleGzipBytes: bundle.gzip_bytes,
  };
  await cleanup();
  const { losses, text } = writeReport(root, results, process.env.CHAOS_REPORT ?? 'CHAOS.md');
  console.log(text);
  return losses;
}

/** A reference image for tasks whose plan asked for one (an empty `input_urls` means "serve it"). */
function inputUrls(body: Record<string, unknown>, url: string): Record<string, unknown> {
  return Array.isArray(body.input_urls) ? { input_urls: [url] } : {};
}

/** When the Worker logged, per task, that storing its results failed (from its warn lines). */
function storeFailures(lines: readonly string[]): Map<string, number[]> {
  const failures = new Map<string, number[]>();
  for (const line of lines) {
    if (!line.includes('storing results failed')) continue;
    const task = /task_[A-Za-z0-9]{22}/.exec(line)?.[0];
    const time = /time: '([^']+)'/.exec(line)?.[1] ?? /"time":"([^"]+)"/.exec(line)?.[1];
    if (task && time) failures.set(task, [...(failures.get(task) ?? []), Date.parse(time)]);
  }
  return failures;
}

function markerOf(text: string, runId: string): string | null {
  return new RegExp(`${runId}_\\d+`).exec(text)?.[0] ?? null;
}

/** An account's books with each task's prompt (which carries the plan's marker). */
type BooksRead = Omit<AccountBooks, 'tasks'> & { tasks: Array<TaskSeen & { prompt: string }> };

/** One account's tasks (every page), ledger (every page), balance and the Worker's reconciliation. */
async function readBooks(gateway: Gateway, customer: Customer, internal: Record<string, string>, expected: number): Promise<BooksRead> {
  const tasks: Array<TaskSeen & { prompt: string }> = [];
  let cursor: string | null = null;
  do {
    const page = await persist('listing tasks', async () => {
      const answer = await gateway.call('GET', `/api/v1/tasks?limit=100${cursor ? `&cursor=${cursor}` : ''}`, { headers: customer.auth });
      return answer.ok && answer.status === 200 ? (answer.json as { data: Array<TaskSeen & { input: { prompt?: string } }>; next_cursor: string | null }) : undefined;
    });
    tasks.push(...page.data.map((t) => ({ ...t, prompt: String(t.input.prompt ?? '') })));
    cursor = page.next_cursor;
  } while (cursor);
  const ledger: Omit<LedgerEntry, 'seq'>[] = [];
  let balance = 0;
  let reserved = 0;
  cursor = null;
  do {
    const page = await persist('reading the ledger', async () => {
      const answer = await gateway.call('GET', `/internal/v1/accounts/${customer.accountId}/credits?limit=200${cursor ? `&cursor=${cursor}` : ''}`, { headers: internal });
      return answer.ok && answer.status === 200 ? (answer.json as { balance: number; reserved: number; ledger: Omit<LedgerEntry, 'seq'>[]; next_cursor: string | null }) : undefined;
    });
    if (cursor === null) ({ balance, reserved } = page);
    ledger.push(...page.ledger);
    cursor = page.next_cursor;
  } while (cursor);
  const reconciliation = await persist('reconciling', async () => {
    const answer = await gateway.call('GET', `/internal/v1/accounts/${customer.accountId}/reconciliation`, { headers: internal });
    return answer.ok && answer.status === 200 ? (answer.json as { consistent: boolean; problems: string[] }) : undefined;
  });
  return {
    account_id: customer.accountId,
    expected_topups: expected,
    balance,
    reserved,
    // Pages come newest first.
    ledger: ledger.map((entry, i) => ({ ...entry, seq: ledger.length - i })),
    tasks,
    reconciliation,
  };
}

main()
  .then((losses) => {
    clearTimeout(watchdog);
    process.exitCode = losses > 0 ? 1 : 0;
  })
  .catch(async (err: unknown) => {
    console.error(err);
    await cleanup();
    clearTimeout(watchdog);
    process.exitCode = 2;
  });
