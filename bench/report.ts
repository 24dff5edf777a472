import type { BigResultMemory } from './memory';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem, availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Bundle } from './build';
import type { EndToEndFigures, PreferWaitFigures, PreferWaitPhase } from './end-to-end';
import type { LoadFigures } from './load';
import type { StorageFigures } from './storage';
import { type AddedLatencyResults, addedLatencyAims, addedLatencyTable } from './added-latency';
import { type BurstFigures, burstAims, burstTable } from './burst';

export interface BenchResults {
  floor: LoadFigures;
  /** The simulator's OpenAI route hit directly: the peer's upstream on its own. */
  upstream?: LoadFigures;
  peer: LoadFigures | { skipped: string };
  /**
   * Our `POST /v1/images/generations` under the peer's load and request body, each answer a whole task,
   * with the image inline (`b64_json`, the peer's payload) and as a URL.
   */
  openai_compat?: Partial<Record<'b64_json' | 'url', LoadFigures>>;
  /** Creation with a body validation rejects (400): auth, JSON, validation. */
  create_rejected: LoadFigures;
  /** Creation by an account without credits (402): the above plus the reservation attempt. */
  create_unpaid: LoadFigures;
  create: LoadFigures;
  /** The same creation load with Miniflare's state on disk instead of tmpfs. */
  create_on_disk: LoadFigures;
  create_counts: { warmup: number; measured: number };
  create_counts_unloaded: { warmup: number; measured: number };
  get_finished: LoadFigures;
  get_running: LoadFigures;
  e2e: EndToEndFigures;
  /** The same pipeline one task at a time. */
  e2e_single: { tasks: number; p50_ms: number; p99_ms: number };
  /** Create with `Prefer: wait=N` until the task has succeeded, timed by the client: one at a time, then concurrently. */
  prefer_wait: PreferWaitFigures;
  /** The same create and `Idempotency-Key` sent again and again: every answer a replay of the first. */
  create_replay: LoadFigures;
  storage: StorageFigures;
  bundle: { gateway: Bundle; floor: Bundle };
  /** The same routes with one connection: latency without queueing. */
  unloaded: { floor: LoadFigures; create: LoadFigures; get_finished: LoadFigures; get_running: LoadFigures };
  /** Where Miniflare kept DO, KV and R2 data for the main figures. */
  state_dir: string;
  /** The timing variables of the two gateway instances (parked tasks; end to end). */
  timing: { parked: Record<string, string>; e2e: Record<string, string> };
  /** The latency we add on top of the provider, per path (bench/added-latency.ts). */
  added_latency?: AddedLatencyResults;
  /** 500 flux-2 tasks from 5 accounts against BFL's cap of 24 (bench/burst.ts). */
  burst?: BurstFigures;
  /** Peak memory of tasks with the largest inline results (bench/memory.ts). */
  big_result_memory?: BigResultMemory[] | { skipped: string };
}

export interface Machine {
  nproc: number;
  cpu_model: string;
  node: string;
  os: string;
  memory_gib: number;
  load_average_at_start: number[];
}

export interface Report {
  results: BenchResults;
  machine: Machine;
  versions: Record<string, string>;
  settings: {
    connections: number;
    warmupSeconds: number;
    seconds: number;
    e2e_tasks: number;
    unloaded: { connections: number; warmupSeconds: number; seconds: number };
    prefer_wait: { sequential: number; concurrent: number; concurrency: number; waitS: number; timeoutMs: number };
  };
  notes: string[];
}

export const COMMAND = 'npm run bench';
const KIB = 1024;

export function machineInfo(): Machine {
  return {
    nproc: availableParallelism(),
    cpu_model: cpus()[0]?.model.trim() ?? 'unknown',
    node: process.version,
    os: `${process.platform} ${release()}`,
    memory_gib: Math.round(totalmem() / KIB ** 3),
    load_average_at_start: loadavg().map((n) => Number(n.toFixed(2))),
  };
}

