import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Machine, versions } from '../bench/report';
import type { Audit, Finding } from './audit';
import type { ServerError } from './gateway';
import type { ChaosSettings, PlannedKill } from './plan';
import type { Life } from './runtime';
import { DUPLICATE_CAUSES, type DuplicateCause, type DuplicateReport, type Outage } from './submits';
import type { ClientTask } from './traffic';

export interface ChaosResults {
  settings: ChaosSettings;
  plan: { runId: string; kills: PlannedKill[]; tasks: number };
  machine: Machine;
  audit: Audit;
  duplicates: DuplicateReport;
  clientTasks: ClientTask[];
  serverErrors: ServerError[];
  unansweredOutsideKills: { at: number; method: string; path: string; error: string }[];
  unansweredDuringKills: number;
  requests: number;
  submits: number;
  outages: Outage[];
  lives: Life[];
  peakRssBytes: number;
  wallSeconds: number;
  trafficSeconds: number;
  setupProblems: string[];
  workerLines: string[];
  logFile: string;
  bundleGzipBytes: number;
}

const MIB = 1024 * 1024;
const LISTED = 15;

function list(findings: readonly Finding[], lines: readonly string[]): string {
  return findings
    .slice(0, LISTED)
    .map((f) => {
      const logged = lines.filter((l) => l.includes(f.task_id)).slice(-3);
      return `- \`${f.task_id}\`: ${f.detail}${logged.map((l) => `\n  - log: \`${l.slice(0, 300).replaceAll('`', "'")}\``).join('')}`;
    })
    .concat(findings.length > LISTED ? [`- … and ${findings.length - LISTED} more`] : [])
    .join('\n');
}

/**
 * Writes the run's report (CHAOS.md unless `target` says otherwise, `none` for no file) and returns
 * it with the number of loss figures that are not 0.
 */
