import type { Customer } from './gateway-client';
import { createTask, newCustomer } from './gateway-client';
import type { ServedWorker } from './workers';

/**
 * The burst: 500 flux-2 tasks from 5 accounts against a simulated BFL account with the cap BFL
 * documents (24 active tasks per key, enforced by the simulator with its 429), through one gateway
 * whose capacity object grants 24 slots. One account bursts 300 tasks first; the four others send
 * 50 each right after, while the burst is still queued.
 *
 * Measured: every task final, the 429s the provider answered (each one a submit a task sent past the
 * provider's cap; the aim is none), the provider's peak in flight, and how fair the completion order
 * was: Jain's fairness index (Σx)² / (n·Σx²) of the accounts' completions in each window of 50
 * consecutive completions from the first completion of the last account to arrive until the first
 * account ran out (1 = equal shares, 0.2 = one account alone, what first-come-first-served gives
 * behind a burst), and each account's median completion rank.
 */
export const BURST = { tasks: 500, accounts: 5, burst: 300, cap: 24, jobMs: 2_000, window: 50, timeoutMs: 150_000 } as const;

/** The gateway's variables for the burst: BFL's documented cap as the capacity object's, and room for the whole queue. */
export const BURST_VARS: Record<string, string> = {
  TASK_DEADLINE_SECONDS: '300',
  POLL_INITIAL_MS: '200',
  POLL_MAX_MS: '1000',
  PROVIDER_CAPACITY: JSON.stringify({ bfl: BURST.cap }),
};

export interface BurstFigures {
  tasks: number;
  accounts: number;
  cap: number;
  job_ms: number;
  /** Tasks final (succeeded, failed or canceled) when the run ended. */
  final: number;
  succeeded: number;
  /** 429s the simulated provider answered: submits that went past its cap. */
  provider_429s: number;
  provider_peak_in_flight: number;
  seconds: number;
  /** Jain's index over windows of completions while every account had tasks running. */
  jain: { windows: number; min: number; mean: number };
  /** Each account's median completion rank (1 = first task to finish), the bursting account first. */
  median_rank: number[];
  /** Completions before the first task of each account that arrived after the burst. */
  first_rank_after_burst: number;
}

interface Listed {
  task_id: string;
  status: string;
  completed_at: string | null;
}

async function listAll(origin: string, customer: Customer): Promise<Listed[]> {
  const tasks: Listed[] = [];
  let cursor: string | null = null;
  do {
    const query: string = `limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const res = await fetch(`${origin}/api/v1/tasks?${query}`, { headers: customer.auth });
    if (res.status !== 200) throw new Error(`listing tasks answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
    const page = (await res.json()) as { data: Listed[]; next_cursor: string | null };
    tasks.push(...page.data);
    cursor = page.next_cursor;
  } while (cursor);
  return tasks;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : sorted[Math.floor((sorted.length - 1) / 2)]!;
};

/** Jain's fairness index of the shares in `counts`. */
export const jain = (counts: number[]): number => {
  const sum = counts.reduce((a, b) => a + b, 0);
  const squares = counts.reduce((a, b) => a + b * b, 0);
  return squares === 0 ? 1 : (sum * sum) / (counts.length * squares);
};

/** Creates `count` tasks for `customer`, `concurrency` at a time. */
async function createMany(origin: string, customer: Customer, count: number, prompt: (i: number) => string, concurrency = 8): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        await createTask(origin, customer, { model: 'flux-2', prompt: prompt(i) });
      }
    }),
  );
}