/** Versions of what was measured and what measured it, read from the installed packages. */
export function versions(root: string): Record<string, string> {
  const read = (path: string) => {
    try {
      return (JSON.parse(readFileSync(join(root, path), 'utf8')) as { version: string }).version;
    } catch {
      return 'unknown';
    }
  };
  return {
    wrangler: read('node_modules/wrangler/package.json'),
    miniflare: read('node_modules/miniflare/package.json'),
    workerd: read('node_modules/workerd/package.json'),
    hono: read('node_modules/hono/package.json'),
    autocannon: read('node_modules/autocannon/package.json'),
    '@portkey-ai/gateway': read('node_modules/@portkey-ai/gateway/package.json'),
  };
}

const fixed = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
const ms = (n: number) => (Number.isFinite(n) ? (n < 10 ? n.toFixed(2) : n.toFixed(1)) : 'n/a');
const ratio = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a');
const kib = (bytes: number) => `${(bytes / KIB).toFixed(1)} KiB`;

/** The parts over 1 KiB, largest first, then the rest in one figure. */
function bundleParts(bundle: Bundle): string {
  const large = bundle.parts.filter((p) => p.bytes >= KIB);
  const rest = bundle.parts.filter((p) => p.bytes < KIB).reduce((sum, p) => sum + p.bytes, 0);
  return [...large.map((p) => `${p.name} ${kib(p.bytes)}`), ...(rest > 0 ? [`others ${kib(rest)}`] : [])].join(', ');
}

const isLoad = (x: LoadFigures | { skipped: string } | undefined): x is LoadFigures => x !== undefined && !('skipped' in x);

function loadRow(name: string, f: LoadFigures, floor: LoadFigures): string {
  const cpu = f.server_cpu_us_per_request === null ? 'n/a' : fixed(f.server_cpu_us_per_request);
  return `| ${name} | ${fixed(f.rps)} req/s | ${ratio(f.rps, floor.rps)} | ${ms(f.p50_ms)} | ${ms(f.p99_ms)} | ${ratio(f.p99_ms, floor.p99_ms)} | ${cpu} |`;
}