export function writeReport(root: string, r: ChaosResults, target: string): { losses: number; text: string } {
  const { audit, duplicates } = r;
  // The OpenAI-compatible route answers a failed provider 502 and a task past its wait 504, as OpenAI's SDKs expect.
  const failures5xx = r.serverErrors.filter(
    (e) => !(e.path.startsWith('/v1/images/') && ((e.status === 502 && e.body.includes('provider_error')) || (e.status === 504 && e.body.includes('wait_timeout')))),
  );
  const violations = r.clientTasks.flatMap((t) => t.violations.map((v) => ({ task_id: t.task_id ?? t.marker, detail: v })));
  const lossRows: Array<[string, number, string]> = [
    ['Tasks not final at the end', audit.notFinal.length, 'tasks'],
    [`Tasks final later than their deadline + ${r.settings.graceSeconds} s grace (+ the runtime's downtime they met)`, audit.late.length, 'tasks'],
    ['Credits lost (reserved and neither charged nor refunded)', audit.creditsLost, `credits, ${audit.creditsLostTasks.length} tasks`],
    ['Credits charged twice (or charged for a task that did not succeed)', audit.creditsChargedTwice, `credits, ${audit.chargedTwiceTasks.length} tasks`],
    ['Books that do not add up (ledger chain, totals, reserved at the end, top-ups, reconciliation)', audit.booksErrors.length, 'problems'],
    ['Webhooks not delivered to healthy receivers', audit.webhooks.missing.length, `of ${audit.webhooks.healthyExpected}`],
    ['Webhook deliveries with a bad signature', audit.webhooks.badSignatures, 'deliveries'],
    ['5xx answers from the Worker', failures5xx.length, `of ${r.requests} requests (besides ${r.serverErrors.length - failures5xx.length} contract 502/504 of the OpenAI route)`],
    ['Requests left without an answer while the Worker was up', r.unansweredOutsideKills.length, 'requests'],
    ['Duplicate provider submits no cause explains', duplicates.byCause.unexplained ?? 0, 'submits'],
    ['Contract breaches the client saw (status going back, one key → two tasks, wrong cancel or replay answers…)', violations.length, 'breaches'],
  ];
  const losses = lossRows.filter(([, n]) => n !== 0).length;
  const openAIAnswers = r.clientTasks.filter((t) => t.viaOpenAI).length;

  const created = r.clientTasks.filter((t) => t.creation === 'created').length;
  const refused = r.clientTasks.filter((t) => t.creation === 'refused').length;
  const unknown = r.clientTasks.filter((t) => t.creation === 'unknown').length;
  const canceled = r.clientTasks.filter((t) => t.cancel === 'canceled').length;
  const cancelRefused = r.clientTasks.filter((t) => t.cancel === 'refused').length;
  const downtime = r.outages.map((o) => ((o.back_at - o.killed_at) / 1000).toFixed(1));
  const v = versions(root);
  const s = r.settings;
  const statuses = Object.entries(audit.byStatus)
    .sort()
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const causes = (Object.entries(duplicates.byCause) as Array<[DuplicateCause, number]>).map(([c, n]) => `| ${DUPLICATE_CAUSES[c]} | ${n} |`);
  const faults = new Map<string, number>();
  for (const t of r.clientTasks) faults.set(t.fault, (faults.get(t.fault) ?? 0) + 1);

  const text = `# Chaos run

Written by \`npm run chaos\` (chaos/run.ts); do not edit by hand. ${losses === 0 ? '**Every loss figure is 0.**' : `**${losses} loss figure(s) are not 0: the run failed.**`}

## Settings

| setting | value |
|---|---|
| seed (\`CHAOS_SEED\`) | ${s.seed} (run id \`${r.plan.runId}\`) |
| tasks (\`CHAOS_TASKS\`) | ${s.tasks}, started over ${s.spreadSeconds} s (\`CHAOS_SPREAD_SECONDS\`), ten models, ${s.accounts} accounts (\`CHAOS_ACCOUNTS\`) |
| kills (\`CHAOS_RESTARTS\`) | ${s.restarts}: SIGKILL to the runtime's process group (Miniflare's Node process and workerd) at ${r.plan.kills.map((k) => `${(k.atMs / 1000).toFixed(1)} s`).join(', ') || 'none'}, started again on the same state directory after ${r.plan.kills.map((k) => `${k.downMs} ms`).join(', ') || '–'} (down ${downtime.join(', ') || '–'} s in all, start-up included) |
| Worker | the \`wrangler deploy --dry-run\` bundle (${(r.bundleGzipBytes / 1024).toFixed(0)} KiB gzip) on workerd via Miniflare (bench/workers.ts), DO/KV/R2 state on disk; \`TASK_DEADLINE_SECONDS=${s.deadlineSeconds}\`, \`POLL_INITIAL_MS=${s.pollInitialMs}\`, \`POLL_MAX_MS=${s.pollMaxMs}\`, \`WEBHOOK_RETRY_SCHEDULE=${s.webhookSchedule.join(',')}\`, \`SYNC_WAIT_SECONDS=30\`, \`PROVIDER_CAPACITY={"wavespeed":20}\` (the other providers at their documented caps), rate limits out of the way |
| simulator | its own process (simulator/main.ts), so it keeps its jobs through the kills |
| client | at most ${s.concurrency} requests in flight (\`CHAOS_CONCURRENCY\`); grace past a deadline ${s.graceSeconds} s (\`CHAOS_GRACE_SECONDS\`); watchdog ${s.watchdogSeconds} s |
| machine | ${r.machine.cpu_model}, ${r.machine.nproc} cores (shared), ${r.machine.memory_gib} GiB, load average at start ${r.machine.load_average_at_start.join(' ')}; Node ${r.machine.node}, ${r.machine.os} |
| versions | wrangler ${v.wrangler}, Miniflare ${v.miniflare}, workerd ${v.workerd} |

The seed fixes every request, fault, receiver, cancel, retry and kill time. The runtime's own timing does not
repeat: which request a kill cuts, how far a task got when it did, the order in which alarms fire. Two runs with
one seed send the same traffic and may end in different (but equally correct) states.

## Loss figures (each must be 0)

| figure | value | |
|---|---|---|
${lossRows.map(([name, n, unit]) => `| ${name} | ${n === 0 ? '0' : `**${n}**`} | ${unit} |`).join('\n')}

## What happened

| figure | value |
|---|---|
| tasks planned / created / refused 402 / creation unanswered (found by listing) | ${r.plan.tasks} / ${created} / ${refused} / ${unknown} |
| tasks the accounts list at the end | ${audit.tasks}: ${statuses} |
| failed while still \`queued\` for a provider slot (as the client's polls saw it) | ${r.clientTasks.filter((t) => t.statuses.at(-1) === 'failed' && t.statuses.at(-2) === 'queued').length} |
| failed tasks by error code | ${Object.entries(audit.byErrorCode).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'} |
| cancels: canceled / refused (409, already generating or final) | ${canceled} / ${cancelRefused} |
| created through the OpenAI-compatible route (\`POST /v1/images/generations\`, \`SYNC_WAIT_SECONDS=30\`) | ${openAIAnswers} |
| webhooks to healthy receivers delivered | ${audit.webhooks.healthyDelivered} of ${audit.webhooks.healthyExpected} |
| duplicate webhook deliveries (at-least-once allows them) | ${audit.webhooks.duplicates} |
| dead receivers given up on (\`webhook.status: failed\`) | ${audit.webhooks.deadGivenUp} of ${audit.webhooks.deadExpected} |
| provider submits recorded by the simulator | ${r.submits} |
| duplicate provider submits (a job the provider had, or may have had, submitted again) | ${duplicates.total} |
| requests sent / cut by a kill or made while the runtime was down | ${r.requests} / ${r.unansweredDuringKills} |
| peak workerd RSS (sampled every 250 ms) | ${(r.peakRssBytes / MIB).toFixed(0)} MiB (per life: ${r.lives.map((l) => `${(l.peak_rss_bytes / MIB).toFixed(0)}`).join(', ')} MiB) |
| runtime start-up (each life) | ${r.lives.map((l) => `${(l.ready_ms / 1000).toFixed(1)} s`).join(', ')} |
| wall time | ${r.wallSeconds.toFixed(0)} s (traffic and settling ${r.trafficSeconds.toFixed(0)} s) |
| the Worker's log, every life | \`${r.logFile}\` (kept after the run) |

Faults planned (prompt switches of simulator/faults.ts, one per task): ${[...faults].sort((a, b) => b[1] - a[1]).map(([f, n]) => `${f} ${n}`).join(', ')}.

### Duplicate provider submits by cause

| cause | submits |
|---|---|
${causes.length ? causes.join('\n') : '| none | 0 |'}

A sync provider that hangs or answers after the Worker's call timeout, and an answer the Worker cannot read,
leave it not knowing whether the provider did the work: it submits again, and the provider may bill twice.
None of the providers offers an idempotency key on submit (see the providers table in README.md).

## Findings
${[
  ['Tasks not final', audit.notFinal],
  ['Tasks final late', audit.late],
  ['Credits lost', audit.creditsLostTasks],
  ['Credits charged twice', audit.chargedTwiceTasks],
  ['Webhooks missing', audit.webhooks.missing],
  ['Contract breaches', violations],
  ['Unexplained duplicate submits', duplicates.unexplained.map((u) => ({ task_id: u.task, detail: u.detail }))],
]
  .filter(([, f]) => (f as Finding[]).length > 0)
  .map(([name, f]) => `\n### ${name as string}\n\n${list(f as Finding[], r.workerLines)}`)
  .join('\n') || '\nNone.'}
${audit.booksErrors.length ? `\n### Books\n\n${audit.booksErrors.slice(0, LISTED).map((e) => `- ${e}`).join('\n')}\n` : ''}${failures5xx.length ? `\n### 5xx answers\n\n${failures5xx.slice(0, LISTED).map((e) => `- ${new Date(e.at).toISOString()} ${e.method} ${e.path} → ${e.status}: \`${e.body.slice(0, 200)}\``).join('\n')}\n` : ''}${r.unansweredOutsideKills.length ? `\n### Requests without an answer while the Worker was up\n\n${r.unansweredOutsideKills.slice(0, LISTED).map((e) => `- ${new Date(e.at).toISOString()} ${e.method} ${e.path}: ${e.error}`).join('\n')}\n` : ''}${r.setupProblems.length ? `\n### Top-ups\n\n${r.setupProblems.map((p) => `- ${p}`).join('\n')}\n` : ''}`;
  if (target !== 'none') writeFileSync(join(root, target), text);
  return { losses, text };
}
