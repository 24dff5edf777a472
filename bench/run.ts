import { randomBytes } from 'node:crypto';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildWorker } from './build';
import { runEndToEnd, runOneAtATime, runPreferWait, startWebhookReceiver } from './end-to-end';
import { createTask, type Customer, newCustomer, waitForTask } from './gateway-client';
import { type LoadFigures, type LoadSettings, type LoadTarget, measureLoad } from './load';
import { OPENAI_COMPAT_VARS, openAICompatTarget } from './openai-compat';
import { startPeer } from './peer';
import { startSimulator, waitUntilIdle } from './processes';
import { type BenchResults, machineInfo, versions, writeReports } from './report';
import { measureAddedLatency, type ServeGateway } from './added-latency';
import { runBurst } from './burst';
import { measureBigResultMemory } from './memory';
import { measureObjectStorage } from './storage';
import { type ServedWorker, serveWorker } from './workers';

/**
 * `npm run bench`: the gateway's own cost against a bare Hono route on the same runtime, plus a
 * peer gateway, all on loopback. Every load is bounded and the whole run has a watchdog, so it
 * always stops by itself. For a quick look the settings can be shortened with BENCH_SECONDS,
 * BENCH_WARMUP_SECONDS and BENCH_TASKS; the report states the settings used.
 */
const SETTINGS: LoadSettings = {
  connections: Number(process.env.BENCH_CONNECTIONS ?? 16),
  warmupSeconds: Number(process.env.BENCH_WARMUP_SECONDS ?? 2),
  seconds: Number(process.env.BENCH_SECONDS ?? 10),
};
const E2E_TASKS = Number(process.env.BENCH_TASKS ?? 500);
/** Tasks run one after another (nothing else running) for the pipeline's unloaded latency. */
const SINGLE_TASKS = 20;
/**
 * Creation is bounded by count, not time: every request makes a Durable Object, and one local
 * workerd process holding ~2,500 live objects starts failing (SQLITE_NOMEM, or out of file
 * descriptors, since each keeps its SQLite files open). 200 + 2,000 stays clear of that.
 */
const CREATE_COUNTS = { warmup: 200, measured: 2_000 };
const CREATE_ON_DISK_COUNTS = { warmup: 100, measured: 1_000 };
/** One connection: each request alone, so no queueing behind the others (latency without load). */
const UNLOADED: LoadSettings = { connections: 1, warmupSeconds: 1, seconds: 5 };
const CREATE_UNLOADED_COUNTS = { warmup: 20, measured: 300 };
/**
 * Create with `Prefer: wait`: one at a time, then a few at a time; each request holds its connection
 * until its task has finished, so the count (not a duration) bounds it, and no request starts after
 * `timeoutMs`.
 */
const PREFER_WAIT = { sequential: 20, concurrent: 200, concurrency: 8, waitS: 30, timeoutMs: 45_000 };
// The added-latency section (bench/added-latency.ts) runs real job durations: about three minutes of it.
// The OpenAI-compatible route (bench/openai-compat.ts): two instances and two standard loads, about 40 s.
// + 150 s for the burst of 500 tasks against a provider cap (bench/burst.ts).
const WATCHDOG_MS = 285_000 + 240_000 + 45_000 + 150_000;
const PROMPT = 'a lighthouse on a cliff at dusk, oil painting';
const CREDITS = 1_000_000_000;

const root = process.cwd();
/** Miniflare state goes to RAM (tmpfs) when there is one, so disk flushes do not set the pace. */
const ramDir = (() => {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return null;
  }
})();
const work = mkdtempSync(join(ramDir ?? tmpdir(), 'gateway-bench-'));
const diskWork = mkdtempSync(join(tmpdir(), 'gateway-bench-disk-'));
const cleanups: Array<() => Promise<void>> = [];
const notes: string[] = [];

async function cleanup(): Promise<void> {
  for (const stop of cleanups.reverse()) await stop().catch(() => undefined);
  cleanups.length = 0;
  rmSync(work, { recursive: true, force: true });
  rmSync(diskWork, { recursive: true, force: true });
}