function resultsTable(r: BenchResults): string {
  const lines = [
    '| Measure | Throughput | ÷ floor | p50 ms | p99 ms | p99 ÷ floor p99 | workerd CPU µs/req |',
    '|---|---:|---:|---:|---:|---:|---:|',
    loadRow('**Floor**: bare Hono `GET /`, same runtime, same serving', r.floor, r.floor),
    loadRow('`POST /api/v1/images/generations` (flux-2): auth, validation, reservation, task creation', r.create, r.floor),
    loadRow('`GET /api/v1/tasks/{id}`, finished task (KV path)', r.get_finished, r.floor),
    loadRow('`GET /api/v1/tasks/{id}`, running task (Durable Object path)', r.get_running, r.floor),
  ];
  if (isLoad(r.peer)) lines.push(loadRow('Peer: Portkey gateway `POST /v1/images/generations` → simulator', r.peer, r.floor));
  else lines.push(`| Peer: Portkey gateway | skipped: ${r.peer.skipped.replace(/\|/g, '\\|')} | | | | | |`);
  if (r.upstream) lines.push(loadRow("Peer's upstream alone: the simulator's `POST /v1/images/generations`", r.upstream, r.floor));
  for (const [format, f] of Object.entries(r.openai_compat ?? {})) {
    lines.push(loadRow(`Ours: \`POST /v1/images/generations\` (OpenAI-compatible, ${format}), a whole task per answer`, f, r.floor));
  }
  const e = r.e2e;
  lines.push(
    `| End to end: ${e.tasks} tasks, create → \`succeeded\` (task timestamps) | ${fixed(e.tasks_per_s, 1)} tasks/s | ${ratio(e.tasks_per_s, r.floor.rps)} | ${ms(e.p50_ms)} | ${ms(e.p99_ms)} | ${ratio(e.p99_ms, r.floor.p99_ms)} | ${e.server_cpu_ms_per_task === null ? '' : `${fixed(e.server_cpu_ms_per_task * 1000)} per task, incl. ${e.polls} polls`} |`,
  );
  lines.push(
    `| End to end, one task at a time (${r.e2e_single.tasks} tasks), create → \`succeeded\` | | | ${ms(r.e2e_single.p50_ms)} | ${ms(r.e2e_single.p99_ms)} | | |`,
  );
  lines.push(...preferWaitRows(r.prefer_wait, r.floor));
  if ('skipped' in e.webhook) lines.push(`| End to end, create → webhook received | skipped: ${e.webhook.skipped} | | | | | |`);
  else {
    lines.push(
      `| End to end, create → webhook received (${e.webhook.delivered} of ${e.succeeded}) | | | ${ms(e.webhook.p50_ms)} | ${ms(e.webhook.p99_ms)} | ${ratio(e.webhook.p99_ms, r.floor.p99_ms)} | |`,
    );
  }
  const replay = r.create_replay;
  lines.push(
    loadRow(
      `Idempotent replay: the same create and \`Idempotency-Key\` again (${replay.failed} of ${replay.ok + replay.failed} answers not a replay)`,
      replay,
      r.floor,
    ),
  );
  const b = r.bundle;
  lines.push(
    `| Worker bundle, gzip (\`wrangler deploy --dry-run\`, as configured) | ${kib(b.gateway.gzip_bytes)} | ${ratio(b.gateway.gzip_bytes, b.floor.gzip_bytes)} the floor's ${kib(b.floor.gzip_bytes)} | | | | |`,
    `| Worker bundle, minified, by part (\`--metafile\`) | ${bundleParts(b.gateway)} | | | | | |`,
  );
  const s = r.storage;
  const stored = s.stored_bytes_per_object === null ? 'n/a' : `${fixed(s.stored_bytes_per_object)} B stored`;
  lines.push(`| Durable Object storage per finished task (${s.objects} tasks) | ${stored}; ${fixed(s.file_bytes_per_object)} B on disk | | | | | |`);
  return lines.join('\n');
}

/** Create with `Prefer: wait`, concurrently then one at a time, in the results table's columns. */
function preferWaitRows(w: PreferWaitFigures, floor: LoadFigures): string[] {
  const errors = (p: PreferWaitPhase) => `${p.errors} of ${p.requests} not 200 \`succeeded\``;
  const c = w.concurrent;
  const o = w.one_at_a_time;
  const cpu = c.server_cpu_ms_per_request === null ? '' : `${fixed(c.server_cpu_ms_per_request * 1000)} per request`;
  return [
    `| Create with \`Prefer: wait=${w.wait_s}\` → \`200\` \`succeeded\` (client's clock), ${c.concurrency} at a time (${errors(c)}) | ${fixed(c.per_s, 1)} tasks/s | ${ratio(c.per_s, floor.rps)} | ${ms(c.p50_ms)} | ${ms(c.p99_ms)} | ${ratio(c.p99_ms, floor.p99_ms)} | ${cpu} |`,
    `| Create with \`Prefer: wait=${w.wait_s}\`, one at a time (${errors(o)}) | ${fixed(o.per_s, 1)} tasks/s | | ${ms(o.p50_ms)} | ${ms(o.p99_ms)} | | |`,
  ];
}

