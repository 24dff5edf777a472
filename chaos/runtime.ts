import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync, type WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { waitForHttp } from '../bench/processes';

/** The Worker's bindings and where its state lives: the same for every start, so a restart resumes it. */
export interface RuntimeOptions {
  script: string;
  persistDir: string;
  port: number;
  bindings: Record<string, string>;
  /** Every log line of every life goes here. */
  logFile: string;
}

/** One start of the runtime: when it was killed and how long it took to come up. */
export interface Life {
  started_at: number;
  ready_ms: number;
  killed_at: number | null;
  peak_rss_bytes: number;
}

const MAX_KEPT_LINES = 4000;

/** Process ids in process group `pgid` (Linux /proc). */
function groupPids(pgid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) === pgid) pids.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

function rssBytes(pid: number): number {
  try {
    const kib = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kib ? Number(kib) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * The Worker's runtime (Miniflare's Node process and its workerd) as a process group of its own:
 * started on the same port and state directory every time, killed with SIGKILL as a whole (no
 * graceful stop, no flush), and sampled for workerd's resident memory while it runs.
 */
export class WorkerRuntime {
  readonly url: string;
  readonly lives: Life[] = [];
  /** The Worker's warn and error lines (and workerd's own), newest last. */
  readonly lines: string[] = [];
  #child: ChildProcess | null = null;
  #exited: Promise<void> = Promise.resolve();
  #workerd: number | null = null;
  #sampler: NodeJS.Timeout | null = null;
  #log: WriteStream;
  #next: ChildProcess | null = null;
  readonly #spares: ChildProcess[] = [];

  constructor(private readonly options: RuntimeOptions) {
    this.url = `http://127.0.0.1:${options.port}`;
    this.#log = createWriteStream(options.logFile, { flags: 'a' });
  }

  /**
   * A runtime process that has loaded its code and waits for its settings: the next start only
   * starts workerd. (Loading wrangler takes tens of seconds on a busy machine; a real restart does
   * not reload the runtime's code either.)
   */
  #spare(): ChildProcess {
    const child = spawn(process.execPath, ['--import', 'tsx', 'chaos/serve-worker.ts'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      // Its own process group: one kill reaches Miniflare and workerd together.
      detached: true,
    });
    // A spare never used (the run ended) must not outlive the run.
    this.#spares.push(child);
    return child;
  }

  /** Starts the runtime and resolves once it answers `/healthz`. */
  async start(): Promise<void> {
    const started = Date.now();
    const child = this.#next ?? this.#spare();
    this.#next = null;
    child.stdin!.write(`${JSON.stringify(this.options)}\n`);
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const life: Life = { started_at: started, ready_ms: 0, killed_at: null, peak_rss_bytes: 0 };
    const ready = new Promise<{ pid: number | null }>((resolve, reject) => {
      child.once('exit', (code, signal) => reject(new Error(`the Worker's runtime exited (${code ?? signal}) before it was ready`)));
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (line.startsWith('ready ')) resolve(JSON.parse(line.slice(6)) as { pid: number | null });
        else this.#note(line.startsWith('log ') ? line.slice(4) : line);
      });
      createInterface({ input: child.stderr! }).on('line', (line) => this.#note(`stderr: ${line}`));
    });
    const { pid } = await withTimeout(ready, 90_000, 'the Worker did not start within 90 s');
    this.#workerd = pid ?? groupPids(child.pid!).find((p) => p !== child.pid) ?? null;
    await waitForHttp(`${this.url}/healthz`, 30_000);
    life.ready_ms = Date.now() - started;
    this.#note(`chaos: runtime ready (workerd pid ${this.#workerd ?? 'unknown'})`);
    this.lives.push(life);
    this.#next = this.#spare();
    this.#sampler = setInterval(() => {
      if (this.#workerd !== null) life.peak_rss_bytes = Math.max(life.peak_rss_bytes, rssBytes(this.#workerd));
    }, 250);
  }

  /** SIGKILL to the whole runtime: Miniflare's process and workerd, at once. Returns when it was sent. */
  async kill(): Promise<number> {
    const child = this.#child;
    if (!child?.pid) return Date.now();
    this.#stopSampling();
    // Listed first: reading /proc can take a while on a busy machine, and the kill time must be exact.
    const pids = groupPids(child.pid);
    const at = Date.now();
    for (const pid of pids) this.#signal(pid, 'SIGKILL');
    this.#signal(-child.pid, 'SIGKILL');
    const life = this.lives.at(-1);
    if (life) life.killed_at = at;
    this.#note(`chaos: SIGKILL to the runtime, sent at ${new Date(at).toISOString()}`);
    await this.#exited;
    // workerd may take a moment to be reaped after its parent is gone.
    for (let i = 0; i < 50 && groupPids(child.pid).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    this.#child = null;
    return at;
  }

  /** The graceful stop at the end of the run (SIGKILL after 5 s if that does not do it); spares go too. */
  async stop(): Promise<void> {
    for (const spare of this.#spares) if (spare !== this.#child && spare.pid) this.#signal(-spare.pid, 'SIGKILL');
    const child = this.#child;
    if (!child?.pid) return;
    this.#stopSampling();
    this.#signal(-child.pid, 'SIGTERM');
    const hard = setTimeout(() => this.#signal(-child.pid!, 'SIGKILL'), 5_000);
    await this.#exited;
    clearTimeout(hard);
    this.#child = null;
    await new Promise<void>((resolve) => this.#log.end(resolve));
  }

  get peakRssBytes(): number {
    return Math.max(0, ...this.lives.map((l) => l.peak_rss_bytes));
  }

  #stopSampling(): void {
    if (this.#sampler) clearInterval(this.#sampler);
    this.#sampler = null;
  }

  #signal(pid: number, signal: NodeJS.Signals): void {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }

  #note(line: string): void {
    this.#log.write(`${new Date().toISOString()} ${line}\n`);
    if (!/warn|error/i.test(line)) return;
    this.lines.push(line);
    if (this.lines.length > MAX_KEPT_LINES) this.lines.splice(0, this.lines.length - MAX_KEPT_LINES);
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