const watchdog = setTimeout(() => {
  console.error(`bench: still running after ${WATCHDOG_MS / 1000} s, stopping`);
  void cleanup().finally(() => process.exit(2));
}, WATCHDOG_MS);

function log(message: string): void {
  console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

/** One load against one server; unexpected answers go into the report's notes with the server's last log lines. */
async function load(
  name: string,
  target: LoadTarget,
  server: { pid: number | null; logs?: () => string },
  settings: LoadSettings = SETTINGS,
): Promise<LoadFigures> {
  if (server.pid !== null) {
    const waited = await waitUntilIdle(server.pid);
    if (waited !== null && waited > 1_500) log(`${name}: waited ${(waited / 1000).toFixed(1)} s for the server to go quiet`);
  }
  const f = await measureLoad(target, settings, server.pid);
  log(`${name}: ${f.rps.toFixed(0)} req/s, p50 ${f.p50_ms.toFixed(2)} ms, p99 ${f.p99_ms.toFixed(2)} ms, failed ${f.failed}`);
  if (f.failed > 0) {
    const errors = (server.logs?.() ?? '').split('\n').filter((l) => l.includes('error'));
    const last = errors.at(-1)?.slice(0, 300);
    notes.push(`${name}: ${f.failed} answers without the expected status (${JSON.stringify(f.statuses)})${last ? `; last error logged: \`${last}\`` : ''}.`);
  }
  return f;
}

/** Gateway bindings: every provider at the simulator, secrets made up for this run. */
function gatewayBindings(simUrl: string, token: string, timing: Record<string, string>): Record<string, string> {
  const providers = ['BFL', 'WAVESPEED', 'XAI', 'OPENAI', 'GEMINI', 'IDEOGRAM', 'RECRAFT'];
  return {
    ENVIRONMENT: 'development',
    INTERNAL_API_TOKEN: token,
    PUBLIC_BASE_URL: '',
    WEBHOOK_RETRY_SCHEDULE: '1,2',
    ...Object.fromEntries(providers.flatMap((p) => [[`${p}_BASE_URL`, simUrl], [`${p}_API_KEY`, `bench-${p.toLowerCase()}-key`]])),
    ...timing,
  };
}

/** `POST /api/v1/images/generations` as `customer` (plus any `headers`), expecting `status`. */
function createTarget(
  origin: string,
  customer: Customer,
  body: Record<string, unknown>,
  status: number,
  headers: Record<string, string> = {},
): LoadTarget {
  return {
    url: `${origin}/api/v1/images/generations`,
    method: 'POST',
    headers: { ...customer.auth, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    expectStatus: status,
  };
}

async function main(): Promise<void> {
  const machine = machineInfo();
  log(`machine: ${machine.cpu_model}, ${machine.nproc} cores, load average ${machine.load_average_at_start.join(' ')}`);

  log('building bundles with wrangler deploy --dry-run');
  const gatewayBundle = buildWorker(join(work, 'gateway'));
  const floorBundle = buildWorker(join(work, 'floor'), { config: 'bench/floor.wrangler.toml' });

  const sim = await startSimulator();
  cleanups.push(() => sim.stop());
  const simUrl = sim.url;
  const receiver = await startWebhookReceiver();
  cleanups.push(() => receiver.close());

  const token = randomBytes(24).toString('hex');
  const serveGateway = async (timing: Record<string, string>, persistDir: string): Promise<ServedWorker> => {
    const served = await serveWorker({ config: 'wrangler.toml', script: gatewayBundle.script, bindings: gatewayBindings(simUrl, token, timing), persistDir });
    cleanups.push(() => served.dispose());
    return served;
  };
  const floor = await serveWorker({ config: 'bench/floor.wrangler.toml', script: floorBundle.script, persistDir: join(work, 'floor-state') });
  cleanups.push(() => floor.dispose());
  // Tasks created under load park after their first submit (the next poll is ten minutes away),
  // so the creation figure is the route plus one submit, not whole task lives competing for CPU.
  const parkedTiming = { TASK_DEADLINE_SECONDS: '3600', POLL_INITIAL_MS: '600000', POLL_MAX_MS: '600000' };
  const parked = await serveGateway(parkedTiming, join(work, 'parked-state'));
  const e2eTiming = { TASK_DEADLINE_SECONDS: '120', POLL_INITIAL_MS: '10', POLL_MAX_MS: '1000' };
  const e2eDir = join(work, 'e2e-state');
  const e2e = await serveGateway(e2eTiming, e2eDir);
  log(`floor ${floor.url}, gateway ${parked.url} (parked tasks) and ${e2e.url} (end to end), simulator ${simUrl}`);

  const results: Partial<BenchResults> = { state_dir: ramDir ? 'tmpfs (/dev/shm)' : `disk (${tmpdir()})` };
  results.floor = await load('floor GET /', { url: `${floor.url}/`, expectStatus: 200 }, floor);
  const unloaded: Partial<BenchResults['unloaded']> = {};
  unloaded.floor = await load('floor GET /, 1 connection', { url: `${floor.url}/`, expectStatus: 200 }, floor, UNLOADED);

  const peer = await startPeer(simUrl, PROMPT);
  if ('skipped' in peer) {
    results.peer = peer;
    notes.push(`Peer skipped: ${peer.skipped}`);
    log(`peer skipped: ${peer.skipped}`);
  } else {
    cleanups.push(() => peer.stop());
    results.upstream = await load('simulator POST /v1/images/generations (direct)', peer.upstreamTarget, { pid: sim.pid });
    results.peer = await load('portkey POST /v1/images/generations', peer.target, { pid: peer.pid });
    await peer.stop();
  }
  // Our OpenAI-compatible route under the peer's load and body; each answer is a whole task (see
  // bench/openai-compat.ts). One fresh instance per answer format keeps their task objects apart.
  results.openai_compat = {};
  for (const format of ['b64_json', 'url'] as const) {
    const served = await serveGateway({ ...e2eTiming, ...OPENAI_COMPAT_VARS }, join(work, `openai-${format}-state`));
    const payer = await newCustomer(served.url, token, `acct_bench_openai_${format}`, CREDITS);
    const target = openAICompatTarget(served.url, payer, PROMPT, format);
    results.openai_compat[format] = await load(`ours POST /v1/images/generations (${format})`, target, served);
    await served.dispose();
  }

  const payer = await newCustomer(parked.url, token, 'acct_bench_parked', CREDITS);
  const broke = await newCustomer(parked.url, token, 'acct_bench_broke', 0);
  const running = await createTask(parked.url, payer, { model: 'flux-2', prompt: `${PROMPT} [sim:hang]` });
  await waitForTask(parked.url, payer, running.task_id, (t) => t.status === 'processing', 30_000);
  results.get_running = await load(
    'GET running task (Durable Object path)',
    { url: `${parked.url}/api/v1/tasks/${running.task_id}`, headers: payer.auth, expectStatus: 200 },
    parked,
  );
  // The creation route a step at a time: each rung adds one piece of the work to the one before.
  results.create_rejected = await load(
    'POST generations, invalid body (400: auth + JSON + validation)',
    createTarget(parked.url, payer, { model: 'flux-2', prompt: PROMPT, resolution: '8K' }, 400),
    parked,
  );
  results.create_unpaid = await load(
    'POST generations, no credits (402: + reservation attempt on the account object)',
    createTarget(parked.url, broke, { model: 'flux-2', prompt: PROMPT }, 402),
    parked,
  );
  results.create = await load(
    'POST /api/v1/images/generations',
    { ...createTarget(parked.url, payer, { model: 'flux-2', prompt: PROMPT }, 202), counts: CREATE_COUNTS },
    parked,
  );
  await parked.dispose();

  // The unloaded runs get an instance of their own, so its objects do not add to the ones above.
  const quiet = await serveGateway(parkedTiming, join(work, 'quiet-state'));
  const quietPayer = await newCustomer(quiet.url, token, 'acct_bench_quiet', CREDITS);
  const quietRunning = await createTask(quiet.url, quietPayer, { model: 'flux-2', prompt: `${PROMPT} [sim:hang]` });
  await waitForTask(quiet.url, quietPayer, quietRunning.task_id, (t) => t.status === 'processing', 30_000);
  unloaded.get_running = await load(
    'GET running task, 1 connection',
    { url: `${quiet.url}/api/v1/tasks/${quietRunning.task_id}`, headers: quietPayer.auth, expectStatus: 200 },
    quiet,
    UNLOADED,
  );
  unloaded.create = await load(
    'POST /api/v1/images/generations, 1 connection',
    { ...createTarget(quiet.url, quietPayer, { model: 'flux-2', prompt: PROMPT }, 202), counts: CREATE_UNLOADED_COUNTS },
    quiet,
    UNLOADED,
  );
  await quiet.dispose();

  const onDisk = await serveGateway(parkedTiming, join(diskWork, 'state'));
  const diskPayer = await newCustomer(onDisk.url, token, 'acct_bench_disk', CREDITS);
  results.create_on_disk = await load(
    'POST /api/v1/images/generations, state on disk',
    { ...createTarget(onDisk.url, diskPayer, { model: 'flux-2', prompt: PROMPT }, 202), counts: CREATE_ON_DISK_COUNTS },
    onDisk,
  );
  await onDisk.dispose();

  const e2eCustomer = await newCustomer(e2e.url, token, 'acct_bench_e2e', CREDITS);
  results.e2e_single = await runOneAtATime(e2e.url, e2eCustomer, { count: SINGLE_TASKS, prompt: PROMPT });
  log(`end to end, one task at a time: ${JSON.stringify(results.e2e_single)}`);
  log(`end to end: ${E2E_TASKS} tasks through the zero-latency simulator, with webhooks to ${receiver.url}`);
  results.e2e = await runEndToEnd(
    e2e.url,
    e2eCustomer,
    { count: E2E_TASKS, concurrency: SETTINGS.connections, prompt: PROMPT, callbackUrl: receiver.url, timeoutMs: 120_000 },
    receiver.arrivals,
    e2e.pid,
  );
  const { task_ids: finishedIds, ...e2eFigures } = results.e2e;
  log(`end to end: ${JSON.stringify(e2eFigures)}`);
  if (results.e2e.succeeded < results.e2e.tasks) {
    notes.push(`End to end: only ${results.e2e.succeeded} of ${results.e2e.tasks} tasks succeeded (${results.e2e.failed} failed).`);
  }
  if ('skipped' in results.e2e.webhook) notes.push(`Webhook timing skipped: ${results.e2e.webhook.skipped}`);

  // Every finished task of the run in turn, so the reads are spread over many KV keys.
  results.get_finished = await load(
    'GET finished task (KV path)',
    { url: e2e.url, paths: finishedIds.map((id) => `/api/v1/tasks/${id}`), headers: e2eCustomer.auth, expectStatus: 200 },
    e2e,
  );
  unloaded.get_finished = await load(
    'GET finished task, 1 connection',
    { url: e2e.url, paths: finishedIds.map((id) => `/api/v1/tasks/${id}`), headers: e2eCustomer.auth, expectStatus: 200 },
    e2e,
    UNLOADED,
  );
  results.unloaded = unloaded as BenchResults['unloaded'];
  // Before the tasks below add theirs: the figure is per task of the end-to-end run (with a callback_url).
  results.storage = measureObjectStorage(join(e2eDir, 'do'), 'TaskDO');

  // Create with `Prefer: wait`: the answer is the finished task, so no polling at all.
  const waiter = await newCustomer(e2e.url, token, 'acct_bench_wait', CREDITS);
  results.prefer_wait = await runPreferWait(e2e.url, waiter, { ...PREFER_WAIT, prompt: PROMPT }, e2e.pid);
  for (const [name, phase] of [
    ['one at a time', results.prefer_wait.one_at_a_time],
    [`${PREFER_WAIT.concurrency} at a time`, results.prefer_wait.concurrent],
  ] as const) {
    log(
      `create with Prefer: wait=${PREFER_WAIT.waitS}, ${name}: ${phase.succeeded} of ${phase.requests} succeeded, ` +
        `${phase.per_s.toFixed(1)}/s, p50 ${phase.p50_ms.toFixed(2)} ms, p99 ${phase.p99_ms.toFixed(2)} ms, errors ${phase.errors}`,
    );
    if (phase.errors > 0) {
      notes.push(`Create with \`Prefer: wait\`, ${name}: ${phase.errors} of ${phase.requests} requests did not answer 200 with a succeeded task (${JSON.stringify(phase.outcomes)}).`);
    }
  }

  // An idempotent replay: one create with a key, then the same request and key again and again.
  const replayer = await newCustomer(e2e.url, token, 'acct_bench_replay', CREDITS);
  const replayBody = { model: 'flux-2', prompt: PROMPT };
  const replayKey = { 'idempotency-key': `bench-replay-${randomBytes(8).toString('hex')}` };
  const original = await createTask(e2e.url, replayer, replayBody, replayKey);
  await waitForTask(e2e.url, replayer, original.task_id, (t) => t.status === 'succeeded' || t.status === 'failed', 30_000);
  results.create_replay = await load(
    'POST generations, idempotent replay (same Idempotency-Key and body)',
    { ...createTarget(e2e.url, replayer, replayBody, 202, replayKey), expectHeader: { name: 'idempotent-replayed', value: 'true' } },
    e2e,
  );
  // The latency we add on top of the provider: its own simulator, with realistic job durations.
  const serveLatency: ServeGateway = async (latencySimUrl, vars, name) => {
    const persistDir = join(work, `latency-${name.replace(/\W+/g, '-')}`);
    const served = await serveWorker({ config: 'wrangler.toml', script: gatewayBundle.script, bindings: gatewayBindings(latencySimUrl, token, vars), persistDir });
    cleanups.push(() => served.dispose());
    return served;
  };
  results.added_latency = await measureAddedLatency(serveLatency, token, log);
  // A burst against the provider's cap: fairness across accounts, and no 429 past the cap.
  results.burst = await runBurst((vars) => serveGateway({ ...e2eTiming, ...vars }, join(work, 'burst-state')), simUrl, token, log);
  if (results.burst.provider_429s > 0) notes.push(`Burst: the provider answered ${results.burst.provider_429s} submits with 429.`);
  // Peak memory on the largest result: alone on a fresh instance, so other tasks' garbage is not counted.
  const big = await serveGateway(e2eTiming, join(work, 'big-result-state'));
  if (big.pid === null) {
    results.big_result_memory = { skipped: 'the workerd process could not be told apart' };
  } else {
    results.big_result_memory = await measureBigResultMemory(big.url, await newCustomer(big.url, token, 'acct_bench_big', CREDITS), big.pid);
    for (const row of results.big_result_memory) {
      log(`big result, ${row.images} × ${row.image_bytes} B: workerd peak +${((row.rss_peak_bytes - row.rss_before_bytes) / 2 ** 20).toFixed(1)} MiB = ${row.peak_over_image.toFixed(1)}× one image`);
    }
  }
  await big.dispose();
  results.bundle = { gateway: gatewayBundle, floor: floorBundle };
  results.timing = { parked: parkedTiming, e2e: e2eTiming };
  results.create_counts = CREATE_COUNTS;
  results.create_counts_unloaded = CREATE_UNLOADED_COUNTS;

  await cleanup();
  const written = writeReports(root, {
    results: results as BenchResults,
    machine,
    versions: versions(root),
    settings: { ...SETTINGS, e2e_tasks: E2E_TASKS, unloaded: UNLOADED, prefer_wait: PREFER_WAIT },
    notes,
  });
  log(`wrote ${written.join(' and ')}`);
}

main()
  .then(() => {
    clearTimeout(watchdog);
  })
  .catch(async (err: unknown) => {
    console.error(err);
    await cleanup();
    clearTimeout(watchdog);
    process.exitCode = 1;
  });