/** The creation route a rung at a time, and the same load with state on disk. */
function creationLadder(r: BenchResults): string {
  const rungs: Array<[string, LoadFigures]> = [
    ['floor: runtime, HTTP, a constant answer', r.floor],
    ['+ auth, JSON, validation (400: invalid `resolution`)', r.create_rejected],
    ['+ reservation attempt on the account object (402: no credits)', r.create_unpaid],
    ['+ reservation write, new task object and its first write, first submit (202)', r.create],
  ];
  const rows = rungs.map(([name, f], i) => {
    const cpu = f.server_cpu_us_per_request;
    const before = i === 0 ? null : rungs[i - 1]![1].server_cpu_us_per_request;
    const added = cpu === null || before === null ? '' : fixed(cpu - before);
    return `| ${name} | ${fixed(f.rps)} | ${ms(f.p50_ms)} | ${ms(f.p99_ms)} | ${cpu === null ? 'n/a' : fixed(cpu)} | ${added} |`;
  });
  const d = r.create_on_disk;
  return [
    '| Rung | req/s | p50 ms | p99 ms | workerd CPU µs/req | added by this rung |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows,
    `| creation again, Miniflare state on disk instead of ${r.state_dir} | ${fixed(d.rps)} | ${ms(d.p50_ms)} | ${ms(d.p99_ms)} | ${d.server_cpu_us_per_request === null ? 'n/a' : fixed(d.server_cpu_us_per_request)} | |`,
  ].join('\n');
}

/** Each route with one connection, next to its 16-connection latency. */
function unloadedTable(r: BenchResults): string {
  const rows: Array<[string, LoadFigures, LoadFigures]> = [
    ['floor', r.unloaded.floor, r.floor],
    ['creation', r.unloaded.create, r.create],
    ['finished-task poll', r.unloaded.get_finished, r.get_finished],
    ['running-task poll', r.unloaded.get_running, r.get_running],
  ];
  return [
    '| Route | 1 connection: req/s | p50 ms | p99 ms | p99 ÷ floor p99 | loaded p50 ms | loaded p99 ms |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      ([name, one, many]) =>
        `| ${name} | ${fixed(one.rps)} | ${ms(one.p50_ms)} | ${ms(one.p99_ms)} | ${ratio(one.p99_ms, r.unloaded.floor.p99_ms)} | ${ms(many.p50_ms)} | ${ms(many.p99_ms)} |`,
    ),
  ].join('\n');
}

interface Aim {
  aim: string;
  measured: string;
  met: boolean;
}

/** Our OpenAI-compatible route against the peer, on the peer's own payload (the image inline). */
function peerAims(r: BenchResults): Aim[] {
  const ours = r.openai_compat?.b64_json;
  if (!ours || !isLoad(r.peer)) return [];
  return [
    {
      aim: 'OpenAI-compatible route (b64_json) answers more req/s than Portkey',
      measured: `${fixed(ours.rps, 1)} against ${fixed(r.peer.rps, 1)} req/s`,
      met: ours.rps > r.peer.rps,
    },
    {
      aim: "OpenAI-compatible route (b64_json) p99 below Portkey's",
      measured: `${ms(ours.p99_ms)} against ${ms(r.peer.p99_ms)} ms`,
      met: ours.p99_ms < r.peer.p99_ms,
    },
  ];
}

function aims(r: BenchResults): Aim[] {
  const bundleLimit = 80 * KIB;
  return [
    ...peerAims(r),
    ...addedLatencyAims(r.added_latency),
    ...burstAims(r.burst),
    {
      aim: 'creation throughput ≥ 30% of the floor',
      measured: `${((100 * r.create.rps) / r.floor.rps).toFixed(0)}%`,
      met: r.create.rps >= 0.3 * r.floor.rps,
    },
    {
      aim: 'finished-task polls ≥ 60% of the floor',
      measured: `${((100 * r.get_finished.rps) / r.floor.rps).toFixed(0)}%`,
      met: r.get_finished.rps >= 0.6 * r.floor.rps,
    },
    {
      aim: "creation p99 ≤ 2× the floor's p99 (16 connections)",
      measured: ratio(r.create.p99_ms, r.floor.p99_ms),
      met: r.create.p99_ms <= 2 * r.floor.p99_ms,
    },
    {
      aim: 'bundle < 80 KiB gzip (as configured)',
      measured: `${kib(r.bundle.gateway.gzip_bytes)} (${kib(r.bundle.gateway.upload_bytes)} before gzip)`,
      met: r.bundle.gateway.gzip_bytes < bundleLimit,
    },
  ];
}