export async function runBurst(
  serve: (vars: Record<string, string>) => Promise<ServedWorker>,
  simUrl: string,
  token: string,
  log: (message: string) => void,
): Promise<BurstFigures> {
  const tenant = `burst-${Date.now().toString(36)}`;
  const limited = await fetch(`${simUrl}/__sim/capacity`, { method: 'POST', body: JSON.stringify({ provider: 'bfl', account: tenant, limit: BURST.cap }) });
  if (!limited.ok) throw new Error(`the simulator refused the cap: ${limited.status}`);
  const gateway = await serve(BURST_VARS);
  try {
    const customers = await Promise.all(
      Array.from({ length: BURST.accounts }, (_, i) => newCustomer(gateway.url, token, `acct_burst_${i}_${tenant}`, 1_000_000)),
    );
    const prompt = (who: number) => (i: number) => `Burst ${who}.${i}, a lighthouse at dusk [sim:slow=${BURST.jobMs}][sim:tenant=${tenant}]`;
    const started = Date.now();
    const small = (BURST.tasks - BURST.burst) / (BURST.accounts - 1);
    await createMany(gateway.url, customers[0]!, BURST.burst, prompt(0), 16);
    log(`burst: account 0 sent ${BURST.burst} tasks in ${((Date.now() - started) / 1000).toFixed(1)} s; the other ${BURST.accounts - 1} send ${small} each`);
    await Promise.all(customers.slice(1).map((customer, i) => createMany(gateway.url, customer, small, prompt(i + 1), 4)));

    let lists: Listed[][] = [];
    for (const until = Date.now() + BURST.timeoutMs; Date.now() < until; ) {
      lists = await Promise.all(customers.map((customer) => listAll(gateway.url, customer)));
      const running = lists.flat().filter((t) => t.completed_at === null).length;
      if (running === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    }
    const seconds = (Date.now() - started) / 1000;
    const finished = lists
      .flatMap((tasks, account) => tasks.filter((t) => t.completed_at !== null).map((t) => ({ account, status: t.status, at: Date.parse(t.completed_at!), id: t.task_id })))
      .sort((a, b) => a.at - b.at || a.id.localeCompare(b.id));
    const ranks = customers.map((_, account) => finished.flatMap((t, i) => (t.account === account ? [i + 1] : [])));

    // Windows while every account had tasks running: from the late accounts' first completion to the first account's last.
    const firstRank = Math.max(...ranks.slice(1).map((r) => r[0] ?? Number.POSITIVE_INFINITY));
    const lastRank = Math.min(...ranks.map((r) => (r.length === 0 ? 0 : r[r.length - 1]!)));
    const windows: number[] = [];
    for (let start = firstRank - 1; start + BURST.window <= lastRank; start += BURST.window) {
      const counts = customers.map((_, account) => finished.slice(start, start + BURST.window).filter((t) => t.account === account).length);
      windows.push(jain(counts));
    }
    const sim = (await (await fetch(`${simUrl}/__sim/capacity?provider=bfl&account=${tenant}`)).json()) as { peak: number; rejected: number };
    const figures: BurstFigures = {
      tasks: BURST.tasks,
      accounts: BURST.accounts,
      cap: BURST.cap,
      job_ms: BURST.jobMs,
      final: finished.length,
      succeeded: finished.filter((t) => t.status === 'succeeded').length,
      provider_429s: sim.rejected,
      provider_peak_in_flight: sim.peak,
      seconds,
      jain: {
        windows: windows.length,
        min: windows.length ? Math.min(...windows) : Number.NaN,
        mean: windows.length ? windows.reduce((a, b) => a + b, 0) / windows.length : Number.NaN,
      },
      median_rank: ranks.map(median),
      first_rank_after_burst: firstRank,
    };
    log(`burst: ${JSON.stringify(figures)}`);
    return figures;
  } catch (err) {
    throw new Error(`burst failed: ${String(err)}; the gateway's last log lines:\n${gateway.logs().slice(-3000)}`, { cause: err });
  } finally {
    await gateway.dispose();
  }
}

/** The report's table for the burst. */
export function burstTable(f: BurstFigures): string {
  const ranks = f.median_rank.map((r, i) => `${i === 0 ? 'burst' : `#${i}`} ${r}`).join(', ');
  return [
    '| Measure | Value |',
    '|---|---:|',
    `| tasks final / succeeded, of ${f.tasks} | ${f.final} / ${f.succeeded} |`,
    `| provider 429s (submits past the cap) | ${f.provider_429s} |`,
    `| provider peak in flight (cap ${f.cap}) | ${f.provider_peak_in_flight} |`,
    `| whole burst, first create to last completion | ${f.seconds.toFixed(1)} s |`,
    `| Jain's index per window of completions, all accounts running: min / mean (${f.jain.windows} windows) | ${f.jain.min.toFixed(3)} / ${f.jain.mean.toFixed(3)} |`,
    `| median completion rank per account | ${ranks} |`,
    `| completions before the last late account's first (the burst sent ${BURST.burst} before it) | ${f.first_rank_after_burst - 1} |`,
  ].join('\n');
}

interface Aim {
  aim: string;
  measured: string;
  met: boolean;
}

/** The burst's aims: every task final, no 429 past the cap, fair shares while everyone waits. */
export function burstAims(f: BurstFigures | undefined): Aim[] {
  if (!f) return [];
  return [
    { aim: `burst: all ${f.tasks} tasks final`, measured: `${f.final}`, met: f.final === f.tasks },
    { aim: 'burst: 0 provider 429s', measured: `${f.provider_429s} (peak ${f.provider_peak_in_flight} of ${f.cap})`, met: f.provider_429s === 0 },
    { aim: "burst: Jain's index ≥ 0.9 in every window while all accounts wait", measured: f.jain.min.toFixed(3), met: f.jain.min >= 0.9 },
  ];
}