function aimsTable(r: BenchResults): string {
  return [
    '| Aim | Measured | Met |',
    '|---|---:|:---:|',
    ...aims(r).map((a) => `| ${a.aim} | ${a.measured} | ${a.met ? 'yes' : '**no**'} |`),
  ].join('\n');
}

function loadGeneratorParagraph(report: Report): string {
  const r = report.results;
  const routes = [r.create, r.get_finished, r.get_running];
  const best = Math.max(...routes.map((f) => f.rps));
  const pct = (share: number | null) => (share === null ? 'n/a' : `${fixed(100 * share)}%`);
  return (
    `autocannon ${report.versions.autocannon} in the bench's own Node ${report.machine.node} process: ${report.settings.connections} ` +
    `keep-alive connections, closed loop (each connection sends its next request when the previous answer arrives), ` +
    `each load starting once the server has used under 5% of a core for a whole second (at most 30 s of waiting), so work ` +
    `left over from the step before is not billed to it, then ${report.settings.warmupSeconds} s warm-up and ${report.settings.seconds} s measured. ` +
    `Latencies are every expected-status ` +
    `sample's own time (hrtime), not autocannon's 1 ms histogram; throughput counts up to the last answer. ` +
    `It is not the bottleneck: against the floor it drove ${fixed(r.floor.rps)} req/s, ${ratio(r.floor.rps, best)} the fastest ` +
    `gateway route (${fixed(best)} req/s), while using ${pct(r.floor.client_cpu_core_share)} of one core ` +
    `(${routes.map((f) => pct(f.client_cpu_core_share)).join(', ')} during creation and the two polls). What bounds the floor is ` +
    `workerd, which serves a Worker's requests on one thread: during the floor run it used ${pct(r.floor.server_cpu_core_share)} ` +
    `of a core. So every throughput here is, in effect, one workerd thread divided by that route's CPU per request.`
  );
}

function cpuBreakdown(r: BenchResults): string {
  const floor = r.floor.server_cpu_us_per_request;
  if (floor === null) return 'CPU accounting per process was not available on this machine (it reads /proc).';
  const rows = [
    ['creation', r.create],
    ['finished-task poll', r.get_finished],
    ['running-task poll', r.get_running],
  ] as const;
  return [
    '| Route | workerd CPU µs/req | beyond the floor |',
    '|---|---:|---:|',
    `| floor | ${fixed(floor)} | |`,
    ...rows.map(([name, f]) =>
      f.server_cpu_us_per_request === null
        ? `| ${name} | n/a | |`
        : `| ${name} | ${fixed(f.server_cpu_us_per_request)} | ${fixed(f.server_cpu_us_per_request - floor)} |`,
    ),
  ].join('\n');
}

const vars = (v: Record<string, string>) =>
  Object.entries(v)
    .map(([k, x]) => `${k}=${x}`)
    .join(', ');

function machineLine(m: Machine, v: Record<string, string>): string {
  return (
    `${m.cpu_model}, nproc ${m.nproc}, ${m.memory_gib} GiB, ${m.os}, Node ${m.node}; load average at start ${m.load_average_at_start.join(' / ')}. ` +
    `wrangler ${v.wrangler}, Miniflare ${v.miniflare}, workerd ${v.workerd}, hono ${v.hono}, @portkey-ai/gateway ${v['@portkey-ai/gateway']}.`
  );
}

/** Writes bench/results/latest.json and BENCHMARKS.md (from bench/BENCHMARKS.template.md). */
const MIB = 2 ** 20;

function bigResultMemoryTable(rows: BenchResults['big_result_memory']): string {
  if (!rows) return 'Not measured in this run.';
  if ('skipped' in rows) return `Skipped: ${rows.skipped}.`;
  return [
    '| Task | One image | Provider answer | workerd before | Peak during the task | Peak growth | Growth ÷ one image |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.model}, n ${r.images}, ${r.width}×${r.height} (${r.status}) | ${(r.image_bytes / MIB).toFixed(1)} MiB | ${r.answer === 'url' ? 'a URL (the image downloaded)' : `${(r.answer_bytes / MIB).toFixed(1)} MiB of base64 JSON`} | ` +
        `${(r.rss_before_bytes / MIB).toFixed(0)} MiB | ${(r.rss_peak_bytes / MIB).toFixed(0)} MiB | ${((r.rss_peak_bytes - r.rss_before_bytes) / MIB).toFixed(1)} MiB | ${r.peak_over_image.toFixed(1)}× |`,
    ),
  ].join('\n');
}

export function writeReports(root: string, report: Report): string[] {
  const generatedAt = new Date().toISOString();
  const { task_ids: _ids, ...e2e } = report.results.e2e;
  const json = {
    generated_at: generatedAt,
    command: COMMAND,
    ...report,
    results: { ...report.results, e2e },
    aims: aims(report.results),
  };
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  const jsonPath = join(root, 'bench/results/latest.json');
  writeFileSync(jsonPath, `${JSON.stringify(json, null, 2)}\n`);

  const r = report.results;
  const values: Record<string, string> = {
    generated_at: generatedAt,
    command: COMMAND,
    machine: machineLine(report.machine, report.versions),
    settings:
      `${report.settings.connections} connections; ${report.settings.warmupSeconds} s warm-up + ${report.settings.seconds} s measured per load, ` +
      `except creation: ${r.create_counts.warmup} + ${r.create_counts.measured} requests (see below); ${report.settings.e2e_tasks} end-to-end tasks; ` +
      `create with \`Prefer: wait=${report.settings.prefer_wait.waitS}\`: ${report.settings.prefer_wait.sequential} requests one at a time, then ` +
      `${report.settings.prefer_wait.concurrent} with ${report.settings.prefer_wait.concurrency} in flight (none started after ${report.settings.prefer_wait.timeoutMs / 1000} s). ` +
      `Miniflare state (DO, KV, R2) on ${r.state_dir}. Gateway timing: creation and running-task loads ${vars(r.timing.parked)}; ` +
      `end to end ${vars(r.timing.e2e)}.`,
    results_table: resultsTable(r),
    aims_table: aimsTable(r),
    added_latency: r.added_latency ? addedLatencyTable(r.added_latency) : 'Not measured in this run.',
    burst: r.burst ? burstTable(r.burst) : 'Not measured in this run.',
    big_result_memory: bigResultMemoryTable(r.big_result_memory),
    load_generator: loadGeneratorParagraph(report),
    cpu_breakdown: cpuBreakdown(r),
    creation_ladder: creationLadder(r),
    unloaded_table: unloadedTable(r),
    storage_note: r.storage.stored_bytes_per_object === null ? `(${r.storage.note}.)` : '',
    unloaded_settings: `${report.settings.unloaded.warmupSeconds} s warm-up + ${report.settings.unloaded.seconds} s, creation ${r.create_counts_unloaded.warmup} + ${r.create_counts_unloaded.measured} requests`,
    nproc: String(report.machine.nproc),
    notes: report.notes.length === 0 ? 'None: every request got its expected status.' : report.notes.map((n) => `- ${n}`).join('\n'),
  };
  const template = readFileSync(join(root, 'bench/BENCHMARKS.template.md'), 'utf8');
  const markdown = template.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`BENCHMARKS.template.md uses an unknown placeholder {{${name}}}`);
    return value;
  });
  const mdPath = join(root, 'BENCHMARKS.md');
  writeFileSync(mdPath, markdown);
  return [jsonPath, mdPath];
}
